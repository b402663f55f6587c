"""Cobo's own signatures on webhook events, callbacks and API responses.

Headers ``Biz-Timestamp`` (milliseconds) and ``Biz-Resp-Signature`` (hex Ed25519); the signed
content is ``f"{raw_body}|{timestamp}"``, hashed with double SHA-256; the Ed25519 signature is
over the 32-byte digest. Cobo's public keys per environment are built in (values from the
official ``cobo-waas2`` Python SDK, ``Configuration.resp_pubkey``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Literal

from authsig._clock import now_ms as _now_ms
from authsig.cobo.decision import CoboDecision, ReplayStoreLike, header_value
from authsig.cobo.errors import CoboKeyError, CoboRequestError
from authsig.cobo.keys import CoboPrivateKey, CoboPublicKey, load_api_key, load_api_secret
from authsig.cobo.signing import (
    CoboChecked,
    check_freshness,
    claimed,
    parse_timestamp,
    signature_bytes,
)

__all__ = [
    "COBO_EVENT_PUBLIC_KEYS",
    "DEFAULT_EVENT_TOLERANCE_MS",
    "Environment",
    "RESP_SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "event_digest",
    "sign_event",
    "verify_event",
]

TIMESTAMP_HEADER = "Biz-Timestamp"
RESP_SIGNATURE_HEADER = "Biz-Resp-Signature"

Environment = Literal["prod", "sandbox", "dev"]

#: Cobo's Ed25519 public keys for webhook/callback/response signatures, per environment,
#: as published in the official SDK (cobo-waas2 1.46.0 ``configuration.py``).
COBO_EVENT_PUBLIC_KEYS: dict[str, str] = {
    "prod": "8d4a482641adb2a34b726f05827dba9a9653e5857469b8749052bf4458a86729",
    "sandbox": "893d8a6112ae22429a7453599256391d7928e16870ecab888ee3ce65febada08",
    "dev": "a04ea1d5fa8da71f1dcfccf972b9c4eba0a2d8aba1f6da26f49977b08a0d2718",
}

#: Default allowed distance between ``Biz-Timestamp`` and now: 5 minutes either way.
DEFAULT_EVENT_TOLERANCE_MS = 5 * 60 * 1000

#: How long an event verified without a freshness check is remembered by a replay store.
_UNCHECKED_KEEP_MS = 24 * 3600 * 1000


def _raw(raw_body: str | bytes | bytearray | memoryview | None) -> bytes:
    if raw_body is None:
        return b""
    if isinstance(raw_body, str):
        try:
            return raw_body.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise CoboRequestError("event body text is not encodable as UTF-8") from exc
    if isinstance(raw_body, bytes | bytearray | memoryview):
        return bytes(raw_body)
    raise CoboRequestError(
        f"raw_body must be the body as received (bytes or text), not {type(raw_body).__name__}"
    )


def event_digest(raw_body: str | bytes | None, timestamp: str | int) -> bytes:
    """``sha256(sha256(raw_body + "|" + timestamp))`` — the 32-byte digest Cobo signs."""
    content = _raw(raw_body) + b"|" + str(timestamp).encode("ascii")
    return hashlib.sha256(hashlib.sha256(content).digest()).digest()


def event_public_key(
    public_key: str | bytes | CoboPublicKey | None, environment: str
) -> CoboPublicKey:
    if public_key is not None:
        key = load_api_key(public_key)
    else:
        hex_key = COBO_EVENT_PUBLIC_KEYS.get(environment)
        if hex_key is None:
            raise CoboKeyError(
                f"unknown environment {environment!r}: expected one of "
                f"{sorted(COBO_EVENT_PUBLIC_KEYS)} or pass public_key"
            )
        key = load_api_key(hex_key)
    if key.curve != "ED25519":
        raise CoboKeyError("Cobo event signatures are Ed25519; the public key is not")
    return key


def sign_event(
    raw_body: str | bytes | None,
    private_key: str | bytes | CoboPrivateKey,
    *,
    timestamp_ms: int | None = None,
) -> dict[str, str]:
    """Sign an event body as Cobo does (for tests, fixtures and simulators).

    Returns ``{"Biz-Timestamp": ..., "Biz-Resp-Signature": ...}``. ``private_key`` is an
    Ed25519 secret (hex, raw bytes or loaded).
    """
    key = load_api_secret(private_key)
    if timestamp_ms is None:
        timestamp_ms = _now_ms()
    if isinstance(timestamp_ms, bool) or not isinstance(timestamp_ms, int) or timestamp_ms < 0:
        raise CoboRequestError("timestamp_ms must be a non-negative integer (milliseconds)")
    digest = event_digest(raw_body, timestamp_ms)
    return {TIMESTAMP_HEADER: str(timestamp_ms), RESP_SIGNATURE_HEADER: key.sign_digest(digest)}


def check_event(
    body: bytes,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    *,
    key: CoboPublicKey,
    now_ms: int,
    tolerance_ms: int | None,
) -> CoboChecked:
    """The checks of :func:`verify_event` without the replay step (its caller's job)."""
    ts_text = header_value(headers, TIMESTAMP_HEADER)
    if isinstance(ts_text, list):
        refused = CoboDecision.refuse(
            "missing_header", f"{TIMESTAMP_HEADER} appears more than once"
        )
        return CoboChecked(refused)
    sig_text = header_value(headers, RESP_SIGNATURE_HEADER)
    if isinstance(sig_text, list):
        message = f"{RESP_SIGNATURE_HEADER} appears more than once"
        return CoboChecked(CoboDecision.refuse("malformed_signature", message))
    if sig_text is None:
        message = f"{RESP_SIGNATURE_HEADER} is missing"
        return CoboChecked(CoboDecision.refuse("missing_signature", message))
    if ts_text is None:
        return CoboChecked(CoboDecision.refuse("missing_header", f"{TIMESTAMP_HEADER} is missing"))
    timestamp_ms, problem = parse_timestamp(ts_text, TIMESTAMP_HEADER)
    if timestamp_ms is None:
        return CoboChecked(CoboDecision.refuse("malformed_nonce", problem or ""))
    signature = signature_bytes(sig_text)
    if signature is None:
        message = f"{RESP_SIGNATURE_HEADER} is not a hex signature"
        return CoboChecked(CoboDecision.refuse("malformed_signature", message))
    # The signed text carries the timestamp exactly as sent.
    digest = event_digest(body, ts_text.strip())
    if not key.verify_digest(digest, signature):
        message = "the signature does not match raw_body|timestamp for Cobo's key"
        refused = CoboDecision.refuse("invalid_signature", message, timestamp_ms=timestamp_ms)
        return CoboChecked(refused)
    if tolerance_ms is not None:
        stale = check_freshness(timestamp_ms, now_ms, tolerance_ms, TIMESTAMP_HEADER)
        if stale:
            return CoboChecked(CoboDecision.refuse(*stale, timestamp_ms=timestamp_ms))
    # Fresh while timestamp >= now - tolerance: the last accepting moment is timestamp +
    # tolerance (a day when freshness is not checked, e.g. for stored responses).
    last = timestamp_ms + (tolerance_ms if tolerance_ms is not None else _UNCHECKED_KEEP_MS)
    approved = CoboDecision.approve(
        "Cobo's signature is valid", api_key=None, timestamp_ms=timestamp_ms
    )
    return CoboChecked(approved, f"cobo:event:{key.hex}:{digest.hex()}", last)


def verify_event(
    raw_body: str | bytes | None,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    *,
    public_key: str | bytes | CoboPublicKey | None = None,
    environment: Environment = "prod",
    now_ms: int | None = None,
    tolerance_ms: int | None = DEFAULT_EVENT_TOLERANCE_MS,
    replay_store: ReplayStoreLike | None = None,
) -> CoboDecision:
    """Verify a Cobo webhook event, callback message or API response.

    ``raw_body`` is the body exactly as received (bytes preferred). The key is ``public_key``
    when given, else Cobo's published key for ``environment``. ``Biz-Timestamp`` must lie
    within ``now_ms +- tolerance_ms`` (``None`` turns the check off, e.g. for stored
    responses). With ``replay_store`` each signed event is accepted once.
    """
    key = event_public_key(public_key, environment)
    if tolerance_ms is not None and tolerance_ms < 0:
        raise CoboRequestError("tolerance_ms must not be negative")
    now = _now_ms() if now_ms is None else now_ms
    checked = check_event(_raw(raw_body), headers, key=key, now_ms=now, tolerance_ms=tolerance_ms)
    return claimed(checked, replay_store)
