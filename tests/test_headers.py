"""The privy-authorization-signature header: format/parse, limits, strictness."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authsig.errors import (
    AuthSigError,
    DuplicateSignatureError,
    EmptySignatureEntryError,
    HeaderTooLargeError,
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
)
from authsig.signatures import sign

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
    with pytest.raises(SignatureHeaderError):
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


def test_parse_with_der_agrees_with_parse_signature_header() -> None:
    """The verifier's fast split gives the same entries (and their bytes) or the same error."""
    import base64 as b64

    from authsig.errors import SignatureHeaderError
    from authsig.privy.headers import _parse_with_der, parse_signature_header

    a = b64.b64encode(b"\x30\x06\x02\x01\x01\x02\x01\x01").decode()
    b = b64.b64encode(bytes(range(70))).decode()
    values = [
        a,
        f"{a},{b}",
        f" {a} ,\t{b}",
        f"{a},{a}",
        f"{a},",
        f",{a}",
        "",
        " ",
        f"{a},,{b}",
        a[:-1] + "=",
        a.rstrip("="),
        a + "\n",
        "é" + a,
        "QQ==",
        "QR==",
        "****",
        f"{a} {b}",
        ",".join([a] * 65),
    ]
    for value in values:
        for limits in ({}, {"max_signatures": 1}, {"max_length": 10}):
            error: SignatureHeaderError | None = None
            try:
                expected = parse_signature_header(value, **limits)
            except SignatureHeaderError as exc:
                error = exc
            if error is not None:
                with pytest.raises(type(error)) as info:
                    _parse_with_der(value, **limits)
                assert str(info.value) == str(error)
                continue
            entries, raws = _parse_with_der(value, **limits)
            assert entries == expected
            assert raws == [b64.b64decode(e, validate=True) for e in expected]
