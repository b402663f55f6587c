"""``turnkey.json``: Turnkey API stamps (every scheme), malformed stamps, and approvals of one
activity counted against a quorum of users."""

from __future__ import annotations

import base64
import json
from typing import Any

from authsig.conformance import NOW_MS
from authsig.turnkey import (
    APPROVE_ACTIVITY,
    ED25519,
    P256,
    SECP256K1,
    Approval,
    Quorum,
    TurnkeyPrivateKey,
    User,
    activity_fingerprint,
    encode_stamp,
    stamp,
    verify_approvals,
)
from authsig.turnkey.keys import curve_order

from .der import ed25519_seed, scalar

DESCRIPTION = (
    "Turnkey X-Stamp headers over raw bodies (P-256, secp256k1, Ed25519; RFC 6979 ECDSA), "
    "malformed stamps with their error codes, and approvals of one activity against a quorum."
)

_ORG = "org-vectors"
_ACTIVITY = json.dumps(
    {
        "organizationId": _ORG,
        "parameters": {"signWith": "0x42", "unsignedTransaction": "02ef"},
        "timestampMs": str(NOW_MS),
        "type": "ACTIVITY_TYPE_SIGN_TRANSACTION_V2",
    },
    separators=(",", ":"),
)
_BODIES = [
    ("empty", ""),
    ("activity", _ACTIVITY),
    ("unicode", '{"memo":"héllo 世界 😀","timestampMs":"' + str(NOW_MS) + '"}'),
]


def key(label: str, scheme: str = P256) -> TurnkeyPrivateKey:
    """The test key of ``label`` (published on purpose)."""
    if scheme == ED25519:
        return TurnkeyPrivateKey.from_hex(ed25519_seed(f"turnkey/{label}").hex(), scheme)
    value = scalar(f"turnkey/{label}", curve_order(scheme))  # type: ignore[arg-type]
    return TurnkeyPrivateKey.from_hex(value.to_bytes(32, "big").hex(), scheme)


def _decoded(header: str) -> str:
    return base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)).decode("utf-8")


def _stamp_cases() -> list[dict[str, Any]]:
    out = []
    for scheme, short in ((P256, "p256"), (SECP256K1, "secp256k1"), (ED25519, "ed25519")):
        private = key(short, scheme)
        for name, body in _BODIES:
            header = stamp(body, private, deterministic=True)
            out.append(
                {
                    "name": f"stamp/{short}/{name}",
                    "kind": "stamp",
                    "scheme": scheme,
                    "private_key_hex": private.to_hex(),
                    "public_key_hex": private.public_key.hex,
                    "body": body,
                    "stamp": header,
                    "stamp_json": _decoded(header),
                    "signature_hex": json.loads(_decoded(header))["signature"],
                }
            )
    return out


def _b64url(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _malformed_cases() -> list[dict[str, Any]]:
    private = key("p256")
    good = stamp(_ACTIVITY, private, deterministic=True)
    members = json.loads(_decoded(good))
    public, signature = members["publicKey"], members["signature"]
    rows = [
        ("padded", good + "=", "turnkey_malformed_stamp"),
        ("not-json", _b64url("stamp"), "turnkey_malformed_stamp"),
        ("extra-member", _b64url(json.dumps({**members, "x": "y"})), "turnkey_malformed_stamp"),
        (
            "webauthn-scheme",
            encode_stamp(public, "SIGNATURE_SCHEME_TK_WEBAUTHN", signature),
            "turnkey_unsupported_scheme",
        ),
        ("uppercase-key", encode_stamp(public.upper(), P256, signature), "turnkey_invalid_key"),
        ("raw-signature", encode_stamp(public, P256, "01" * 64), "turnkey_invalid_signature"),
        ("other-body", good, "turnkey_invalid_signature"),
    ]
    return [
        {
            "name": f"malformed/{name}",
            "kind": "malformed",
            "body": "{}" if name == "other-body" else _ACTIVITY,
            "stamp": header,
            "error_code": code,
        }
        for name, header, code in rows
    ]


def _approval(label: str, fingerprint: str, offset: int) -> Approval:
    body = json.dumps(
        {
            "organizationId": _ORG,
            "parameters": {"fingerprint": fingerprint},
            "timestampMs": str(NOW_MS + offset),
            "type": APPROVE_ACTIVITY,
        },
        separators=(",", ":"),
    )
    return Approval(body.encode(), stamp(body, key(label), deterministic=True))


def _quorum_spec(quorum: Quorum) -> dict[str, Any]:
    members: list[dict[str, Any]] = []
    for member in quorum.members:
        if isinstance(member, Quorum):
            members.append(_quorum_spec(member))
        else:
            keys = [{"scheme": k.scheme, "public_key_hex": k.hex} for k in member.keys]
            members.append({"user_id": member.user_id, "keys": keys})
    return {"name": quorum.name, "threshold": quorum.threshold, "members": members}


def _approval_cases() -> list[dict[str, Any]]:
    fingerprint = activity_fingerprint(_ACTIVITY.encode())
    alice = User("alice", [key("alice").public_key, key("alice-2").public_key])
    bob, carol = User("bob", [key("bob").public_key]), User("carol", [key("carol").public_key])
    ops = Quorum(1, (bob, carol), name="ops")
    root = Quorum(2, (alice, ops), name="root")
    submission = Approval(_ACTIVITY.encode(), stamp(_ACTIVITY, key("alice"), deterministic=True))
    plans = [
        ("submission-alone", [submission]),
        ("submission-and-ops", [submission, _approval("carol", fingerprint, 1)]),
        ("one-user-two-keys", [submission, _approval("alice-2", fingerprint, 2)]),
        ("other-activity", [submission, _approval("bob", "sha256:" + "0" * 64, 3)]),
        ("unknown-key", [_approval("mallory", fingerprint, 4), _approval("bob", fingerprint, 5)]),
    ]
    out = []
    for name, approvals in plans:
        decision = verify_approvals(approvals, root, fingerprint=fingerprint, organization_id=_ORG)
        out.append(
            {
                "name": f"approvals/{name}",
                "kind": "approvals",
                "fingerprint": fingerprint,
                "organization_id": _ORG,
                "quorum": _quorum_spec(root),
                "approvals": [{"body": a.body.decode(), "stamp": a.stamp} for a in approvals],
                "expected": {
                    "approved": decision.approved,
                    "reason": decision.reason,
                    "approvers": list(decision.approvers),
                    "rejected": [list(row) for row in decision.rejected],
                },
            }
        )
    return out


def cases() -> list[dict[str, Any]]:
    return [*_stamp_cases(), *_malformed_cases(), *_approval_cases()]
