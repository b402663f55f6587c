"""placeholder"""

from __future__ import annotations

from benchmarks._model import BenchConfig, Section, Unavailable

BENCH = "P1"
TITLE = "pending"


def run(config: BenchConfig) -> Section:
    """Not written yet."""
    raise Unavailable("not written yet")
