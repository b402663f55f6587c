"""The README's middleware example wires up, its first two commands are the ones CI uses, and its
links work where it is read without the repository (PyPI). Its runnable blocks run in
tests/test_docs_blocks.py, with every page's."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parent.parent / "README.md"
TEXT = README.read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", TEXT, re.S)
REPOSITORY = "https://github.com/authsig/authsig/"


def test_middleware_example_wires_up() -> None:
    (block,) = [b for b in BLOCKS if "AuthSigMiddleware(" in b]

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


def _links() -> list[str]:
    inline = re.findall(r"\]\(([^)\s]+)\)", TEXT)
    references = re.findall(r"^\[[^\]]+\]:\s*(\S+)", TEXT, re.M)
    return inline + references


def test_links_are_absolute() -> None:
    """PyPI renders the README without the repository: a relative link would 404 there."""
    links = _links()
    assert len(links) >= 10
    for link in links:
        assert link.startswith("https://"), f"relative link {link!r}: use {REPOSITORY}blob/main/..."


def test_every_reference_is_defined() -> None:
    prose = re.sub(r"`[^`]*`", "", re.sub(r"```.*?```", "", TEXT, flags=re.S))
    pairs = re.findall(r"\[([^\]]+)\]\[([^\]]*)\]", prose)
    used = {(label or text).lower() for text, label in pairs}
    defined = {label.lower() for label in re.findall(r"^\[([^\]]+)\]:", TEXT, re.M)}
    assert used, "the README links to its docs by reference"
    assert used <= defined, f"undefined link references: {sorted(used - defined)}"
