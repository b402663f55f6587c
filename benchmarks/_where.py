"""Where the time goes: a sampling profile of one function, and facts about a sample body.

The profile is statistical, not instrumented (an instrumenting profiler such as ``cProfile``
adds a fixed cost to every call and so inflates exactly the many small calls we want to
weigh). ``SIGPROF`` fires on CPU-time ticks of this process; the handler charges the CPU time
since the previous tick to the Python function running when the tick is handled. Time spent
inside a C function (the ``json`` encoder, OpenSSL) is charged to the Python function that
called it, because Python handles the signal right after that call returns; the hottest
source line of each function is kept to show which call it was. ``SIGPROF`` is used rather
than ``SIGALRM`` because ``pytest-timeout`` owns the latter.
"""

from __future__ import annotations

import linecache
import math
import signal
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

from benchmarks._model import Row, fmt_delta, fmt_us

__all__ = [
    "Profile",
    "SampleFacts",
    "bare_walk",
    "budget_text",
    "facts",
    "floats_in",
    "miss_note",
    "profile",
]

_ROOT = Path(__file__).resolve().parent.parent
# The kernel's CPU-time tick is a few ms whatever is asked; asking for less costs nothing.
_INTERVAL = 0.001


@dataclass(frozen=True)
class Profile:
    """CPU seconds sampled, and per function (``"jcs._dumps"``) its share and hottest line."""

    seconds: float
    samples: int
    shares: list[tuple[str, float, str]]

    def top(self, count: int = 4) -> str:
        """``"41% jcs._format_float, 22% jcs._dumps (`"".join(...)`), ..."``."""
        if not self.shares:
            return "no samples (run too short)"
        parts = []
        for name, share, line in self.shares[:count]:
            hint = f" (`{line}`)" if line else ""
            parts.append(f"{share:.0%} `{name}`{hint}")
        return ", ".join(parts)


def _label(code: CodeType) -> str:
    """``"module.function"``: the path below the repository's package, else the file stem."""
    path = Path(code.co_filename)
    try:
        rel = path.resolve().relative_to(_ROOT)
        module = ".".join(rel.with_suffix("").parts[1:]) or rel.stem  # drop "authsig/"
    except ValueError:
        module = path.stem  # the standard library or a site package
    return f"{module}.{code.co_name}"


def _line_text(code: CodeType, line: int | None) -> str:
    if line is None:
        return ""
    text = linecache.getline(code.co_filename, line).strip()
    if text.startswith(("def ", "async def ", "@")):
        return ""  # a tick handled on entering the function says nothing about which call
    return text if len(text) <= 60 else text[:57] + "..."


def profile(fn: Callable[[], object], seconds: float) -> Profile:
    """Call ``fn`` repeatedly for about ``seconds`` of CPU time under the sampler."""
    # (code, line) -> CPU seconds; the handler only counts, labels are made afterwards.
    spent: defaultdict[tuple[CodeType, int | None], float] = defaultdict(float)
    harness = profile.__code__  # this loop's own time is not the subject's
    last = time.thread_time()
    count = 0
    busy = False

    def on_tick(_signum: int, frame: FrameType | None) -> None:
        nonlocal last, count, busy
        if busy:  # a tick handled inside this handler: its time is nobody's
            return
        busy = True
        if frame is not None and frame.f_code is not harness:
            spent[frame.f_code, frame.f_lineno] += time.thread_time() - last
            count += 1
        last = time.thread_time()  # the handler's own time is charged to nobody
        busy = False

    previous = signal.signal(signal.SIGPROF, on_tick)
    signal.setitimer(signal.ITIMER_PROF, _INTERVAL, _INTERVAL)
    try:
        start = last = time.thread_time()
        while time.thread_time() - start < seconds:
            fn()
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0.0, 0.0)
        signal.signal(signal.SIGPROF, previous)
    return Profile(sum(spent.values()), count, _shares(spent))


def _shares(
    spent: Mapping[tuple[CodeType, int | None], float],
) -> list[tuple[str, float, str]]:
    """Per function, largest first: (name, share of the total, text of its hottest line)."""
    total = sum(spent.values())
    if total <= 0:
        return []
    per_function: defaultdict[str, float] = defaultdict(float)
    hottest: dict[str, tuple[float, str]] = {}
    for (code, line), seconds in spent.items():
        name = _label(code)
        per_function[name] += seconds
        if seconds > hottest.get(name, (-1.0, ""))[0]:
            hottest[name] = (seconds, _line_text(code, line))
    return [
        (name, seconds / total, hottest[name][1])
        for name, seconds in sorted(per_function.items(), key=lambda item: -item[1])
    ]


# --- facts about a body ---------------------------------------------------------------------


def _walk(value: Any, depth: int = 1) -> Iterator[tuple[Any, int]]:
    """Every value with its container depth, without recursion (bodies may be deep)."""
    stack = [(value, depth)]
    while stack:
        item, level = stack.pop()
        yield item, level
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list | tuple):
            stack.extend((v, level + 1) for v in item)


def bare_walk(value: Any) -> None:
    """Visit every value of a JSON document in Python and do nothing with it: the least any
    design pays that looks at each value from Python (the fastest such walk we found: an
    explicit stack, no per-value call)."""
    stack = [value]
    pop, push = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is dict:
            push(item.values())
        elif kind is list:
            push(item)


def floats_in(value: Any) -> list[float]:
    """The floats of a body, in no particular order."""
    return [item for item, _ in _walk(value) if type(item) is float]


@dataclass(frozen=True)
class SampleFacts:
    """What in a body makes canonicalization cost more than ``json.dumps``."""

    values: int  # every value, containers included
    floats: int
    floats_relaid: int  # floats whose json.dumps text is not the RFC 8785 text
    astral_keys: int  # object keys beyond U+FFFF (their UTF-16 order differs)
    non_ascii_strings: int
    depth: int


def facts(value: Any, format_number: Callable[[float], str]) -> SampleFacts:
    """Count the facts of ``value``; ``format_number`` is the RFC 8785 number formatter."""
    import json

    values = floats = relaid = astral = non_ascii = depth = 0
    for item, level in _walk(value):
        values += 1
        depth = max(depth, level if isinstance(item, dict | list | tuple) else level - 1)
        if type(item) is float and math.isfinite(item):
            floats += 1
            relaid += json.dumps(item) != format_number(item)
        elif isinstance(item, str) and not item.isascii():
            non_ascii += 1
        if isinstance(item, dict):
            for key in item:
                astral += any(ord(c) > 0xFFFF for c in key)
                non_ascii += not key.isascii()
    return SampleFacts(values, floats, relaid, astral, non_ascii, depth)


# --- the note under a missed target ---------------------------------------------------------


def budget_text(row: Row) -> str:
    """``"`b` 2.59x (target <= 1.5x: allows 40.0 µs, +32.2 µs over)"`` for a row with a target."""
    if row.target is None:
        raise ValueError("the row has no target")
    # cost: time(subject) <= target * time(baseline); speedup: time(baseline) / target.
    allowed = row.target * row.baseline_us if row.kind == "cost" else row.baseline_us / row.target
    over = row.subject_us - allowed
    # The verdict comes from the paired per-round ratio; the medians may sit just inside.
    excess = f", {fmt_delta(over)} over" if over > 0 else ", at the edge"
    return (
        f"against `{row.baseline}` {row.value_text()} (target {row.target_text()}: allows "
        f"{fmt_us(allowed)}{excess})"
    )


def miss_note(rows: list[Row], prof: Profile, *details: str) -> str:
    """Why ``rows`` (the missed targets of one subject on one sample) were missed, in numbers:
    the budget each target leaves, the profile of the subject, and ``details``."""
    first = rows[0]
    text = (
        f"**{first.sample or first.case}**: `{first.subject}` takes {fmt_us(first.subject_us)}; "
        + "; ".join(budget_text(row) for row in rows)
        + f". Profile ({prof.samples} ticks, {prof.seconds:.2f} s CPU): {prof.top()}."
    )
    return " ".join([text, *details])
