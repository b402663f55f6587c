"""``authsig keygen``, ``pubkey`` and ``convert``: making keys and changing their format.

A private key reaches stdout only with ``--print-private-key``; otherwise it goes to a file
written with :func:`~authsig.cli._io.write_private_file` (mode 0600, no silent overwrite).
Private keys are written encrypted (PKCS#8 with a passphrase) unless ``--no-passphrase`` is
given, the way ``step`` and ``cosign`` do: a key file copied off a disk is then of no use
without its passphrase.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from authsig.cli._args import KEY_FORMATS, add_command, add_passphrase_args
from authsig.cli._io import (
    CLIError,
    as_text_if_possible,
    check_overwrite,
    dump_json,
    format_key,
    load_any_key,
    load_public_key_ref,
    passphrase_source,
    private_key_text,
    read_key_arg,
    read_passphrase,
    read_passphrase_file,
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
        "The key is encrypted (PKCS#8, passphrase from --passphrase-file, $AUTHSIG_PASSPHRASE\n"
        "or a prompt) unless --no-passphrase is given; Privy's SDKs load only unencrypted\n"
        "privy-format keys. Prints the public key (base64 SPKI DER, what Privy's dashboard and\n"
        "API want) and its key id (RFC 7638 thumbprint); with --print-private-key, on stderr.",
        "  authsig keygen --out alice.key                     # prompts for a passphrase\n"
        "  authsig keygen --out alice.pem --format pem --passphrase-file pass.txt --json\n"
        "  authsig keygen --out sdk.key --no-passphrase       # for Privy's SDKs\n"
        "  authsig keygen --print-private-key --no-passphrase | secret-store put alice\n",
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
    _add_encryption_args(p, new=True)
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
    add_passphrase_args(p)
    p.set_defaults(func=run_pubkey)

    p = add_command(
        subparsers,
        "convert",
        "convert a key between formats",
        "Convert a private or public key between privy (base64 DER), pem and jwk, and add,\n"
        "change or remove its encryption. A private key is written to --out (mode 0600) or\n"
        "printed with --print-private-key, encrypted unless --no-passphrase is given: with\n"
        "--new-passphrase-file, else the passphrase that decrypted the input, else\n"
        "--passphrase-file, $AUTHSIG_PASSPHRASE or a prompt. --public converts only its\n"
        "public half.",
        "  authsig convert alice.key --to pem --out alice.pem           # stays encrypted\n"
        "  authsig convert plain.key --to pem --out alice.pem --passphrase-file pass.txt\n"
        "  authsig convert alice.pem --to privy --no-passphrase --out sdk.key\n"
        "  authsig convert alice.pem --to pem --passphrase-file old --new-passphrase-file new \\\n"
        "      --out alice2.pem\n"
        "  authsig convert alice.jwk --to privy --public\n",
    )
    p.add_argument("file", metavar="KEY", help="FILE, - (stdin), env:VAR or file:PATH")
    p.add_argument("--from", dest="from_format", choices=("auto", *KEY_FORMATS), default="auto")
    p.add_argument("--to", choices=KEY_FORMATS, required=True)
    p.add_argument("--public", action="store_true", help="output only the public key")
    p.add_argument("--out", "-o", metavar="FILE", help="write to FILE (private: mode 0600)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    p.add_argument("--print-private-key", action="store_true", help="allow a private key on stdout")
    enc = _add_encryption_args(p, new=False)
    enc.add_argument(
        "--new-passphrase-file",
        metavar="FILE",
        help="encrypt the output with the passphrase in FILE (to change a passphrase)",
    )
    p.set_defaults(func=run_convert)


def _add_encryption_args(parser: argparse.ArgumentParser, *, new: bool) -> Any:
    """``--passphrase-file`` and ``--no-passphrase``; ``new``: the key is made here (keygen)."""
    group = parser.add_argument_group("encryption")
    add_passphrase_args(group, new=new)
    group.add_argument(
        "--no-passphrase",
        action="store_true",
        help="write the private key unencrypted (default: encrypted with a passphrase)",
    )
    return group


def _print_private_key(text: str) -> None:
    """Write the key to stdout exactly as its file holds it (a newline only for a terminal)."""
    sys.stdout.write(text)
    if not text.endswith("\n") and sys.stdout.isatty():
        sys.stdout.write("\n")


def run_keygen(args: argparse.Namespace) -> int:
    """``authsig keygen``."""
    from authsig.keys import generate_private_key

    if not args.out and not args.print_private_key:
        raise CLIError(
            "give --out FILE to write the private key (or --print-private-key to print it)"
        )
    if args.no_passphrase and args.passphrase_file:
        raise CLIError("--passphrase-file and --no-passphrase exclude each other")
    if args.format == "jwk" and not args.no_passphrase:
        raise CLIError("a JWK cannot be encrypted: use --format pem or privy, or --no-passphrase")
    if args.out:  # before generating: a refused --out must not cost a key
        check_overwrite(Path(args.out), force=args.force)
    passphrase = (
        None if args.no_passphrase else read_passphrase(args, args.out or "the key", new=True)
    )
    key = generate_private_key()
    public = key.public_key
    secret = private_key_text(key, args.format, passphrase)
    if args.out:
        write_private_file(Path(args.out), secret, force=args.force)
    if args.json:
        result: dict[str, Any] = {
            "public_key": public.to_base64(),
            "key_id": public.key_id,
            "private_key_file": args.out,
            "encrypted": passphrase is not None,
        }
        if args.print_private_key:
            result["private_key"] = secret
        dump_json(result)
        return 0
    # With --print-private-key, stdout is the key alone: the rest goes to stderr.
    meta = sys.stderr if args.print_private_key else sys.stdout
    if args.print_private_key:
        _print_private_key(secret)
    else:
        state = "encrypted" if passphrase is not None else "not encrypted"
        print(f"private key: {args.out} (mode 0600, {state})")
    print(f"public key:  {public.to_base64()}", file=meta)
    print(f"key id:      {public.key_id}", file=meta)
    return 0


def run_pubkey(args: argparse.Namespace) -> int:
    """``authsig pubkey``."""
    public = load_public_key_ref(args.file, passphrase_source(args))
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
    if args.no_passphrase and args.new_passphrase_file:
        raise CLIError("--new-passphrase-file and --no-passphrase exclude each other")
    raw, source = read_key_arg(args.file)
    data = as_text_if_possible(raw)
    if args.from_format != "auto":
        found = _detect_format(data)
        if found != args.from_format:
            raise CLIError(f"{source}: looks like {found}, not {args.from_format}")
    used: list[bytes] = []  # the passphrase that decrypted the input, if it was encrypted

    def ask(name: str) -> bytes:
        used.append(read_passphrase(args, name))
        return used[-1]

    private, public = load_any_key(data, source, ask)
    if private is None or args.public:
        text = format_key(public, args.to)
        if args.out:
            check_overwrite(Path(args.out), force=args.force)
            Path(args.out).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return 0
    if not args.out and not args.print_private_key:
        raise CLIError(
            f"{source} holds a private key: give --out FILE, --print-private-key, or --public"
        )
    if args.to == "jwk" and not args.no_passphrase:
        raise CLIError("a JWK cannot be encrypted: use --to pem or privy, or --no-passphrase")
    if args.out:
        check_overwrite(Path(args.out), force=args.force)
    secret = private_key_text(private, args.to, _output_passphrase(args, used))
    if args.out:
        write_private_file(Path(args.out), secret, force=args.force)
        print(f"private key: {args.out} (mode 0600)", file=sys.stderr)
    else:
        _print_private_key(secret)
    return 0


def _output_passphrase(args: argparse.Namespace, used: list[bytes]) -> bytes | None:
    """``convert``'s output passphrase: None (--no-passphrase), --new-passphrase-file, the
    input's passphrase, or one read for the output like keygen's."""
    if args.no_passphrase:
        return None
    if args.new_passphrase_file:
        return read_passphrase_file(args.new_passphrase_file, "--new-passphrase-file")
    if used:
        return used[0]
    return read_passphrase(args, args.out or "the key", new=True)
