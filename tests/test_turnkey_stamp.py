"""Turnkey stamps: round trips for every scheme, and strict reading of malformed stamps."""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from authsig.errors import AuthSigError
from authsig.turnkey import (
    ED25519,
    P256,
    SCHEMES,
    SECP256K1,
    TurnkeyError,
    TurnkeyKeyError,
    TurnkeyPrivateKey,
    TurnkeyPublicKey,
    TurnkeySchemeError,
    TurnkeySignatureError,
    TurnkeyStampError,
    TurnkeyUnknownKeyError,
    encode_stamp,
    parse_stamp,
    stamp,
    verify_stamp,
)
from authsig.turnkey.keys import curve_order

BODY = b'{"organizationId":"org-1","timestampMs":"1795519976869"}'
KEY = TurnkeyPrivateKey.from_hex("11" * 32, P256)
K1 = TurnkeyPrivateKey.from_hex("22" * 32, SECP256K1)
ED = TurnkeyPrivateKey.from_hex("33" * 32, ED25519)


def _b64(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@functools.cache
def _members() -> dict[str, str]:
    header = stamp(BODY, KEY)
    value = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    assert isinstance(value, dict)
    return value


def _with(**changes: object) -> str:
    value: dict[str, object] = {**_members(), **changes}  # a copy: _members is cached
    return _b64(json.dumps({k: v for k, v in value.items() if v is not None}))


def _sig_with(r_delta: int = 0, s: int | None = None, der: bytes | None = None) -> str:
    r, s0 = decode_dss_signature(bytes.fromhex(_members()["signature"]))
    if der is None:
        der = encode_dss_signature(r + r_delta, s0 if s is None else s)
    return _with(signature=der.hex())


def _uncompressed() -> str:
    from cryptography.hazmat.primitives import serialization

    raw = KEY.public_key.crypto.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _with(publicKey=raw.hex())


def _not_on_curve() -> str:
    for x in range(2, 50):
        candidate = "02" + x.to_bytes(32, "big").hex()
        try:
            TurnkeyPublicKey.from_hex(candidate)
        except TurnkeyKeyError:
            return _with(publicKey=candidate)
    raise AssertionError("no off-curve x found")


def _padded_der() -> str:
    der = bytes.fromhex(_members()["signature"])
    # Re-encode r with a needless leading zero byte: not minimal DER.
    r, s = decode_dss_signature(der)
    rb = b"\x00" + r.to_bytes((r.bit_length() + 8) // 8, "big")
    sb = s.to_bytes((s.bit_length() + 8) // 8, "big")
    body = b"\x02" + bytes([len(rb)]) + rb + b"\x02" + bytes([len(sb)]) + sb
    return _with(signature=(b"\x30" + bytes([len(body)]) + body).hex())


#: (what is wrong, the X-Stamp value, the error class it raises)
BAD: list[tuple[str, Callable[[], str], type[AuthSigError]]] = [
    ("empty", lambda: "", TurnkeyStampError),
    ("padded base64url", lambda: stamp(BODY, KEY) + "=", TurnkeyStampError),
    (
        "standard base64 alphabet",
        lambda: (
            stamp(BODY, KEY).replace("_", "/").replace("-", "+")
            if ("_" in stamp(BODY, KEY) or "-" in stamp(BODY, KEY))
            else "a+b/"
        ),
        TurnkeyStampError,
    ),
    ("impossible length", lambda: "abcde", TurnkeyStampError),
    ("non-zero unused bits", lambda: _b64("{}")[:-1] + "f", TurnkeyStampError),
    ("too long", lambda: "A" * 1028, TurnkeyStampError),
    ("not JSON", lambda: _b64("not json"), TurnkeyStampError),
    ("not UTF-8", lambda: _b64(b'{"publicKey":"\xff"}'), TurnkeyStampError),
    ("JSON array", lambda: _b64("[]"), TurnkeyStampError),
    ("member missing", lambda: _with(scheme=None), TurnkeyStampError),
    ("extra member", lambda: _with(extra="x"), TurnkeyStampError),
    (
        "member repeated",
        lambda: _b64('{"publicKey":"02","publicKey":"03","scheme":"s"}'),
        TurnkeyStampError,
    ),
    ("member not a string", lambda: _with(signature=12), TurnkeyStampError),
    ("unknown scheme", lambda: _with(scheme="SIGNATURE_SCHEME_TK_WEBAUTHN"), TurnkeySchemeError),
    ("scheme in lower case", lambda: _with(scheme=P256.lower()), TurnkeySchemeError),
    ("key upper-case hex", lambda: _with(publicKey=KEY.public_key.hex.upper()), TurnkeyKeyError),
    ("key odd hex", lambda: _with(publicKey=KEY.public_key.hex[:-1]), TurnkeyKeyError),
    ("key uncompressed", _uncompressed, TurnkeyKeyError),
    ("key not on the curve", _not_on_curve, TurnkeyKeyError),
    ("key of another scheme", lambda: _with(publicKey=ED.public_key.hex), TurnkeyKeyError),
    ("signature not hex", lambda: _with(signature="zz"), TurnkeySignatureError),
    (
        "signature upper-case hex",
        lambda: _with(signature=_members()["signature"].upper()),
        TurnkeySignatureError,
    ),
    ("signature raw r||s", lambda: _with(signature="11" * 64), TurnkeySignatureError),
    ("signature DER not minimal", _padded_der, TurnkeySignatureError),
    (
        "signature trailing bytes",
        lambda: _with(signature=_members()["signature"] + "00"),
        TurnkeySignatureError,
    ),
    ("signature s = 0", lambda: _sig_with(s=0), TurnkeySignatureError),
    ("signature s = n", lambda: _sig_with(s=curve_order(P256)), TurnkeySignatureError),
]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_round_trip_for_every_scheme(scheme: str) -> None:
    key = TurnkeyPrivateKey.generate(scheme)
    header = stamp(BODY, key)
    parsed = verify_stamp(BODY, header, keys=[key.public_key])
    assert (parsed.scheme, parsed.key_hex) == (scheme, key.public_key.hex)
    assert parse_stamp(header) == parsed
    with pytest.raises(TurnkeySignatureError, match="does not verify"):
        verify_stamp(BODY + b" ", header)
    other = TurnkeyPrivateKey.generate(scheme)
    with pytest.raises(TurnkeyUnknownKeyError):
        verify_stamp(BODY, header, keys=[other.public_key])
    assert TurnkeyPrivateKey.from_hex(key.to_hex(), scheme).public_key == key.public_key


def test_stamp_is_compact_json_in_turnkeys_member_order() -> None:
    header = stamp(BODY, KEY)
    raw = base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)).decode()
    assert raw.startswith('{"publicKey":"' + KEY.public_key.hex + '","scheme":"' + P256 + '",')
    assert "=" not in header
    # The PyPI stamper's json.dumps spacing is read as well.
    spaced = _b64(json.dumps(_members()))
    assert verify_stamp(BODY, spaced).key_hex == KEY.public_key.hex


@pytest.mark.parametrize(("what", "build", "error"), BAD, ids=[row[0] for row in BAD])
def test_malformed_stamps_are_refused_with_their_code(
    what: str, build: Callable[[], str], error: type[AuthSigError]
) -> None:
    header = build()
    with pytest.raises(error) as raised:
        parse_stamp(header)
    assert type(raised.value) is error
    assert raised.value.code == error.code
    assert isinstance(raised.value, TurnkeyError)
    assert KEY.to_hex() not in str(raised.value)


def test_high_s_is_accepted_unless_low_s_is_required() -> None:
    _, s = decode_dss_signature(bytes.fromhex(_members()["signature"]))
    n = curve_order(P256)
    high = _sig_with(s=s if s > n // 2 else n - s)
    low = _sig_with(s=s if s <= n // 2 else n - s)
    assert verify_stamp(BODY, high).key_hex == KEY.public_key.hex
    assert verify_stamp(BODY, low, require_low_s=True).key_hex == KEY.public_key.hex
    with pytest.raises(TurnkeySignatureError, match="high S"):
        verify_stamp(BODY, high, require_low_s=True)
    with pytest.raises(TurnkeySignatureError, match="high S"):
        verify_stamp(BODY, parse_stamp(high), require_low_s=True)


def test_secp256k1_signatures_use_their_own_order() -> None:
    header = stamp(BODY, K1)
    value = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    r, _ = decode_dss_signature(bytes.fromhex(value["signature"]))
    bad = encode_dss_signature(r, curve_order(SECP256K1)).hex()
    with pytest.raises(TurnkeySignatureError):
        parse_stamp(encode_stamp(value["publicKey"], SECP256K1, bad))
    # An Ed25519 signature must be 64 bytes.
    with pytest.raises(TurnkeySignatureError):
        parse_stamp(encode_stamp(ED.public_key.hex, ED25519, "00" * 63))


def test_keys_are_loaded_strictly_and_never_shown() -> None:
    with pytest.raises(TurnkeyKeyError) as raised:
        TurnkeyPrivateKey.from_hex("00" * 32)
    assert "00" * 32 not in str(raised.value)
    with pytest.raises(TurnkeyKeyError):
        TurnkeyPrivateKey.from_hex("ab" * 31)
    with pytest.raises(TurnkeySchemeError):
        TurnkeyPrivateKey.generate("SIGNATURE_SCHEME_TK_WEBAUTHN")
    assert KEY.to_hex() not in repr(KEY)
    with pytest.raises(TypeError):
        stamp(BODY, "11" * 32)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        parse_stamp(b"abc")  # type: ignore[arg-type]


def test_a_private_key_must_fit_its_scheme() -> None:
    with pytest.raises(TypeError, match="not a private key of"):
        TurnkeyPrivateKey(P256, ED.crypto)
    with pytest.raises(TypeError, match="not a private key of"):
        TurnkeyPrivateKey(SECP256K1, KEY.crypto)
    assert TurnkeyPrivateKey(P256, KEY.crypto).public_key == KEY.public_key
