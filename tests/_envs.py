"""Isolated environments for the official SDKs used in interop tests and benchmarks.

Each SDK is installed once into its own folder under ``.cache/`` (its pins may clash with
ours: privy-client pins cryptography<47), keyed by what was asked for, so a fresh machine
builds them on first use and later runs reuse them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("AUTHSIG_CACHE", str(ROOT / ".cache"))).resolve()


class EnvUnavailable(RuntimeError):
    """The environment could not be built (no network, no node, ...)."""


def _stamp(parts: list[str]) -> str:
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def python_env(name: str, requirements: list[str]) -> Path:
    """Python executable of a venv at .cache/venv-NAME with ``requirements`` installed."""
    target = CACHE / f"venv-{name}"
    stamp = target / ".authsig-stamp"
    want = _stamp(requirements)
    python = target / "bin" / "python"
    if stamp.exists() and stamp.read_text() == want and python.exists():
        return python
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *requirements],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode != 0:
        raise EnvUnavailable(f"pip install {requirements} failed:\n{result.stderr[-3000:]}")
    stamp.write_text(want)
    return python


def node_env(name: str, packages: list[str]) -> Path:
    """Return a folder .cache/node-NAME where ``npm install packages`` has run."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise EnvUnavailable("Node.js/npm not installed (apt-get install nodejs npm; .ci/run does)")
    target = CACHE / f"node-{name}"
    stamp = target / ".authsig-stamp"
    want = _stamp(packages)
    if stamp.exists() and stamp.read_text() == want:
        return target
    target.mkdir(parents=True, exist_ok=True)
    (target / "package.json").write_text(json.dumps({"name": f"authsig-{name}", "private": True}))
    result = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", *packages],
        cwd=target,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode != 0:
        raise EnvUnavailable(f"npm install {packages} failed:\n{result.stderr[-3000:]}")
    stamp.write_text(want)
    return target


def run_json(
    argv: list[str], payload: object, *, cwd: Path | None = None, timeout: float = 300
) -> object:
    """Run a helper script that reads JSON on stdin and writes JSON on stdout."""
    result = subprocess.run(
        argv, input=json.dumps(payload), capture_output=True, text=True, cwd=cwd, timeout=timeout
    )
    if result.returncode != 0:
        raise AssertionError(f"{argv[0]} failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return json.loads(result.stdout)


__all__ = ["CACHE", "EnvUnavailable", "node_env", "python_env", "run_json"]
