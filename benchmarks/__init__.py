"""authsig benchmarks: ratios against the raw crypto and the peers (issue 8).

``python -m benchmarks [--quick] [--only P1,P3]`` runs them and rewrites
``benchmarks/README.md`` and ``benchmarks/verify_vs_quorum.png``.
Each benchmark is a module with ``BENCH``, ``TITLE`` and ``run(config) -> Section``.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from benchmarks._model import BenchConfig, Row, Section, Table, Unavailable

__all__ = [
    "BENCHMARKS",
    "BenchConfig",
    "Row",
    "Section",
    "Table",
    "Unavailable",
    "load",
    "run_benchmarks",
    "write_outputs",
]

BENCHMARKS: dict[str, str] = {
    "P1": "benchmarks.p1_sign",
    "P2": "benchmarks.p2_canonicalize",
    "P3": "benchmarks.p3_verify",
    "P4": "benchmarks.p4_asgi",
    "P5": "benchmarks.p5_cobo",
    "P6": "benchmarks.p6_replay",
    "P7": "benchmarks.p7_hostile",
}

HERE = Path(__file__).resolve().parent
PLOT_NAME = "verify_vs_quorum.png"


def load(bench: str) -> ModuleType:
    """The module of one benchmark (``"P1"`` .. ``"P5"``)."""
    return importlib.import_module(BENCHMARKS[bench])


def run_one(bench: str, config: BenchConfig) -> Section:
    """Run one benchmark; a missing subject or peer gives an 'unavailable' section."""
    module = load(bench)
    try:
        section: Section = module.run(config)
    except Unavailable as exc:
        section = Section(bench, str(module.TITLE), unavailable=str(exc))
    return section


def run_benchmarks(
    config: BenchConfig, only: Iterable[str] | None = None, *, verbose: bool = True
) -> list[Section]:
    """Run the selected benchmarks (all by default) in order."""
    selected = list(BENCHMARKS) if only is None else [b.strip().upper() for b in only]
    unknown = [b for b in selected if b not in BENCHMARKS]
    if unknown:
        raise ValueError(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")
    sections = []
    for bench in selected:
        start = time.monotonic()
        if verbose:
            print(f"[{bench}] running ...", file=sys.stderr, flush=True)
        section = run_one(bench, config)
        if verbose:
            took = time.monotonic() - start
            state = "unavailable: " + section.unavailable if section.unavailable else "done"
            print(f"[{bench}] {state} ({took:.1f} s)", file=sys.stderr, flush=True)
        sections.append(section)
    return sections


def write_outputs(
    sections: list[Section],
    config: BenchConfig,
    out_dir: Path,
    extra_info: dict[str, str] | None = None,
) -> list[Path]:
    """Write README.md (table, machine, versions) and the P3 plot into ``out_dir``.

    ``extra_info`` rows join the machine table (e.g. the load average during the run).
    """
    from benchmarks._report import machine_info, render_markdown, write_plot

    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    plot_name: str | None = None
    versions: dict[str, str] = dict(extra_info or {})
    for section in sections:
        versions.update(section.data.get("versions", {}))
        if section.bench == "P3" and section.unavailable is None:
            plot = out_dir / PLOT_NAME
            if write_plot(section, plot):
                plot_name = PLOT_NAME
                written.append(plot)
    readme = out_dir / "README.md"
    readme.write_text(
        render_markdown(sections, machine_info(versions), config, plot_name=plot_name),
        encoding="utf-8",
    )
    written.insert(0, readme)
    return written
