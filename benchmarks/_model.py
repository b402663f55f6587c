"""What a benchmark produces: rows of ratios, extra tables, notes, plot data."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from benchmarks._timing import TimingConfig, Timings

__all__ = [
    "BenchConfig",
    "Row",
    "Section",
    "Table",
    "Unavailable",
    "cost_row",
    "fmt_delta",
    "fmt_us",
    "speedup_row",
]


def fmt_us(value: float) -> str:
    """Microseconds, or milliseconds from 1000 µs on."""
    if value >= 1000:
        return f"{value / 1000:,.2f} ms"
    return f"{value:,.1f} µs"


def fmt_delta(value: float) -> str:
    """A signed difference of microseconds: ``+4.2 µs``, ``-1.30 ms``."""
    return ("+" if value >= 0 else "-") + fmt_us(abs(value))


class Unavailable(Exception):
    """The subject of a benchmark does not exist (yet) or a peer cannot be set up."""


@dataclass(frozen=True)
class BenchConfig:
    """Everything a benchmark module may need to know about the run."""

    timing: TimingConfig
    # P4 (load test): bounded by count and by time, whichever comes first.
    p4_requests: int = 4000
    p4_seconds: float = 10.0
    p4_concurrency: int = 8
    # CPU seconds of the sampling profile taken of a subject that misses its target.
    profile_seconds: float = 1.0
    label: str = "full"

    @classmethod
    def full(cls) -> BenchConfig:
        """A normal run (a few minutes in all)."""
        return cls(timing=TimingConfig.full())

    @classmethod
    def quick(cls) -> BenchConfig:
        """``--quick``: fewer rounds, shorter batches, a shorter load test."""
        return cls(
            timing=TimingConfig.quick(),
            p4_requests=1000,
            p4_seconds=3.0,
            p4_concurrency=8,
            profile_seconds=0.3,
            label="quick",
        )

    @classmethod
    def tiny(cls) -> BenchConfig:
        """For the smoke tests: proves the code paths run; the numbers mean nothing."""
        return cls(
            timing=TimingConfig.tiny(),
            p4_requests=24,
            p4_seconds=5.0,
            p4_concurrency=2,
            profile_seconds=0.01,
            label="tiny",
        )


@dataclass(frozen=True)
class Row:
    """One ratio between a subject and a baseline measured side by side.

    ``kind="cost"``: ``value`` = time(subject) / time(baseline); the target is a maximum.
    ``kind="speedup"``: ``value`` = time(baseline) / time(subject); the target is a minimum.
    """

    bench: str
    case: str
    subject: str
    subject_us: float
    baseline: str
    baseline_us: float
    kind: Literal["cost", "speedup"]
    value: float
    target: float | None = None
    spread: tuple[float, float] | None = None
    note: str = ""
    # Set on the rows of the per-class targets: the sample (``"amounts, small (490 B)"``) and
    # what is compared (``"P2 canonicalize / json.dumps"``); the report's class table uses them.
    sample: str = ""
    metric: str = ""

    @property
    def met(self) -> bool | None:
        """Whether the target is met (None when there is no target)."""
        if self.target is None:
            return None
        if self.kind == "cost":
            return self.value <= self.target
        return self.value >= self.target

    def target_text(self) -> str:
        """The target as a person reads it."""
        if self.target is None:
            return "-"
        if self.kind == "cost":
            return f"<= {self.target:g}x"
        return f">= {self.target:g}x faster"

    def value_text(self) -> str:
        """The measured ratio as a person reads it."""
        if self.kind == "cost":
            return f"{self.value:.2f}x"
        if self.value < 1:
            return f"{1 / self.value:.2f}x slower"
        return f"{self.value:.2f}x faster"

    def verdict(self) -> str:
        """``met`` / ``MISSED`` / ``-``."""
        met = self.met
        if met is None:
            return "-"
        return "met" if met else "MISSED"

    def is_well_formed(self) -> bool:
        """Finite positive numbers everywhere and a non-empty description."""
        numbers = [self.subject_us, self.baseline_us, self.value]
        return (
            bool(self.bench and self.case and self.subject and self.baseline)
            and all(math.isfinite(x) and x > 0 for x in numbers)
            and self.kind in ("cost", "speedup")
        )


def cost_row(
    bench: str,
    case: str,
    timings: Timings,
    subject: str,
    baseline: str,
    *,
    target: float | None = None,
    note: str = "",
    sample: str = "",
    metric: str = "",
) -> Row:
    """Row whose value is time(subject) / time(baseline) (paired median)."""
    return Row(
        bench=bench,
        case=case,
        subject=subject,
        subject_us=timings.us(subject),
        baseline=baseline,
        baseline_us=timings.us(baseline),
        kind="cost",
        value=timings.ratio(subject, baseline),
        target=target,
        spread=timings.spread(subject, baseline),
        note=note,
        sample=sample,
        metric=metric,
    )


def speedup_row(
    bench: str,
    case: str,
    timings: Timings,
    subject: str,
    baseline: str,
    *,
    target: float | None = None,
    note: str = "",
    sample: str = "",
    metric: str = "",
) -> Row:
    """Row whose value is time(baseline) / time(subject) (paired median)."""
    low, high = timings.spread(baseline, subject)
    return Row(
        bench=bench,
        case=case,
        subject=subject,
        subject_us=timings.us(subject),
        baseline=baseline,
        baseline_us=timings.us(baseline),
        kind="speedup",
        value=timings.ratio(baseline, subject),
        target=target,
        spread=(low, high),
        note=note,
        sample=sample,
        metric=metric,
    )


@dataclass(frozen=True)
class Table:
    """An extra table (e.g. requests/s and latencies of the load test)."""

    title: str
    headers: list[str]
    rows: list[list[str]]


@dataclass
class Section:
    """The result of one benchmark (P1..P5)."""

    bench: str
    title: str
    rows: list[Row] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    unavailable: str | None = None
