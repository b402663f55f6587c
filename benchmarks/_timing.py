"""A small timing helper: interleaved, repeated batches, medians of paired ratios.

Every benchmark compares a *subject* (authsig) with one or more *baselines* measured in
the same process, side by side. On a small (2-core, shared) machine the clock speed and
the neighbours change over seconds, so timing each function once, one after the other,
would mix those changes into the ratios. Instead:

1. each function is calibrated to a batch size ``n`` that takes about
   ``batch_seconds``;
2. then ``rounds`` rounds run; in each round every function runs one batch, in an order
   rotated from round to round (nobody is always first, nobody always warms the cache
   for the next);
3. the per-call time of a function is the **median** of its per-round batch times, and a
   ratio between two functions is the **median of the per-round ratios** (each ratio
   is taken between batches that ran a few milliseconds apart, under the same
   conditions).

The clock is the CPU time of the calling thread (:func:`time.thread_time`), not the wall
clock: the machine is shared (other jobs, the other benchmarks' helper processes), and time
spent descheduled must not count. Everything timed here is CPU-bound and single-threaded
(no I/O, no waiting), so its CPU time is its cost. The garbage collector is disabled inside
a batch (as :mod:`timeit` does) and run between rounds.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = ["RoundHook", "TimingConfig", "Timings", "calibrate", "compare", "time_batch"]

#: Called once per round (with the round index) to time functions that live elsewhere (in
#: another process); returns seconds per call by name, merged into the samples.
RoundHook = Callable[[int], Mapping[str, float]]


@dataclass(frozen=True)
class TimingConfig:
    """How long and how often to measure.

    ``fixed_number`` skips calibration and runs exactly that many calls per batch (the
    smoke tests use it with ``rounds=1`` to prove the code paths run, not to time them).
    """

    rounds: int = 15
    batch_seconds: float = 0.04
    fixed_number: int | None = None

    @classmethod
    def full(cls) -> TimingConfig:
        """The configuration of a normal run (a few minutes for everything)."""
        return cls(rounds=15, batch_seconds=0.04)

    @classmethod
    def quick(cls) -> TimingConfig:
        """A fast, noisier run (``--quick``)."""
        return cls(rounds=5, batch_seconds=0.01)

    @classmethod
    def tiny(cls) -> TimingConfig:
        """Two calls per function, one round: for tests only, the numbers mean nothing."""
        return cls(rounds=1, batch_seconds=0.0, fixed_number=2)


def time_batch(fn: Callable[[], object], number: int) -> float:
    """CPU seconds (this thread) per call of ``fn`` over ``number`` back-to-back calls
    (GC off)."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.thread_time()
        for _ in range(number):
            fn()
        elapsed = time.thread_time() - start
    finally:
        if gc_was_enabled:
            gc.enable()
    return elapsed / number


def calibrate(fn: Callable[[], object], batch_seconds: float) -> int:
    """Number of calls of ``fn`` that take about ``batch_seconds`` (after one warm-up call)."""
    fn()  # warm up (imports, caches, first-call costs)
    number = 1
    while True:
        per_call = time_batch(fn, number)
        if per_call * number >= batch_seconds / 4 or number >= 1 << 22:
            break
        number *= 2
    return max(1, round(batch_seconds / max(per_call, 1e-9)))


@dataclass
class Timings:
    """Per-round seconds-per-call samples of several functions measured together."""

    samples: dict[str, list[float]] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)

    def median(self, name: str) -> float:
        """Median seconds per call of ``name`` over the rounds."""
        return statistics.median(self.samples[name])

    def best(self, name: str) -> float:
        """Fastest round of ``name`` (seconds per call)."""
        return min(self.samples[name])

    def us(self, name: str) -> float:
        """Median microseconds per call."""
        return self.median(name) * 1e6

    def ratio(self, subject: str, baseline: str) -> float:
        """Median over rounds of time(subject) / time(baseline), paired by round."""
        pairs = zip(self.samples[subject], self.samples[baseline], strict=True)
        return statistics.median(s / b for s, b in pairs)

    def spread(self, subject: str, baseline: str) -> tuple[float, float]:
        """(min, max) of the per-round ratios: how noisy the ratio was."""
        ratios = [s / b for s, b in zip(self.samples[subject], self.samples[baseline], strict=True)]
        return min(ratios), max(ratios)


def compare(
    cases: Mapping[str, Callable[[], object]],
    config: TimingConfig,
    *,
    round_hook: RoundHook | None = None,
) -> Timings:
    """Time every function in ``cases`` in interleaved rounds (see the module docstring).

    ``round_hook`` runs at the start of every round (before the local batches) and its
    timings join the samples, so ratios against it are paired by round too.
    """
    names = list(cases)
    timings = Timings(samples={name: [] for name in names})
    for name in names:
        if config.fixed_number is not None:
            cases[name]()
            timings.numbers[name] = config.fixed_number
        else:
            timings.numbers[name] = calibrate(cases[name], config.batch_seconds)
    for round_index in range(config.rounds):
        if round_hook is not None:
            for name, seconds in round_hook(round_index).items():
                timings.samples.setdefault(name, []).append(seconds)
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            timings.samples[name].append(time_batch(cases[name], timings.numbers[name]))
        gc.collect()
    return timings
