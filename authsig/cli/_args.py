"""The argument-parser pieces shared by several ``authsig`` commands."""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from authsig.cli._io import PASSPHRASE_ENV, PROG

__all__ = [
    "EMPTY_BODY_CHOICES",
    "KEY_FORMATS",
    "PROFILES",
    "Parser",
    "add_body_args",
    "add_command",
    "add_headers_output",
    "add_passphrase_args",
    "add_request_args",
]

KEY_FORMATS = ("privy", "pem", "jwk")
PROFILES = ("rfc8785", "canonicaljson")
EMPTY_BODY_CHOICES = ("string", "preserve")


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line (``authsig: error: ...``) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(
            2,
            f"{PROG}: error: {self.prog.removeprefix(PROG + ' ')}: {message}"
            f" (see '{self.prog} --help')\n",
        )


def add_command(
    subparsers: Any, name: str, summary: str, description: str, examples: str
) -> argparse.ArgumentParser:
    """Add the subcommand ``name``: ``summary`` in the command list, ``examples`` in its help."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=summary,
        description=description,
        epilog="examples:\n" + examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def add_body_args(container: Any) -> None:
    """``--body FILE`` or ``--data JSON`` (not both), on a parser or an argument group."""
    body = container.add_mutually_exclusive_group()
    body.add_argument("--body", metavar="FILE", help="file with the raw JSON body, or - for stdin")
    body.add_argument("--data", "-d", metavar="JSON", help="the raw JSON body, inline")


def add_passphrase_args(container: Any, *, new: bool = False) -> None:
    """``--passphrase-file FILE``: the passphrase of encrypted keys (``read_passphrase``)."""
    what = "to encrypt the new key with" if new else "of encrypted keys"
    container.add_argument(
        "--passphrase-file",
        metavar="FILE",
        help=f"the passphrase {what} (the file's text, without its final newline); "
        f"else ${PASSPHRASE_ENV}, else a prompt on a terminal",
    )


def add_headers_output(parser: argparse.ArgumentParser) -> None:
    """``--json`` or ``--curl``: how ``sign`` and ``combine`` print the headers to send."""
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the headers as a JSON object")
    out.add_argument("--curl", action="store_true", help="print a curl command")


def add_request_args(parser: argparse.ArgumentParser, *, app_id: bool) -> None:
    """The request being signed or checked; with ``app_id``, the privy headers to sign too."""
    group = parser.add_argument_group("request")
    group.add_argument("--method", "-X", required=True, help="HTTP method (POST, PUT, ...)")
    group.add_argument("--url", required=True, help="full absolute URL as requested")
    add_body_args(group)
    group.add_argument(
        "--empty-body",
        choices=EMPTY_BODY_CHOICES,
        default="string",
        help='how {} / [] bodies are signed: "string" -> "" (SDK default) or preserve',
    )
    if app_id:
        group.add_argument("--app-id", required=True, help="value of privy-app-id")
        group.add_argument(
            "--expires-in",
            default="15m",
            metavar="DURATION",
            help="request lifetime: 30s, 15m, 1h, ... or none (default: 15m)",
        )
        group.add_argument("--idempotency-key", help="value of privy-idempotency-key")
        group.add_argument(
            "--now",
            type=int,
            metavar="MS",
            help="pretend the current time is MS milliseconds since the epoch",
        )
