"""What ``verification.json`` and ``quorum.json`` share: quorums, users and the case shape.

The expected outcome of every case is written by hand in its table, never copied from the
library's output; :data:`STATUS` gives the HTTP status each reason code is published with.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authsig.conformance import NOW_MS

from .der import public_b64

#: The HTTP status each reason code is published with; the committed schema of
#: verification.json and quorum.json lists exactly these reasons.
STATUS = {
    "approved": 200,
    "missing_signature": 401,
    "malformed_signature_header": 401,
    "empty_signature_entry": 401,
    "signature_header_too_large": 401,
    "duplicate_signature": 401,
    "malformed_signature": 401,
    "invalid_signature": 401,
    "missing_header": 401,
    "invalid_body": 400,
    "malformed_expiry": 401,
    "expiry_in_seconds": 401,
    "expired": 401,
    "expiry_too_far": 401,
    "expiry_required": 401,
    "threshold_not_met": 403,
}

_DEFAULT_OPTIONS: dict[str, Any] = {
    "allow_foreign_signatures": False,
    "require_expiry": False,
    "max_lifetime_ms": 3_600_000,
    "clock_skew_ms": 60_000,
    "empty_body": "string",
    "profile": "rfc8785",
}


def quorum_of(
    labels: list[str],
    *,
    threshold: int | None = None,
    users: list[str] | None = None,
    nested: list[str] | None = None,
    qid: str = "q-main",
) -> dict[str, Any]:
    """A quorum in Privy's response shape."""
    out: dict[str, Any] = {
        "id": qid,
        "display_name": f"vectors {qid}",
        "authorization_threshold": threshold,
        "authorization_keys": [
            {"public_key": public_b64(label), "display_name": label} for label in labels
        ],
        "user_ids": users or None,
    }
    if nested:
        out["key_quorum_ids"] = nested
    return out


#: The keys of each user, by label (user-carol has none).
_USER_KEYS: dict[str, list[str]] = {
    "user-alice": ["alice-phone", "alice-laptop"],
    "user-bob": ["bob-1"],
    "user-carol": [],
}


def _user_keys(users: list[str]) -> dict[str, list[str]]:
    return {u: [public_b64(label) for label in _USER_KEYS[u]] for u in users}


def decision_case(
    name: str,
    description: str,
    expected: str,
    quorum: dict[str, Any],
    request: Mapping[str, Any],
    signature_header: str | None,
    *,
    nested: dict[str, dict[str, Any]] | None = None,
    users: list[str] | None = None,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One case: ``request`` sent with ``signature_header`` (absent when None) to ``quorum``."""
    headers = dict(request["headers"])
    if signature_header is not None:
        headers["privy-authorization-signature"] = signature_header
    return {
        "name": name,
        "description": description,
        "now_ms": NOW_MS,
        "quorum": quorum,
        "nested_quorums": nested or {},
        "user_keys": _user_keys(users or []),
        "options": {**_DEFAULT_OPTIONS, **(options or {})},
        "request": {**request, "headers": headers},
        "expected": {
            "approved": expected == "approved",
            "reason": expected,
            "http_status": STATUS[expected],
        },
    }
