"""Cobo event/callback/response signatures and Wycheproof Ed25519 through our verify."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from conftest import vectors_path
from cryptography.hazmat.primitives.asymmetric import ed25519

from authsig.cobo import (
    COBO_EVENT_PUBLIC_KEYS,
    ed25519_verify,
    event_digest,
    generate_api_secret,
    load_api_key,
    sign_event,
    verify_event,
)
from authsig.cobo.errors import CoboKeyError, CoboRequestError
from authsig.errors import ReplayStoreUnavailableError

SECRET = "4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d"
PUBLIC = ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(SECRET)).public_key()
NOW = 1_795_519_976_869
BODY = (
    '{"event_id":"e-1","type":"wallets.transaction.updated","data":{"memo":"héllo 世界"}}'.encode()
)


def _pub_hex() -> str:
    from cryptography.hazmat.primitives import serialization

    return PUBLIC.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def _verify(body: Any, headers: Any, **kw: Any) -> Any:
    kw.setdefault("public_key", _pub_hex())
    kw.setdefault("now_ms", NOW)
    return verify_event(body, headers, **kw)


def test_sign_event_is_ed25519_over_double_sha_of_body_bar_timestamp() -> None:
    headers = sign_event(BODY, SECRET, timestamp_ms=NOW)
    assert headers["Biz-Timestamp"] == str(NOW)
    digest = hashlib.sha256(hashlib.sha256(BODY + b"|" + str(NOW).encode()).digest()).digest()
    assert event_digest(BODY, NOW) == digest
    PUBLIC.verify(bytes.fromhex(headers["Biz-Resp-Signature"]), digest)
    assert sign_event(BODY.decode(), SECRET, timestamp_ms=NOW) == headers


def test_verify_event_accepts_and_is_case_insensitive() -> None:
    headers = sign_event(BODY, SECRET, timestamp_ms=NOW)
    decision = _verify(BODY, headers)
    assert decision.approved
    assert decision.timestamp_ms == NOW
    lower = [(k.lower(), v) for k, v in headers.items()]
    assert _verify(BODY.decode(), lower).approved
    assert _verify(BODY, {k.upper(): v for k, v in headers.items()}).approved


@pytest.mark.parametrize("body", [b"", b"{}", b"ok", "naïve 🚀".encode()])
def test_edge_bodies(body: bytes) -> None:
    headers = sign_event(body, SECRET, timestamp_ms=NOW)
    assert _verify(body, headers).approved
    assert _verify(body + b" ", headers).reason == "invalid_signature"


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda h: h.pop("Biz-Resp-Signature"), "missing_signature"),
        (lambda h: h.pop("Biz-Timestamp"), "missing_header"),
        (lambda h: h.update({"Biz-Timestamp": str(NOW + 1)}), "invalid_signature"),
        (lambda h: h.update({"Biz-Timestamp": "soon"}), "malformed_nonce"),
        (lambda h: h.update({"Biz-Timestamp": str(NOW // 1000)}), "malformed_nonce"),
        (lambda h: h.update({"Biz-Resp-Signature": "xyz"}), "malformed_signature"),
        (lambda h: h.update({"Biz-Resp-Signature": "00" * 64}), "invalid_signature"),
    ],
)
def test_event_refusals(mutate: Any, reason: str) -> None:
    headers = sign_event(BODY, SECRET, timestamp_ms=NOW)
    mutate(headers)
    decision = _verify(BODY, headers)
    assert not decision.approved
    assert decision.reason == reason
    assert decision.http_status == 401


def test_tampered_body_refused() -> None:
    headers = sign_event(BODY, SECRET, timestamp_ms=NOW)
    assert _verify(BODY.replace(b"e-1", b"e-2"), headers).reason == "invalid_signature"


def test_tolerance() -> None:
    headers = sign_event(BODY, SECRET, timestamp_ms=NOW)
    assert _verify(BODY, headers, now_ms=NOW + 300_000).approved
    assert _verify(BODY, headers, now_ms=NOW + 300_001).reason == "stale_nonce"
    assert _verify(BODY, headers, now_ms=NOW - 300_001).reason == "future_nonce"
    assert _verify(BODY, headers, now_ms=NOW + 10**9, tolerance_ms=None).approved
    assert _verify(BODY, headers, now_ms=NOW + 2_000, tolerance_ms=1_000).reason == "stale_nonce"


def test_builtin_environment_keys() -> None:
    assert set(COBO_EVENT_PUBLIC_KEYS) == {"prod", "sandbox", "dev"}
    for value in COBO_EVENT_PUBLIC_KEYS.values():
        assert load_api_key(value).curve == "ED25519"
    headers = sign_event(BODY, SECRET, timestamp_ms=NOW)
    # Without public_key, Cobo's published key is used: our test signature is not Cobo's.
    for env in ("prod", "sandbox", "dev"):
        decision = verify_event(BODY, headers, environment=env, now_ms=NOW)  # type: ignore[arg-type]
        assert decision.reason == "invalid_signature"
    with pytest.raises(CoboKeyError):
        verify_event(BODY, headers, environment="staging", now_ms=NOW)  # type: ignore[arg-type]
    with pytest.raises(CoboKeyError):
        verify_event(BODY, headers, public_key=generate_api_secret("SECP256K1").api_key)
    with pytest.raises(CoboRequestError):
        verify_event({"a": 1}, headers, public_key=_pub_hex())  # type: ignore[arg-type]


def test_event_replay_store() -> None:
    class Store:
        def __init__(self) -> None:
            self.keys: dict[str, int] = {}

        def add_if_absent(self, key: str, expires_at_ms: int) -> bool:
            if key in self.keys:
                return False
            self.keys[key] = expires_at_ms
            return True

    class Down:
        def add_if_absent(self, key: str, expires_at_ms: int) -> bool:
            raise ReplayStoreUnavailableError("full")

    store = Store()
    headers = sign_event(BODY, SECRET, timestamp_ms=NOW)
    assert _verify(BODY, headers, replay_store=store).approved
    assert _verify(BODY, headers, replay_store=store).reason == "replayed"
    # Kept until just after the last moment the timestamp is fresh.
    assert list(store.keys.values()) == [NOW + 300_000 + 1]
    assert _verify(BODY, headers, replay_store=Down()).http_status == 503


def test_wycheproof_ed25519_through_our_verify() -> None:
    data = json.loads(vectors_path("wycheproof", "ed25519_test.json").read_text())
    count = 0
    failures = []
    for group in data["testGroups"]:
        public = bytes.fromhex(group["publicKey"]["pk"])
        for test in group["tests"]:
            count += 1
            got = ed25519_verify(public, bytes.fromhex(test["msg"]), bytes.fromhex(test["sig"]))
            want = test["result"] == "valid"
            assert test["result"] in ("valid", "invalid")
            if got != want:
                failures.append(test["tcId"])
    assert count == data["numberOfTests"] == 151
    assert failures == []
