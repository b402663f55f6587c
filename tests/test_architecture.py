"""The core is pure: it never imports the edge (middleware, clients, stores, CLI, Cobo) nor any
framework, server or network package; the public API is what ``__all__`` says."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import authsig

PKG = Path(authsig.__file__).resolve().parent

# The scheme-neutral core: pure, no I/O (the replay package's stores are the one exception: its
# Redis store imports redis lazily, allowed below, and its SQLite store uses the stdlib), no
# framework, no scheme, no HTTP layer. A core module may be a package (replay).
CORE = [
    "errors",
    "keys",
    "_keytext",
    "_pkcs8",
    "jcs",
    "_jcstext",
    "_floatlayout",
    "signatures",
    "_recover",
    "policy",
    "_clock",
    "reasons",
    "replay",
]
SCHEMES = sorted(
    p.name
    for p in PKG.iterdir()
    if p.is_dir()
    and (p / "__init__.py").exists()
    and p.name not in {"http", "cli", "integrations", "signers", "testing", *CORE}
)
ADAPTERS = {
    "asgi",
    "wsgi",
    "cli",
    "demo",
    "testvectors",
    "conformance",
    "integrations",
    "testing",
}
FRAMEWORKS = {"starlette", "fastapi", "flask", "django", "uvicorn", "waitress", "gunicorn"}
# (asyncio is allowed: the async twins of sign_request/verify_request await user callables.)
FORBIDDEN = FRAMEWORKS | {"httpx", "requests", "redis", "socket", "urllib", "http", "subprocess"}
# Client adapters inside a scheme may import the HTTP client libraries they adapt.
CLIENT_MODULES = {"client", "httpx_client", "requests_client"}


def _module_files(package: str) -> list[Path]:
    return sorted((PKG / package).rglob("*.py"))


def _imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _imports(module: str) -> set[str]:
    if (PKG / module).is_dir():
        return set().union(*(_imports_of(path) for path in _module_files(module)))
    return _imports_of(PKG / f"{module}.py")


@pytest.mark.parametrize(
    "module", [m for m in CORE if (PKG / f"{m}.py").exists() or (PKG / m).is_dir()]
)
def test_core_module_imports_neither_edge_nor_io(module: str) -> None:
    for name in _imports(module):
        parts = name.split(".")
        if parts[0] == "authsig":
            assert len(parts) > 1
            assert parts[1] in CORE, f"core module {module} imports {name} (not core)"
        elif module == "replay" and parts[0] == "redis":
            continue
        assert parts[0] not in FORBIDDEN, f"core module {module} imports {name}"


def test_the_layers_exist() -> None:
    assert {"privy", "cobo"} <= set(SCHEMES)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_scheme_imports_no_other_scheme_and_no_framework(scheme: str) -> None:
    others = set(SCHEMES) - {scheme}
    for path in _module_files(scheme):
        for name in _imports_of(path):
            parts = name.split(".")
            if parts[0] == "authsig":
                assert parts[1] not in others, f"{path.name} of {scheme} imports {name}"
                assert parts[1] not in ADAPTERS, f"{path.name} of {scheme} imports {name}"
            elif name == "urllib.parse":  # string functions only, no network
                continue
            elif path.stem in CLIENT_MODULES:
                assert parts[0] not in FRAMEWORKS, f"{scheme}/{path.name} imports {name}"
            else:
                assert parts[0] not in FORBIDDEN, f"{scheme}/{path.name} imports {name}"


def test_the_shared_client_helpers_know_no_scheme_and_import_requests_only_when_called() -> None:
    # authsig/_outbound.py serves every scheme's auth classes; an auth class needs only the
    # HTTP library it adapts, so this module imports none at its top (requests only inside the
    # hook that requests itself calls).
    path = PKG / "_outbound.py"
    assert _imports_of(path) == {
        "__future__",
        "collections.abc",
        "typing",
        "urllib.parse",
        "requests.sessions",
    }
    top = {
        alias.name if isinstance(node, ast.Import) else node.module
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert "requests.sessions" not in top


def test_signers_import_only_the_core_and_their_backends() -> None:
    # Signers (PKCS#11, KMS) sit beside the core: any scheme may sign with them, so they know
    # no scheme; their backends (python-pkcs11, boto3) are imported, never a framework.
    for path in _module_files("signers"):
        for name in _imports_of(path):
            parts = name.split(".")
            if parts[0] == "authsig":
                assert parts[1] in {*CORE, "signers"}, f"signers/{path.name} imports {name}"
            elif name != "urllib.parse":  # string functions only, no network
                assert parts[0] not in FORBIDDEN, f"signers/{path.name} imports {name}"


def test_the_http_layer_imports_no_scheme_and_no_framework() -> None:
    files = _module_files("http") if (PKG / "http").is_dir() else []
    for path in files:
        for name in _imports_of(path):
            parts = name.split(".")
            if parts[0] == "authsig":
                assert parts[1] not in SCHEMES, f"http/{path.name} imports scheme {name}"
                assert parts[1] not in ADAPTERS, f"http/{path.name} imports adapter {name}"
            assert parts[0] not in FRAMEWORKS, f"http/{path.name} imports {name}"


def test_the_stand_ins_are_plain_asgi_apps() -> None:
    # authsig.testing serves tests under any server: it needs no framework of its own. The
    # pytest plugin is the one exception: its fixture is a real server, and it imports uvicorn
    # only when the fixture starts one.
    for path in _module_files("testing"):
        if path.name == "pytest_plugin.py":
            continue
        for name in _imports_of(path):
            assert name.split(".")[0] not in FRAMEWORKS, f"testing/{path.name} imports {name}"


# Each framework integration imports its own framework and no other.
INTEGRATIONS = {"fastapi": {"fastapi", "starlette"}, "django": {"django"}, "flask": {"flask"}}


@pytest.mark.parametrize("module", sorted(INTEGRATIONS))
def test_an_integration_imports_only_its_own_framework(module: str) -> None:
    path = PKG / "integrations" / f"{module}.py"
    for name in _imports_of(path):
        top = name.split(".")[0]
        if top in FRAMEWORKS:
            assert top in INTEGRATIONS[module], f"integrations/{module}.py imports {name}"
    for path in (PKG / "integrations" / "__init__.py", PKG / "integrations" / "_common.py"):
        assert not {n.split(".")[0] for n in _imports_of(path)} & FRAMEWORKS, path.name


def test_importing_authsig_loads_no_framework() -> None:
    frameworks = sorted(FORBIDDEN - {"socket", "http", "urllib", "subprocess"})
    code = (
        "import sys, authsig, authsig.integrations\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {frameworks!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_api_is_exactly_all() -> None:
    exported = set(authsig.__all__)
    assert len(exported) == len(authsig.__all__), "duplicate names in __all__"
    for name in exported:
        assert hasattr(authsig, name), name
    # every public error class derives from the single root
    for name in exported:
        obj = getattr(authsig, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, authsig.AuthSigError), name


def test_every_error_class_has_its_own_code() -> None:
    import authsig.errors as errors

    classes = [
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, errors.AuthSigError)
    ]
    codes = [cls.code for cls in classes]
    assert len(codes) == len(set(codes)), "two error classes share a reason code"
    assert all(code and code.islower() for code in codes)
