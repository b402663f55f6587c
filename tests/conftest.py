"""Shared test configuration.

Conformance data lives outside the repository (``../shared/vectors`` by default, or the
directory named by ``AUTHSIG_VECTORS``). Where data or a tool is absent, tests skip and say
why; with ``AUTHSIG_STRICT=1`` (set by ``.ci/run``) any skip makes the run fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
STRICT = os.environ.get("AUTHSIG_STRICT") == "1"


def vectors_root() -> Path:
    default = ROOT.parent / "shared" / "vectors"
    return Path(os.environ.get("AUTHSIG_VECTORS", str(default))).resolve()


def vectors_path(*parts: str) -> Path:
    """Path of a conformance file; skips (fails under AUTHSIG_STRICT) when it is absent."""
    path = vectors_root().joinpath(*parts)
    if not path.exists():
        pytest.skip(f"conformance data not found at {path} (set AUTHSIG_VECTORS)")
    return path


@pytest.fixture
def vectors() -> Any:
    return vectors_path


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A throw-away real ``redis-server`` for the session (skips, failing CI, without one)."""
    from servers import ServerUnavailable, redis_server

    try:
        with redis_server() as url:
            yield url
    except ServerUnavailable as exc:
        pytest.skip(str(exc))


_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if STRICT and _skipped and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if STRICT and _skipped:
        terminalreporter.write_line(
            f"AUTHSIG_STRICT=1: {len(_skipped)} skipped test(s) count as failures: "
            + ", ".join(_skipped[:10]),
            red=True,
        )
