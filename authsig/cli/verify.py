"""``authsig verify`` and ``explain``: check a signed request, and say why it is refused.

Both take the same arguments; they become the request parts plus one
:class:`~authsig.policy.Policy` (:func:`_verify_kwargs`).
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from authsig.cli._args import PROFILES, add_command, add_request_args
from authsig.cli._io import (
    CLIError,
    dump_json,
    load_json_file,
    parse_duration,
    parse_header_args,
    request_body,
)
from authsig.cli._quorum import load_quorum, user_keys, user_resolver
from authsig.policy import Policy
from authsig.privy.dialects import DIALECT_NAMES

__all__ = ["register", "run_explain", "run_verify"]


def _add_header_args(parser: argparse.ArgumentParser) -> None:
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


def _add_quorum_args(parser: argparse.ArgumentParser) -> None:
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
        help="a member key: base64 SPKI/PEM/JWK inline, or a key reference (FILE, -, env:VAR, "
        "file:PATH, pkcs11:URI, awskms://KEY-ID; repeat)",
    )
    q.add_argument(
        "--user-key",
        action="append",
        default=[],
        metavar="USER_ID=KEY",
        help="a current key of a user member of the quorum (inline or a reference; repeat)",
    )
    q.add_argument(
        "--threshold",
        type=int,
        metavar="N",
        help="with --public-key: how many keys must sign (default: all)",
    )


def _add_policy_args(parser: argparse.ArgumentParser) -> None:
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
        choices=PROFILES,
        default="rfc8785",
        help="canonicalization of the payload (canonicaljson = Privy's Python SDK)",
    )
    opts.add_argument(
        "--dialect",
        choices=DIALECT_NAMES,
        help="rebuild the payload as this Privy SDK signs it (docs/dialects.md); "
        "excludes --empty-body and --profile",
    )


def _add_verify_args(parser: argparse.ArgumentParser) -> None:
    """The arguments ``verify`` and ``explain`` share."""
    add_request_args(parser, app_id=False)
    _add_header_args(parser)
    _add_quorum_args(parser)
    _add_policy_args(parser)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def register(subparsers: Any) -> None:
    """Add ``verify`` and ``explain``."""
    p = add_command(
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
    p.set_defaults(func=run_verify)

    p = add_command(
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
    p.set_defaults(func=run_explain)


def _headers(args: argparse.Namespace) -> dict[str, str]:
    """``--headers-json`` then ``-H`` headers (a later one of the same name wins)."""
    headers: list[tuple[str, str]] = []
    if args.headers_json:
        obj = load_json_file(args.headers_json, "headers file")
        if not isinstance(obj, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in obj.items()
        ):
            raise CLIError(f"{args.headers_json}: want a JSON object of string headers")
        headers.extend((k.lower(), v) for k, v in obj.items())
    headers.extend(parse_header_args(args.header))
    return dict(headers)


def _verify_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The keywords of ``verify_request``/``explain``: the request parts plus ``policy=``."""
    headers = _headers(args)
    quorum = load_quorum(args, required=True)
    max_lifetime = parse_duration(args.max_lifetime)
    clock_skew = parse_duration(args.clock_skew)
    if max_lifetime is None or clock_skew is None:
        raise CLIError("--max-lifetime and --clock-skew need a duration")
    return {
        "method": args.method,
        "url": args.url,
        "body": request_body(args),
        "headers": headers,
        "quorum": quorum,
        "now_ms": args.now,
        "user_keys": user_resolver(user_keys(args)),
        "policy": _policy(args, max_lifetime, clock_skew),
    }


def _policy(args: argparse.Namespace, max_lifetime: timedelta, clock_skew: timedelta) -> Policy:
    if args.dialect is not None and (args.empty_body != "string" or args.profile != "rfc8785"):
        raise CLIError("--dialect sets the empty-body rule and profile; leave out those options")
    return Policy(
        allow_foreign_signatures=args.allow_foreign_signatures,
        require_expiry=args.require_expiry,
        max_lifetime=max_lifetime,
        clock_skew=clock_skew,
        empty_body=args.empty_body,
        profile=args.profile,
        dialect=args.dialect,
    )


def run_verify(args: argparse.Namespace) -> int:
    """``authsig verify``."""
    from authsig.privy.verifier import verify_request

    decision = verify_request(**_verify_kwargs(args))
    if args.json:
        dump_json(decision.to_dict())
    else:
        verdict = "approved" if decision.approved else "refused"
        print(f"{verdict} ({decision.reason}, HTTP {decision.http_status}): {decision.message}")
        if decision.privy_code:  # what Privy's API would answer: to match against its logs
            print(f"privy code: {decision.privy_code}")
    return 0 if decision.approved else 1


def run_explain(args: argparse.Namespace) -> int:
    """``authsig explain``."""
    from authsig.privy.explain import explain

    report = explain(
        **_verify_kwargs(args),
        alternative_urls=tuple(args.alternative_url),
        extra_headers=dict(parse_header_args(args.extra_header)) or None,
    )
    if args.json:
        dump_json(report.to_dict())
    else:
        print(str(report))
    return 0 if report.decision.approved else 1
