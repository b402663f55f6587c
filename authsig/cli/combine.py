"""``authsig combine``: check signatures over a payload file and assemble the headers to send.

The last step of the multi-party flow (``payload``, then ``sign --payload`` by each key
holder). The request is read back from the payload, which must be canonical: an edited payload
would otherwise yield headers whose signatures cover something else than what is sent.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from authsig.cli._args import PROFILES, add_command, add_headers_output
from authsig.cli._io import PROG, CLIError, Refused, print_headers, read_input
from authsig.cli._quorum import load_quorum, user_keys, user_resolver
from authsig.errors import AuthSigError, PayloadError
from authsig.policy import Policy

if TYPE_CHECKING:
    from authsig.keys import PublicKey

__all__ = ["register", "run_combine"]

Profile = Literal["rfc8785", "canonicaljson"]
EmptyBody = Literal["string", "preserve"]
# No lifetime cap when checking a payload's expiry: only whether it is already dead matters.
_NO_LIFETIME_CAP = timedelta(days=3650)


def register(subparsers: Any) -> None:
    """Add ``combine``."""
    p = add_command(
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
    p.add_argument(
        "--public-key",
        action="append",
        default=[],
        metavar="KEY",
        help="a member key: inline public key or a key reference (FILE, env:VAR, pkcs11:, ...)",
    )
    p.add_argument(
        "--user-key",
        action="append",
        default=[],
        metavar="USER_ID=KEY",
        help="a current key of a user member of --quorum (repeat)",
    )
    p.add_argument("--profile", choices=PROFILES, default="rfc8785")
    add_headers_output(p)
    p.set_defaults(func=run_combine)


@dataclass(frozen=True)
class _PayloadParts:
    """The request parts recovered from a canonical payload file."""

    method: str
    url: str
    body: Any
    headers: dict[str, str]


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
    """Signatures given inline or in files (one per line or comma-separated)."""
    signatures: list[str] = []
    for value in values:
        if value == "-" or os.path.isfile(value):
            text = read_input(value).decode("utf-8", "replace")
            found = [line.strip() for line in text.replace(",", "\n").splitlines()]
            found = [s for s in found if s]
            if not found:
                raise CLIError(f"{value}: no signature in file")
            signatures.extend(found)
        else:
            signatures.append(value.strip())
    return signatures


def _well_formed_unique(signatures: Sequence[str]) -> list[str]:
    """The signatures in order, duplicates dropped; a malformed one is an error."""
    from authsig.signatures import decode_signature

    for signature in signatures:
        try:
            decode_signature(signature)
        except AuthSigError as exc:
            raise CLIError(f"signature {signature[:16]}...: {exc.message}") from None
    return list(dict.fromkeys(signatures))


def _check_signers(payload: bytes, signatures: Sequence[str], keys: Sequence[PublicKey]) -> None:
    """Every signature must verify over the payload with one of ``keys``."""
    from authsig.signatures import verify_signature

    for signature in signatures:
        if not any(verify_signature(payload, signature, key) for key in keys):
            raise CLIError(
                f"signature {signature[:16]}... does not verify against the payload with "
                f"any member key"
            )


def run_combine(args: argparse.Namespace) -> int:
    """``authsig combine``."""
    from authsig.privy.expiry import check_expiry
    from authsig.privy.headers import EXPIRY_HEADER, SIGNATURE_HEADER, format_signature_header

    payload = read_input(args.payload)
    parts = _parse_payload_file(args.payload, payload, args.profile)
    expiry = parts.headers.get(EXPIRY_HEADER)
    if expiry is not None:
        try:  # no point assembling a request that is already dead
            check_expiry(expiry, max_lifetime=_NO_LIFETIME_CAP)
        except AuthSigError as exc:
            raise type(exc)(f"{args.payload}: {exc.message}") from None
    unique = _well_formed_unique(_read_signature_args(args.signatures))
    quorum = load_quorum(args, required=False)
    users = user_keys(args) if quorum is not None else {}
    if quorum is not None:
        keys = list(quorum.all_keys)
        keys += [k for uid in quorum.all_user_ids for k in users.get(uid, ())]
        _check_signers(payload, unique, keys)
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
            user_keys=user_resolver(users),
            policy=Policy(
                empty_body="string" if parts.body == {} else "preserve", profile=args.profile
            ),
        )
        if not decision.approved:
            print(f"{PROG}: refused: {decision.reason}: {decision.message}", file=sys.stderr)
            raise Refused
    body = None if parts.body is None else json.dumps(parts.body, separators=(",", ":")).encode()
    print_headers(
        headers,
        as_json=args.json,
        as_curl=args.curl,
        method=parts.method,
        url=parts.url,
        body=body,
        body_file=None,
    )
    return 0
