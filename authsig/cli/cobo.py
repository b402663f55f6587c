"""``authsig cobo``: Cobo WaaS 2.0 keys, request signing and verification, event checks.

- ``keygen`` / ``pubkey``: an API secret (hex, written 0600 without a trailing newline, the
  form cobo-waas2's ``Configuration(api_private_key=...)`` takes) and its API key.
- ``sign``: the ``Biz-Api-Key``/``Biz-Api-Nonce``/``Biz-Api-Signature`` headers of a request.
- ``verify`` / ``verify-event``: check a signed request, or a webhook/callback Cobo signed with
  its key for an environment; ``--explain`` names the near miss when it does not verify.
- ``group plan`` / ``group upgrade`` (:mod:`authsig.cli.cobo_group`): ``UpgradeToMainGroup``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from authsig.cli import cobo_group
from authsig.cli._args import Parser, add_body_args, add_command, add_headers_output
from authsig.cli._cobo_io import (
    CURVES,
    add_cobo_request_args,
    cobo_request,
    load_api_key_arg,
    load_secret_ref,
)
from authsig.cli._io import (
    CLIError,
    check_overwrite,
    dump_json,
    parse_duration,
    print_headers,
    request_body,
    write_private_file,
)
from authsig.cli.verify import _add_header_args, _headers

__all__ = ["register", "run_keygen", "run_pubkey", "run_sign", "run_verify", "run_verify_event"]

_EXAMPLES = (
    "  authsig cobo keygen --out cobo.secret\n"
    "  authsig cobo sign --key env:COBO_API_SECRET -X GET \\\n"
    "      --url 'https://api.dev.cobo.com/v2/wallets?wallet_type=Custodial' --curl\n"
    "  authsig cobo verify-event --env dev --body event.json \\\n"
    "      -H 'Biz-Timestamp: 1718...' -H 'Biz-Resp-Signature: 9f...'\n"
)


def register(subparsers: Any) -> None:
    """Add the ``cobo`` command group."""
    parser = add_command(
        subparsers,
        "cobo",
        "Cobo WaaS 2.0: API keys, signed requests, events, key share holder groups",
        "Cobo WaaS 2.0 API authentication (Ed25519 or secp256k1 API keys, Biz-Api-* headers)\n"
        "and Cobo's signatures on webhooks and callbacks (Biz-Resp-Signature).",
        _EXAMPLES,
    )
    parser.set_defaults(func=lambda _args: _usage(parser))
    sub = parser.add_subparsers(dest="cobo_command", metavar="COMMAND", parser_class=Parser)
    _register_keys(sub)
    _register_sign(sub)
    _register_verify(sub)
    cobo_group.register(sub)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _register_keys(sub: Any) -> None:
    p = add_command(
        sub,
        "keygen",
        "generate an API key pair (hex)",
        "Generate a Cobo API key pair. The API secret (hex) is written to --out atomically\n"
        "with mode 0600 and no trailing newline, or printed alone on stdout with\n"
        "--print-private-key (the API key then goes to stderr). Register the API key\n"
        "(public) in Cobo Portal; give the secret to cobo-waas2 as api_private_key.",
        "  authsig cobo keygen --out cobo.secret\n"
        "  authsig cobo keygen --print-private-key > cobo.secret   # API key on stderr\n"
        "  authsig cobo keygen --out k1.secret --curve secp256k1 --json\n",
    )
    dest = p.add_mutually_exclusive_group()
    dest.add_argument("--out", "-o", metavar="FILE", help="write the API secret to FILE (0600)")
    dest.add_argument(
        "--print-private-key", action="store_true", help="print the API secret on stdout"
    )
    p.add_argument("--curve", choices=CURVES, default="ed25519", help="key type (ed25519)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.set_defaults(func=run_keygen)

    p = add_command(
        sub,
        "pubkey",
        "print the API key of an API secret",
        "Print the API key (public, hex) of an API secret given by reference: FILE, -,\n"
        "env:VAR or file:PATH.",
        "  authsig cobo pubkey cobo.secret\n  authsig cobo pubkey env:COBO_API_SECRET --json\n",
    )
    p.add_argument("key", metavar="KEY", help="the API secret: FILE, -, env:VAR or file:PATH")
    p.add_argument("--curve", choices=CURVES, default="ed25519", help="key type (ed25519)")
    p.add_argument("--json", action="store_true", help="print {api_key, curve}")
    p.set_defaults(func=run_pubkey)


def _register_sign(sub: Any) -> None:
    p = add_command(
        sub,
        "sign",
        "sign a request and print the Biz-Api-* headers",
        "Sign METHOD|PATH|NONCE|PARAMS|BODY as cobo-waas2 does and print the headers.\n"
        "The path, the query and the body are signed exactly as given: send exactly those\n"
        "(--curl prints a command that does).",
        "  authsig cobo sign --key cobo.secret -X GET \\\n"
        "      --url https://api.dev.cobo.com/v2/wallets --param wallet_type=Custodial --curl\n"
        "  authsig cobo sign --key env:COBO_API_SECRET -X POST \\\n"
        "      --url /v2/transactions/transfer --body transfer.json --json\n",
    )
    p.add_argument("--key", "-k", required=True, metavar="KEY", help="API secret: FILE, -, env:VAR")
    p.add_argument("--curve", choices=CURVES, default="ed25519", help="key type (ed25519)")
    add_cobo_request_args(p)
    p.add_argument("--now", type=int, metavar="MS", help="the nonce (default: now, in ms)")
    add_headers_output(p)
    p.set_defaults(func=run_sign)


def _add_check_args(p: argparse.ArgumentParser) -> None:
    _add_header_args(p)
    p.add_argument("--now", type=int, metavar="MS", help="check as of MS ms since the epoch")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument(
        "--explain",
        action="store_true",
        help="on a refusal, try the usual near misses and name the one that matches",
    )


def _register_verify(sub: Any) -> None:
    p = add_command(
        sub,
        "verify",
        "verify a request signed with a Cobo API key",
        "Verify the Biz-Api-* headers of a request. Exit 0 approved, 1 refused, 2 input error.",
        "  authsig cobo verify -X GET --url '/v2/wallets?limit=10' --api-key API_KEY_HEX \\\n"
        "      --headers-json headers.json --explain\n",
    )
    add_cobo_request_args(p)
    p.add_argument(
        "--api-key",
        action="append",
        required=True,
        metavar="KEY",
        help="an accepted API key: hex inline, or FILE, -, env:VAR (repeat)",
    )
    p.add_argument("--window", default="5m", metavar="DURATION", help="nonce window (5m)")
    p.add_argument(
        "--strict-empty-body",
        action="store_true",
        help="a '{}' body must be signed as '{}' (by default the SDK's '' is accepted too)",
    )
    _add_check_args(p)
    p.set_defaults(func=run_verify)

    p = add_command(
        sub,
        "verify-event",
        "verify a webhook event or callback signed by Cobo",
        "Verify Biz-Timestamp and Biz-Resp-Signature over the raw body with Cobo's published\n"
        "key for --env (or --public-key). Exit 0 approved, 1 refused, 2 input error.",
        "  authsig cobo verify-event --env prod --body event.json --headers-json h.json\n",
    )
    add_body_args(p)
    p.add_argument(
        "--env",
        choices=("prod", "sandbox", "dev"),
        default="prod",
        help="whose key: Cobo's prod (default), sandbox or dev environment",
    )
    p.add_argument("--public-key", metavar="KEY", help="another Ed25519 key (hex or reference)")
    p.add_argument(
        "--tolerance", default="5m", metavar="DURATION", help="timestamp tolerance (5m, none)"
    )
    _add_check_args(p)
    p.set_defaults(func=run_verify_event)


def run_keygen(args: argparse.Namespace) -> int:
    """``authsig cobo keygen``."""
    from authsig.cobo.keys import generate_api_secret

    if not args.out and not args.print_private_key:
        raise CLIError("give --out FILE to write the API secret (or --print-private-key)")
    if args.out:  # before generating: a refused --out must not cost a key
        check_overwrite(Path(args.out), force=args.force)
    key = generate_api_secret("SECP256K1" if args.curve == "secp256k1" else "ED25519")
    if args.out:
        # No trailing newline: the SDKs hex-decode the text as it is.
        write_private_file(Path(args.out), key.secret_hex(), force=args.force)
    if args.json:
        result: dict[str, Any] = {
            "api_key": key.api_key,
            "curve": key.curve,
            "api_secret_file": args.out,
        }
        if args.print_private_key:
            result["api_secret"] = key.secret_hex()
        dump_json(result)
        return 0
    if args.print_private_key:
        # stdout carries the secret alone, so that a redirect or a pipe stores a loadable key.
        print(key.secret_hex())
        print(f"api key: {key.api_key} ({key.curve})", file=sys.stderr)
        return 0
    print(f"api secret: {args.out} (mode 0600)")
    print(f"api key:    {key.api_key} ({key.curve})")
    return 0


def run_pubkey(args: argparse.Namespace) -> int:
    """``authsig cobo pubkey``."""
    key = load_secret_ref(args.key, args.curve)
    if args.json:
        dump_json({"api_key": key.api_key, "curve": key.curve})
    else:
        print(key.api_key)
    return 0


def run_sign(args: argparse.Namespace) -> int:
    """``authsig cobo sign``."""
    from authsig.cobo.signing import sign_request

    request = cobo_request(args)
    key = load_secret_ref(args.key, args.curve)
    headers = sign_request(
        key,
        method=request.method,
        path=request.path,
        query=request.query,
        body=request.body or b"",
        nonce_ms=args.now,
    )
    print_headers(
        headers,
        as_json=args.json,
        as_curl=args.curl,
        method=request.method,
        url=request.url if args.curl else "",
        body=request.body,
        body_file=args.body,
    )
    return 0


def _duration_ms(text: str, option: str, *, optional: bool) -> int | None:
    value = parse_duration(text)
    if value is None:
        if optional:
            return None
        raise CLIError(f"{option} needs a duration (e.g. 5m)")
    return int(value.total_seconds() * 1000)


def _report(decision: Any, explanation: Any, args: argparse.Namespace) -> int:
    """Print a decision (or, with ``--explain``, the explanation); the exit code."""
    if args.json:
        dump_json(explanation.to_dict() if explanation is not None else decision.to_dict())
    elif explanation is not None:
        print(str(explanation))
    else:
        verdict = "approved" if decision.approved else "refused"
        print(f"{verdict} ({decision.reason}, HTTP {decision.http_status}): {decision.message}")
    return 0 if decision.approved else 1


def run_verify(args: argparse.Namespace) -> int:
    """``authsig cobo verify``."""
    from authsig.cobo.explain import explain_request
    from authsig.cobo.signing import verify_request

    request = cobo_request(args)
    kwargs: dict[str, Any] = {
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "body": request.body or b"",
        "api_keys": [load_api_key_arg(value) for value in args.api_key],
        "now_ms": args.now,
        "window_ms": _duration_ms(args.window, "--window", optional=False),
        "accept_sdk_empty_object": not args.strict_empty_body,
    }
    headers = _headers(args)
    if args.explain:
        explanation = explain_request(headers, **kwargs)
        return _report(explanation.decision, explanation, args)
    return _report(verify_request(headers, **kwargs), None, args)


def run_verify_event(args: argparse.Namespace) -> int:
    """``authsig cobo verify-event``."""
    from authsig.cobo.events import verify_event
    from authsig.cobo.explain import explain_event

    kwargs: dict[str, Any] = {
        "public_key": load_api_key_arg(args.public_key) if args.public_key else None,
        "environment": args.env,
        "now_ms": args.now,
        "tolerance_ms": _duration_ms(args.tolerance, "--tolerance", optional=True),
    }
    body = request_body(args) or b""
    headers = _headers(args)
    if args.explain:
        explanation = explain_event(body, headers, **kwargs)
        return _report(explanation.decision, explanation, args)
    return _report(verify_event(body, headers, **kwargs), None, args)
