"""Every Python block of the README and of docs/ either runs, or says on purpose that it is a
fragment and what it needs.

The rules, for any page (top-level ``*.md`` and ``docs/**/*.md``), so that new pages are checked
as soon as they land:

- A ```` ```python ```` block runs as written. The runnable blocks of a page run in order in one
  namespace (a later block may use what an earlier one defined, as a reader follows the page),
  in an empty working directory.
- A block preceded by ``<!-- fragment: needs ... -->`` (only blank lines between) is a fragment:
  it is not run here, and the comment must say what context it needs (at least three words),
  e.g. ``<!-- fragment: needs app (your ASGI app) and quorum_for -->``. A test that runs it with
  that context may say so in the comment.
- A page whose blocks a dedicated test runs (files written to a folder, another process, ...)
  says so once with ``<!-- blocks-run-by: tests/test_x.py -->``; that test file must exist and
  name the page.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([*ROOT.glob("*.md"), *(ROOT / "docs").rglob("*.md")])
FENCE = re.compile(r"^```([\w+-]*)[^\n]*\n(.*?)^```\s*$", re.S | re.M)
FRAGMENT = re.compile(r"<!--\s*fragment:\s*((?:(?!-->).)*?)\s*-->\s*\Z", re.S)
RUN_BY = re.compile(r"<!--\s*blocks-run-by:\s*(\S+)\s*-->")


def _python_blocks(text: str) -> list[tuple[int, str, str | None]]:
    """(line, code, fragment reason or None) of each Python block of a page, in order."""
    blocks = []
    for match in FENCE.finditer(text):
        if match.group(1) not in ("python", "py"):
            continue
        marker = FRAGMENT.search(text, 0, match.start())
        reason = marker.group(1) if marker else None
        line = text.count("\n", 0, match.start(2)) + 1
        blocks.append((line, match.group(2), reason))
    return blocks


def _name(page: Path) -> str:
    return str(page.relative_to(ROOT))


CHECKED = [p for p in PAGES if _python_blocks(p.read_text(encoding="utf-8"))]


def test_the_check_sees_the_docs() -> None:
    names = {_name(p) for p in CHECKED}
    assert {"README.md", "docs/verifier.md", "docs/middleware.md"} <= names


@pytest.mark.parametrize("page", CHECKED, ids=_name)
def test_each_python_block_runs_or_is_a_stated_fragment(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = page.read_text(encoding="utf-8")
    run_by = RUN_BY.search(text)
    if run_by is not None:
        runner = ROOT / run_by.group(1)
        assert runner.is_file(), f"{_name(page)} names {run_by.group(1)}, which does not exist"
        assert f'"{page.stem}"' in runner.read_text(encoding="utf-8"), (
            f"{run_by.group(1)} does not run {_name(page)}"
        )
        return
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "docs_example"}  # as a module of the reader's
    for line, code, reason in _python_blocks(text):
        where = f"{_name(page)}:{line}"
        if reason is not None:
            assert len(reason.split()) >= 3, f"{where}: say what the fragment needs"
            continue
        # Padded with newlines so that a traceback points at the page's own line numbers.
        exec(compile("\n" * (line - 1) + code, str(page), "exec"), namespace)  # our own docs


def test_a_fragment_marker_is_found_only_right_before_its_block() -> None:
    text = (
        "<!-- fragment: needs a b c -->\n\n```python\nx\n```\n\n```python\ny = 1\n```\n"
        "<!-- fragment: needs d e f -->\nprose\n```python\nz\n```\n"
    )
    assert [(code, reason) for _, code, reason in _python_blocks(text)] == [
        ("x\n", "needs a b c"),
        ("y = 1\n", None),
        ("z\n", None),
    ]
