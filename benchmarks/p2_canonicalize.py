"""P2: ``authsig.jcs.canonicalize`` vs the ``rfc8785`` package and vs ``json.dumps``.

Inputs: every sample class of ``_samples.py`` (ASCII, non-ASCII text, amounts, wide-range
floats, deep nesting, a mix), each small and ~100 KB, plus two flat arrays of 10k floats
(amounts; 1e-12..1e25), which take the flat-array path of ``canonicalize``. Before any timing,
the output of ``canonicalize`` is checked byte for byte against ``rfc8785`` on each input (the
speed must not come from being inexact).

Targets (architecture issue), on every input: <= 1.5x the time of
``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` and >= 3x faster
than ``rfc8785``. ``json.dumps`` is *not* RFC 8785 (it differs on many floats and on keys
beyond U+FFFF): it is the floor, not a correct answer.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from benchmarks._data import amounts, many_floats
from benchmarks._model import (
    BenchConfig,
    Row,
    Section,
    Table,
    Unavailable,
    cost_row,
    fmt_us,
    speedup_row,
)
from benchmarks._samples import compact_size, samples
from benchmarks._timing import Timings, compare
from benchmarks._where import SampleFacts, bare_walk, facts, floats_in, miss_note, profile

BENCH = "P2"
TITLE = "canonicalize vs rfc8785 and json.dumps, per sample class"

OURS = "authsig.jcs.canonicalize"
RFC = "rfc8785.dumps"
DUMPS = "json.dumps(sorted, compact).encode()"
FORMAT = "format_number on the re-laid floats"
WALK = "bare Python walk of every value"
DUMPS_TARGET = 1.5
RFC_TARGET = 3.0
METRIC_DUMPS = f"P2 canonicalize / json.dumps (<= {DUMPS_TARGET:g}x)"
METRIC_RFC = f"P2 faster than rfc8785 (>= {RFC_TARGET:g}x)"


def _dumps(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _inputs() -> list[tuple[str, Any]]:
    """(label, value): the sample classes, then the two flat float arrays."""
    inputs = [(s.label, s.body) for s in samples()]
    for name, values in (("amounts", amounts()), ("1e-12..1e25", many_floats())):
        inputs.append((f"flat array, 10k floats {name} ({compact_size(values):,} B)", values))
    return inputs


def _measure(value: Any, relaid: list[float], config: BenchConfig, api: dict[str, Any]) -> Timings:
    """canonicalize, its two baselines, and the two Python floors, side by side."""
    canonicalize, rfc_dumps, format_number = api["canonicalize"], api["rfc"], api["format"]
    cases: dict[str, Callable[[], object]] = {
        OURS: lambda: canonicalize(value),
        RFC: lambda: rfc_dumps(value),
        DUMPS: lambda: _dumps(value),
        WALK: lambda: bare_walk(value),
    }
    if relaid:
        cases[FORMAT] = lambda: [format_number(x) for x in relaid]
    return compare(cases, config.timing)


def _floors(t: Timings, found: SampleFacts) -> str:
    """What the per-value Python work costs on this input, against the json.dumps budget."""
    walk, fmt = t.us(WALK), t.us(FORMAT) if FORMAT in t.samples else 0.0
    budget = (DUMPS_TARGET - 1) * t.us(DUMPS)
    text = (
        f"A bare Python walk of the {found.values:,} values takes {fmt_us(walk)} (the floor "
        "of any design that looks at every value from Python)"
    )
    if found.floats_relaid:
        text += (
            f"; `format_number`, once per float that `json.dumps` lays out otherwise "
            f"({found.floats_relaid:,} of {found.floats:,}), {fmt_us(fmt)}"
        )
    return text + (
        f". Together {fmt_us(walk + fmt)}: {(walk + fmt) / budget:.0%} of the "
        f"{fmt_us(budget)} the <= {DUMPS_TARGET:g}x target leaves over `json.dumps`."
    )


def _why(
    rows: list[Row], t: Timings, found: SampleFacts, fn: Callable[[], object], config: BenchConfig
) -> list[str]:
    """The note under the missed targets of one input: the budgets, a profile of
    canonicalize, the facts and the floors."""
    missed = [row for row in rows if row.met is False]
    if not missed:
        return []
    facts_text = (
        f"The input: object keys beyond U+FFFF {found.astral_keys:,}, non-ASCII strings "
        f"{found.non_ascii_strings:,}, depth {found.depth}."
    )
    prof = profile(fn, config.profile_seconds)
    return [miss_note(missed, prof, facts_text, _floors(t, found))]


def _inputs_row(label: str, found: SampleFacts, t: Timings, exact_dumps: bool) -> list[str]:
    return [
        label,
        f"{found.values:,}",
        f"{found.floats:,}",
        f"{found.floats_relaid:,}",
        f"{found.astral_keys:,}",
        f"{found.non_ascii_strings:,}",
        str(found.depth),
        "yes" if exact_dumps else "no",
        fmt_us(t.us(WALK)),
        fmt_us(t.us(FORMAT)) if FORMAT in t.samples else "-",
    ]


INPUTS_HEADERS = [
    "input",
    "values",
    "floats",
    "floats json.dumps lays out otherwise",
    "keys beyond U+FFFF",
    "non-ASCII strings",
    "depth",
    "json.dumps == RFC 8785",
    "bare Python walk",
    "format_number on those floats",
]


def run(config: BenchConfig) -> Section:
    """Measure and return the P2 section."""
    try:
        import rfc8785

        from authsig.jcs import canonicalize, format_number
    except ImportError as exc:
        raise Unavailable(f"cannot import the subject or the peer: {exc}") from exc
    api = {"canonicalize": canonicalize, "rfc": rfc8785.dumps, "format": format_number}

    section = Section(BENCH, TITLE)
    inputs_rows: list[list[str]] = []
    for label, value in _inputs():
        ours = canonicalize(value)
        if ours != rfc8785.dumps(value):
            raise AssertionError(f"P2 {label}: canonicalize output differs from rfc8785")
        relaid = [x for x in floats_in(value) if json.dumps(x) != format_number(x)]
        found = facts(value, format_number)
        t = _measure(value, relaid, config, api)
        kw: dict[str, Any] = {"sample": label}
        rows = [
            cost_row(BENCH, label, t, OURS, DUMPS, target=DUMPS_TARGET, metric=METRIC_DUMPS, **kw),
            speedup_row(BENCH, label, t, OURS, RFC, target=RFC_TARGET, metric=METRIC_RFC, **kw),
        ]
        section.rows += rows
        section.notes += _why(rows, t, found, functools.partial(canonicalize, value), config)
        inputs_rows.append(_inputs_row(label, found, t, _dumps(value) == ours))
    section.tables.append(
        Table(
            "The inputs: what each holds, and two per-value Python costs (medians)",
            INPUTS_HEADERS,
            inputs_rows,
        )
    )
    section.notes.insert(
        0,
        "Before timing, `canonicalize` output was checked byte-for-byte equal to "
        "`rfc8785.dumps` on every input. The two floors (inputs table) are measured side by "
        "side with the rows: a *bare Python walk* visits every value from Python and does "
        "nothing (what any design that inspects each value pays at least); *format_number on "
        "those floats* formats, one call each, just the floats whose `json.dumps` text is not "
        "the RFC 8785 text (authsig's per-float formatter, not a floor: the flat-array path "
        "re-lays the C encoder's text instead). Under each miss: the time the target allows, a "
        "sampling profile of `canonicalize` on that input, and those costs against the budget.",
    )
    return section
