"""``authsig privy ...``: the Privy commands under their scheme's name.

The command line has one subcommand group per scheme (``authsig privy``, ``authsig cobo``; an
RFC 9421 group follows the same shape). Privy came first, so its commands also stay at the
top level (``authsig sign`` is ``authsig privy sign``) for the scripts that already call them.
The group registers the very same command modules again, so the two spellings cannot drift.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from authsig.cli import combine, keys, quorum, sign, verify
from authsig.cli._args import Parser, add_command

__all__ = ["PRIVY_GROUPS", "register"]

#: The command modules whose commands ``authsig privy`` offers.
PRIVY_GROUPS = (keys, sign, combine, verify, quorum)


def register(subparsers: Any) -> None:
    """Add the ``privy`` command group."""
    parser = add_command(
        subparsers,
        "privy",
        "Privy authorization signatures (the same commands as at the top level)",
        "Privy key quorums: P-256 keys, signing (alone or multi-party), verification and\n"
        "explanations. 'authsig privy sign' is 'authsig sign', and so on.",
        "  authsig privy keygen --out alice.key\n"
        "  authsig privy sign --key alice.key -X POST --url URL --data '{}' --app-id APP\n",
    )
    parser.set_defaults(func=lambda _args: _usage(parser))
    sub = parser.add_subparsers(dest="privy_command", metavar="COMMAND", parser_class=Parser)
    for group in PRIVY_GROUPS:
        group.register(sub)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2
