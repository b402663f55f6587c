"""The ``authsig`` command line.

Operators generate keys, sign requests (alone or with several key holders), verify and
explain signatures, canonicalize JSON, check the published test vectors and run the demo.

Exit codes: ``0`` success (for ``verify``: approved), ``1`` refused (``verify`` refused,
``vectors check`` failures, ``combine`` below the quorum threshold), ``2`` usage or input
error. Errors are one line on stderr, ``authsig: error: ...``, never a traceback.

Private keys are never printed unless asked for with ``--print-private-key``; key files are
written atomically with mode 0600 and never overwritten without ``--force``.

One module per command group adds its commands with ``register(subparsers)``, each command
bound to its ``run_*`` function; what they share lives in ``_io`` (inputs, keys, outputs,
errors), ``_args`` (parser pieces) and ``_quorum`` (who must approve).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from typing import TextIO

from authsig.cli import (
    canonicalize,
    cobo,
    combine,
    demo,
    httpsig,
    keys,
    privy,
    quorum,
    sign,
    turnkey,
    vectors,
    verify,
)
from authsig.cli._args import Parser
from authsig.cli._io import PROG, CLIError, Refused, parse_duration
from authsig.errors import AuthSigError

__all__ = ["CLIError", "build_parser", "main", "parse_duration"]

#: The command groups, in the order their commands are listed in ``authsig --help``.
COMMAND_GROUPS = (
    keys,
    sign,
    combine,
    verify,
    quorum,
    canonicalize,
    vectors,
    demo,
    privy,
    cobo,
    httpsig,
    turnkey,
)

#: Which pyproject extra provides an optional third-party module.
_EXTRAS = {
    "uvicorn": "asgi,servers,client",
    "httpx": "asgi,servers,client",
    "starlette": "asgi",
    "requests": "client",
    "redis": "redis",
    "pkcs11": "pkcs11",
    "boto3": "aws",
    "botocore": "aws",
    "http_sfv": "httpsig",
}


def build_parser() -> argparse.ArgumentParser:
    """The ``authsig`` argument parser (all subcommands)."""
    parser = Parser(
        prog=PROG,
        description="Authorization signatures: Privy key quorums (P-256; the top-level commands "
        "and 'authsig privy') and Cobo WaaS 2.0 ('authsig cobo'): keys, signing, multi-party "
        "signing, verification and diagnostics.",
        epilog="exit codes: 0 ok/approved, 1 refused, 2 usage or input error\n\n"
        "examples:\n"
        "  authsig demo\n"
        "  authsig keygen --out alice.key\n"
        "  authsig sign --key alice.key -X POST --url https://api.privy.io/v1/wallets "
        "--data '{}' --app-id my-app\n"
        "\nrun 'authsig COMMAND --help' for the options of a command",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from authsig import __version__

    parser.add_argument("--version", action="version", version=f"authsig {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for group in COMMAND_GROUPS:
        group.register(subparsers)
    return parser


def _error(message: str, stream: TextIO | None = None) -> int:
    print(f"{PROG}: error: {message}", file=stream or sys.stderr)
    return 2


def _missing_module(exc: ImportError) -> int:
    """Name the extra to install when an optional third-party package is missing."""
    missing = exc.name or ""
    if isinstance(exc, ModuleNotFoundError) and missing and not missing.startswith(PROG):
        extra = _EXTRAS.get(missing.partition(".")[0], "")
        hint = f"pip install 'authsig[{extra}]'" if extra else "install it"
        return _error(f"this command needs the {missing!r} package: {hint}")
    return _error(str(exc))


# A key id is an RFC 7638 thumbprint: 43 base64url characters, one in 64 of which starts with
# "-", which argparse takes for an option ("--signers -Xy...: expected one argument"). Such a
# value (alone, or before "=..." / ":..." as in --owner ID=PERSON) is joined to its option.
_DASHED_KEY_ID = re.compile(r"-[A-Za-z0-9_-]{42}(?:[=:].*)?\Z", re.S)


def _join_dashed_key_ids(argv: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return out + argv[i:]
        following = argv[i + 1] if i + 1 < len(argv) else ""
        if arg.startswith("--") and "=" not in arg and _DASHED_KEY_ID.match(following):
            out.append(f"{arg}={following}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the ``authsig`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(_join_dashed_key_ids(sys.argv[1:] if argv is None else argv))
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return func(args)
    except Refused:
        return 1
    except AuthSigError as exc:
        return _error(str(exc))
    except OSError as exc:
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return _error(f"{where}{exc.strerror or exc}")
    except ImportError as exc:
        return _missing_module(exc)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("AUTHSIG_DEBUG"):
            raise
        return _error(
            f"internal error ({type(exc).__name__}); set AUTHSIG_DEBUG=1 for the traceback"
        )
