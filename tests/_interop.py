"""Drivers for the official Privy SDKs, shared by the interop and vector tests.

Each SDK runs in its own environment built by :mod:`_envs` (cached under ``.cache/``) through
a helper script in ``tests/interop/`` that takes a batch of cases as JSON on stdin, so one
process start-up serves a whole test module.
"""

from __future__ import annotations

import base64
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from _envs import EnvUnavailable, node_env, python_env, run_json

HERE = Path(__file__).resolve().parent
NODE_SDK = "@privy-io/node@0.35.0"
PYTHON_SDK = "privy-client==0.7.0"
SERVER_AUTH_SDK = "@privy-io/server-auth@1.32.5"
NODE_SCRIPT = HERE / "interop" / "privy_node.cjs"
PYTHON_SCRIPT = HERE / "interop" / "privy_python.py"
SERVER_AUTH_SCRIPT = HERE / "interop" / "privy_server_auth.cjs"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


@dataclass(frozen=True)
class SdkDriver:
    """Runs batches of cases through one SDK helper script."""

    argv: tuple[str, ...]
    name: str
    version: str

    def run(self, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Run ``cases`` in one process; returns one result per case, in order."""
        out = run_json(list(self.argv), {"cases": cases})
        assert isinstance(out, dict), out
        assert out["sdk_version"] == self.version, f"{self.name}: got {out['sdk_version']}"
        results = out["results"]
        assert isinstance(results, list)
        assert len(results) == len(cases)
        return results

    def run_ok(self, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Like :meth:`run`, but fails when any case raised inside the SDK."""
        results = self.run(cases)
        # Report the op and the SDK's message only: cases may hold (test) private keys.
        errors = [
            (i, c.get("op"), r["error"])
            for i, (c, r) in enumerate(zip(cases, results, strict=True))
            if "error" in r
        ]
        assert not errors, f"{self.name} raised: {errors[:3]}"
        return results


def node_driver() -> SdkDriver:
    """The Node SDK driver; skips (fails under AUTHSIG_STRICT) when it cannot be built."""
    try:
        folder = node_env("privy-node", [NODE_SDK])
    except EnvUnavailable as exc:
        pytest.skip(f"Node SDK unavailable: {exc}")
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js not installed (apt-get install nodejs npm; .ci/run does)")
    return SdkDriver(
        (node, str(NODE_SCRIPT), str(folder)), f"node {NODE_SDK}", NODE_SDK.rsplit("@", 1)[1]
    )


def server_auth_driver() -> SdkDriver:
    """The legacy Node SDK (@privy-io/server-auth) driver; skips (fails under AUTHSIG_STRICT)
    when it cannot be built."""
    try:
        folder = node_env("privy-server-auth", [SERVER_AUTH_SDK])
    except EnvUnavailable as exc:
        pytest.skip(f"@privy-io/server-auth unavailable: {exc}")
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed")
    return SdkDriver(
        (node, str(SERVER_AUTH_SCRIPT), str(folder)),
        f"node {SERVER_AUTH_SDK}",
        SERVER_AUTH_SDK.rsplit("@", 1)[1],
    )


def python_driver() -> SdkDriver:
    """The Python SDK driver; skips (fails under AUTHSIG_STRICT) when it cannot be built."""
    try:
        python = python_env("privy-python", [PYTHON_SDK])
    except EnvUnavailable as exc:
        pytest.skip(f"Python SDK unavailable: {exc}")
    return SdkDriver(
        (str(python), str(PYTHON_SCRIPT)), f"python {PYTHON_SDK}", PYTHON_SDK.split("==")[1]
    )


__all__ = [
    "NODE_SDK",
    "PYTHON_SDK",
    "SERVER_AUTH_SDK",
    "SdkDriver",
    "b64",
    "node_driver",
    "python_driver",
    "server_auth_driver",
    "unb64",
]
