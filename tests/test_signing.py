"""sign_request / sign_request_async: headers that verify, signers (sync/async), failures."""

from __future__ import annotations

import asyncio
import base64
import gc
import logging
import warnings
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authsig.errors import (
    PayloadError,
    SignerError,
)
from authsig.keys import PrivateKey, generate_private_key
from authsig.privy.headers import parse_signature_header
from authsig.privy.payload import signing_payload
from authsig.privy.signing import (
    RequestURLError,
    _has_space_or_control,
    check_request_url,
    sign_request,
    sign_request_async,
)
from authsig.signatures import sign, verify_signature

URL = "https://api.privy.io/v1/wallets/w1/rpc"
BODY = {"method": "eth_signTransaction", "params": {"transaction": {"value": 1.5, "to": "0xab"}}}
NOW = 1_767_225_600_000


@pytest.fixture(scope="module")
def keys() -> list[PrivateKey]:
    return [generate_private_key() for _ in range(3)]


def _payload_from_headers(headers: dict[str, str], body: Any, method: str = "POST") -> bytes:
    return signing_payload(method=method, url=URL, body=body, headers=headers)


def _assert_each_key_signed_once(
    headers: dict[str, str], body: Any, signers: list[PrivateKey], method: str = "POST"
) -> None:
    payload = _payload_from_headers(headers, body, method)
    entries = parse_signature_header(headers["privy-authorization-signature"])
    assert len(entries) == len(signers)
    for key in signers:
        matches = [e for e in entries if verify_signature(payload, e, key.public_key)]
        assert len(matches) == 1


def _der_signer(key: PrivateKey, seen: list[bytes] | None = None) -> Any:
    def signer(payload: bytes) -> bytes:
        if seen is not None:
            seen.append(payload)
        return base64.b64decode(sign(payload, key))

    return signer


def test_headers_verify_with_every_key(keys: list[PrivateKey]) -> None:
    headers = sign_request(
        method="post",
        url=URL,
        body=BODY,
        app_id="app-1",
        keys=keys,
        idempotency_key="idem-7",
        now_ms=NOW,
    )
    assert set(headers) == {
        "privy-app-id",
        "privy-authorization-signature",
        "privy-request-expiry",
        "privy-idempotency-key",
    }
    assert headers["privy-app-id"] == "app-1"
    assert headers["privy-idempotency-key"] == "idem-7"
    assert headers["privy-request-expiry"] == str(NOW + 15 * 60 * 1000)
    _assert_each_key_signed_once(headers, BODY, keys)


def test_signed_payload_bytes(keys: list[PrivateKey]) -> None:
    seen: list[bytes] = []
    headers = sign_request(
        method="patch",
        url="https://x.test/a",
        body=b'{"b": [], "a": 2.0}',
        app_id="app",
        keys=_der_signer(keys[0], seen),
        idempotency_key="k",
        expires_in=timedelta(seconds=30),
        now_ms=1000,
    )
    expected = (
        b'{"body":{"a":2,"b":[]},"headers":{"privy-app-id":"app","privy-idempotency-key":"k",'
        b'"privy-request-expiry":"31000"},"method":"PATCH","url":"https://x.test/a","version":1}'
    )
    assert seen == [expected]
    assert verify_signature(expected, headers["privy-authorization-signature"], keys[0].public_key)


def test_no_expiry_and_no_idempotency(keys: list[PrivateKey]) -> None:
    headers = sign_request(
        method="DELETE", url=URL, body=None, app_id="app", keys=keys[0], expires_in=None
    )
    assert set(headers) == {"privy-app-id", "privy-authorization-signature"}
    _assert_each_key_signed_once(headers, None, [keys[0]], method="DELETE")


def test_expiry_is_part_of_the_payload(keys: list[PrivateKey]) -> None:
    headers = sign_request(method="POST", url=URL, body=BODY, app_id="a", keys=keys[0], now_ms=NOW)
    payload = _payload_from_headers(headers, BODY)
    signature = headers["privy-authorization-signature"]
    assert verify_signature(payload, signature, keys[0].public_key)
    changed = dict(headers, **{"privy-request-expiry": str(NOW + 15 * 60 * 1000 + 1)})
    assert not verify_signature(_payload_from_headers(changed, BODY), signature, keys[0].public_key)
    dropped = {k: v for k, v in headers.items() if k != "privy-request-expiry"}
    assert not verify_signature(_payload_from_headers(dropped, BODY), signature, keys[0].public_key)


def test_tampered_body_fails(keys: list[PrivateKey]) -> None:
    headers = sign_request(method="POST", url=URL, body=BODY, app_id="a", keys=keys[0])
    tampered = {**BODY, "method": "eth_sendTransaction"}
    payload = _payload_from_headers(headers, tampered)
    assert not verify_signature(
        payload, headers["privy-authorization-signature"], keys[0].public_key
    )


def test_deterministic_output_reproducible(keys: list[PrivateKey]) -> None:
    def run(now: int) -> dict[str, str]:
        return sign_request(
            method="POST",
            url=URL,
            body=BODY,
            app_id="a",
            keys=keys,
            now_ms=now,
            deterministic=True,
        )

    first = run(NOW)
    assert run(NOW) == first
    assert run(NOW + 1)["privy-authorization-signature"] != first["privy-authorization-signature"]
    _assert_each_key_signed_once(first, BODY, keys)
    randomized = sign_request(method="POST", url=URL, body=BODY, app_id="a", keys=keys, now_ms=NOW)
    assert randomized["privy-request-expiry"] == first["privy-request-expiry"]
    assert randomized["privy-authorization-signature"] != first["privy-authorization-signature"]


def test_mixed_keys_and_sync_signers(keys: list[PrivateKey]) -> None:
    def text_signer(payload: bytes) -> str:
        return sign(payload, keys[2])

    headers = sign_request(
        method="POST",
        url=URL,
        body=BODY,
        app_id="a",
        keys=[keys[0], _der_signer(keys[1]), text_signer],
    )
    _assert_each_key_signed_once(headers, BODY, keys)
    entries = headers["privy-authorization-signature"].split(",")
    assert verify_signature(_payload_from_headers(headers, BODY), entries[0], keys[0].public_key)


def test_async_signers(keys: list[PrivateKey]) -> None:
    calls: list[str] = []

    async def slow_signer(payload: bytes) -> str:
        calls.append("start")
        await asyncio.sleep(0.01)
        calls.append("end")
        return sign(payload, keys[1])

    async def der_signer(payload: bytes) -> bytes:
        calls.append("start")
        await asyncio.sleep(0.01)
        calls.append("end")
        return base64.b64decode(sign(payload, keys[2]))

    headers = asyncio.run(
        sign_request_async(
            method="POST",
            url=URL,
            body=BODY,
            app_id="a",
            keys=[keys[0], slow_signer, der_signer],
            idempotency_key="i",
            now_ms=NOW,
        )
    )
    assert calls == ["start", "start", "end", "end"]  # awaited concurrently
    assert headers["privy-request-expiry"] == str(NOW + 900_000)
    _assert_each_key_signed_once(headers, BODY, keys)


def test_async_variant_takes_sync_signers_and_keys(keys: list[PrivateKey]) -> None:
    headers = asyncio.run(
        sign_request_async(
            method="PUT",
            url=URL,
            body=b"{}",
            app_id="a",
            keys=[keys[0], _der_signer(keys[1])],
            deterministic=True,
            now_ms=NOW,
        )
    )
    same = sign_request(
        method="PUT",
        url=URL,
        body="{}",
        app_id="a",
        keys=keys[0],
        deterministic=True,
        now_ms=NOW,
    )
    assert (
        headers["privy-authorization-signature"].split(",")[0]
        == (same["privy-authorization-signature"])
    )
    _assert_each_key_signed_once(headers, {}, keys[:2], method="PUT")


# --- failures ------------------------------------------------------------------------------

# A signer that puts key material into its error message (the bug a careless KMS wrapper has).
LEAKED = generate_private_key()


@pytest.mark.parametrize(
    "secret", [LEAKED.to_base64(), LEAKED.to_pem(), LEAKED.to_base64().encode().hex()]
)
def test_sync_signer_raising_key_material(
    keys: list[PrivateKey], secret: str, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(payload: bytes) -> str:
        raise RuntimeError(f"decrypt failed for {secret}")

    with pytest.raises(SignerError) as info:
        sign_request(method="POST", url=URL, body=BODY, app_id="a", keys=[keys[0], broken])
    err = info.value
    assert str(err).startswith("signer 2 failed: RuntimeError: decrypt failed for [redacted]")
    assert err.code == "signer_failed"
    # The cause holds key material, so it is not chained: a logged traceback shows only ours.
    assert err.__cause__ is None
    assert err.__suppress_context__
    logging.getLogger("test").error("signing failed", exc_info=err)
    body = secret.strip().splitlines()[1] if "BEGIN" in secret else secret
    for text in (str(err), repr(err), caplog.text):
        assert body not in text
        assert "PRIVATE KEY" not in text


def test_sync_signer_raising_is_chained_with_type_and_message(keys: list[PrivateKey]) -> None:
    def broken(payload: bytes) -> str:
        raise AttributeError("'NoneType' object has no attribute 'sign' (kms client closed)")

    with pytest.raises(SignerError) as info:
        sign_request(method="POST", url=URL, body=BODY, app_id="a", keys=[keys[0], broken])
    err = info.value
    assert str(err) == (
        "signer 2 failed: AttributeError: 'NoneType' object has no attribute 'sign' "
        "(kms client closed)"
    )
    assert isinstance(err.__cause__, AttributeError)


def test_async_signer_raising(keys: list[PrivateKey], caplog: pytest.LogCaptureFixture) -> None:
    async def broken(payload: bytes) -> str:
        raise ConnectionError("kms.eu-west-1 unreachable")

    async def leaky(payload: bytes) -> str:
        raise ConnectionError(f"bad key {LEAKED.to_base64()}")

    with pytest.raises(SignerError) as info:
        asyncio.run(
            sign_request_async(method="POST", url=URL, body=BODY, app_id="a", keys=[broken])
        )
    assert str(info.value) == "signer 1 failed: ConnectionError: kms.eu-west-1 unreachable"
    assert isinstance(info.value.__cause__, ConnectionError)
    with pytest.raises(SignerError) as info:
        asyncio.run(sign_request_async(method="POST", url=URL, body=BODY, app_id="a", keys=[leaky]))
    logging.getLogger("test").error("signing failed", exc_info=info.value)
    assert info.value.__cause__ is None
    assert LEAKED.to_base64() not in str(info.value) + caplog.text


def _valid_der(keys: list[PrivateKey]) -> bytes:
    return base64.b64decode(sign(b"x", keys[0]))


@pytest.mark.parametrize(
    "garbage",
    [
        "not base64!",
        "",
        "AAAA",
        b"",
        b"\x30\x00",
        b"0" * 70,
        123,
        None,
        ["sig"],
        "MEUCIQ==",
    ],
)
def test_signer_returning_garbage(keys: list[PrivateKey], garbage: Any) -> None:
    with pytest.raises(SignerError):
        sign_request(method="POST", url=URL, body=BODY, app_id="a", keys=lambda _p: garbage)

    async def async_garbage(_p: bytes) -> Any:
        return garbage

    with pytest.raises(SignerError):
        asyncio.run(
            sign_request_async(method="POST", url=URL, body=BODY, app_id="a", keys=async_garbage)
        )


def test_signer_returning_non_canonical_or_padded_der(keys: list[PrivateKey]) -> None:
    der = _valid_der(keys)
    for bad in (der + b"\x00", b"\x30\x81" + bytes([len(der) - 2]) + der[2:]):
        with pytest.raises(SignerError):
            sign_request(method="POST", url=URL, body=BODY, app_id="a", keys=lambda _p, b=bad: b)
    text = base64.b64encode(der).decode()
    with pytest.raises(SignerError):
        sign_request(
            method="POST", url=URL, body=BODY, app_id="a", keys=lambda _p: text.rstrip("=") + "\n"
        )


def test_async_signer_in_sync_call_refused(keys: list[PrivateKey]) -> None:
    async def signer(payload: bytes) -> str:
        return sign(payload, keys[0])

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(SignerError) as info:
            sign_request(method="POST", url=URL, body=BODY, app_id="a", keys=signer)  # type: ignore[arg-type]
        gc.collect()  # an un-closed coroutine would warn "never awaited" here
    assert "sign_request_async" in str(info.value)


@pytest.mark.parametrize(
    ("bad_keys", "error"),
    [
        ([], ValueError),
        ("wallet-auth:abc", TypeError),
        (b"der", TypeError),
        (5, TypeError),
        ([5], TypeError),
        ([PrivateKey], TypeError),
        (None, TypeError),
    ],
)
def test_bad_keys(bad_keys: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        sign_request(method="POST", url=URL, body=BODY, app_id="a", keys=bad_keys)


def test_same_private_key_twice_refused(keys: list[PrivateKey]) -> None:
    with pytest.raises(ValueError):
        sign_request(method="POST", url=URL, body=BODY, app_id="a", keys=[keys[0], keys[0]])


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"app_id": ""}, ValueError),
        ({"app_id": 5}, TypeError),
        ({"idempotency_key": ""}, ValueError),
        ({"idempotency_key": 7}, TypeError),
        ({"expires_in": timedelta(0)}, ValueError),
        ({"expires_in": timedelta(minutes=-1)}, ValueError),
        ({"expires_in": 900}, TypeError),
        ({"now_ms": "1"}, TypeError),
        ({"now_ms": 1.5}, TypeError),
        ({"method": ""}, PayloadError),
        ({"body": b"{bad"}, PayloadError),
    ],
)
def test_bad_arguments(keys: list[PrivateKey], kwargs: dict[str, Any], error: type) -> None:
    args: dict[str, Any] = {
        "method": "POST",
        "url": URL,
        "body": BODY,
        "app_id": "a",
        "keys": keys[0],
    }
    args.update(kwargs)
    with pytest.raises(error):
        sign_request(**args)
    with pytest.raises(error):
        asyncio.run(sign_request_async(**args))


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=8),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=5), c, max_size=4),
    max_leaves=12,
)


@settings(max_examples=40, deadline=None)
@given(body=_json, method=st.sampled_from(["post", "PUT", "Patch", "delete"]))
def test_round_trip_property(keys: list[PrivateKey], body: Any, method: str) -> None:
    body = {"value": body}  # a top-level str would be raw JSON text
    headers = sign_request(method=method, url=URL, body=body, app_id="a", keys=keys[:2])
    _assert_each_key_signed_once(headers, body, keys[:2], method=method)


def test_two_signers_returning_the_same_signature_are_refused() -> None:
    from authsig.errors import DuplicateSignatureError
    from authsig.keys import generate_private_key
    from authsig.signatures import sign

    key = generate_private_key()
    fixed: dict[str, str] = {}

    def signer(payload: bytes) -> str:
        # the same signature twice, as a misconfigured KMS pool might return
        return fixed.setdefault("sig", sign(payload, key))

    with pytest.raises(DuplicateSignatureError, match="same signature"):
        sign_request(
            method="POST",
            url="https://api.example.com/x",
            body=None,
            app_id="app",
            keys=[signer, signer],
        )


# --- the URL -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("/v1/wallets/w1/rpc", "not_absolute"),
        ("api.privy.io/v1/wallets/w1/rpc", "not_absolute"),
        ("//api.privy.io/v1/wallets/w1/rpc", "not_absolute"),
        ("ftp://api.privy.io/v1/wallets", "scheme"),
        ("HTTPS://api.privy.io/v1/wallets", "scheme"),
        ("https://api.privy.io", "no_path"),
        ("https://api.privy.io/", "trailing_slash"),
        ("https://api.privy.io/v1/wallets/", "trailing_slash"),
        ("https://api.privy.io/v1/wallets/?limit=1", "trailing_slash"),
        ("https://api.privy.io/v1/wallets#top", "fragment"),
        ("https:///v1/wallets", "no_host"),
        ("https://api.privy.io:99999/v1/wallets", "no_host"),
        ("https://user:pw@api.privy.io/v1/wallets", "credentials"),
        ("https://api.privy.io/v1/wallets/w 1", "whitespace"),
    ],
)
def test_urls_privy_cannot_verify_are_refused(
    keys: list[PrivateKey], url: str, problem: str
) -> None:
    args: dict[str, Any] = {"method": "POST", "url": url, "body": BODY, "app_id": "a"}
    with pytest.raises(RequestURLError) as info:
        sign_request(**args, keys=keys[0])
    assert info.value.problem == problem
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith("the request URL ")
    with pytest.raises(RequestURLError):
        asyncio.run(sign_request_async(**args, keys=keys[0]))
    # the opt-out signs the URL exactly as given
    headers = sign_request(**args, keys=keys[0], check_url=False)
    payload = signing_payload(method="POST", url=url, body=BODY, headers=headers)
    assert verify_signature(payload, headers["privy-authorization-signature"], keys[0].public_key)


@pytest.mark.parametrize(
    "url",
    [
        URL,
        "http://127.0.0.1:8080/v1/wallets/w1/rpc",
        "https://api.privy.io/v1/wallets?cursor=a/b",
        "https://[::1]:8443/v1/x",
    ],
)
def test_urls_privy_can_verify_pass(url: str) -> None:
    check_request_url(url)


def test_the_url_message_does_not_quote_the_url() -> None:
    with pytest.raises(RequestURLError) as info:
        check_request_url("https://api.privy.io/v1/x/?token=SECRETVALUE")
    assert "SECRETVALUE" not in str(info.value)
    with pytest.raises(TypeError):
        check_request_url(b"https://api.privy.io/v1/x")  # type: ignore[arg-type]


# The URL's whitespace check takes a fast path for printable ASCII; it must say what the
# per-character scan says, on ASCII (controls, DEL, the space) and on Unicode whitespace alike.
_URL_CHARS = st.one_of(
    st.characters(min_codepoint=0, max_codepoint=0x7F),
    st.sampled_from("\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2028\u2029\u202f\u3000\ufeff"),
    st.characters(),
)


@settings(max_examples=500)
@given(st.text(_URL_CHARS, max_size=40))
def test_the_url_whitespace_fast_path_matches_the_scan(text: str) -> None:
    scan = any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in text)
    assert _has_space_or_control(text) is scan
    assert _has_space_or_control("https://api.privy.io/v1/x" + text) is scan
