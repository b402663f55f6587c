"""Build the sdist and the wheel, check what they contain, and test what they install.

``python -m tools.check_dist [--work DIR] [--no-tests]`` (``make dist``; ``.ci/run`` runs it):

1. ``python -m build``: the sdist, then the wheel built *from the sdist* (so the sdist is
   complete enough to build from);
2. ``twine check --strict`` on both (metadata, the README as PyPI renders it);
3. the content check below: what each must and must not contain, and the metadata;
4. a fresh virtual environment with the wheel and its ``dev`` extra; the unpacked sdist's tests
   run there against the *installed* package (the tree's ``authsig/`` removed, and
   ``AUTHSIG_TEST_INSTALLED=1`` makes the run refuse any ``authsig`` outside site-packages);
5. the unpacked sdist as a source tree (what a packager builds and tests from): its tests run in
   place, importing ``authsig`` from the tree.

Run 4 is the whole suite: it is the release as users install it. Run 5 differs from run 4 only
in where ``authsig`` is imported from, so it runs the tests that are not marked ``slow`` or
``interop``: every module's fast tests, the docs and the tree checks (shape, layering,
vectors), which are what could break when the tree is laid out differently.
"""

from __future__ import annotations

import argparse
import email.message
import email.parser
import fnmatch
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The sdist: the package, its tests with their data, the vectors and their generator, the docs.
SDIST_ROOTS = ("authsig/", "tests/", "tools/", "vectors/", "docs/")
SDIST_FILES = (
    "README.md", "CHANGELOG.md", "SECURITY.md", "LICENSE", "NOTICE", "pyproject.toml",
    "mkdocs.yml", "PKG-INFO", ".gitignore",
)  # fmt: skip
SDIST_MUST = (
    "authsig/py.typed", "tests/conftest.py", "tests/conformance/README.md",
    "tests/conformance/SHA256SUMS", "tests/conformance/wycheproof/LICENSE",
    "tests/conformance/jcs/LICENSE", "tools/vectors/__main__.py", "vectors/README.md",
)  # fmt: skip
# The development harnesses and the tests of them stay in the repository (pyproject.toml).
SDIST_MUST_NOT = (
    ".ci/*", "benchmarks/*", "fuzz/*", "Makefile", "tests/test_repository.py",
    "tests/test_benchmarks_smoke.py", "tests/test_fuzz_regressions.py",
    "tests/fuzz_regressions/*", "*.png", "*/__pycache__/*", "*.pyc", ".venv/*", ".cache/*",
    "site/*", "dist/*",
)  # fmt: skip
WHEEL_MUST = ("authsig/__init__.py", "authsig/__main__.py", "authsig/py.typed")
LICENSES = ("LICENSE", "NOTICE")


def run(*argv: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(a) for a in argv), flush=True)
    subprocess.run([str(a) for a in argv], cwd=cwd, env=env, check=True)


def fail(problems: list[str], what: str) -> None:
    if problems:
        raise SystemExit(f"{what}:\n  " + "\n  ".join(problems))


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(name, p) or name == p.rstrip("/*") for p in patterns)


def _tracked() -> set[str]:
    """The files git tracks: what the repository holds, without local leftovers."""
    done = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return {name for name in done.stdout.split("\0") if name and (ROOT / name).is_file()}


def check_sdist(sdist: Path) -> None:
    with tarfile.open(sdist) as tar:
        prefix = tar.getnames()[0].split("/")[0] + "/"
        names = {m.name.removeprefix(prefix) for m in tar.getmembers() if m.isfile()}
    problems = [f"must not ship {n}" for n in sorted(names) if _matches(n, SDIST_MUST_NOT)]
    problems += [f"missing {n}" for n in (*SDIST_FILES, *SDIST_MUST) if n not in names]
    problems += [
        f"outside what pyproject.toml ships: {n}"
        for n in sorted(names)
        if n not in SDIST_FILES and not n.startswith(SDIST_ROOTS)
    ]
    wanted = {
        n
        for n in _tracked()
        if (n in SDIST_FILES or n.startswith(SDIST_ROOTS)) and not _matches(n, SDIST_MUST_NOT)
    }
    problems += [f"tracked but not shipped: {n}" for n in sorted(wanted - names)]
    problems += [
        f"shipped but not tracked by git: {n}" for n in sorted(names - wanted - {"PKG-INFO"})
    ]
    fail(problems, f"{sdist.name} content")
    print(f"sdist: {len(names)} files, as intended")


def check_wheel(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
        dist_info = next(n.split("/")[0] for n in names if ".dist-info/" in n)
        metadata = email.parser.Parser().parsestr(whl.read(f"{dist_info}/METADATA").decode())
        entry_points = whl.read(f"{dist_info}/entry_points.txt").decode()
    sources = {str(p.relative_to(ROOT)) for p in (ROOT / "authsig").rglob("*.py")}
    problems = [f"missing {n}" for n in sorted({*WHEEL_MUST, *sources} - names)]
    problems += [
        f"missing {dist_info}/licenses/{n}"
        for n in LICENSES
        if f"{dist_info}/licenses/{n}" not in names
    ]
    problems += [
        f"must not ship {n}"
        for n in sorted(names)
        if not (n.startswith("authsig/") or n.startswith(dist_info + "/"))
        or "__pycache__" in n
        or n.endswith(".pyc")
    ]
    problems += check_metadata(metadata)
    if "authsig = authsig.cli:main" not in entry_points:
        problems.append("no authsig console script")
    fail(problems, f"{wheel.name} content")
    print(f"wheel: {len(names)} files, as intended")


def check_metadata(metadata: email.message.Message) -> list[str]:
    problems = []
    if metadata["License-Expression"] != "Apache-2.0":
        problems.append(f"License-Expression is {metadata['License-Expression']!r}")
    if sorted(metadata.get_all("License-File") or []) != sorted(LICENSES):
        problems.append(f"License-File is {metadata.get_all('License-File')}")
    urls = metadata.get_all("Project-URL") or []
    if not any(u.startswith("Source, https://") for u in urls):
        problems.append(f"no Source Project-URL in {urls}")
    requires = metadata.get_all("Requires-Dist") or []
    for extra in metadata.get_all("Provides-Extra") or []:
        if not any(f"extra == '{extra}'" in r or f'extra == "{extra}"' in r for r in requires):
            problems.append(f"the {extra!r} extra installs nothing")
    return problems


def build(out: Path) -> tuple[Path, Path]:
    run(sys.executable, "-m", "build", "--outdir", out, ROOT)
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    run(sys.executable, "-m", "twine", "check", "--strict", sdist, wheel)
    return sdist, wheel


def unpack(sdist: Path, into: Path) -> Path:
    with tarfile.open(sdist) as tar:
        tar.extractall(into, filter="data")
    (tree,) = into.iterdir()
    return tree


def pytest_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    # The SDK environments of the interop tests are a cache: reuse the checkout's.
    env.setdefault("AUTHSIG_CACHE", str(ROOT / ".cache"))
    return env


def test_installed(sdist: Path, wheel: Path, work: Path, select: list[str]) -> Path:
    """Run 4 of the module docstring; returns the venv's python."""
    venv = work / "venv"
    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", "--upgrade", "pip")
    run(python, "-m", "pip", "install", "-q", f"authsig[dev] @ {wheel.resolve().as_uri()}")
    tree = unpack(sdist, work / "installed")
    shutil.rmtree(tree / "authsig")
    env = {**pytest_env(), "AUTHSIG_TEST_INSTALLED": "1"}
    run(python, "-m", "authsig", "--help", cwd=tree, env=env)
    run(python, "-m", "pytest", "-p", "no:cacheprovider", *select, cwd=tree, env=env)
    return python


def test_sdist_tree(sdist: Path, python: Path, work: Path, select: list[str]) -> None:
    """Run 5 of the module docstring, with the venv of run 4 (same dependencies)."""
    tree = unpack(sdist, work / "source")
    select = select or ["-m", "not slow and not interop"]
    run(python, "-m", "pytest", "-p", "no:cacheprovider", *select, cwd=tree, env=pytest_env())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.check_dist", description=__doc__)
    parser.add_argument("--work", type=Path, help="work directory (default: a temporary one)")
    parser.add_argument("--no-tests", action="store_true", help="build and check only")
    parser.add_argument(
        "--select",
        action="append",
        default=[],
        help="a pytest argument replacing the default selection of both runs (repeatable), "
        "e.g. --select=tests/test_cli.py while working on this script",
    )
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="authsig-dist-"))
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    sdist, wheel = build(work / "dist")
    check_sdist(sdist)
    check_wheel(wheel)
    if not args.no_tests:
        python = test_installed(sdist, wheel, work, args.select)
        test_sdist_tree(sdist, python, work, args.select)
    print(f"dist checks passed: {sdist.name}, {wheel.name}")
    if args.work is None:  # a temporary directory (the venv alone is some hundred MB)
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
