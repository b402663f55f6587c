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
CORE = [
    "errors",
    "keys",
    "jcs",
    "payload",
    "signatures",
    "headers",
    "expiry",
    "signing",
    "quorum",
    "_recover",
    "verifier",
    "explain",
]
EDGE = {"asgi", "wsgi", "client", "replay", "cli", "demo", "testvectors", "_middleware", "cobo"}
# (asyncio is allowed: the async twins of sign_request/verify_request await user callables.)
FORBIDDEN = {
    "httpx",
    "requests",
    "starlette",
    "fastapi",
    "flask",
    "uvicorn",
    "waitress",
    "redis",
    "socket",
    "urllib",
    "http",
    "subprocess",
}


def _imports(module: str) -> set[str]:
    tree = ast.parse((PKG / f"{module}.py").read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", CORE)
def test_core_module_imports_neither_edge_nor_io(module: str) -> None:
    for name in _imports(module):
        parts = name.split(".")
        if parts[0] == "authsig":
            assert len(parts) > 1
            assert parts[1] not in EDGE, f"{module} imports edge {name}"
        assert parts[0] not in FORBIDDEN, f"core module {module} imports {name}"


def test_importing_authsig_loads_no_framework() -> None:
    frameworks = sorted(FORBIDDEN - {"socket", "http", "urllib", "subprocess"})
    code = (
        "import sys, authsig\n"
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
