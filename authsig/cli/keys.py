"""``authsig keygen``, ``pubkey`` and ``convert``: making keys and changing their format.

A private key reaches stdout only with ``--print-private-key``; otherwise it goes to a file
written with :func:`~authsig.cli._io.write_private_file` (mode 0600, no silent overwrite).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from authsig.cli._args import KEY_FORMATS, add_command
from authsig.cli._io import (
    CLIError,
    as_text_if_possible,
    check_overwrite,
    dump_json,
    format_key,
    load_any_key,
    load_public_key_ref,
    read_key_arg,
    write_private_file,
)

__all__ = ["register", "run_convert", "run_keygen", "run_pubkey"]


def register(subparsers: Any) -> None:
    """Add ``keygen``, ``pubkey`` and ``convert``."""
    p = add_command(
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
    p.set_defaults(func=run_keygen)

    p = add_command(
        subparsers,
        "pubkey",
        "print the public key of a key file, token or KMS key",
        "Print the public key of a private or public key (base64 PKCS#8/SEC1/SPKI DER, PEM or\n"
        "JWK). KEY is a reference: FILE, - (stdin), env:VAR, file:PATH, pkcs11:URI or\n"
        "awskms://KEY-ID (docs/keys.md).",
        "  authsig pubkey alice.key\n  authsig pubkey alice.key --format jwk\n"
        "  authsig pubkey 'pkcs11:token=ops;object=alice' --json\n"
        "  authsig pubkey awskms://alias/bob\n",
    )
    p.add_argument("file", metavar="KEY")
    p.add_argument("--format", choices=KEY_FORMATS, default="privy", help="output format")
    p.add_argument("--json", action="store_true", help="print {public_key, key_id}")
    p.set_defaults(func=run_pubkey)

    p = add_command(
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
    p.add_argument("file", metavar="KEY", help="FILE, - (stdin), env:VAR or file:PATH")
    p.add_argument("--from", dest="from_format", choices=("auto", *KEY_FORMATS), default="auto")
    p.add_argument("--to", choices=KEY_FORMATS, required=True)
    p.add_argument("--public", action="store_true", help="output only the public key")
    p.add_argument("--out", "-o", metavar="FILE", help="write to FILE (private: mode 0600)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    p.add_argument("--print-private-key", action="store_true", help="allow a private key on stdout")
    p.set_defaults(func=run_convert)


def run_keygen(args: argparse.Namespace) -> int:
    """``authsig keygen``."""
    from authsig.keys import generate_private_key

    if not args.out and not args.print_private_key:
        raise CLIError(
            "give --out FILE to write the private key (or --print-private-key to print it)"
        )
    if args.out:  # before generating: a refused --out must not cost a key
        check_overwrite(Path(args.out), force=args.force)
    key = generate_private_key()
    public = key.public_key
    secret = format_key(key, args.format)
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
        dump_json(result)
        return 0
    if args.print_private_key:
        sys.stdout.write(secret)
    else:
        print(f"private key: {args.out} (mode 0600)")
    print(f"public key:  {public.to_base64()}")
    print(f"key id:      {public.key_id}")
    return 0


def run_pubkey(args: argparse.Namespace) -> int:
    """``authsig pubkey``."""
    public = load_public_key_ref(args.file)
    if args.json:
        dump_json({"public_key": public.to_base64(), "key_id": public.key_id})
    else:
        sys.stdout.write(format_key(public, args.format))
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


def run_convert(args: argparse.Namespace) -> int:
    """``authsig convert``."""
    raw, source = read_key_arg(args.file)
    data = as_text_if_possible(raw)
    if args.from_format != "auto":
        found = _detect_format(data)
        if found != args.from_format:
            raise CLIError(f"{source}: looks like {found}, not {args.from_format}")
    private, public = load_any_key(data, source)
    if private is None or args.public:
        text = format_key(public, args.to)
        if args.out:
            check_overwrite(Path(args.out), force=args.force)
            Path(args.out).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return 0
    secret = format_key(private, args.to)
    if args.out:
        write_private_file(Path(args.out), secret, force=args.force)
        print(f"private key: {args.out} (mode 0600)", file=sys.stderr)
    elif args.print_private_key:
        sys.stdout.write(secret)
    else:
        raise CLIError(
            f"{source} holds a private key: give --out FILE, --print-private-key, or --public"
        )
    return 0
