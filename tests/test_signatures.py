"""ECDSA P-256 sign/verify, strict DER decoding, raw r||s conversion, RFC 6979."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from authsig.errors import SignatureFormatError
from authsig.keys import PrivateKey, PublicKey, generate_private_key
from authsig.signatures import (
    P256_N,
    decode_signature,
    der_to_raw,
    raw_to_der,
    sign,
    verify_raw_signature,
    verify_signature,
)

KEY = generate_private_key()
OTHER = generate_private_key()


def test_sign_verify_round_trip() -> None:
    sig = sign(b"payload", KEY)
    assert verify_signature(b"payload", sig, KEY.public_key)
    assert verify_signature(b"payload", base64.b64decode(sig), KEY.public_key)
    assert not verify_signature(b"payload!", sig, KEY.public_key)
    assert not verify_signature(b"payload", sig, OTHER.public_key)


def test_signature_is_verified_by_cryptography_directly() -> None:
    sig = base64.b64decode(sign(b"x", KEY))
    KEY.public_key.crypto.verify(sig, b"x", ec.ECDSA(hashes.SHA256()))  # raises if invalid


def test_random_vs_deterministic() -> None:
    assert sign(b"m", KEY) != sign(b"m", KEY)  # randomized k (collision chance ~2^-256)
    assert sign(b"m", KEY, deterministic=True) == sign(b"m", KEY, deterministic=True)
    assert sign(b"m", KEY, deterministic=True) != sign(b"n", KEY, deterministic=True)


def test_high_s_accepted() -> None:
    der = base64.b64decode(sign(b"hs", KEY))
    r, s = decode_dss_signature(der)
    flipped = encode_dss_signature(r, P256_N - s)
    low, high = sorted((s, P256_N - s))
    assert high > P256_N // 2 >= low
    assert verify_signature(b"hs", flipped, KEY.public_key)
    assert verify_signature(b"hs", base64.b64encode(flipped).decode(), KEY.public_key)


@pytest.mark.parametrize(
    "bad",
    ["", "not base64!", "AAAA", "MEUCIQ", "=" * 8, "MEQCIA==\n", " " + "A" * 8, "Zm9v" * 30],
)
def test_verify_returns_false_on_garbage(bad: str) -> None:
    assert verify_signature(b"x", bad, KEY.public_key) is False
    assert verify_signature(b"x", bad.encode(), KEY.public_key) is False


def test_verify_rejects_non_canonical_base64_text() -> None:
    sig = sign(b"x", KEY)
    assert verify_signature(b"x", sig, KEY.public_key)
    assert not verify_signature(b"x", sig + "\n", KEY.public_key)
    assert not verify_signature(b"x", sig[:10] + " " + sig[10:], KEY.public_key)
    assert not verify_signature(b"x", sig + "====", KEY.public_key)
    message, padded = next(
        (m, p)
        for i in range(100)
        if (p := sign(m := bytes([i]), KEY, deterministic=True)).endswith("=")
    )
    assert verify_signature(message, padded, KEY.public_key)
    assert not verify_signature(message, padded.rstrip("="), KEY.public_key)


def test_verify_text_has_one_spelling() -> None:
    """Changing the unused low bits of the last base64 character gives the same DER bytes;
    verify_signature still refuses that text (signature text is not malleable)."""
    message, padded = next(
        (m, p)
        for i in range(100)
        if (p := sign(m := bytes([i]), KEY, deterministic=True)).endswith("=")
    )
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = padded.rstrip("=")[-1]
    twisted_char = alphabet[alphabet.index(last) ^ 1]
    stem = padded.rstrip("=")
    twisted = stem[:-1] + twisted_char + padded[len(stem) :]
    assert base64.b64decode(twisted) == base64.b64decode(padded)
    assert verify_signature(message, padded, KEY.public_key)
    assert not verify_signature(message, twisted, KEY.public_key)
    with pytest.raises(SignatureFormatError):
        decode_signature(twisted)


def test_verify_type_errors() -> None:
    with pytest.raises(TypeError):
        verify_signature(b"x", 123, KEY.public_key)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        sign("text", KEY)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        sign(b"x", KEY.crypto)  # type: ignore[arg-type]


# --- strict DER ---------------------------------------------------------------------------


def _der(r: bytes, s: bytes, *, seq_len: int | None = None, tail: bytes = b"") -> str:
    body = b"\x02" + bytes([len(r)]) + r + b"\x02" + bytes([len(s)]) + s
    length = len(body) if seq_len is None else seq_len
    return base64.b64encode(b"\x30" + bytes([length]) + body + tail).decode()


ONE = b"\x01"
HIGH = b"\x00\x80" + b"\x11" * 31  # minimal: leading zero needed


def test_decode_signature_accepts_minimal_der() -> None:
    sig = sign(b"x", KEY)
    assert decode_signature(sig) == base64.b64decode(sig)
    assert decode_signature(_der(ONE, ONE)) == bytes.fromhex("3006020101020101")
    assert decode_signature(_der(HIGH, ONE))[4:6] == b"\x00\x80"


@pytest.mark.parametrize(
    ("sig", "why"),
    [
        ("%%%%", "base64"),
        ("MAZ=", "base64"),  # non-canonical padding bits
        (_der(ONE, ONE) + "\n", "base64"),
        (_der(ONE, ONE, tail=b"\x00"), "length"),
        (_der(ONE, ONE, seq_len=7), "length"),
        (_der(b"\x00\x01", ONE), "minimal"),
        (_der(b"\x80", ONE), "negative"),
        (_der(b"\x00", ONE), "range"),
        (_der(ONE, P256_N.to_bytes(32, "big").rjust(33, b"\x00")), "range"),
        (_der(b"", ONE), "length"),
        (base64.b64encode(b"\x31\x06\x02\x01\x01\x02\x01\x01").decode(), "SEQUENCE"),
        (base64.b64encode(b"\x30\x06\x04\x01\x01\x02\x01\x01").decode(), "INTEGER"),
        (base64.b64encode(b"\x30\x81\x06\x02\x01\x01\x02\x01\x01").decode(), "length"),
        (base64.b64encode(b"\x30\x03\x02\x01\x01").decode(), "length"),
    ],
)
def test_decode_signature_rejects(sig: str, why: str) -> None:
    with pytest.raises(SignatureFormatError) as info:
        decode_signature(sig)
    assert why in str(info.value)
    assert not verify_signature(b"x", sig, KEY.public_key)


def test_decode_signature_type() -> None:
    with pytest.raises(TypeError):
        decode_signature(b"MAYCAQECAQE=")  # type: ignore[arg-type]


# --- raw r||s -----------------------------------------------------------------------------


def test_raw_round_trip_and_verify() -> None:
    der = base64.b64decode(sign(b"raw", KEY))
    raw = der_to_raw(der)
    assert len(raw) == 64
    r, s = decode_dss_signature(der)
    assert raw == r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert raw_to_der(raw) == der
    assert verify_raw_signature(b"raw", raw, KEY.public_key)
    assert not verify_raw_signature(b"raw?", raw, KEY.public_key)
    assert not verify_raw_signature(b"raw", raw[:63], KEY.public_key)
    assert not verify_raw_signature(b"raw", bytes(64), KEY.public_key)


@pytest.mark.parametrize("raw", [b"", bytes(63), bytes(65), bytes(64), b"\xff" * 64])
def test_raw_to_der_rejects(raw: bytes) -> None:
    with pytest.raises(SignatureFormatError):
        raw_to_der(raw)


def test_der_to_raw_rejects_garbage() -> None:
    with pytest.raises(SignatureFormatError):
        der_to_raw(b"\x30\x00")


# --- properties ---------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(payload=st.binary(max_size=512), deterministic=st.booleans())
def test_property_round_trip(payload: bytes, deterministic: bool) -> None:
    sig = sign(payload, KEY, deterministic=deterministic)
    assert verify_signature(payload, sig, KEY.public_key)
    decoded = decode_signature(sig)
    assert raw_to_der(der_to_raw(decoded)) == decoded
    assert verify_raw_signature(payload, der_to_raw(decoded), KEY.public_key)


@settings(max_examples=50, deadline=None)
@given(payload=st.binary(min_size=1, max_size=256), data=st.data())
def test_property_one_byte_change_fails(payload: bytes, data: st.DataObject) -> None:
    sig = sign(payload, KEY)
    index = data.draw(st.integers(0, len(payload) - 1))
    delta = data.draw(st.integers(1, 255))
    changed = bytearray(payload)
    changed[index] = (changed[index] + delta) % 256
    assert bytes(changed) != payload
    assert not verify_signature(bytes(changed), sig, KEY.public_key)


@settings(max_examples=30, deadline=None)
@given(payload=st.binary(max_size=64), data=st.data())
def test_property_signature_byte_change_fails(payload: bytes, data: st.DataObject) -> None:
    der = bytearray(base64.b64decode(sign(payload, KEY, deterministic=True)))
    index = data.draw(st.integers(0, len(der) - 1))
    der[index] ^= data.draw(st.integers(1, 255))
    assert not verify_signature(payload, bytes(der), KEY.public_key)


# --- RFC 6979 A.2.5 -----------------------------------------------------------------------

# RFC 6979, appendix A.2.5: ECDSA, 256 bits (prime field), key pair and SHA-256 signatures.
RFC6979_X = 0xC9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721
RFC6979_UX = 0x60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6
RFC6979_UY = 0x7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299
RFC6979_SHA256 = {
    b"sample": (
        0xEFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716,
        0xF7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8,
    ),
    b"test": (
        0xF1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367,
        0x019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083,
    ),
}


def _rfc6979_key() -> PrivateKey:
    return PrivateKey(ec.derive_private_key(RFC6979_X, ec.SECP256R1()))


def test_rfc6979_public_key() -> None:
    public = PublicKey(
        ec.EllipticCurvePublicNumbers(RFC6979_UX, RFC6979_UY, ec.SECP256R1()).public_key()
    )
    assert _rfc6979_key().public_key == public


@pytest.mark.parametrize("message", sorted(RFC6979_SHA256))
def test_rfc6979_a25(message: bytes) -> None:
    key = _rfc6979_key()
    public = PublicKey(
        ec.EllipticCurvePublicNumbers(RFC6979_UX, RFC6979_UY, ec.SECP256R1()).public_key()
    )
    r, s = RFC6979_SHA256[message]
    expected = encode_dss_signature(r, s)
    assert verify_signature(message, expected, public)  # the RFC's values are consistent
    sig = sign(message, key, deterministic=True)
    assert base64.b64decode(sig) == expected
    assert der_to_raw(decode_signature(sig)) == r.to_bytes(32, "big") + s.to_bytes(32, "big")


@given(st.one_of(st.text(max_size=120), st.binary(max_size=120)))
def test_property_verify_never_raises_on_garbage(signature: str | bytes) -> None:
    assert verify_signature(b"payload", signature, KEY.public_key) is False


@given(st.text(max_size=120))
def test_property_decode_raises_only_typed_errors(signature: str) -> None:
    try:
        der = decode_signature(signature)
    except SignatureFormatError:
        return
    assert len(der_to_raw(der)) == 64
