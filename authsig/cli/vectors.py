"""``authsig vectors check``: re-verify the published test vectors.

The checker is :func:`authsig.conformance.check`. Generating the vectors is not part of the
installed package: the generator lives in ``tools/vectors/`` of the source repository, so
``authsig vectors generate`` only says where to find it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from authsig.cli._args import add_command
from authsig.cli._io import CLIError, dump_json

__all__ = ["register", "run_vectors"]

_GENERATE_MOVED = (
    "vectors generate is not part of the installed authsig: the generator lives in "
    "tools/vectors in the source repository (make vectors, or python -m tools.vectors "
    "generate DIR from the repository root)"
)


def register(subparsers: Any) -> None:
    """Add ``vectors``."""
    p = add_command(
        subparsers,
        "vectors",
        "check the published test vectors",
        "check DIR re-verifies the conformance vectors (exit 1 when any fails). Generating\n"
        "them is a tool of the source repository: python -m tools.vectors generate DIR.",
        "  authsig vectors check vectors/\n",
    )
    # "generate" stays a choice so that it gets the explanation above, not a usage error.
    p.add_argument("action", choices=("check", "generate"))
    p.add_argument("directory", nargs="?", metavar="DIR")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run_vectors)


def run_vectors(args: argparse.Namespace) -> int:
    """``authsig vectors check DIR``."""
    from authsig.conformance import check

    if args.action == "generate":
        raise CLIError(_GENERATE_MOVED)
    if args.directory is None:
        raise CLIError("vectors check needs a directory: authsig vectors check DIR")
    directory = Path(args.directory)
    if not directory.is_dir():
        raise CLIError(f"{directory}: not a directory")
    report = check(directory)
    if args.json:
        dump_json(
            {
                "ok": report.ok,
                "total": report.total,
                "passed": report.passed,
                "failed": list(report.failed),
            }
        )
    else:
        for failure in report.failed:
            print(f"FAIL {failure}")
        print(f"{report.passed} passed, {len(report.failed)} failed, {report.total} total")
    return 0 if report.ok else 1
