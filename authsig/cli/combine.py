"""``authsig combine``: check signatures over a payload file and assemble the headers to send.

The last step of the multi-party flow (``payload``, then ``sign --payload`` by each key
holder). The request is read back from the payload, which must be canonical: an edited payload
would otherwise yield headers whose signatures cover something else than what is sent.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from authsig.cli._args import PROFILES, add_command, add_headers_output
from authsig.cli._io import PROG, CLIError, Refused, print_headers, read_input
from authsig.cli._payload import (
    SignatureEntry,
    parse_payload_file,
    read_signatures,
    refuse_expired,
)
from authsig.cli._quorum import load_quorum, user_keys, user_resolver
from authsig.errors import AuthSigError
from authsig.policy import DEFAULT_POLICY, INTENT_POLICY

if TYPE_CHECKING:
    from authsig.keys import PublicKey

__all__ = ["register", "run_combine"]

_INTENT_HINT = (
    "the payload expires more than an hour ahead; if it is a Privy intent (72 hours), "
    "combine with --intent"
)


def register(subparsers: Any) -> None:
    """Add ``combine``."""
    p = add_command(
        subparsers,
        "combine",
        "check signatures over a payload file and print the final headers",
        "Check each signature against the payload file and assemble the headers to send\n"
        "(app id, expiry and idempotency key are read back from the payload). Every\n"
        "signature must come from a member key (--quorum or --public-key), from the key\n"
        "its file names, and with --quorum the threshold must be met (exit 1 otherwise).\n"
        "--no-verify assembles the headers without checking who signed. --intent accepts\n"
        "an expiry up to 72 hours ahead (Privy's intents) when checking with --quorum.\n"
        "Each SIGNATURE is a signature file from 'authsig sign --payload' (SIGNATURE KEY_ID\n"
        "per line), or a base64 signature.",
        "  authsig combine --payload request.payload alice.sig bob.sig --quorum quorum.json\n"
        "  authsig combine --payload request.payload a.sig b.sig --public-key a.pub \\\n"
        "      --public-key b.pub --json\n",
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
    p.add_argument(
        "--no-verify",
        action="store_true",
        help="assemble the headers without member keys (signature format checked only)",
    )
    p.add_argument(
        "--intent",
        action="store_true",
        help="with --quorum, accept an expiry up to 72h ahead (Privy intents)",
    )
    add_headers_output(p)
    p.set_defaults(func=run_combine)


def _well_formed_unique(entries: Sequence[SignatureEntry]) -> list[SignatureEntry]:
    """The signatures in order, duplicates dropped; a malformed one is an error."""
    from authsig.signatures import decode_signature

    unique: dict[str, SignatureEntry] = {}
    for entry in entries:
        try:
            decode_signature(entry.signature)
        except AuthSigError as exc:
            raise CLIError(f"signature {entry.signature[:16]}...: {exc.message}") from None
        unique.setdefault(entry.signature, entry)
    return list(unique.values())


def _check_signers(
    payload: bytes, entries: Sequence[SignatureEntry], keys: Sequence[PublicKey]
) -> None:
    """Every signature must verify over the payload with one of ``keys``, and with the key its
    file names when it names one."""
    from authsig.signatures import verify_signature

    for entry in entries:
        short = f"signature {entry.signature[:16]}..."
        candidates = list(keys)
        if entry.key_id is not None:
            candidates = [k for k in keys if k.key_id == entry.key_id]
            if not candidates:
                raise CLIError(f"{short} is by key {entry.key_id}, which is not a member key")
        if not any(verify_signature(payload, entry.signature, key) for key in candidates):
            by = "its key " + entry.key_id if entry.key_id is not None else "any member key"
            raise CLIError(f"{short} does not verify against the payload with {by}")


def run_combine(args: argparse.Namespace) -> int:
    """``authsig combine``."""
    from authsig.privy.headers import SIGNATURE_HEADER, format_signature_header

    payload = read_input(args.payload)
    parts = parse_payload_file(args.payload, payload, (args.profile,))
    refuse_expired(args.payload, parts)  # no point assembling a request that is already dead
    unique = _well_formed_unique(read_signatures(args.signatures))
    quorum = load_quorum(args, required=False)
    if quorum is None and not args.no_verify:
        # Without member keys only the format could be checked, and a payload that was edited
        # and re-canonicalized would pass: checking is the default, skipping it is explicit.
        raise CLIError(
            "say whose signatures to expect: --quorum FILE or --public-key KEY "
            "(or --no-verify to assemble the headers without checking them)"
        )
    if quorum is not None and args.no_verify:
        raise CLIError("--no-verify goes without --quorum and --public-key")
    if args.intent and not args.quorum:
        # Only the --quorum check looks at the expiry's distance: --intent would loosen nothing.
        raise CLIError("--intent goes with --quorum (only the quorum check verifies the expiry)")
    users = user_keys(args) if quorum is not None else {}
    if quorum is not None:
        keys = list(quorum.all_keys)
        keys += [k for uid in quorum.all_user_ids for k in users.get(uid, ())]
        _check_signers(payload, unique, keys)
    else:
        print(f"{PROG}: warning: --no-verify: the signatures were not checked", file=sys.stderr)
    headers = dict(parts.headers)
    headers[SIGNATURE_HEADER] = format_signature_header([e.signature for e in unique])
    if quorum is not None and args.quorum:
        from authsig.privy.verifier import verify_request

        base = INTENT_POLICY if args.intent else DEFAULT_POLICY
        decision = verify_request(
            method=parts.method,
            url=parts.url,
            body=parts.body,
            headers=headers,
            quorum=quorum,
            user_keys=user_resolver(users),
            policy=base.replace(
                empty_body="string" if parts.body == {} else "preserve", profile=args.profile
            ),
        )
        if not decision.approved:
            print(f"{PROG}: refused: {decision.reason}: {decision.message}", file=sys.stderr)
            if decision.reason == "expiry_too_far" and not args.intent:
                print(f"{PROG}: hint: {_INTENT_HINT}", file=sys.stderr)
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
