"""``authsig sign`` and ``payload``: signing a request, alone or with several key holders.

Alone, ``sign`` signs a request and prints the headers. With keys held by different people,
``payload`` writes the exact bytes to sign, each holder runs ``sign --payload`` on them, and
``combine`` (:mod:`authsig.cli.combine`) checks the signatures and assembles the headers.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from authsig.cli._args import (
    EMPTY_BODY_CHOICES,
    add_body_args,
    add_command,
    add_headers_output,
    add_passphrase_args,
    add_request_args,
)
from authsig.cli._io import (
    PROG,
    CLIError,
    dump_json,
    load_signing_key,
    parse_duration,
    passphrase_source,
    print_headers,
    read_input,
    request_body,
    write_output,
)
from authsig.cli._payload import (
    format_signature_line,
    parse_payload_file,
    refuse_expired,
    summary,
)
from authsig.keys import PrivateKey
from authsig.privy.dialects import DIALECT_NAMES, DIALECTS

if TYPE_CHECKING:
    from authsig.signers import BaseSigner

    SigningKey = PrivateKey | BaseSigner

__all__ = ["register", "run_payload", "run_sign"]


def register(subparsers: Any) -> None:
    """Add ``sign`` and ``payload``."""
    p = add_command(
        subparsers,
        "sign",
        "sign a request (or a payload file) and print the headers",
        "Sign a request with one or more private keys and print the headers to send.\n"
        "With --payload FILE (from 'authsig payload'), show what the payload asks for (on\n"
        "stderr), refuse it when expired, sign those exact bytes and print one line per key,\n"
        "'SIGNATURE KEY_ID': the multi-party flow, where each key holder signs on their own\n"
        "machine and 'authsig combine' assembles the headers.",
        "  authsig sign --key alice.key -X POST --url https://api.privy.io/v1/wallets \\\n"
        "      --body body.json --app-id my-app\n"
        "  authsig sign --key a.key --key b.key -X PATCH --url URL -d '{\"x\":1}' \\\n"
        "      --app-id my-app --expires-in 1h --curl --app-secret env:PRIVY_APP_SECRET\n"
        "  authsig sign --payload request.payload --key alice.key > alice.sig\n"
        "  authsig sign --key 'pkcs11:token=ops;object=alice' --key awskms://alias/bob \\\n"
        "      -X POST --url URL --data '{}' --app-id my-app   # keys in an HSM and in KMS\n",
    )
    p.add_argument(
        "--key",
        "-k",
        action="append",
        required=True,
        metavar="KEY",
        help="private key: FILE, -, env:VAR, file:PATH, pkcs11:URI or awskms://KEY-ID (repeat)",
    )
    p.add_argument("--payload", metavar="FILE", help="sign this payload file (multi-party)")
    p.add_argument("--method", "-X")
    p.add_argument("--url")
    add_body_args(p)
    p.add_argument("--empty-body", choices=EMPTY_BODY_CHOICES, default="string")
    p.add_argument(
        "--dialect", choices=DIALECT_NAMES, help="sign as this Privy SDK does (docs/dialects.md)"
    )
    p.add_argument("--app-id")
    p.add_argument("--expires-in", default="15m", metavar="DURATION", help="30s/15m/1h/none")
    p.add_argument("--idempotency-key")
    p.add_argument("--now", type=int, metavar="MS", help="pretend now is MS ms since the epoch")
    p.add_argument("--deterministic", action="store_true", help="RFC 6979 signatures")
    _add_any_url(p)
    p.add_argument(
        "--app-secret",
        metavar="env:VAR|file:PATH",
        help="with --curl: add the app secret (HTTP Basic) as a reference the shell expands "
        "when the command runs; the secret itself is never printed",
    )
    add_passphrase_args(p)
    add_headers_output(p)
    p.set_defaults(func=run_sign)

    p = add_command(
        subparsers,
        "payload",
        "write the canonical signing payload of a request",
        "Write the canonical payload of a request (RFC 8785 JSON, its expiry fixed now) to\n"
        "a file. Send that file to each key holder; they run 'authsig sign --payload'.\n"
        "The file holds exactly the bytes that are signed (no trailing newline).",
        "  authsig payload -X POST --url https://api.privy.io/v1/wallets/w1/rpc \\\n"
        "      --body body.json --app-id my-app --expires-in 1h --out request.payload\n",
    )
    add_request_args(p, app_id=True)
    _add_any_url(p)
    p.add_argument("--out", "-o", metavar="FILE", help="output file (default: stdout)")
    p.set_defaults(func=run_payload)


def _add_any_url(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--any-url",
        action="store_true",
        help="sign any URL (a server that is not Privy's): skip the check for an absolute "
        "http(s) URL without trailing slash or fragment",
    )


def _check_url(args: argparse.Namespace) -> None:
    """The URL check of sign_request, as a usage error (exit 2) the user can act on."""
    from authsig.privy.signing import RequestURLError, check_request_url

    if args.any_url:
        return
    try:
        check_request_url(args.url)
    except RequestURLError as exc:
        raise CLIError(
            f"--url: {exc} (--any-url signs it anyway, for servers not Privy's)"
        ) from None


def _curl_user(args: argparse.Namespace) -> str | None:
    """``-u`` for curl with the app secret as a shell reference, or None.

    The command holds ``$VAR`` or ``$(cat PATH)``, not the secret: it can be pasted into a
    ticket, a log or a CI step without leaking, and the shell fills the secret in when the
    command runs (curl hides ``-u`` values from ``ps`` once it has read them).
    """
    ref = args.app_secret
    if ref is None:
        return None
    if not args.curl:
        raise CLIError("--app-secret goes with --curl (the secret is never printed as a header)")
    kind, _, rest = ref.partition(":")
    user = args.app_id.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    user = user.replace("`", "\\`")
    if kind == "env" and rest.isidentifier():
        if rest not in os.environ:
            print(f"{PROG}: warning: ${rest} is not set here", file=sys.stderr)
        return f'"{user}:${{{rest}}}"'
    if kind == "file" and rest:
        return f'"{user}:$(cat -- {shlex.quote(rest)})"'
    raise CLIError("--app-secret takes env:VAR or file:PATH (never the secret itself)")


def _require(args: argparse.Namespace, *names: str) -> None:
    missing = ["--" + n.replace("_", "-") for n in names if getattr(args, n) in (None, "")]
    if missing:
        raise CLIError(f"missing {', '.join(missing)}")


def _sign_one(payload: bytes, key: SigningKey, *, deterministic: bool) -> str:
    """One base64 DER signature of ``payload`` by a private key or a signer."""
    import base64

    from authsig.signatures import sign

    if isinstance(key, PrivateKey):
        return sign(payload, key, deterministic=deterministic)
    return base64.b64encode(key.sign(payload)).decode("ascii")


def _sign_payload_file(args: argparse.Namespace, keys: list[SigningKey]) -> int:
    """``sign --payload``: one signature per key over the file's exact bytes."""
    extra = [
        n
        for n in ("method", "url", "app_id", "idempotency_key", "body", "data", "now", "app_secret")
        if getattr(args, n) is not None
    ]
    if extra or args.curl or args.any_url:
        raise CLIError("--payload signs a payload file; request options do not apply")
    payload = read_input(args.payload)
    if not payload:
        raise CLIError(f"{args.payload}: empty payload")
    # Show the signer what the bytes say before signing them, and refuse a dead request: the
    # payload came from someone else, and a signature is an approval of exactly this request.
    parts = parse_payload_file(args.payload, payload)
    print(summary(parts), file=sys.stderr)
    refuse_expired(args.payload, parts)
    signatures = [_sign_one(payload, key, deterministic=args.deterministic) for key in keys]
    key_ids = [k.public_key.key_id for k in keys]
    if args.json:
        dump_json({"signatures": signatures, "key_ids": key_ids})
    else:
        for signature, key_id in zip(signatures, key_ids, strict=True):
            print(format_signature_line(signature, key_id))
    return 0


def run_sign(args: argparse.Namespace) -> int:
    """``authsig sign``."""
    if args.payload is None:
        _require(args, "method", "url", "app_id")
    with contextlib.ExitStack() as stack:
        keys: list[SigningKey] = []
        for ref in args.key:
            key = load_signing_key(ref, passphrase_source(args))
            if not isinstance(key, PrivateKey):
                stack.callback(key.close)  # the token session or client it holds
                if args.deterministic:
                    raise CLIError(
                        "--deterministic needs key files: pkcs11: and awskms:// keys sign "
                        "with their own randomness"
                    )
            keys.append(key)
        if args.payload is not None:
            return _sign_payload_file(args, keys)
        return _sign_request(args, keys)


def _expiry_and_idempotency(args: argparse.Namespace) -> tuple[timedelta | None, str | None]:
    """``--expires-in`` and ``--idempotency-key``, checked here so that a mistake is a usage
    error the user can act on (the library raises ValueError, which the CLI treats as a bug)."""
    if args.idempotency_key is not None and not args.idempotency_key.strip():
        raise CLIError("--idempotency-key must not be empty; leave it out for no key")
    expires_in = parse_duration(args.expires_in)
    if expires_in is not None and expires_in <= timedelta(0):
        raise CLIError("--expires-in must be positive (a request expiring now is already expired)")
    return expires_in, args.idempotency_key


def _check_dialect(args: argparse.Namespace, expires_in: timedelta | None) -> None:
    """A usage error for what ``sign_request`` would refuse with ValueError under --dialect."""
    if args.dialect is None:
        return
    if args.empty_body != "string":
        raise CLIError("--dialect sets the empty-body rule; leave out --empty-body")
    if expires_in is not None and not DIALECTS[args.dialect].signs_header("privy-request-expiry"):
        raise CLIError(
            f"--dialect {args.dialect} never signs privy-request-expiry; pass --expires-in none"
        )


def _sign_request(args: argparse.Namespace, keys: list[SigningKey]) -> int:
    """``sign`` of a request: print the headers to send."""
    from authsig.privy.signing import sign_request

    _check_url(args)
    curl_user = _curl_user(args)
    body = request_body(args)
    expires_in, idempotency_key = _expiry_and_idempotency(args)
    _check_dialect(args, expires_in)
    headers = sign_request(
        method=args.method,
        url=args.url,
        body=body,
        app_id=args.app_id,
        keys=keys,
        idempotency_key=idempotency_key,
        expires_in=expires_in,
        now_ms=args.now,
        empty_body=args.empty_body,
        deterministic=args.deterministic,
        dialect=args.dialect,
        check_url=False,  # checked above, or skipped with --any-url
    )
    print_headers(
        headers,
        as_json=args.json,
        as_curl=args.curl,
        method=args.method,
        url=args.url,
        body=body,
        body_file=args.body,
        curl_user=curl_user,
    )
    return 0


def run_payload(args: argparse.Namespace) -> int:
    """``authsig payload``."""
    from authsig.privy.expiry import make_expiry
    from authsig.privy.headers import APP_ID_HEADER, EXPIRY_HEADER, IDEMPOTENCY_HEADER
    from authsig.privy.payload import signing_payload

    _check_url(args)
    headers = {APP_ID_HEADER: args.app_id}
    expires_in, idempotency_key = _expiry_and_idempotency(args)
    if idempotency_key is not None:
        headers[IDEMPOTENCY_HEADER] = idempotency_key
    if expires_in is not None:
        headers[EXPIRY_HEADER] = make_expiry(expires_in, now_ms=args.now)
    payload = signing_payload(
        method=args.method,
        url=args.url,
        body=request_body(args),
        headers=headers,
        empty_body=args.empty_body,
    )
    write_output(args.out, payload)
    if args.out and args.out != "-":
        print(f"payload written to {args.out} ({len(payload)} bytes)", file=sys.stderr)
    return 0
