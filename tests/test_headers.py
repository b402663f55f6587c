"""The Privy headers: reading them from a request; the privy-authorization-signature header:
format/parse, limits, strictness."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authsig.errors import (
    AuthSigError,
    DuplicateSignatureError,
    EmptySignatureEntryError,
    HeaderTooLargeError,
    MissingHeaderError,
    PayloadError,
    SignatureHeaderError,
)
from authsig.keys import generate_private_key
from authsig.privy.headers import (
    APP_ID_HEADER,
    EXPIRY_HEADER,
    IDEMPOTENCY_HEADER,
    MAX_HEADER_LENGTH,
    MAX_SIGNATURES,
    SIGNATURE_HEADER,
    format_signature_header,
    parse_signature_header,
    read_headers,
)
from authsig.signatures import sign

EXPIRY = EXPIRY_HEADER

KEY = generate_private_key()
SIGS = [sign(bytes([i]), KEY) for i in range(3)]


def test_constants() -> None:
    assert SIGNATURE_HEADER == "privy-authorization-signature"
    assert APP_ID_HEADER == "privy-app-id"
    assert EXPIRY_HEADER == "privy-request-expiry"
    assert IDEMPOTENCY_HEADER == "privy-idempotency-key"
    assert MAX_SIGNATURES == 64
    assert MAX_HEADER_LENGTH == 8192


def test_format_and_parse() -> None:
    header = format_signature_header(SIGS)
    assert header == ",".join(SIGS)
    assert " " not in header
    assert parse_signature_header(header) == SIGS
    assert parse_signature_header(SIGS[0]) == SIGS[:1]


@pytest.mark.parametrize(
    "text",
    ["{0}, {1}", "{0} ,{1}", " {0},\t{1} ", "{0},  {1}"],
)
def test_whitespace_around_entries_tolerated(text: str) -> None:
    assert parse_signature_header(text.format(*SIGS)) == SIGS[:2]


@pytest.mark.parametrize("text", ["", "   ", "\t", "{0},,{1}", "{0},", ",{0}", "{0}, ,{1}", ","])
def test_empty_entries(text: str) -> None:
    with pytest.raises(EmptySignatureEntryError):
        parse_signature_header(text.format(*SIGS))


def test_duplicates() -> None:
    with pytest.raises(DuplicateSignatureError):
        parse_signature_header(f"{SIGS[0]},{SIGS[1]},{SIGS[0]}")
    with pytest.raises(DuplicateSignatureError):
        parse_signature_header(f"{SIGS[0]}, {SIGS[0]}")
    with pytest.raises(DuplicateSignatureError):
        format_signature_header([SIGS[0], SIGS[0]])


@pytest.mark.parametrize(
    "entry",
    [
        "not base64",
        "abc",  # length not a multiple of 4
        "YWJjZA",  # missing padding
        "YWJjZA=",  # wrong padding
        "YWJjZB==",  # non-canonical trailing bits
        "YW Jj",
        "YWJj\n",
        "YWJj-_==",  # base64url alphabet
        "ＹＷＪｊ",  # full-width letters
        "====",
    ],
)
def test_strict_base64_entries(entry: str) -> None:
    with pytest.raises(SignatureHeaderError) as info:
        parse_signature_header(f"{SIGS[0]},{entry}")
    assert type(info.value) is SignatureHeaderError
    assert "entry 2" in str(info.value)
    with pytest.raises(SignatureHeaderError):
        format_signature_header([entry])


def test_limits_checked_first() -> None:
    # Over the count limit: refused as too large even though the entries are garbage.
    with pytest.raises(HeaderTooLargeError, match="65 entries"):
        parse_signature_header(",".join(["!"] * 65))
    with pytest.raises(HeaderTooLargeError, match="8193 characters"):
        parse_signature_header("!" * 8193)
    many = [base64.b64encode(i.to_bytes(2, "big")).decode() for i in range(64)]
    assert parse_signature_header(",".join(many)) == many
    with pytest.raises(HeaderTooLargeError):
        parse_signature_header(",".join(many[:3]), max_signatures=2)
    with pytest.raises(HeaderTooLargeError):
        parse_signature_header(SIGS[0], max_length=len(SIGS[0]) - 1)
    assert parse_signature_header(SIGS[0], max_length=len(SIGS[0])) == SIGS[:1]


def test_errors_are_authsig_errors_with_codes() -> None:
    cases = {
        "": "empty_signature_entry",
        "a,,b": "empty_signature_entry",
        "????": "malformed_signature_header",
        "AAAA,AAAA": "duplicate_signature",
        "A" * 9000: "signature_header_too_large",
    }
    for text, code in cases.items():
        with pytest.raises(AuthSigError) as info:
            parse_signature_header(text)
        assert info.value.code == code


def test_format_rejects_bad_input() -> None:
    with pytest.raises(EmptySignatureEntryError):
        format_signature_header([])
    with pytest.raises(EmptySignatureEntryError):
        format_signature_header([SIGS[0], ""])
    with pytest.raises(TypeError):
        format_signature_header(SIGS[0])
    with pytest.raises(TypeError):
        parse_signature_header(b"AAAA")  # type: ignore[arg-type]


b64_entries = st.binary(min_size=1, max_size=80).map(lambda b: base64.b64encode(b).decode())


@given(st.lists(b64_entries, min_size=1, max_size=MAX_SIGNATURES, unique=True))
def test_property_round_trip(entries: list[str]) -> None:
    header = format_signature_header(entries)
    assert parse_signature_header(header) == entries
    spaced = ", ".join(entries)
    assert parse_signature_header(spaced) == entries


@given(st.text(max_size=200))
def test_property_parse_never_raises_untyped(text: str) -> None:
    try:
        result = parse_signature_header(text)
    except AuthSigError:
        return
    assert result
    assert format_signature_header(result) == ",".join(result)


def test_read_headers_finds_each_privy_header_once() -> None:
    found = read_headers(
        [
            ("Content-Type", "application/json"),
            ("PRIVY-REQUEST-EXPIRY", "123"),
            ("Privy-Authorization-Signature", "sig"),
            ("privy-app-id", "app"),
            ("Privy-Idempotency-Key", "idem"),
        ]
    )
    assert found.signature == "sig"
    assert found.expiry == "123"
    # In payload order, whatever the order they arrived in.
    assert list(found.signed.items()) == [
        ("privy-app-id", "app"),
        ("privy-idempotency-key", "idem"),
        ("privy-request-expiry", "123"),
    ]
    assert found.header_error is None
    assert found.payload_error is None
    assert found.payload_headers() is found.signed
    assert read_headers(found) is found
    assert read_headers({"privy-app-id": "a"}).signature is None


def test_read_headers_records_problems_of_the_request() -> None:
    twice = read_headers([(SIGNATURE_HEADER, "a"), (SIGNATURE_HEADER.upper(), "b")])
    assert isinstance(twice.header_error, SignatureHeaderError)
    assert twice.signature == "a"
    expiry = read_headers([("privy-app-id", "a"), (EXPIRY, "1"), (EXPIRY, "1")])
    assert isinstance(expiry.header_error, PayloadError)
    with pytest.raises(PayloadError, match="sent more than once"):
        expiry.payload_headers()
    app = read_headers([("privy-app-id", "a"), ("Privy-App-Id", "b")])
    assert app.header_error is None
    with pytest.raises(PayloadError, match="privy-app-id is given more than once"):
        app.payload_headers()
    with pytest.raises(MissingHeaderError):
        read_headers({SIGNATURE_HEADER: "a"}).payload_headers()


@pytest.mark.parametrize(
    "headers",
    [5, [("privy-app-id",)], [1, 2], {1: "x"}, {"privy-app-id": b"a"}, {SIGNATURE_HEADER: 5}],
)
def test_read_headers_refuses_what_is_not_text_headers(headers: Any) -> None:
    with pytest.raises(TypeError):
        read_headers(headers)


def test_read_headers_ignores_other_headers_whatever_their_value() -> None:
    headers = {"x-other": 5, "privy-app-id": "a"}
    assert read_headers(headers).signed == {"privy-app-id": "a"}  # type: ignore[arg-type]
