"""``authsig httpsig sign`` and ``authsig httpsig verify``: RFC 9421 HTTP Message Signatures.

``sign`` prints the ``Signature-Input``, ``Signature`` and ``Content-Digest`` fields to send
(one labelled signature per ``--key``, sharing one nonce); ``verify`` checks a request against
``--public-key`` keys and an optional ``--threshold`` of them, and says what differed when a
signature fails. Keys are PEM files (P-256 or Ed25519), named by their keyid: ``KEYID=FILE``.

``authsig.httpsig`` is imported when a command runs, not when the parser is built: it needs the
``httpsig`` extra, and the other commands must work without it.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from authsig.cli._args import add_body_args, add_command, add_headers_output
from authsig.cli._io import (
    CLIError,
    Refused,
    dump_json,
    load_json_file,
    parse_header_args,
    print_headers,
    read_input,
    request_body,
)

__all__ = ["register", "run_sign", "run_verify"]


def _named(value: str, option: str) -> tuple[str, str]:
    keyid, sep, ref = value.partition("=")
    if not sep or not keyid or not ref:
        raise CLIError(f"{option} wants KEYID=FILE, got {value!r}")
    return keyid, ref


def _request_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("request")
    group.add_argument("--method", "-X", required=True, help="HTTP method (POST, PUT, ...)")
    group.add_argument("--url", required=True, help="full absolute URL as requested")
    add_body_args(group)
    group.add_argument(
        "--header", "-H", action="append", default=[], metavar="'NAME: VALUE'", help="(repeat)"
    )


def _register_sign(sub: Any) -> None:
    p = add_command(
        sub,
        "sign",
        "sign a request with RFC 9421 and print the fields to send",
        "Sign a request with one or more keys (P-256 or Ed25519 PEM files). Each key adds a\n"
        "labelled signature (sig1, sig2, ...) over the same components, with one nonce.",
        "  authsig httpsig sign --key alice=alice.pem -X POST --url https://api.example/pay \\\n"
        "      --data '{\"amount\":1}'\n"
        "  authsig httpsig sign --key a=a.pem --key b=b.pem -X POST --url URL -d '{}' --json\n",
    )
    p.add_argument(
        "--key", "-k", action="append", required=True, metavar="KEYID=FILE", help="(repeat)"
    )
    _request_args(p)
    p.add_argument(
        "--component",
        action="append",
        metavar="NAME",
        help="a covered component (repeat; default: @method @authority @path @query, and "
        "content-digest with a body)",
    )
    p.add_argument("--tag", help="the tag parameter (what the signature is for)")
    p.add_argument("--expires-in", type=int, default=300, metavar="SECONDS")
    add_headers_output(p)
    p.set_defaults(func=run_sign)


def _register_verify(sub: Any) -> None:
    p = add_command(
        sub,
        "verify",
        "verify an RFC 9421 signed request (exit 1 when refused)",
        "Verify a request's RFC 9421 signatures against the --public-key keys: one valid\n"
        "signature by any of them, or --threshold of them (each key counted once).",
        "  authsig httpsig verify --public-key alice=alice.pub.pem -X POST \\\n"
        "      --url https://api.example/pay -d '{\"amount\":1}' --headers-json signed.json\n",
    )
    p.add_argument(
        "--public-key", action="append", required=True, metavar="KEYID=FILE", help="(repeat)"
    )
    _request_args(p)
    p.add_argument("--headers-json", metavar="FILE", help="JSON object of headers (sign --json)")
    p.add_argument("--threshold", type=int, help="how many distinct keys must approve")
    p.add_argument("--tag", help="only signatures with this tag count")
    p.add_argument("--require-nonce", action="store_true", help="every signature needs a nonce")
    p.add_argument(
        "--no-content-digest",
        action="store_true",
        help="accept signatures that do not cover the body (not recommended)",
    )
    p.add_argument("--now", type=int, metavar="SECONDS", help="verify at this time (tests)")
    p.add_argument("--json", action="store_true", help="print the decision as JSON")
    p.set_defaults(func=run_verify)


def register(subparsers: Any) -> None:
    """Add the ``httpsig`` command group (``sign``, ``verify``)."""
    group = add_command(
        subparsers,
        "httpsig",
        "RFC 9421 HTTP Message Signatures: sign and verify",
        "RFC 9421 HTTP Message Signatures (ecdsa-p256-sha256, ed25519), with quorums.",
        "  authsig httpsig sign --key alice=alice.pem -X GET --url https://api.example/x\n",
    )
    sub = group.add_subparsers(dest="httpsig_command", metavar="COMMAND")
    _register_sign(sub)
    _register_verify(sub)

    def usage(args: argparse.Namespace) -> int:
        group.print_help(sys.stderr)
        return 2

    group.set_defaults(func=usage)


def run_sign(args: argparse.Namespace) -> int:
    """``authsig httpsig sign``."""
    from authsig.httpsig.algorithms import load_signing_key
    from authsig.httpsig.signing import sign_all

    signers = []
    for value in args.key:
        keyid, ref = _named(value, "--key")
        signers.append((keyid, load_signing_key(read_input(ref))))
    body = request_body(args) or b""
    headers = parse_header_args(args.header)
    if args.expires_in <= 0:
        raise CLIError("--expires-in must be positive")
    out = sign_all(
        args.method.upper(),
        args.url,
        headers,
        body,
        signers,
        components=args.component,
        expires_in=args.expires_in,
        tag=args.tag,
    )
    print_headers(
        out,
        as_json=args.json,
        as_curl=args.curl,
        method=args.method,
        url=args.url,
        body=body,
        body_file=getattr(args, "body", None),
    )
    return 0


def _headers(args: argparse.Namespace) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    if args.headers_json:
        obj = load_json_file(args.headers_json, "headers file")
        if not isinstance(obj, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in obj.items()
        ):
            raise CLIError(f"{args.headers_json}: want a JSON object of string headers")
        headers.extend(obj.items())
    return headers + parse_header_args(args.header)


def run_verify(args: argparse.Namespace) -> int:
    """``authsig httpsig verify``: exit 0 approved, 1 refused."""
    from authsig.httpsig.algorithms import load_verifying_key
    from authsig.httpsig.components import HttpMessage
    from authsig.httpsig.explain import diagnose_refusal
    from authsig.httpsig.quorum import Quorum
    from authsig.httpsig.verify import KeyResolver, verify_request

    keys = {}
    for value in args.public_key:
        keyid, ref = _named(value, "--public-key")
        keys[keyid] = load_verifying_key(read_input(ref))
    quorum = Quorum.of(args.threshold, list(keys)) if args.threshold else None
    message = HttpMessage.build(args.method.upper(), args.url, _headers(args))
    body = request_body(args) or b""
    resolver = KeyResolver(keys)
    checked = verify_request(
        message,
        body,
        keys=resolver,
        quorum=quorum,
        now_ms=None if args.now is None else args.now * 1000,
        require_nonce=args.require_nonce,
        require_content_digest=not args.no_content_digest,
        tag=args.tag,
    )
    decision = checked.decision
    why = None if decision.approved else diagnose_refusal(message, body, resolver, decision)
    if args.json:
        dump_json({**decision.to_dict(), "diagnosis": why})
    else:
        print(f"{'approved' if decision.approved else 'refused'} ({decision.reason}): {decision}")
        if why:
            print(f"why: {why}")
    if not decision.approved:
        raise Refused
    return 0
