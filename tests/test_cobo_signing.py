"""authsig.cobo keys and request signatures (SPEC §2), checked against independent computations."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from authsig.cobo import (
    CoboDecision,
    ed25519_verify,
    generate_api_key_pair,
    generate_api_secret,
    load_api_key,
    load_api_secret,
    request_digest,
    sign_request,
    string_to_sign,
    verify_request,
)
from authsig.cobo.errors import CoboError, CoboKeyError, CoboRequestError
from authsig.cobo.keys import SECP256K1_ORDER
from authsig.errors import AuthSigError, KeyFormatError, ReplayStoreUnavailableError

# RFC 8032 section 7.1, TEST 1.
RFC8032_SECRET = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC8032_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
RFC8032_SIG_EMPTY = (
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555"
    "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)
NOW = 1_795_519_976_869


class DictStore:
    """A minimal replay store honouring the add_if_absent contract."""

    def __init__(self) -> None:
        self.entries: dict[str, int] = {}

    def add_if_absent(self, key: str, expires_at_ms: int) -> bool:
        if key in self.entries:
            return False
        self.entries[key] = expires_at_ms
        return True


class DownStore:
    def add_if_absent(self, key: str, expires_at_ms: int) -> bool:
        raise ReplayStoreUnavailableError("down")


def _double_sha(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def _signed(**overrides: Any) -> tuple[dict[str, str], dict[str, Any]]:
    parts: dict[str, Any] = {
        "method": "POST",
        "path": "/v2/transactions/transfer",
        "query": "a=1&b=x+y",
        "body": '{"amount":"1.5"}',
    }
    parts.update(overrides)
    headers = sign_request(RFC8032_SECRET, nonce_ms=NOW, **parts)
    return headers, parts


def _verify(headers: Any, parts: dict[str, Any], **kw: Any) -> CoboDecision:
    kw.setdefault("api_keys", [RFC8032_PUBLIC])
    kw.setdefault("now_ms", NOW)
    return verify_request(headers, **parts, **kw)


# --- keys ---------------------------------------------------------------------------------


def test_rfc8032_key_derivation_and_verify() -> None:
    key = load_api_secret(RFC8032_SECRET)
    assert key.api_key == RFC8032_PUBLIC
    assert key.secret_hex() == RFC8032_SECRET
    assert ed25519_verify(bytes.fromhex(RFC8032_PUBLIC), b"", bytes.fromhex(RFC8032_SIG_EMPTY))
    assert not ed25519_verify(bytes.fromhex(RFC8032_PUBLIC), b"x", bytes.fromhex(RFC8032_SIG_EMPTY))
    assert not ed25519_verify(
        bytes.fromhex(RFC8032_PUBLIC), b"", bytes.fromhex(RFC8032_SIG_EMPTY)[:63]
    )


def test_private_key_repr_hides_the_secret() -> None:
    key = load_api_secret(RFC8032_SECRET)
    for text in (repr(key), str(key)):
        assert RFC8032_SECRET not in text
        assert RFC8032_PUBLIC in text


@pytest.mark.parametrize("curve", ["ED25519", "SECP256K1"])
def test_generated_pairs_round_trip(curve: str) -> None:
    secret, api_key = generate_api_key_pair(curve)  # type: ignore[arg-type]
    assert len(secret) == 64
    assert len(api_key) == (64 if curve == "ED25519" else 66)
    assert load_api_secret(secret, curve=curve).api_key == api_key  # type: ignore[arg-type]
    assert load_api_key(api_key).curve == curve
    assert generate_api_secret(curve).api_key != api_key  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    ["", "zz" * 32, "ab" * 31, "ab" * 33, "abc", b"\x01" * 31],
)
def test_bad_secrets_raise_typed_errors(bad: Any) -> None:
    with pytest.raises(CoboKeyError) as info:
        load_api_secret(bad)
    assert isinstance(info.value, KeyFormatError)
    assert isinstance(info.value, CoboError)
    assert info.value.code == "cobo_invalid_key"
    if isinstance(bad, str) and bad:
        assert bad not in str(info.value)


def test_bad_public_keys_and_curves() -> None:
    with pytest.raises(CoboKeyError):
        load_api_key("02" + "ff" * 32)  # x >= p: not a secp256k1 point
    with pytest.raises(CoboKeyError):
        load_api_key("ab" * 20)
    with pytest.raises(CoboKeyError):
        load_api_secret("00" * 32, curve="SECP256K1")
    with pytest.raises(CoboKeyError):
        load_api_secret(f"{SECP256K1_ORDER:064x}", curve="SECP256K1")
    with pytest.raises(CoboKeyError):
        load_api_secret(RFC8032_SECRET, curve="P256")  # type: ignore[arg-type]
    with pytest.raises(CoboKeyError):
        load_api_key(12345)  # type: ignore[arg-type]


def test_secp256k1_uncompressed_key_normalises() -> None:
    key = generate_api_secret("SECP256K1")
    crypto_pub = key.public_key
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), crypto_pub.raw)
    uncompressed = point.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert load_api_key(uncompressed.hex()) == crypto_pub


# --- string to sign and signatures --------------------------------------------------------


def test_string_to_sign_layout() -> None:
    message = string_to_sign(
        method="post", path="/v2/x", nonce=NOW, query="a=1&b=c+d", body='{"k":"é"}'
    )
    assert message == f'POST|/v2/x|{NOW}|a=1&b=c+d|{{"k":"é"}}'.encode()
    assert string_to_sign(method="GET", path="/v2/x", nonce=1, query=None, body=None) == (
        b"GET|/v2/x|1||"
    )
    assert string_to_sign(method="GET", path="/v2/x", nonce=1, query="?a=1") == b"GET|/v2/x|1|a=1|"
    pairs = string_to_sign(
        method="GET", path="/v2/x", nonce=1, query=[("z", "a b,c/d"), ("a", "1")]
    )
    assert pairs == b"GET|/v2/x|1|z=a+b%2Cc%2Fd&a=1|"


def test_signature_is_ed25519_over_double_sha256() -> None:
    body = '{"memo":"héllo 世界"}'
    headers = sign_request(
        RFC8032_SECRET, method="put", path="/v2/a", query="x=1", body=body, nonce_ms=NOW
    )
    expected_message = f"PUT|/v2/a|{NOW}|x=1|{body}".encode()
    digest = _double_sha(expected_message)
    assert digest == request_digest(method="PUT", path="/v2/a", nonce=NOW, query="x=1", body=body)
    public = ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(RFC8032_PUBLIC))
    public.verify(bytes.fromhex(headers["Biz-Api-Signature"]), digest)  # raises if wrong
    # Ed25519 is deterministic: our signature equals a fresh one from cryptography directly.
    private = ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(RFC8032_SECRET))
    assert headers["Biz-Api-Signature"] == private.sign(digest).hex()
    assert headers["Biz-Api-Key"] == RFC8032_PUBLIC
    assert headers["Biz-Api-Nonce"] == str(NOW)
    # str and bytes bodies sign the same bytes.
    again = sign_request(
        RFC8032_SECRET, method="PUT", path="/v2/a", query="x=1", body=body.encode(), nonce_ms=NOW
    )
    assert again == headers


@pytest.mark.parametrize(
    "kwargs",
    [
        {"path": "v2/no-slash"},
        {"path": "/v2/x?a=1"},
        {"method": "GE T"},
        {"method": ""},
        {"body": {"a": 1}},
        {"query": b"a=1"},
        {"nonce_ms": -1},
        {"nonce_ms": "123"},
    ],
)
def test_sign_request_argument_errors(kwargs: dict[str, Any]) -> None:
    args: dict[str, Any] = {"method": "GET", "path": "/v2/x", "nonce_ms": NOW}
    args.update(kwargs)
    with pytest.raises(CoboRequestError):
        sign_request(RFC8032_SECRET, **args)


# --- verify_request -----------------------------------------------------------------------


def test_verify_accepts_and_reports() -> None:
    headers, parts = _signed()
    decision = _verify(headers, parts)
    assert decision.approved
    assert decision.reason == "approved"
    assert decision.http_status == 200
    assert decision.api_key == RFC8032_PUBLIC
    assert decision.timestamp_ms == NOW
    assert json.loads(json.dumps(decision.to_dict()))["approved"] is True
    lower = {k.lower(): v for k, v in headers.items()}
    assert _verify(lower, parts).approved
    assert _verify(list(headers.items()), parts, api_keys=RFC8032_PUBLIC).approved
    assert _verify(headers, {**parts, "method": "post"}).approved


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"method": "PUT"}, "invalid_signature"),
        ({"path": "/v2/transactions/transfer/"}, "invalid_signature"),
        ({"query": "b=x+y&a=1"}, "invalid_signature"),
        ({"query": "a=1&b=x%20y"}, "invalid_signature"),
        ({"body": '{"amount": "1.5"}'}, "invalid_signature"),
        ({"body": ""}, "invalid_signature"),
    ],
)
def test_any_change_is_refused(change: dict[str, Any], reason: str) -> None:
    headers, parts = _signed()
    decision = _verify(headers, {**parts, **change})
    assert not decision.approved
    assert decision.reason == reason
    assert decision.http_status == 401


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda h: h.pop("Biz-Api-Key"), "missing_header"),
        (lambda h: h.pop("Biz-Api-Nonce"), "missing_header"),
        (lambda h: h.pop("Biz-Api-Signature"), "missing_signature"),
        (lambda h: h.update({"Biz-Api-Key": "ab" * 32}), "unknown_api_key"),
        (lambda h: h.update({"Biz-Api-Key": "not-hex"}), "unknown_api_key"),
        (lambda h: h.update({"Biz-Api-Nonce": "17955199768x"}), "malformed_nonce"),
        (lambda h: h.update({"Biz-Api-Nonce": str(NOW // 1000)}), "malformed_nonce"),
        (lambda h: h.update({"Biz-Api-Nonce": "-1"}), "malformed_nonce"),
        (lambda h: h.update({"Biz-Api-Signature": "zz" * 64}), "malformed_signature"),
        (lambda h: h.update({"Biz-Api-Signature": "abc"}), "malformed_signature"),
        (lambda h: h.update({"Biz-Api-Signature": "00" * 64}), "invalid_signature"),
        (
            lambda h: h.update({"Biz-Api-Signature": h["Biz-Api-Signature"][:-2]}),
            "invalid_signature",
        ),
    ],
)
def test_header_refusals(mutate: Any, reason: str) -> None:
    headers, parts = _signed()
    mutate(headers)
    decision = _verify(headers, parts)
    assert (decision.approved, decision.reason, decision.http_status) == (False, reason, 401)


def test_duplicate_headers_are_refused() -> None:
    headers, parts = _signed()
    pairs = [*headers.items(), ("biz-api-signature", headers["Biz-Api-Signature"])]
    assert _verify(pairs, parts).reason == "malformed_signature"
    pairs = [*headers.items(), ("BIZ-API-NONCE", headers["Biz-Api-Nonce"])]
    assert _verify(pairs, parts).reason == "missing_header"


def test_nonce_window_both_ways() -> None:
    headers, parts = _signed()
    window = 60_000
    assert _verify(headers, parts, now_ms=NOW + window, window_ms=window).approved
    assert _verify(headers, parts, now_ms=NOW - window, window_ms=window).approved
    stale = _verify(headers, parts, now_ms=NOW + window + 1, window_ms=window)
    assert stale.reason == "stale_nonce"
    assert stale.http_status == 401
    future = _verify(headers, parts, now_ms=NOW - window - 1, window_ms=window)
    assert future.reason == "future_nonce"
    # Default window: 5 minutes.
    assert _verify(headers, parts, now_ms=NOW + 300_000).approved
    assert _verify(headers, parts, now_ms=NOW + 300_001).reason == "stale_nonce"


def test_replay_store() -> None:
    headers, parts = _signed()
    store = DictStore()
    assert _verify(headers, parts, replay_store=store).approved
    ((key, expires),) = store.entries.items()
    assert RFC8032_PUBLIC in key
    assert expires == NOW + 300_000 + 1  # just after the last moment the nonce is fresh
    again = _verify(headers, parts, replay_store=store)
    assert (again.reason, again.http_status) == ("replayed", 409)
    # A different request with the same nonce is a different entry.
    other_headers, other_parts = _signed(body='{"amount":"2"}')
    assert _verify(other_headers, other_parts, replay_store=store).approved
    # Forged requests never reach the store.
    forged = {**headers, "Biz-Api-Signature": "00" * 64}
    assert _verify(forged, parts, replay_store=store).reason == "invalid_signature"
    assert len(store.entries) == 2
    down = _verify(headers, parts, replay_store=DownStore())
    assert (down.reason, down.http_status) == ("replay_store_unavailable", 503)


def test_sdk_empty_object_body() -> None:
    # The Python SDK signs "" but sends "{}" for an empty JSON object body.
    headers, parts = _signed(body="")
    assert _verify(headers, {**parts, "body": b"{}"}).approved
    refused = _verify(headers, {**parts, "body": b"{}"}, accept_sdk_empty_object=False)
    assert refused.reason == "invalid_signature"
    # Only exactly "{}" gets this treatment.
    assert _verify(headers, {**parts, "body": b"{ }"}).reason == "invalid_signature"
    signed_obj, obj_parts = _signed(body="{}")
    assert _verify(signed_obj, obj_parts, accept_sdk_empty_object=False).approved


def test_verify_argument_errors() -> None:
    headers, parts = _signed()
    with pytest.raises(CoboKeyError):
        _verify(headers, parts, api_keys=[])
    with pytest.raises(CoboKeyError):
        _verify(headers, parts, api_keys=["nothex"])
    with pytest.raises(CoboRequestError):
        _verify(headers, {**parts, "path": "relative"})
    with pytest.raises(CoboRequestError):
        _verify(headers, {**parts, "body": {"a": 1}})
    with pytest.raises(AuthSigError):
        _verify(headers, parts, window_ms=-1)


def test_secp256k1_requests_and_high_s_refused() -> None:
    key = load_api_secret(
        "e331b6d69882b4cb4ea581d88e0b604039a3de5967688d3dcffdd2270c0fd109", curve="SECP256K1"
    )
    parts: dict[str, Any] = {"method": "GET", "path": "/v2/x", "query": "a=1", "body": None}
    headers = sign_request(key, nonce_ms=NOW, **parts)
    assert headers["Biz-Api-Key"] == key.api_key
    assert len(key.api_key) == 66
    # RFC 6979: deterministic for us.
    assert sign_request(key, nonce_ms=NOW, **parts) == headers
    assert _verify(headers, parts, api_keys=[key.api_key]).approved
    # The Ed25519 key set does not accept it.
    assert _verify(headers, parts).reason == "unknown_api_key"
    r, s = decode_dss_signature(bytes.fromhex(headers["Biz-Api-Signature"]))
    assert s <= SECP256K1_ORDER // 2
    high = encode_dss_signature(r, SECP256K1_ORDER - s).hex()
    refused = _verify({**headers, "Biz-Api-Signature": high}, parts, api_keys=[key.api_key])
    assert refused.reason == "invalid_signature"


@pytest.mark.parametrize(
    ("signed", "received", "hint"),
    [
        ({"path": "/v2/x/"}, {"path": "/v2/x"}, "trailing slash"),
        ({"path": "/v2/x"}, {"path": "/v2/x/"}, "no trailing slash"),
        ({"path": "/v2/x"}, {"path": "/x"}, "with /v2"),
        ({"query": "a=1&b=2"}, {"query": "b=2&a=1"}, "sorted"),
        ({"query": "q=a%20b"}, {"query": "q=a+b"}, "%20 instead of +"),
        ({"body": ""}, {"body": '{"a":1}'}, "an empty body"),
    ],
)
def test_explain_names_the_near_miss(
    signed: dict[str, Any], received: dict[str, Any], hint: str
) -> None:
    parts: dict[str, Any] = {"method": "POST", "path": "/v2/x", "query": "", "body": '{"a":1}'}
    headers = sign_request(RFC8032_SECRET, nonce_ms=NOW, **{**parts, **signed})
    got = {**parts, **received}
    plain = _verify(headers, got)
    assert plain.reason == "invalid_signature"
    assert "would match" not in plain.message
    explained = _verify(headers, got, explain=True)
    assert explained.reason == "invalid_signature"
    assert not explained.approved
    assert hint in explained.message
    # A real forgery gets no hint.
    forged = _verify({**headers, "Biz-Api-Signature": "00" * 64}, got, explain=True)
    assert "would match" not in forged.message


@pytest.mark.parametrize(
    ("reason", "error"),
    [
        ("invalid_signature", "CoboSignatureError"),
        ("missing_signature", "CoboSignatureError"),
        ("stale_nonce", "CoboNonceError"),
        ("malformed_nonce", "CoboNonceError"),
        ("replayed", "ReplayDetectedError"),
        ("replay_store_unavailable", "ReplayStoreUnavailableError"),
    ],
)
def test_raise_for_refusal(reason: str, error: str) -> None:
    import authsig.cobo.errors as cobo_errors
    import authsig.errors as errors

    decision = CoboDecision.refuse(reason, "why")
    error_class = getattr(cobo_errors, error, None) or getattr(errors, error)
    with pytest.raises(error_class) as info:
        decision.raise_for_refusal()
    assert info.value.code == error_class.code  # one stable code per class
    assert info.value.decision is decision  # the precise reason travels with the decision
    assert info.value.decision.reason == reason
    assert str(info.value) == "why"
    headers, parts = _signed()
    _verify(headers, parts).raise_for_refusal()  # approved: no exception
