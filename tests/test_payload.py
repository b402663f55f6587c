"""The Privy signing payload (SPEC §1.1), against expected bytes written out by hand."""

from __future__ import annotations

from typing import Any

import pytest

from authsig.errors import (
    AuthSigError,
    CanonicalizationError,
    InvalidBodyError,
    MissingHeaderError,
    PayloadError,
)
from authsig.privy.payload import parse_body, payload_object, signing_payload

URL = "https://api.privy.io/v1/wallets/abc123/rpc"
APP = {"privy-app-id": "cm1234app"}


def test_basic_post_with_body() -> None:
    body = b'{"method": "personal_sign", "params": {"message": "hello", "encoding": "utf-8"}}'
    got = signing_payload(method="post", url=URL, body=body, headers=APP)
    expected = (
        '{"body":{"method":"personal_sign","params":{"encoding":"utf-8","message":"hello"}},'
        '"headers":{"privy-app-id":"cm1234app"},'
        '"method":"POST",'
        '"url":"https://api.privy.io/v1/wallets/abc123/rpc",'
        '"version":1}'
    )
    assert got == expected.encode()


def test_all_participating_headers_and_others_ignored() -> None:
    headers = {
        "Privy-App-Id": "app",
        "PRIVY-IDEMPOTENCY-KEY": "idem-1",
        "privy-request-expiry": "1767225600000",
        "privy-authorization-signature": "sig",
        "Content-Type": "application/json",
        "privy-other": "x",
    }
    got = signing_payload(method="PATCH", url=URL, body={"a": 1}, headers=headers)
    expected = (
        '{"body":{"a":1},'
        '"headers":{"privy-app-id":"app","privy-idempotency-key":"idem-1",'
        '"privy-request-expiry":"1767225600000"},'
        '"method":"PATCH","url":"https://api.privy.io/v1/wallets/abc123/rpc","version":1}'
    )
    assert got == expected.encode()


def test_headers_as_pairs() -> None:
    pairs = [("content-type", "application/json"), ("Privy-App-ID", "app")]
    got = signing_payload(method="delete", url="https://x.test/a", body=None, headers=pairs)
    assert got == (
        b'{"body":null,"headers":{"privy-app-id":"app"},'
        b'"method":"DELETE","url":"https://x.test/a","version":1}'
    )


@pytest.mark.parametrize("body", [b"{}", b" [ ] ", "{}", {}, [], ()])
def test_empty_body_becomes_empty_string(body: Any) -> None:
    got = signing_payload(method="POST", url="https://x.test/a", body=body, headers=APP)
    assert got == (
        b'{"body":"","headers":{"privy-app-id":"cm1234app"},'
        b'"method":"POST","url":"https://x.test/a","version":1}'
    )


def test_empty_body_preserved_on_request() -> None:
    for body, text in ((b"{}", b"{}"), ([], b"[]")):
        got = signing_payload(
            method="DELETE", url="https://x.test/a", body=body, headers=APP, empty_body="preserve"
        )
        assert got == (
            b'{"body":' + text + b',"headers":{"privy-app-id":"cm1234app"},'
            b'"method":"DELETE","url":"https://x.test/a","version":1}'
        )


@pytest.mark.parametrize("body", [None, b"", "", b"  \r\n\t ", "\n"])
def test_missing_body_is_null(body: Any) -> None:
    got = signing_payload(method="post", url="https://x.test/a", body=body, headers=APP)
    assert got == (
        b'{"body":null,"headers":{"privy-app-id":"cm1234app"},'
        b'"method":"POST","url":"https://x.test/a","version":1}'
    )


def test_nested_empty_values_are_kept() -> None:
    got = signing_payload(method="POST", url="u", body=b'{"a":{},"b":[]}', headers=APP)
    assert got == (
        b'{"body":{"a":{},"b":[]},"headers":{"privy-app-id":"cm1234app"},'
        b'"method":"POST","url":"u","version":1}'
    )


def test_floats_unicode_and_controls() -> None:
    body = '{"\U0001f600":1.50,"\ue000":1e-7,"z":"tab\\there\\u0001","amount":1E21,"n":-0.0}'
    got = signing_payload(method="put", url="https://x.test/é?q=1", body=body, headers=APP)
    expected = (
        '{"body":{"amount":1e+21,"n":0,"z":"tab\\there\\u0001","\U0001f600":1.5,"\ue000":1e-7},'
        '"headers":{"privy-app-id":"cm1234app"},'
        '"method":"PUT","url":"https://x.test/é?q=1","version":1}'
    )
    assert got == expected.encode("utf-8")


def test_url_used_exactly() -> None:
    url = "https://API.privy.io/v1/wallets/?b=2&a=1"
    got = signing_payload(method="post", url=url, body=None, headers=APP)
    assert b'"url":"https://API.privy.io/v1/wallets/?b=2&a=1"' in got


def test_string_body_and_scalar_bodies() -> None:
    assert signing_payload(method="post", url="u", body=b'"text"', headers=APP) == (
        b'{"body":"text","headers":{"privy-app-id":"cm1234app"},'
        b'"method":"POST","url":"u","version":1}'
    )
    assert signing_payload(method="post", url="u", body=b"12.0", headers=APP) == (
        b'{"body":12,"headers":{"privy-app-id":"cm1234app"},"method":"POST","url":"u","version":1}'
    )


def test_canonicaljson_profile() -> None:
    got = signing_payload(
        method="post", url="u", body=b'{"x":2.0,"y":1e-7}', headers=APP, profile="canonicaljson"
    )
    assert got == (
        b'{"body":{"x":2.0,"y":1e-07},"headers":{"privy-app-id":"cm1234app"},'
        b'"method":"POST","url":"u","version":1}'
    )


def test_payload_object_shape() -> None:
    obj = payload_object(
        method="post",
        url="u",
        body=b'{"a":[1]}',
        headers={"privy-app-id": "a", "privy-request-expiry": "5"},
    )
    assert obj == {
        "version": 1,
        "method": "POST",
        "url": "u",
        "body": {"a": [1]},
        "headers": {"privy-app-id": "a", "privy-request-expiry": "5"},
    }


# --- errors --------------------------------------------------------------------------------


def test_missing_app_id() -> None:
    with pytest.raises(MissingHeaderError) as info:
        signing_payload(method="post", url="u", body=None, headers={"privy-request-expiry": "1"})
    assert info.value.code == "missing_header"


def test_participating_header_twice() -> None:
    with pytest.raises(PayloadError) as info:
        signing_payload(
            method="post",
            url="u",
            body=None,
            headers=[("privy-app-id", "a"), ("Privy-App-Id", "b")],
        )
    assert "privy-app-id" in str(info.value)


@pytest.mark.parametrize(
    "headers",
    [
        {"privy-app-id": 123},
        {"privy-app-id": b"app"},
        [("privy-app-id",)],
        [1, 2],
        {1: "x", "privy-app-id": "a"},
        5,
    ],
)
def test_headers_of_the_wrong_type(headers: Any) -> None:
    with pytest.raises(TypeError):
        signing_payload(method="post", url="u", body=None, headers=headers)


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe{}",
        b'{"a":',
        b"NaN",
        b'{"a":Infinity}',
        b"[-Infinity]",
        b'{"a":1,"a":2}',
        b'{"x":{"b":1,"b":1}}',
        b"[1e400]",
        b"{'a':1}",
        "9" * 5000,
        b"[" * 100_000,
        b"\xef\xbb\xbf{}",
    ],
)
def test_invalid_bodies(body: Any) -> None:
    with pytest.raises(InvalidBodyError) as info:
        signing_payload(method="post", url="u", body=body, headers=APP)
    assert info.value.code == "invalid_body"


def test_parse_body() -> None:
    assert parse_body(b'{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}
    assert parse_body(bytearray(b"[]")) == []
    assert parse_body(memoryview(b"1")) == 1
    assert parse_body(" ") is None
    with pytest.raises(TypeError):
        parse_body(12)  # type: ignore[arg-type]


def test_body_that_cannot_be_canonicalized() -> None:
    with pytest.raises(CanonicalizationError) as info:
        signing_payload(method="post", url="u", body=b'{"a":[9007199254740993]}', headers=APP)
    assert info.value.path == "/body/a/0"
    with pytest.raises(CanonicalizationError):
        signing_payload(method="post", url="u", body=b'"\\ud800"', headers=APP)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"method": "", "url": "u"}, PayloadError),
        ({"method": 1, "url": "u"}, TypeError),
        ({"method": "POST", "url": ""}, PayloadError),
        ({"method": "POST", "url": b"u"}, TypeError),
        ({"method": "POST", "url": "u", "empty_body": "drop"}, ValueError),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        signing_payload(body=None, headers=APP, **kwargs)


def test_every_error_is_an_authsig_error() -> None:
    for exc in (InvalidBodyError, MissingHeaderError, PayloadError, CanonicalizationError):
        assert issubclass(exc, AuthSigError)
