"""Users' type checkers accept the documented calls: ``mypy --strict`` on tests/typing/ (a file
of calls written as the README and docs/ write them), and mypy still refuses a wrong one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
pytest.importorskip("mypy", reason="mypy is not installed (pip install -e '.[dev]')")


def _mypy(target: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache), str(target)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=HERE.parent,
    )


@pytest.mark.slow
def test_user_calls_pass_mypy_strict(tmp_path: Path) -> None:
    done = _mypy(HERE / "typing" / "user_calls.py", tmp_path / "cache")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found in 1 source file" in done.stdout


@pytest.mark.slow
def test_a_wrong_call_is_refused(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.py"
    wrong.write_text("from authsig import KeyQuorum\n\nKeyQuorum(public_keys=[1, 2])\n")
    done = _mypy(wrong, tmp_path / "cache")
    assert done.returncode == 1
    assert 'List item 0 has incompatible type "int"' in done.stdout
