"""The README's examples run as written, and its first two commands are the ones CI uses."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
TEXT = README.read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", TEXT, re.S)


def _runnable(block: str) -> bool:
    # The middleware block wires an application the reader already has.
    return "AuthSigMiddleware(" not in block


@pytest.mark.parametrize(
    "block", [b for b in BLOCKS if _runnable(b)], ids=lambda b: b.split("\n")[0][:40]
)
def test_readme_example_runs(block: str) -> None:
    namespace: dict[str, Any] = {"__name__": "readme_example"}  # as a module of the reader's
    exec(compile(block, str(README), "exec"), namespace)  # our own README


def test_middleware_example_wires_up() -> None:
    (block,) = [b for b in BLOCKS if not _runnable(b)]

    async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover
        raise AssertionError("not called")

    namespace: dict[str, Any] = {"app": app, "quorums": {}}
    exec(compile(block, str(README), "exec"), namespace)  # our own README
    assert namespace["app"].__class__.__name__ == "AuthSigMiddleware"


def test_readme_starts_with_demo_and_test_commands() -> None:
    first_block = re.search(r"```sh\n(.*?)```", TEXT, re.S)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert commands[:2] == ["make demo", "make test"]
    ci = (README.parent / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M), ".ci/run must call the README's test command"
