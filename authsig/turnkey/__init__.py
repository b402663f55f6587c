"""Turnkey API stamps: ``X-Stamp`` over the raw body, and root quorums of users approving one
activity.

- :func:`stamp` / :func:`parse_stamp` / :func:`verify_stamp`: make, read strictly and verify a
  stamp (``SIGNATURE_SCHEME_TK_API_P256``, ``..._SECP256K1``, ``..._ED25519``), identical in
  shape to ``@turnkey/api-key-stamper`` and ``turnkey-api-key-stamper``.
- :class:`Quorum`, :class:`User`, :func:`verify_approvals`: count stamped approvals of one
  activity (named by :func:`activity_fingerprint`) against a quorum of users, nested.
- :class:`TurnkeyScheme`, :class:`TurnkeyASGIMiddleware`, :class:`TurnkeyWSGIMiddleware`:
  refuse unstamped, forged, stale or replayed requests through the shared Gate.
- ``authsig.turnkey.client``: ``TurnkeyAuth`` (httpx) and ``TurnkeyRequestsAuth`` (requests).
"""

from __future__ import annotations

from authsig.turnkey.activity import (
    APPROVE_ACTIVITY,
    activity_fingerprint,
    approved_fingerprint,
    body_timestamp_ms,
)
from authsig.turnkey.approvals import Approval, ApprovalDecision, Quorum, User, verify_approvals
from authsig.turnkey.errors import (
    TurnkeyApprovalError,
    TurnkeyError,
    TurnkeyKeyError,
    TurnkeySchemeError,
    TurnkeySignatureError,
    TurnkeyStampError,
    TurnkeyTimestampError,
    TurnkeyUnknownKeyError,
)
from authsig.turnkey.keys import (
    ED25519,
    P256,
    SCHEMES,
    SECP256K1,
    StampScheme,
    TurnkeyPrivateKey,
    TurnkeyPublicKey,
)
from authsig.turnkey.middleware import TurnkeyASGIMiddleware, TurnkeyWSGIMiddleware
from authsig.turnkey.scheme import TurnkeyDecision, TurnkeyScheme
from authsig.turnkey.stamp import (
    MAX_STAMP_LENGTH,
    STAMP_HEADER,
    Stamp,
    encode_stamp,
    parse_stamp,
    stamp,
    verify_stamp,
)

__all__ = [
    "APPROVE_ACTIVITY",
    "ED25519",
    "MAX_STAMP_LENGTH",
    "P256",
    "SCHEMES",
    "SECP256K1",
    "STAMP_HEADER",
    "Approval",
    "ApprovalDecision",
    "Quorum",
    "Stamp",
    "StampScheme",
    "TurnkeyASGIMiddleware",
    "TurnkeyApprovalError",
    "TurnkeyDecision",
    "TurnkeyError",
    "TurnkeyKeyError",
    "TurnkeyPrivateKey",
    "TurnkeyPublicKey",
    "TurnkeyScheme",
    "TurnkeySchemeError",
    "TurnkeySignatureError",
    "TurnkeyStampError",
    "TurnkeyTimestampError",
    "TurnkeyUnknownKeyError",
    "TurnkeyWSGIMiddleware",
    "User",
    "activity_fingerprint",
    "approved_fingerprint",
    "body_timestamp_ms",
    "encode_stamp",
    "parse_stamp",
    "stamp",
    "verify_approvals",
    "verify_stamp",
]
