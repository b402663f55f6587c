"""``authsig canonicalize``: the canonical bytes of a JSON document."""

from __future__ import annotations

import argparse
from typing import Any

from authsig.cli._args import PROFILES, add_command
from authsig.cli._io import CLIError, read_input, write_output

__all__ = ["register", "run_canonicalize"]


def register(subparsers: Any) -> None:
    """Add ``canonicalize``."""
    p = add_command(
        subparsers,
        "canonicalize",
        "print the RFC 8785 canonical form of JSON",
        "Read JSON (a file or stdin) and write its canonical bytes (RFC 8785, or the\n"
        "canonicaljson profile used by Privy's Python SDK), with no trailing newline.",
        '  authsig canonicalize body.json\n  echo \'{"b":1,"a":2.0}\' | authsig canonicalize\n',
    )
    p.add_argument("file", nargs="?", default="-", metavar="FILE")
    p.add_argument("--profile", choices=PROFILES, default="rfc8785")
    p.add_argument("--newline", action="store_true", help="end the output with a newline")
    p.set_defaults(func=run_canonicalize)


def run_canonicalize(args: argparse.Namespace) -> int:
    """``authsig canonicalize``."""
    from authsig.jcs import canonicalize
    from authsig.privy.payload import parse_body

    data = read_input(args.file)
    if not data.strip():
        raise CLIError(f"{'stdin' if args.file == '-' else args.file}: no JSON to canonicalize")
    value = parse_body(data)
    out = canonicalize(value, profile=args.profile)
    write_output(None, out + (b"\n" if args.newline else b""))
    return 0
