"""The rules of tools/check_dist.py (what the sdist and the wheel may contain, the metadata it
requires) refuse what they should; .ci/run runs the script itself on the real artifacts."""

from __future__ import annotations

import email.message
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the tools package lives next to authsig, outside tests/
    sys.path.insert(0, str(ROOT))

from tools.check_dist import SDIST_MUST_NOT, _matches, check_metadata  # noqa: E402


def _metadata(**fields: str | list[str]) -> email.message.Message:
    message = email.message.Message()
    for name, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            message[name.replace("_", "-")] = one
    return message


GOOD: dict[str, Any] = {
    "License_Expression": "Apache-2.0",
    "License_File": ["LICENSE", "NOTICE"],
    "Project_URL": ["Source, https://github.com/authsig/authsig"],
    "Provides_Extra": ["redis"],
    "Requires_Dist": ["redis>=5.0; extra == 'redis'"],
}


def test_good_metadata_passes() -> None:
    assert check_metadata(_metadata(**GOOD)) == []


def test_an_empty_extra_is_refused() -> None:
    problems = check_metadata(_metadata(**{**GOOD, "Provides_Extra": ["redis", "wsgi"]}))
    assert problems == ["the 'wsgi' extra installs nothing"]


def test_missing_license_file_and_urls_are_refused() -> None:
    bare = {k: v for k, v in GOOD.items() if k not in ("License_File", "Project_URL")}
    problems = check_metadata(_metadata(**bare))
    assert [p.split(" ")[0] for p in problems] == ["License-File", "no"]


def test_the_development_harnesses_stay_out_of_the_sdist() -> None:
    for name in (
        ".ci/run",
        "benchmarks/verify_vs_quorum.png",
        "fuzz/h_jcs.py",
        "Makefile",
        "tests/test_fuzz_regressions.py",
        "tests/fuzz_regressions/jcs/0a1b",
        "authsig/__pycache__/keys.cpython-311.pyc",
    ):
        assert _matches(name, SDIST_MUST_NOT), name
    for name in ("authsig/keys.py", "tests/test_jcs.py", "tests/conformance/jcs/LICENSE"):
        assert not _matches(name, SDIST_MUST_NOT), name
