"""Smoke tests of the benchmark code (issue 8): every benchmark runs with tiny iteration
counts and yields well-formed rows, for every sample class where it has per-class targets.
No assertion here is about speed."""

from __future__ import annotations

import functools
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `pytest` run from elsewhere than the repository root
    sys.path.insert(0, str(ROOT))

from benchmarks import BENCHMARKS, BenchConfig, Section, load, run_one, write_outputs  # noqa: E402
from benchmarks._model import Row  # noqa: E402
from benchmarks._report import render_text  # noqa: E402
from benchmarks._samples import CLASSES, LARGE_BYTES, compact_size, sample, samples  # noqa: E402
from benchmarks._timing import TimingConfig, Timings, compare  # noqa: E402
from benchmarks._where import facts, profile  # noqa: E402

TINY = BenchConfig.tiny()


@functools.cache
def _run(bench: str) -> Section:
    """Each benchmark runs once per test session; the tests read its section."""
    section = run_one(bench, TINY)
    if section.unavailable is not None:
        pytest.skip(f"{bench} unavailable: {section.unavailable}")
    return section


def _assert_well_formed(section: Section, bench: str) -> None:
    assert section.bench == bench
    assert section.title
    assert section.rows, f"{bench} produced no rows"
    for row in section.rows:
        assert isinstance(row, Row)
        assert row.bench == bench
        assert row.is_well_formed(), row
        assert row.met in (True, False, None)
        if row.spread is not None:
            low, high = row.spread
            assert 0 < low <= high
    for table in section.tables:
        assert table.headers
        for cells in table.rows:
            assert len(cells) == len(table.headers)


def test_timing_helper_interleaves_and_pairs_rounds() -> None:
    calls: list[str] = []
    config = TimingConfig(rounds=3, batch_seconds=0.0, fixed_number=4)
    timings = compare({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, config)
    # one warm-up call each, then 3 rounds x 4 calls each
    assert calls.count("a") == calls.count("b") == 1 + 3 * 4
    # rotation: round 0 runs a then b, round 1 runs b then a
    assert calls[2:10] == ["a"] * 4 + ["b"] * 4
    assert calls[10:18] == ["b"] * 4 + ["a"] * 4
    assert len(timings.samples["a"]) == len(timings.samples["b"]) == 3
    assert timings.ratio("a", "b") > 0
    assert math.isfinite(timings.ratio("a", "b"))


def test_paired_ratio_is_median_of_round_ratios() -> None:
    timings = Timings(samples={"s": [2.0, 4.0, 30.0], "b": [1.0, 1.0, 10.0]})
    assert timings.ratio("s", "b") == 3.0  # ratios 2, 4, 3 -> median 3
    assert timings.spread("s", "b") == (2.0, 4.0)
    assert timings.median("s") == 4.0


def test_row_targets_read_both_ways() -> None:
    cost = Row("P9", "c", "x", 2.0, "y", 1.0, "cost", 2.0, target=1.15)
    fast = Row("P9", "c", "x", 1.0, "y", 4.0, "speedup", 4.0, target=3.0)
    assert cost.met is False
    assert cost.verdict() == "MISSED"
    assert fast.met is True
    assert fast.verdict() == "met"
    assert Row("P9", "c", "x", 1.0, "y", 1.0, "cost", 1.0).met is None
    assert not Row("P9", "c", "x", float("nan"), "y", 1.0, "cost", 1.0).is_well_formed()


@pytest.mark.parametrize("bench", list(BENCHMARKS))
def test_benchmark_runs_and_yields_rows(bench: str) -> None:
    section = _run(bench)
    _assert_well_formed(section, bench)
    assert bench in render_text([section])


# The per-class targets of each benchmark: the module constants naming their metrics.
PER_CLASS = {
    "P1": ["METRIC"],
    "P2": ["METRIC_DUMPS", "METRIC_RFC"],
    "P3": ["METRIC_HAND", "METRIC_QUORUM"],
}


@pytest.mark.parametrize("bench", sorted(PER_CLASS))
def test_every_sample_class_gets_its_target_rows(bench: str) -> None:
    section = _run(bench)
    labels = [s.label for s in samples()]
    for constant in PER_CLASS[bench]:
        metric = getattr(load(bench), constant)
        rows = [row for row in section.rows if row.metric == metric]
        # every class in both sizes, in order (P2 adds its flat float arrays after them)
        assert [row.sample for row in rows][: len(labels)] == labels, metric
        assert all(row.met is not None for row in rows), metric
    breakdown = section.tables[0]
    assert [cells[0] for cells in breakdown.rows][: len(labels)] == labels


def test_samples_are_deterministic_and_sized() -> None:
    for cls in CLASSES:
        small, large = sample(cls, "small"), sample(cls, "large")
        assert small.body == sample(cls, "small").body  # same seed, same bytes
        assert 200 <= compact_size(small.body) <= 2048, small.label
        assert LARGE_BYTES <= compact_size(large.body) <= LARGE_BYTES * 1.1, large.label


def test_samples_hold_what_their_class_promises() -> None:
    from authsig.jcs import format_number

    found = {s.label: (s.cls, facts(s.body, format_number)) for s in samples()}
    for label, (cls, f) in found.items():
        if cls == "ascii":
            assert f.floats == f.non_ascii_strings == 0, label
        if cls in ("non-ascii", "mix"):
            assert f.non_ascii_strings > 0, label
            assert f.astral_keys > 0, label
        if cls in ("amounts", "wide-floats", "mix"):
            assert f.floats_relaid > 0, label  # some floats json.dumps lays out otherwise
        if cls in ("deep", "mix"):
            assert f.depth >= 32, label
    wide = sample("wide-floats", "large").body
    floats = [x for rec in wide["data"] for x in rec["samples"]]
    assert min(abs(x) for x in floats if x) < 1e-300  # subnormal and extreme doubles too
    assert max(abs(x) for x in floats) > 1e25


def _burn() -> int:
    return sum(i * i for i in range(20_000))


def test_profile_charges_time_to_the_function_that_spent_it() -> None:
    prof = profile(_burn, 0.2)
    assert prof.samples > 0
    assert sum(share for _, share, _ in prof.shares) == pytest.approx(1.0)
    top = {name for name, share, _ in prof.shares if share > 0.3}
    assert any(name.endswith(("_burn", "<genexpr>")) for name in top), prof.shares


def test_p4_signed_requests_are_accepted_by_every_server() -> None:
    section = _run("P4")
    (table,) = section.tables
    errors = table.headers.index("errors")
    requests = table.headers.index("requests")
    assert [row[0] for row in table.rows] == [
        "unsigned endpoint",
        "AuthSigMiddleware",
        "verify inline in handler",
    ]
    for row in table.rows:
        assert int(row[requests]) > 0
        assert row[errors] == "0", row  # every pre-signed request was approved (200)


def test_p3_plot_and_readme_are_written(tmp_path: Path) -> None:
    p3 = _run("P3")
    p2 = _run("P2")
    written = write_outputs([p2, p3], TINY, tmp_path)
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert tmp_path / "README.md" in written
    for row in p2.rows + p3.rows:
        assert row.value_text() in readme
    assert "### Targets by sample class" in readme
    for s in samples():
        assert f"| {s.label} |" in readme
    assert "## Machine and versions" in readme
    assert "cryptography" in readme
    png = tmp_path / "verify_vs_quorum.png"
    assert png in written
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "verify_vs_quorum.png" in readme


def test_every_module_declares_its_name() -> None:
    for bench in BENCHMARKS:
        module = load(bench)
        assert bench == module.BENCH
        assert callable(module.run)


def test_p7_reports_every_hostile_class() -> None:
    from benchmarks.p7_hostile import METRIC, bodies

    section = _run("P7")
    classes = list(bodies(1 << 10))
    rows = [row for row in section.rows if row.metric == METRIC]
    assert [row.sample for row in rows] == classes
    assert all(row.met is not None for row in rows)  # each class has its <= 2x target
    (table,) = section.tables
    assert [cells[0] for cells in table.rows] == classes


def test_p7_bodies_are_json_of_the_size_asked_for() -> None:
    import json

    from benchmarks.p7_hostile import bodies

    size = 64 << 10
    for label, body in bodies(size).items():
        assert 0.9 * size <= len(body) <= 1.1 * size, label
        assert json.loads(body) is not None, label
