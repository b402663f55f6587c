"""Checks of the repository itself (CI, links to files that only the repository has). Not in the
sdist, which ships neither .ci/ nor benchmarks/ nor fuzz/ (see pyproject.toml)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPOSITORY = re.compile(r"https://github\.com/authsig/authsig/(?:blob|tree)/main/([^\s)#]+)")


def test_ci_calls_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M), ".ci/run must call the README's test command"


def test_readme_links_point_at_files_of_the_repository() -> None:
    targets = REPOSITORY.findall((ROOT / "README.md").read_text())
    assert len(targets) >= 10
    missing = [t for t in targets if not (ROOT / t).exists()]
    assert not missing, f"README links to files the repository does not have: {missing}"
