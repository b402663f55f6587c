"""What a stamped Turnkey body says about its activity: its fingerprint, its time, and, for an
``ACTIVITY_TYPE_APPROVE_ACTIVITY`` body, which activity it approves.

Turnkey names an activity by the fingerprint of the body that submitted it: ``"sha256:"`` and
the hex SHA-256 of the body's bytes (``computeActivityFingerprint`` in ``@turnkey/crypto``).
Submitting a body counts as its submitter's first approval; every further approval is a
stamped ``ACTIVITY_TYPE_APPROVE_ACTIVITY`` body whose ``parameters.fingerprint`` names the
activity. Turnkey treats two bodies with one fingerprint as one request (it is idempotent on
the body), which is why every body carries a ``timestampMs``: changing it makes a new request.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Final

from authsig.turnkey.errors import TurnkeyApprovalError, TurnkeyTimestampError

__all__ = [
    "APPROVE_ACTIVITY",
    "FINGERPRINT_PREFIX",
    "activity_fingerprint",
    "approved_fingerprint",
    "body_object",
    "body_timestamp_ms",
]

APPROVE_ACTIVITY: Final = "ACTIVITY_TYPE_APPROVE_ACTIVITY"
FINGERPRINT_PREFIX: Final = "sha256:"
_MAX_TIMESTAMP_DIGITS = 16  # milliseconds until the year 318857: longer is not a time


def activity_fingerprint(body: bytes) -> str:
    """Turnkey's fingerprint of the activity submitted with ``body``."""
    if not isinstance(body, bytes | bytearray | memoryview):
        raise TypeError("body must be bytes")
    return FINGERPRINT_PREFIX + hashlib.sha256(bytes(body)).hexdigest()


def body_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object; :class:`TurnkeyApprovalError` when it is not one."""
    try:
        value = json.loads(bytes(body).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise TurnkeyApprovalError("the stamped body is not UTF-8 JSON") from None
    if not isinstance(value, dict):
        raise TurnkeyApprovalError("the stamped body is not a JSON object")
    return value


def body_timestamp_ms(value: dict[str, Any]) -> int:
    """The body's ``timestampMs`` (Turnkey sends it as a decimal string of milliseconds).

    Raises :class:`TurnkeyTimestampError` when it is missing, not a string of ASCII digits
    without a leading zero, or implausibly long.
    """
    text = value.get("timestampMs")
    if not isinstance(text, str):
        raise TurnkeyTimestampError("the stamped body has no timestampMs string")
    if (
        not text.isascii()
        or not text.isdigit()
        or len(text) > _MAX_TIMESTAMP_DIGITS
        or (len(text) > 1 and text[0] == "0")
    ):
        raise TurnkeyTimestampError("the body's timestampMs is not a count of milliseconds")
    return int(text)


def approved_fingerprint(value: dict[str, Any]) -> str | None:
    """The fingerprint an ``ACTIVITY_TYPE_APPROVE_ACTIVITY`` body approves, or None for a body
    of another type; :class:`TurnkeyApprovalError` when an approval lacks a fingerprint."""
    if value.get("type") != APPROVE_ACTIVITY:
        return None
    parameters = value.get("parameters")
    fingerprint = parameters.get("fingerprint") if isinstance(parameters, dict) else None
    if not isinstance(fingerprint, str) or not fingerprint:
        raise TurnkeyApprovalError("the approval has no parameters.fingerprint string")
    return fingerprint
