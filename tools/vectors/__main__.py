"""``python -m tools.vectors generate DIR`` / ``python -m tools.vectors check DIR``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from authsig.conformance import KINDS, check

from .generator import generate, schema_errors


def _generate(directory: Path) -> int:
    try:
        paths = generate(directory)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(paths)} file(s) to {directory}")
    return 0


def _check(directory: Path) -> int:
    if not directory.is_dir():
        print(f"error: {directory}: not a directory", file=sys.stderr)
        return 2
    failed: list[str] = []
    for kind in KINDS:
        try:
            data = json.loads((directory / f"{kind}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # the checker below reports the file
        failed += [f"{kind}.json: schema: {e}" for e in schema_errors(kind, data)]
    report = check(directory)
    failed += report.failed
    for failure in failed:
        print(f"FAIL {failure}")
    print(f"{report.passed} passed, {len(failed)} failed, {report.passed + len(failed)} total")
    return 0 if report.ok and not failed else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.vectors", description="Generate or check the published vectors."
    )
    parser.add_argument("action", choices=("generate", "check"))
    parser.add_argument("directory", type=Path, metavar="DIR")
    args = parser.parse_args(argv)
    if args.action == "generate":
        return _generate(args.directory)
    return _check(args.directory)


if __name__ == "__main__":
    sys.exit(main())
