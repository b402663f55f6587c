"""``authsig vectors generate|check``: write or re-verify the published test vectors."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from authsig.cli._args import add_command
from authsig.cli._io import CLIError, dump_json

__all__ = ["register", "run_vectors"]


def register(subparsers: Any) -> None:
    """Add ``vectors``."""
    p = add_command(
        subparsers,
        "vectors",
        "generate or check the published test vectors",
        "generate DIR writes the conformance vectors; check DIR re-verifies them\n"
        "(exit 1 when any fails).",
        "  authsig vectors generate vectors/\n  authsig vectors check vectors/\n",
    )
    p.add_argument("action", choices=("generate", "check"))
    p.add_argument("directory", metavar="DIR")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run_vectors)


def run_vectors(args: argparse.Namespace) -> int:
    """``authsig vectors generate|check``."""
    # The one place the CLI reaches the vector generator and checker: the generator is moving
    # to tools/vectors/ and the checker to authsig.conformance (same check(directory) -> report).
    from authsig.testvectors import check, generate

    directory = Path(args.directory)
    if args.action == "generate":
        paths = generate(directory)
        if args.json:
            dump_json({"written": [str(p) for p in paths]})
        else:
            print(f"wrote {len(paths)} file(s) to {directory}")
        return 0
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
