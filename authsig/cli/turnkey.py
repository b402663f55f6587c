"""``authsig turnkey``: Turnkey API keys and stamps (``keygen``, ``stamp``, ``verify``).

A stamp covers the body only, so these commands take a body and nothing else of the request.
Private keys are hex files (what Turnkey's tools write), read from a file or ``-``; they are
never printed.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from authsig.cli._args import add_body_args, add_command
from authsig.cli._io import (
    CLIError,
    Refused,
    dump_json,
    read_key_arg,
    request_body,
    write_private_file,
)
from authsig.turnkey import (
    SCHEMES,
    STAMP_HEADER,
    TurnkeyError,
    TurnkeyPrivateKey,
    TurnkeyPublicKey,
    stamp,
    verify_stamp,
)

__all__ = ["register", "run_keygen", "run_stamp", "run_verify"]

_SCHEMES = {"p256": SCHEMES[0], "secp256k1": SCHEMES[1], "ed25519": SCHEMES[2]}


def _scheme_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scheme",
        choices=sorted(_SCHEMES),
        default="p256",
        help="the key's signature scheme (default: p256, SIGNATURE_SCHEME_TK_API_P256)",
    )


def register(subparsers: Any) -> None:
    """Add the ``turnkey`` command group."""
    group = add_command(
        subparsers,
        "turnkey",
        "Turnkey API stamps: keygen, stamp, verify",
        "Turnkey API keys and X-Stamp headers (the stamp signs the raw body only).",
        "  authsig turnkey keygen --out api.key\n"
        "  authsig turnkey stamp --key api.key --body body.json\n"
        '  authsig turnkey verify --stamp "$STAMP" --body body.json\n',
    )
    commands = group.add_subparsers(dest="turnkey_command", metavar="COMMAND")
    p = add_command(
        commands,
        "keygen",
        "generate a Turnkey API key",
        "Generate a Turnkey API key; the private key (hex) is written to --out (mode 0600,\n"
        "never overwriting without --force). Prints the public key (hex), as stamps carry it.",
        "  authsig turnkey keygen --out api.key\n",
    )
    p.add_argument("--out", "-o", metavar="FILE", required=True, help="private key file (0600)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    _scheme_arg(p)
    p.set_defaults(func=run_keygen)

    p = add_command(
        commands,
        "stamp",
        "stamp a request body",
        "Print the X-Stamp header value for the body, stamped with the key in --key.",
        '  authsig turnkey stamp --key api.key --data \'{"timestampMs":"1795519976869"}\'\n',
    )
    p.add_argument(
        "--key",
        required=True,
        metavar="KEY",
        help="the hex private key: FILE, -, env:VAR or file:PATH",
    )
    _scheme_arg(p)
    add_body_args(p)
    p.add_argument("--json", action="store_true", help='print {"X-Stamp": value}')
    p.set_defaults(func=run_stamp)

    p = add_command(
        commands,
        "verify",
        "verify a stamp over a body",
        "Check an X-Stamp value strictly and verify it over the body (exit 0 valid, 1 not).",
        '  authsig turnkey verify --stamp "$STAMP" --body body.json --public-key 02ab...\n',
    )
    p.add_argument("--stamp", required=True, metavar="VALUE", help="the X-Stamp header value")
    add_body_args(p)
    p.add_argument(
        "--public-key",
        action="append",
        default=[],
        metavar="HEX",
        help="an accepted public key (hex, of --scheme; repeat); default: any key",
    )
    _scheme_arg(p)
    p.add_argument("--require-low-s", action="store_true", help="refuse high-S ECDSA signatures")
    p.set_defaults(func=run_verify)
    group.set_defaults(func=lambda args: _no_command(group))


def _no_command(group: argparse.ArgumentParser) -> int:
    group.print_help()
    return 2


def _body(args: argparse.Namespace) -> bytes:
    body = request_body(args)
    if body is None:
        raise CLIError("give the body with --data or --body (use --data '' for an empty body)")
    return body


def _private_key(args: argparse.Namespace) -> TurnkeyPrivateKey:
    """The key a FILE, ``-``, ``env:VAR`` or ``file:PATH`` reference holds (hex text; the
    message never repeats it)."""
    if args.key.lower().startswith(("pkcs11:", "awskms://")):
        raise CLIError("Turnkey API keys are hex key files: pkcs11: and awskms:// are not read")
    data, source = read_key_arg(args.key)
    text = data.decode("utf-8", "replace").strip()
    try:
        return TurnkeyPrivateKey.from_hex(text, _SCHEMES[args.scheme])
    except TurnkeyError as exc:
        raise CLIError(f"{source}: {exc.message}") from None


def run_keygen(args: argparse.Namespace) -> int:
    """``authsig turnkey keygen``."""
    key = TurnkeyPrivateKey.generate(_SCHEMES[args.scheme])
    write_private_file(Path(args.out), key.to_hex() + "\n", force=args.force)
    print(key.public_key.hex)
    return 0


def run_stamp(args: argparse.Namespace) -> int:
    """``authsig turnkey stamp``."""
    value = stamp(_body(args), _private_key(args))
    if args.json:
        dump_json({STAMP_HEADER: value})
    else:
        print(value)
    return 0


def run_verify(args: argparse.Namespace) -> int:
    """``authsig turnkey verify``: exit 0 when valid, 1 (with the reason) when not."""
    keys = [TurnkeyPublicKey.from_hex(k, _SCHEMES[args.scheme]) for k in args.public_key]
    try:
        parsed = verify_stamp(
            _body(args), args.stamp, keys=keys or None, require_low_s=args.require_low_s
        )
    except TurnkeyError as exc:
        dump_json({"valid": False, "reason": exc.code, "message": exc.message})
        raise Refused from None
    dump_json({"valid": True, "publicKey": parsed.key_hex, "scheme": parsed.scheme})
    return 0
