"""The ``authsig`` command line.

Operators generate keys, sign requests (alone or with several key holders), verify and
explain signatures, canonicalize JSON, check the published test vectors and run the demo.

Exit codes: ``0`` success (for ``verify``: approved), ``1`` refused (``verify`` refused,
``vectors check`` failures, ``combine`` below the quorum threshold), ``2`` usage or input
error. Errors are one line on stderr, ``authsig: error: ...``, never a traceback.

Private keys are never printed unless asked for with ``--print-private-key``; key files are
written atomically with mode 0600 and never overwritten without ``--force``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shlex
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, NoReturn, TextIO

from authsig.errors import AuthSigError, KeyFormatError, PayloadError
from authsig.policy import Policy

__all__ = ["CLIError", "main", "parse_duration"]

PROG = "authsig"
#: Which pyproject extra provides an optional third-party module.
_EXTRAS = {
    "uvicorn": "asgi,servers,client",
    "httpx": "asgi,servers,client",
    "starlette": "asgi",
    "requests": "client",
    "redis": "redis",
}
KEY_FORMATS = ("privy", "pem", "jwk")

EmptyBody = Literal["string", "preserve"]
Profile = Literal["rfc8785", "canonicaljson"]


class CLIError(AuthSigError):
    """A usage or input error of the command line (exit code 2)."""

    code = "cli_error"


class _Refused(Exception):
    """Internal: the command ran and its answer is "no" (exit code 1)."""


# --------------------------------------------------------------------------------------
# small helpers


def parse_duration(text: str) -> timedelta | None:
    """Parse ``15m``, ``1h``, ``30s``, ``500ms``, ``2d`` or ``none`` (no expiry).

    A bare number is seconds. Raises :class:`CLIError` on anything else.
    """
    value = text.strip().lower()
    if value in ("none", "never", "off"):
        return None
    match = re.fullmatch(r"(\d{1,9})(ms|s|m|h|d)?", value)
    if match is None:
        raise CLIError(f"invalid duration {text!r}: use e.g. 30s, 15m, 1h or none")
    amount = int(match.group(1))
    unit = match.group(2) or "s"
    factor = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    return timedelta(seconds=amount * factor)


def _read_input(name: str) -> bytes:
    """Bytes of a file, or of stdin for ``-``."""
    if name == "-":
        return sys.stdin.buffer.read()
    return Path(name).read_bytes()


def _as_text_if_possible(data: bytes) -> str | bytes:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data


def _load_json_file(name: str, what: str) -> Any:
    data = _read_input(name)
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CLIError(f"{name}: {what} is not valid JSON ({exc})") from None


def _is_private_text(data: str | bytes) -> bool:
    """Guess whether key material holds a private key (used only to pick an error)."""
    if isinstance(data, bytes):
        return False
    stripped = data.strip()
    if "PRIVATE KEY" in stripped:
        return True
    if stripped.startswith("{"):
        try:
            obj = json.loads(stripped)
        except ValueError:
            return False
        return isinstance(obj, dict) and "d" in obj
    return stripped.startswith(("wallet-auth:", "wallet-api:"))


def _load_any_key(data: str | bytes, source: str) -> tuple[Any, Any]:
    """Load a private or a public key: returns ``(private_or_None, public)``."""
    from authsig.errors import WrongCurveError
    from authsig.keys import load_private_key, load_public_key

    try:
        private = load_private_key(data)
    except KeyFormatError as private_error:
        try:
            public = load_public_key(data)
        except KeyFormatError as public_error:
            for err in (private_error, public_error):
                if isinstance(err, WrongCurveError):
                    raise WrongCurveError(f"{source}: {err.message}") from None
            chosen = private_error if _is_private_text(data) else public_error
            raise KeyFormatError(
                f"{source}: not a P-256 private or public key ({chosen.message})",
                code=chosen.code,
            ) from None
        return None, public
    return private, private.public_key


def _load_private_key_file(name: str) -> Any:
    from authsig.keys import load_private_key

    data = _as_text_if_possible(_read_input(name))
    try:
        return load_private_key(data)
    except KeyFormatError as exc:
        raise type(exc)(f"{name}: {exc.message}", code=exc.code) from None


def _load_public_key_arg(value: str) -> Any:
    """A public key given inline (base64 SPKI, PEM, JWK) or as a file (public or private)."""
    from authsig.keys import load_public_key

    if value == "-" or os.path.exists(value):
        _, public = _load_any_key(_as_text_if_possible(_read_input(value)), value)
        return public
    try:
        return load_public_key(value)
    except KeyFormatError as exc:
        raise type(exc)(
            f"a --public-key/--user-key value is neither a file nor a public key ({exc.message})",
            code=exc.code,
        ) from None


def _format_private(key: Any, fmt: str) -> str:
    if fmt == "pem":
        text: str = key.to_pem()
        return text if text.endswith("\n") else text + "\n"
    if fmt == "jwk":
        return json.dumps(key.to_jwk(), indent=2) + "\n"
    return str(key.to_base64()) + "\n"


def _format_public(key: Any, fmt: str) -> str:
    if fmt == "pem":
        text: str = key.to_pem()
        return text if text.endswith("\n") else text + "\n"
    if fmt == "jwk":
        return json.dumps(key.to_jwk(), indent=2) + "\n"
    return str(key.to_base64()) + "\n"


def write_private_file(path: Path, text: str, *, force: bool) -> None:
    """Write secret text atomically with mode 0600; refuse to overwrite unless ``force``.

    The text goes to a temporary file in the same directory (created with ``O_EXCL`` and
    mode 0600) and is flushed to disk; it then replaces ``path`` (``force``) or is hard-linked
    to ``path``, which fails atomically if something appeared there meanwhile.
    """
    if path.exists() and not force:
        raise CLIError(f"{path}: already exists; use --force to overwrite it")
    if path.is_dir():
        raise CLIError(f"{path}: is a directory")
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise CLIError(f"{directory}: no such directory")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        if hasattr(os, "fchmod"):  # mkstemp already uses 0600; be explicit where possible
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if force:
            os.replace(tmp_name, path)
        else:
            try:
                os.link(tmp_name, path)
            except FileExistsError:
                raise CLIError(f"{path}: already exists; use --force to overwrite it") from None
            except OSError:  # no hard links here: check, then rename
                if path.exists():
                    raise CLIError(f"{path}: already exists; use --force to overwrite it") from None
                os.replace(tmp_name, path)
            else:
                os.unlink(tmp_name)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _write_output(name: str | None, data: bytes) -> None:
    """Write bytes to a file, or to stdout when ``name`` is None or ``-``."""
    if name is None or name == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    Path(name).write_bytes(data)


def _parse_header_args(values: Iterable[str]) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for item in values:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise CLIError(f"invalid --header {item!r}: use 'name: value'")
        headers.append((name.strip().lower(), value.strip()))
    return headers


def _request_body(args: argparse.Namespace) -> bytes | None:
    if getattr(args, "data", None) is not None:
        return str(args.data).encode("utf-8")
    if getattr(args, "body", None) is not None:
        return _read_input(args.body)
    return None


def _dump_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, sort_keys=False))


# --------------------------------------------------------------------------------------
# argument parser


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line (``authsig: error: ...``) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(
            2,
            f"{PROG}: error: {self.prog.removeprefix(PROG + ' ')}: {message}"
            f" (see '{self.prog} --help')\n",
        )


def _add_request_args(parser: argparse.ArgumentParser, *, app_id: bool) -> None:
    group = parser.add_argument_group("request")
    group.add_argument("--method", "-X", required=True, help="HTTP method (POST, PUT, ...)")
    group.add_argument("--url", required=True, help="full absolute URL as requested")
    body = group.add_mutually_exclusive_group()
    body.add_argument("--body", metavar="FILE", help="file with the raw JSON body, or - for stdin")
    body.add_argument("--data", "-d", metavar="JSON", help="the raw JSON body, inline")
    group.add_argument(
        "--empty-body",
        choices=("string", "preserve"),
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


def _add_verify_args(parser: argparse.ArgumentParser) -> None:
    _add_request_args(parser, app_id=False)
    hdr = parser.add_argument_group("headers")
    hdr.add_argument(
        "--header",
        "-H",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="a request header (repeat)",
    )
    hdr.add_argument(
        "--headers-json",
        metavar="FILE",
        help="JSON object of request headers (e.g. the output of 'authsig sign --json')",
    )
    q = parser.add_argument_group("who must approve")
    q.add_argument("--quorum", metavar="FILE", help="key quorum in Privy's JSON shape")
    q.add_argument(
        "--nested-quorum",
        action="append",
        default=[],
        metavar="FILE",
        help="a quorum (Privy JSON with an id) that --quorum names in key_quorum_ids (repeat)",
    )
    q.add_argument(
        "--public-key",
        action="append",
        default=[],
        metavar="KEY",
        help="a member key: base64 SPKI/PEM/JWK inline or a key file (repeat)",
    )
    q.add_argument(
        "--user-key",
        action="append",
        default=[],
        metavar="USER_ID=KEY",
        help="a current key of a user member of the quorum (inline or a file; repeat)",
    )
    q.add_argument(
        "--threshold",
        type=int,
        metavar="N",
        help="with --public-key: how many keys must sign (default: all)",
    )
    opts = parser.add_argument_group("verifier options")
    opts.add_argument("--now", type=int, metavar="MS", help="verify as of MS ms since the epoch")
    opts.add_argument(
        "--require-expiry", action="store_true", help="refuse requests without expiry"
    )
    opts.add_argument(
        "--allow-foreign-signatures",
        action="store_true",
        help="ignore signatures by non-members instead of refusing",
    )
    opts.add_argument(
        "--max-lifetime", default="1h", metavar="DURATION", help="longest accepted expiry (1h)"
    )
    opts.add_argument(
        "--clock-skew", default="60s", metavar="DURATION", help="expiry clock skew (60s)"
    )
    opts.add_argument(
        "--profile",
        choices=("rfc8785", "canonicaljson"),
        default="rfc8785",
        help="canonicalization of the payload (canonicaljson = Privy's Python SDK)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def _add_headers_output(parser: argparse.ArgumentParser) -> None:
    """``--json`` or ``--curl``: how ``sign`` and ``combine`` print the headers to send."""
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the headers as a JSON object")
    out.add_argument("--curl", action="store_true", help="print a curl command")


def _sub(
    subparsers: Any, name: str, summary: str, description: str, examples: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=summary,
        description=description,
        epilog="examples:\n" + examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The ``authsig`` argument parser (all subcommands)."""
    parser = _Parser(
        prog=PROG,
        description="P-256 authorization signatures for Privy key quorums: keys, signing, "
        "multi-party signing, verification and diagnostics.",
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
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    # keygen
    p = _sub(
        subparsers,
        "keygen",
        "generate a new P-256 key pair",
        "Generate a new P-256 authorization key. The private key is written to --out\n"
        "(atomically, mode 0600, never overwriting an existing file without --force).\n"
        "Without --out, the private key is printed only when --print-private-key is given;\n"
        "one of the two is required, so a key is never generated and lost.\n"
        "Prints the public key (base64 SPKI DER, what Privy's dashboard and API want) and\n"
        "its key id (RFC 7638 thumbprint).",
        "  authsig keygen --out alice.key\n"
        "  authsig keygen --out alice.pem --format pem --json\n"
        "  authsig keygen --print-private-key      # for piping into a secret store\n",
    )
    dest = p.add_mutually_exclusive_group()
    dest.add_argument("--out", "-o", metavar="FILE", help="write the private key to FILE (0600)")
    dest.add_argument(
        "--print-private-key",
        action="store_true",
        help="print the private key on stdout instead of writing a file",
    )
    p.add_argument("--format", choices=KEY_FORMATS, default="privy", help="private key format")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.set_defaults(func=cmd_keygen)

    # pubkey
    p = _sub(
        subparsers,
        "pubkey",
        "print the public key of a key file",
        "Print the public key of a private or public key file (base64 PKCS#8/SEC1/SPKI DER,\n"
        "PEM or JWK; - reads stdin).",
        "  authsig pubkey alice.key\n  authsig pubkey alice.key --format jwk\n",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--format", choices=KEY_FORMATS, default="privy", help="output format")
    p.add_argument("--json", action="store_true", help="print {public_key, key_id}")
    p.set_defaults(func=cmd_pubkey)

    # convert
    p = _sub(
        subparsers,
        "convert",
        "convert a key between formats",
        "Convert a private or public key between privy (base64 DER), pem and jwk.\n"
        "A private key is written to --out (mode 0600) or printed with --print-private-key;\n"
        "--public converts only its public half.",
        "  authsig convert alice.key --to pem --out alice.pem\n"
        "  authsig convert alice.jwk --to privy --public\n"
        "  authsig convert pub.pem --from pem --to jwk\n",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--from", dest="from_format", choices=("auto", *KEY_FORMATS), default="auto")
    p.add_argument("--to", choices=KEY_FORMATS, required=True)
    p.add_argument("--public", action="store_true", help="output only the public key")
    p.add_argument("--out", "-o", metavar="FILE", help="write to FILE (private: mode 0600)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    p.add_argument("--print-private-key", action="store_true", help="allow a private key on stdout")
    p.set_defaults(func=cmd_convert)

    # sign
    p = _sub(
        subparsers,
        "sign",
        "sign a request (or a payload file) and print the headers",
        "Sign a request with one or more private keys and print the headers to send.\n"
        "With --payload FILE (from 'authsig payload'), sign those exact bytes instead and\n"
        "print one signature per key: the multi-party flow, where each key holder signs on\n"
        "their own machine and 'authsig combine' assembles the headers.",
        "  authsig sign --key alice.key -X POST --url https://api.privy.io/v1/wallets \\\n"
        "      --body body.json --app-id my-app\n"
        "  authsig sign --key a.key --key b.key -X PATCH --url URL -d '{\"x\":1}' \\\n"
        "      --app-id my-app --expires-in 1h --curl\n"
        "  authsig sign --payload request.payload --key alice.key > alice.sig\n",
    )
    p.add_argument(
        "--key", "-k", action="append", required=True, metavar="FILE", help="private key (repeat)"
    )
    p.add_argument("--payload", metavar="FILE", help="sign this payload file (multi-party)")
    p.add_argument("--method", "-X")
    p.add_argument("--url")
    body = p.add_mutually_exclusive_group()
    body.add_argument("--body", metavar="FILE", help="file with the raw JSON body, or - for stdin")
    body.add_argument("--data", "-d", metavar="JSON", help="the raw JSON body, inline")
    p.add_argument("--empty-body", choices=("string", "preserve"), default="string")
    p.add_argument("--app-id")
    p.add_argument("--expires-in", default="15m", metavar="DURATION", help="30s/15m/1h/none")
    p.add_argument("--idempotency-key")
    p.add_argument("--now", type=int, metavar="MS", help="pretend now is MS ms since the epoch")
    p.add_argument("--deterministic", action="store_true", help="RFC 6979 signatures")
    _add_headers_output(p)
    p.set_defaults(func=cmd_sign)

    # payload
    p = _sub(
        subparsers,
        "payload",
        "write the canonical signing payload of a request",
        "Write the canonical payload of a request (RFC 8785 JSON, its expiry fixed now) to\n"
        "a file. Send that file to each key holder; they run 'authsig sign --payload'.\n"
        "The file holds exactly the bytes that are signed (no trailing newline).",
        "  authsig payload -X POST --url https://api.privy.io/v1/wallets/w1/rpc \\\n"
        "      --body body.json --app-id my-app --expires-in 1h --out request.payload\n",
    )
    _add_request_args(p, app_id=True)
    p.add_argument("--out", "-o", metavar="FILE", help="output file (default: stdout)")
    p.set_defaults(func=cmd_payload)

    # combine
    p = _sub(
        subparsers,
        "combine",
        "check signatures over a payload file and print the final headers",
        "Check each signature against the payload file and assemble the headers to send\n"
        "(app id, expiry and idempotency key are read back from the payload). With\n"
        "--quorum or --public-key, every signature must come from a member key, and with\n"
        "--quorum the threshold must be met (exit 1 otherwise). Without keys only the\n"
        "signature format is checked.\n"
        "Each SIGNATURE is a base64 signature or a file holding one per line.",
        "  authsig combine --payload request.payload alice.sig bob.sig --quorum quorum.json\n"
        "  authsig combine --payload request.payload MEUCIQ...= MEYCIQ...= --json\n",
    )
    p.add_argument("signatures", nargs="+", metavar="SIGNATURE")
    p.add_argument("--payload", required=True, metavar="FILE")
    p.add_argument("--quorum", metavar="FILE", help="key quorum in Privy's JSON shape")
    p.add_argument("--nested-quorum", action="append", default=[], metavar="FILE")
    p.add_argument("--public-key", action="append", default=[], metavar="KEY")
    p.add_argument(
        "--user-key",
        action="append",
        default=[],
        metavar="USER_ID=KEY",
        help="a current key of a user member of --quorum (repeat)",
    )
    p.add_argument("--profile", choices=("rfc8785", "canonicaljson"), default="rfc8785")
    _add_headers_output(p)
    p.set_defaults(func=cmd_combine)

    # verify
    p = _sub(
        subparsers,
        "verify",
        "verify a signed request against a quorum or keys",
        "Verify a request's authorization signatures. Exit 0 approved, 1 refused,\n"
        "2 usage or input error. Prints the decision.",
        "  authsig verify -X POST --url URL --body body.json --headers-json headers.json \\\n"
        "      --quorum quorum.json\n"
        "  authsig verify -X POST --url URL -d '{}' -H 'privy-app-id: my-app' \\\n"
        "      -H 'privy-authorization-signature: MEUCIQ...' --public-key alice.pub\n",
    )
    _add_verify_args(p)
    p.set_defaults(func=cmd_verify)

    # explain
    p = _sub(
        subparsers,
        "explain",
        "explain why a request is refused (near-miss diagnostics)",
        "Same arguments as verify; prints the verifier's diagnostics report: which\n"
        'signature matched what, and which near miss (trailing slash, {} vs "", expiry\n'
        "not sent, canonicaljson form, ...) a failing signature does match.\n"
        "Exit 0 when the request is approved, 1 when refused.",
        "  authsig explain -X POST --url URL --body body.json --headers-json headers.json \\\n"
        "      --quorum quorum.json\n",
    )
    _add_verify_args(p)
    p.add_argument(
        "--alternative-url",
        action="append",
        default=[],
        metavar="URL",
        help="another URL the client may have signed (other host, scheme, prefix; repeat)",
    )
    p.add_argument(
        "--extra-header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="a privy-* header the client may have signed but not sent (repeat)",
    )
    p.set_defaults(func=cmd_explain)

    # canonicalize
    p = _sub(
        subparsers,
        "canonicalize",
        "print the RFC 8785 canonical form of JSON",
        "Read JSON (a file or stdin) and write its canonical bytes (RFC 8785, or the\n"
        "canonicaljson profile used by Privy's Python SDK), with no trailing newline.",
        '  authsig canonicalize body.json\n  echo \'{"b":1,"a":2.0}\' | authsig canonicalize\n',
    )
    p.add_argument("file", nargs="?", default="-", metavar="FILE")
    p.add_argument("--profile", choices=("rfc8785", "canonicaljson"), default="rfc8785")
    p.add_argument("--newline", action="store_true", help="end the output with a newline")
    p.set_defaults(func=cmd_canonicalize)

    # vectors
    p = _sub(
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
    p.set_defaults(func=cmd_vectors)

    # demo
    p = _sub(
        subparsers,
        "demo",
        "run the whole flow against a local sample server",
        "Generate keys, build a 2-of-3 key quorum with a nested quorum, serve a sample\n"
        "app behind the ASGI middleware on 127.0.0.1, and send signed requests: too few\n"
        "signatures (403), enough (200), the same request again (409 replay), expired\n"
        "(401) and tampered (401, with the explanation). Needs the extras\n"
        "authsig[asgi,servers,client] (uvicorn and httpx). Nothing is left running.",
        "  authsig demo\n  authsig demo --json\n",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_demo)
    return parser


# --------------------------------------------------------------------------------------
# commands


def cmd_keygen(args: argparse.Namespace) -> int:
    """``authsig keygen``."""
    from authsig.keys import generate_private_key

    if not args.out and not args.print_private_key:
        raise CLIError(
            "give --out FILE to write the private key (or --print-private-key to print it)"
        )
    if args.out and Path(args.out).exists() and not args.force:
        raise CLIError(f"{args.out}: already exists; use --force to overwrite it")
    key = generate_private_key()
    public = key.public_key
    secret = _format_private(key, args.format)
    if args.out:
        write_private_file(Path(args.out), secret, force=args.force)
    if args.json:
        result: dict[str, Any] = {
            "public_key": public.to_base64(),
            "key_id": public.key_id,
            "private_key_file": args.out,
        }
        if args.print_private_key:
            result["private_key"] = secret.rstrip("\n")
        _dump_json(result)
        return 0
    if args.print_private_key:
        sys.stdout.write(secret)
    else:
        print(f"private key: {args.out} (mode 0600)")
    print(f"public key:  {public.to_base64()}")
    print(f"key id:      {public.key_id}")
    return 0


def cmd_pubkey(args: argparse.Namespace) -> int:
    """``authsig pubkey``."""
    _, public = _load_any_key(_as_text_if_possible(_read_input(args.file)), args.file)
    if args.json:
        _dump_json({"public_key": public.to_base64(), "key_id": public.key_id})
    else:
        sys.stdout.write(_format_public(public, args.format))
    return 0


def _detect_format(data: str | bytes) -> str:
    if isinstance(data, bytes):
        return "der"
    stripped = data.strip()
    if stripped.startswith("-----BEGIN"):
        return "pem"
    if stripped.startswith("{"):
        return "jwk"
    return "privy"


def cmd_convert(args: argparse.Namespace) -> int:
    """``authsig convert``."""
    data = _as_text_if_possible(_read_input(args.file))
    if args.from_format != "auto":
        found = _detect_format(data)
        if found != args.from_format:
            raise CLIError(f"{args.file}: looks like {found}, not {args.from_format}")
    private, public = _load_any_key(data, args.file)
    if private is None or args.public:
        text = _format_public(public, args.to)
        if args.out:
            if Path(args.out).exists() and not args.force:
                raise CLIError(f"{args.out}: already exists; use --force to overwrite it")
            Path(args.out).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return 0
    secret = _format_private(private, args.to)
    if args.out:
        write_private_file(Path(args.out), secret, force=args.force)
        print(f"private key: {args.out} (mode 0600)", file=sys.stderr)
    elif args.print_private_key:
        sys.stdout.write(secret)
    else:
        raise CLIError(
            f"{args.file} holds a private key: give --out FILE, --print-private-key, or --public"
        )
    return 0


def _print_headers(
    headers: Mapping[str, str],
    *,
    as_json: bool,
    as_curl: bool,
    method: str,
    url: str,
    body: bytes | None,
    body_file: str | None,
) -> None:
    if as_json:
        _dump_json(dict(headers))
        return
    if as_curl:
        lines = [f"curl -X {shlex.quote(method.upper())} {shlex.quote(url)}"]
        if body:
            lines.append("-H " + shlex.quote("content-type: application/json"))
        lines += ["-H " + shlex.quote(f"{name}: {value}") for name, value in headers.items()]
        if body_file and body_file != "-":
            lines.append("--data-binary " + shlex.quote("@" + body_file))
        elif body:
            lines.append("--data-binary " + shlex.quote(body.decode("utf-8", "replace")))
        print(" \\\n  ".join(lines))
        return
    for name, value in headers.items():
        print(f"{name}: {value}")


def _require(args: argparse.Namespace, *names: str) -> None:
    missing = ["--" + n.replace("_", "-") for n in names if getattr(args, n) in (None, "")]
    if missing:
        raise CLIError(f"missing {', '.join(missing)}")


def cmd_sign(args: argparse.Namespace) -> int:
    """``authsig sign``."""
    from authsig.signatures import sign

    if args.payload is None:
        _require(args, "method", "url", "app_id")
    keys = [_load_private_key_file(name) for name in args.key]
    if args.payload is not None:
        extra = [
            n
            for n in ("method", "url", "app_id", "idempotency_key", "body", "data", "now")
            if getattr(args, n) is not None
        ]
        if extra or args.curl:
            raise CLIError("--payload signs a payload file; request options do not apply")
        payload = _read_input(args.payload)
        if not payload:
            raise CLIError(f"{args.payload}: empty payload")
        signatures = [sign(payload, key, deterministic=args.deterministic) for key in keys]
        if args.json:
            _dump_json({"signatures": signatures, "key_ids": [k.key_id for k in keys]})
        else:
            for signature in signatures:
                print(signature)
        return 0

    from authsig.privy.signing import sign_request

    body = _request_body(args)
    headers = sign_request(
        method=args.method,
        url=args.url,
        body=body,
        app_id=args.app_id,
        keys=keys,
        idempotency_key=args.idempotency_key,
        expires_in=parse_duration(args.expires_in),
        now_ms=args.now,
        empty_body=args.empty_body,
        deterministic=args.deterministic,
    )
    _print_headers(
        headers,
        as_json=args.json,
        as_curl=args.curl,
        method=args.method,
        url=args.url,
        body=body,
        body_file=args.body,
    )
    return 0


def cmd_payload(args: argparse.Namespace) -> int:
    """``authsig payload``."""
    from authsig.privy.expiry import make_expiry
    from authsig.privy.headers import APP_ID_HEADER, EXPIRY_HEADER, IDEMPOTENCY_HEADER
    from authsig.privy.payload import signing_payload

    headers = {APP_ID_HEADER: args.app_id}
    if args.idempotency_key is not None:
        headers[IDEMPOTENCY_HEADER] = args.idempotency_key
    expires_in = parse_duration(args.expires_in)
    if expires_in is not None:
        headers[EXPIRY_HEADER] = make_expiry(expires_in, now_ms=args.now)
    payload = signing_payload(
        method=args.method,
        url=args.url,
        body=_request_body(args),
        headers=headers,
        empty_body=args.empty_body,
    )
    _write_output(args.out, payload)
    if args.out and args.out != "-":
        print(f"payload written to {args.out} ({len(payload)} bytes)", file=sys.stderr)
    return 0


class _PayloadParts:
    """The request parts recovered from a canonical payload file."""

    def __init__(self, method: str, url: str, body: Any, headers: dict[str, str]) -> None:
        self.method = method
        self.url = url
        self.body = body
        self.headers = headers


def _parse_payload_file(name: str, payload: bytes, profile: Profile) -> _PayloadParts:
    """Recover method, URL, body and privy headers from payload bytes (checked canonical)."""
    from authsig.privy.payload import parse_body, signing_payload

    try:
        obj = parse_body(payload)
    except PayloadError as exc:
        raise CLIError(f"{name}: not a signing payload ({exc.message})") from None
    if (
        not isinstance(obj, dict)
        or obj.get("version") != 1
        or not isinstance(obj.get("method"), str)
        or not isinstance(obj.get("url"), str)
        or "body" not in obj
        or not isinstance(obj.get("headers"), dict)
        or not all(isinstance(v, str) for v in obj["headers"].values())
    ):
        raise CLIError(f"{name}: not a signing payload (want version, method, url, body, headers)")
    body = obj["body"]
    empty_body: EmptyBody = "preserve"
    if body == "":
        # "" in the payload is how an empty {} body is signed by default.
        body, empty_body = {}, "string"
    headers: dict[str, str] = dict(obj["headers"])
    rebuilt = signing_payload(
        method=obj["method"],
        url=obj["url"],
        body=body,
        headers=headers,
        empty_body=empty_body,
        profile=profile,
    )
    if rebuilt != payload:
        raise CLIError(
            f"{name}: payload is not in canonical form (was it edited, or made with "
            f"another --profile?)"
        )
    return _PayloadParts(obj["method"], obj["url"], body, headers)


def _read_signature_args(values: Sequence[str]) -> list[str]:
    signatures: list[str] = []
    for value in values:
        if value == "-" or os.path.isfile(value):
            text = _read_input(value).decode("utf-8", "replace")
            found = [line.strip() for line in text.replace(",", "\n").splitlines()]
            found = [s for s in found if s]
            if not found:
                raise CLIError(f"{value}: no signature in file")
            signatures.extend(found)
        else:
            signatures.append(value.strip())
    return signatures


def _user_keys(args: argparse.Namespace) -> dict[str, list[Any]]:
    """``--user-key USER_ID=KEY`` values, grouped by user id."""
    found: dict[str, list[Any]] = {}
    for item in args.user_key:
        user_id, sep, key = item.partition("=")
        if not sep or not user_id.strip() or not key.strip():
            raise CLIError(f"invalid --user-key {item!r}: use USER_ID=KEY")
        found.setdefault(user_id.strip(), []).append(_load_public_key_arg(key.strip()))
    return found


def _user_resolver(users: Mapping[str, list[Any]]) -> Callable[[str], list[Any]] | None:
    if not users:
        return None

    def resolve(user_id: str) -> list[Any]:
        return list(users.get(user_id, ()))

    return resolve


def _load_quorum(args: argparse.Namespace, *, required: bool) -> Any:
    from authsig.privy.quorum import KeyQuorum

    if args.user_key and not args.quorum:
        raise CLIError("--user-key goes with --quorum (a quorum with user_ids)")
    if args.quorum and args.public_key:
        raise CLIError("give either --quorum or --public-key, not both")
    if getattr(args, "threshold", None) is not None and not args.public_key:
        raise CLIError("--threshold goes with --public-key")
    if args.quorum:
        nested: dict[str, KeyQuorum] = {}
        for name in args.nested_quorum:
            obj = _load_json_file(name, "quorum")
            quorum = KeyQuorum.from_privy(obj, quorums=nested)
            if not quorum.id:
                raise CLIError(f'{name}: a nested quorum needs an "id"')
            nested[quorum.id] = quorum
        return KeyQuorum.from_privy(_load_json_file(args.quorum, "quorum"), quorums=nested)
    if args.public_key:
        keys = tuple(_load_public_key_arg(value) for value in args.public_key)
        return KeyQuorum(public_keys=keys, authorization_threshold=getattr(args, "threshold", None))
    if required:
        raise CLIError("say who must approve: --quorum FILE or --public-key KEY")
    return None


def cmd_combine(args: argparse.Namespace) -> int:
    """``authsig combine``."""
    from authsig.privy.expiry import check_expiry
    from authsig.privy.headers import EXPIRY_HEADER, SIGNATURE_HEADER, format_signature_header
    from authsig.signatures import decode_signature, verify_signature

    payload = _read_input(args.payload)
    parts = _parse_payload_file(args.payload, payload, args.profile)
    expiry = parts.headers.get(EXPIRY_HEADER)
    if expiry is not None:
        try:  # no point assembling a request that is already dead (no lifetime cap here)
            check_expiry(expiry, max_lifetime=timedelta(days=3650))
        except AuthSigError as exc:
            raise type(exc)(f"{args.payload}: {exc.message}", code=exc.code) from None
    signatures = _read_signature_args(args.signatures)
    seen: set[str] = set()
    unique: list[str] = []
    for signature in signatures:
        try:
            decode_signature(signature)
        except AuthSigError as exc:
            raise CLIError(f"signature {signature[:16]}...: {exc.message}") from None
        if signature not in seen:
            seen.add(signature)
            unique.append(signature)
    quorum = _load_quorum(args, required=False)
    if quorum is not None:
        users = _user_keys(args)
        keys = list(quorum.all_keys)
        keys += [k for uid in quorum.all_user_ids for k in users.get(uid, ())]
        for signature in unique:
            if not any(verify_signature(payload, signature, key) for key in keys):
                raise CLIError(
                    f"signature {signature[:16]}... does not verify against the payload with "
                    f"any member key"
                )
    headers = dict(parts.headers)
    headers[SIGNATURE_HEADER] = format_signature_header(unique)
    if quorum is not None and args.quorum:
        from authsig.privy.verifier import verify_request

        decision = verify_request(
            method=parts.method,
            url=parts.url,
            body=parts.body,
            headers=headers,
            quorum=quorum,
            user_keys=_user_resolver(users),
            policy=Policy(
                empty_body="string" if parts.body == {} else "preserve", profile=args.profile
            ),
        )
        if not decision.approved:
            print(f"{PROG}: refused: {decision.reason}: {decision.message}", file=sys.stderr)
            raise _Refused
    _print_headers(
        headers,
        as_json=args.json,
        as_curl=args.curl,
        method=parts.method,
        url=parts.url,
        body=json.dumps(parts.body, separators=(",", ":")).encode()
        if parts.body is not None
        else None,
        body_file=None,
    )
    return 0


def _verify_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    headers: list[tuple[str, str]] = []
    if args.headers_json:
        obj = _load_json_file(args.headers_json, "headers file")
        if not isinstance(obj, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in obj.items()
        ):
            raise CLIError(f"{args.headers_json}: want a JSON object of string headers")
        headers.extend((k.lower(), v) for k, v in obj.items())
    headers.extend(_parse_header_args(args.header))
    quorum = _load_quorum(args, required=True)
    max_lifetime = parse_duration(args.max_lifetime)
    clock_skew = parse_duration(args.clock_skew)
    if max_lifetime is None or clock_skew is None:
        raise CLIError("--max-lifetime and --clock-skew need a duration")
    return {
        "method": args.method,
        "url": args.url,
        "body": _request_body(args),
        "headers": dict(headers),
        "quorum": quorum,
        "now_ms": args.now,
        "user_keys": _user_resolver(_user_keys(args)),
        "policy": Policy(
            allow_foreign_signatures=args.allow_foreign_signatures,
            require_expiry=args.require_expiry,
            max_lifetime=max_lifetime,
            clock_skew=clock_skew,
            empty_body=args.empty_body,
            profile=args.profile,
        ),
    }


def cmd_verify(args: argparse.Namespace) -> int:
    """``authsig verify``."""
    from authsig.privy.verifier import verify_request

    decision = verify_request(**_verify_kwargs(args))
    if args.json:
        _dump_json(decision.to_dict())
    else:
        verdict = "approved" if decision.approved else "refused"
        print(f"{verdict} ({decision.reason}, HTTP {decision.http_status}): {decision.message}")
    return 0 if decision.approved else 1


def cmd_explain(args: argparse.Namespace) -> int:
    """``authsig explain``."""
    from authsig.privy.explain import explain

    report = explain(
        **_verify_kwargs(args),
        alternative_urls=tuple(args.alternative_url),
        extra_headers=dict(_parse_header_args(args.extra_header)) or None,
    )
    if args.json:
        _dump_json(report.to_dict())
    else:
        print(str(report))
    return 0 if report.decision.approved else 1


def cmd_canonicalize(args: argparse.Namespace) -> int:
    """``authsig canonicalize``."""
    from authsig.jcs import canonicalize
    from authsig.privy.payload import parse_body

    data = _read_input(args.file)
    if not data.strip():
        raise CLIError(f"{'stdin' if args.file == '-' else args.file}: no JSON to canonicalize")
    value = parse_body(data)
    out = canonicalize(value, profile=args.profile)
    _write_output(None, out + (b"\n" if args.newline else b""))
    return 0


def cmd_vectors(args: argparse.Namespace) -> int:
    """``authsig vectors generate|check``."""
    from authsig.testvectors import check, generate

    directory = Path(args.directory)
    if args.action == "generate":
        paths = generate(directory)
        if args.json:
            _dump_json({"written": [str(p) for p in paths]})
        else:
            print(f"wrote {len(paths)} file(s) to {directory}")
        return 0
    if not directory.is_dir():
        raise CLIError(f"{directory}: not a directory")
    report = check(directory)
    if args.json:
        _dump_json(
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


def cmd_demo(args: argparse.Namespace) -> int:
    """``authsig demo``."""
    from authsig.demo import run_demo

    result = run_demo(out=sys.stdout, as_json=args.json)
    return 0 if result.ok else 1


# --------------------------------------------------------------------------------------
# entry point


def _error(message: str, stream: TextIO | None = None) -> int:
    print(f"{PROG}: error: {message}", file=stream or sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    """Run the ``authsig`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return func(args)
    except _Refused:
        return 1
    except AuthSigError as exc:
        return _error(str(exc))
    except OSError as exc:
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return _error(f"{where}{exc.strerror or exc}")
    except ImportError as exc:
        missing = exc.name or ""
        if isinstance(exc, ModuleNotFoundError) and missing and not missing.startswith(PROG):
            extra = _EXTRAS.get(missing.partition(".")[0], "")
            hint = f"pip install 'authsig[{extra}]'" if extra else "install it"
            return _error(f"this command needs the {missing!r} package: {hint}")
        return _error(str(exc))
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("AUTHSIG_DEBUG"):
            raise
        return _error(
            f"internal error ({type(exc).__name__}); set AUTHSIG_DEBUG=1 for the traceback"
        )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
