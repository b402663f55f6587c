"""``python -m benchmarks [--quick] [--only P1,P3] [--out DIR] [--no-write]``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from benchmarks import HERE, BenchConfig, run_benchmarks, write_outputs
from benchmarks._report import render_text


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks, print the table, write README.md and the plot."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds, shorter load test")
    parser.add_argument("--only", help="comma-separated subset, e.g. P1,P3")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write README.md and the plot (default: benchmarks/ for a full run "
        "of everything, benchmarks/out/ otherwise, so a partial run never overwrites "
        "the committed report)",
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)

    config = BenchConfig.quick() if args.quick else BenchConfig.full()
    only = args.only.split(",") if args.only else None
    load_before = os.getloadavg()[0]
    sections = run_benchmarks(config, only)
    load_after = os.getloadavg()[0]
    extra = {"load average (1 min) at start / end": f"{load_before:.2f} / {load_after:.2f}"}
    print(render_text(sections))
    if not args.no_write:
        out = args.out
        if out is None:
            out = HERE if (only is None and not args.quick) else HERE / "out"
        for path in write_outputs(sections, config, out, extra):
            print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
