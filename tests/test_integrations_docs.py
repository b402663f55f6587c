"""The examples of docs/fastapi.md, docs/django.md and docs/flask.md run as a reader would run
them: each page's files (the blocks that start with ``# name.py``) are written to a folder and
``python try_it.py`` runs there, in its own process (Django's settings belong to a process).
The page's other blocks run first, in the namespace of its app module, so that they are
checked against the example they extend."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = {"fastapi": "app", "flask": "app", "django": "example"}
FILE = re.compile(r"^# (\w+)\.py")

# The fragments go first: Flask takes no new routes once it has served a request.
DRIVER = """
import importlib, json, sys
module = importlib.import_module(sys.argv[1])
for number, code in enumerate(json.load(open("fragments.json"))):
    exec(compile(code, f"{sys.argv[2]} fragment {number}", "exec"), vars(module))
print("fragments:", number + 1)
import try_it  # the example, as the page runs it
"""


def _blocks(page: str) -> tuple[dict[str, str], list[str]]:
    text = (ROOT / "docs" / f"{page}.md").read_text()
    files: dict[str, str] = {}
    fragments: list[str] = []
    for block in re.findall(r"```python\n(.*?)```", text, re.S):
        match = FILE.match(block)
        if match:
            files[match.group(1)] = block
        else:
            fragments.append(block)
    return files, fragments


@pytest.mark.parametrize("page", sorted(PAGES))
def test_the_page_runs(page: str, tmp_path: Path) -> None:
    files, fragments = _blocks(page)
    assert set(files) == {PAGES[page], "try_it"}
    assert fragments, "the page documents more than the example"
    for name, code in files.items():
        (tmp_path / f"{name}.py").write_text(code)
    (tmp_path / "fragments.json").write_text(json.dumps(fragments))
    (tmp_path / "driver.py").write_text(DRIVER)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "AUTHSIG_REPLAY_DB": str(tmp_path / "replay.sqlite3"),
    }
    done = subprocess.run(
        [sys.executable, "driver.py", PAGES[page], f"docs/{page}.md"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "approved" in done.stdout
    assert f"fragments: {len(fragments)}" in done.stdout
    assert (tmp_path / "replay.sqlite3").is_file()  # the default store kept the replays out
