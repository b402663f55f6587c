"""P-256 keys: loading every accepted format, refusing everything else, key ids, secrecy."""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import json
import pickle
import textwrap
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from authsig.errors import AuthSigError, EncryptedKeyError, KeyFormatError, WrongCurveError
from authsig.keys import (
    PrivateKey,
    PublicKey,
    generate_private_key,
    load_private_key,
    load_public_key,
)

KEY = generate_private_key()
PUB = KEY.public_key
SPKI_B64_PREFIX = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"


def _der_private(key: Any, fmt: serialization.PrivateFormat) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, fmt, serialization.NoEncryption())


def _pem_private(key: Any, fmt: serialization.PrivateFormat) -> str:
    pem: bytes = key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
    return pem.decode()


def _der_public(key: Any) -> bytes:
    der: bytes = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return der


# --- formats in and out ---------------------------------------------------------------------


def test_public_formats() -> None:
    b64 = PUB.to_base64()
    assert b64.startswith(SPKI_B64_PREFIX)
    assert base64.b64decode(b64) == PUB.spki_der == _der_public(PUB.crypto)
    assert len(PUB.spki_der) == 91
    assert PUB.point == PUB.crypto.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    for form in (
        b64,
        PUB.spki_der,
        PUB.point,
        PUB.to_pem(),
        PUB.to_pem().encode(),
        PUB.to_jwk(),
        json.dumps(PUB.to_jwk()),
        b64.encode(),
        PUB,
        KEY,
    ):
        assert load_public_key(form) == PUB  # type: ignore[arg-type]


def test_public_base64_with_whitespace_like_the_seed() -> None:
    b64 = PUB.to_base64()
    assert load_public_key(b64[:64] + "\n" + b64[64:]) == PUB
    assert load_public_key("\n".join(textwrap.wrap(b64, 16)) + "\n") == PUB
    assert load_public_key(f"  {b64[:10]} \t{b64[10:]}\r\n") == PUB


def test_private_formats() -> None:
    crypto = KEY.crypto
    pkcs8 = _der_private(crypto, serialization.PrivateFormat.PKCS8)
    sec1 = _der_private(crypto, serialization.PrivateFormat.TraditionalOpenSSL)
    assert base64.b64decode(KEY.to_base64()) == pkcs8
    assert KEY.to_sec1_der() == sec1
    for form in (
        KEY.to_base64(),
        "wallet-auth:" + KEY.to_base64(),
        "wallet-api:" + KEY.to_base64(),
        "wallet-auth:" + "\n".join(textwrap.wrap(KEY.to_base64(), 64)),
        pkcs8,
        sec1,
        base64.b64encode(sec1).decode(),
        KEY.to_pem(),
        _pem_private(crypto, serialization.PrivateFormat.TraditionalOpenSSL),
        KEY.to_jwk(),
        json.dumps(KEY.to_jwk()),
        KEY,
    ):
        loaded = load_private_key(form)  # type: ignore[arg-type]
        assert loaded == KEY
        assert loaded.public_key == PUB


def test_sec1_pem_with_ec_parameters_block() -> None:
    params = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
    pem = params + _pem_private(KEY.crypto, serialization.PrivateFormat.TraditionalOpenSSL)
    assert load_private_key(pem) == KEY


def test_jwk_shape() -> None:
    jwk = KEY.to_jwk()
    assert set(jwk) == {"kty", "crv", "x", "y", "d"}
    assert jwk["kty"] == "EC"
    assert jwk["crv"] == "P-256"
    numbers = KEY.crypto.private_numbers()
    assert base64.urlsafe_b64decode(jwk["d"] + "=") == numbers.private_value.to_bytes(32, "big")
    assert base64.urlsafe_b64decode(jwk["x"] + "=") == numbers.public_numbers.x.to_bytes(32, "big")
    assert base64.urlsafe_b64decode(jwk["y"] + "=") == numbers.public_numbers.y.to_bytes(32, "big")
    assert PUB.to_jwk() == {k: v for k, v in jwk.items() if k != "d"}


def test_jwk_private_without_public_part() -> None:
    jwk = {"kty": "EC", "crv": "P-256", "d": KEY.to_jwk()["d"]}
    assert load_private_key(jwk) == KEY


# --- key id (RFC 7638) ----------------------------------------------------------------------


def test_key_id_is_rfc7638_thumbprint() -> None:
    jwk = PUB.to_jwk()
    # RFC 7638 §3: required members only, lexicographic order, no whitespace, UTF-8.
    required = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    canonical = json.dumps(required, sort_keys=True, separators=(",", ":")).encode()
    expected = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
    assert PUB.key_id == expected == KEY.key_id
    assert len(PUB.key_id) == 43
    assert PUB.key_id != generate_private_key().key_id


def test_key_id_ignores_non_required_members() -> None:
    # RFC 7638 §3.2: only the required members take part ("d", "kid", "use" do not).
    jwk: dict[str, Any] = dict(KEY.to_jwk(), kid="ignored", use="sig")
    assert load_private_key(jwk).key_id == PUB.key_id


def test_key_id_published_example() -> None:
    # RFC 9449 (OAuth DPoP) §6.1: the P-256 JWK of its examples and its "jkt", the RFC 7638
    # SHA-256 thumbprint computed by the RFC authors.
    jwk = {
        "kty": "EC",
        "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
        "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA",
        "crv": "P-256",
    }
    assert load_public_key(jwk).key_id == "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"


# --- equality, hashing, immutability -------------------------------------------------------


def test_public_key_value_semantics() -> None:
    again = load_public_key(PUB.to_base64())
    assert again == PUB
    assert hash(again) == hash(PUB)
    assert again is not PUB
    assert len({PUB, again, generate_private_key().public_key}) == 2
    assert PUB.to_base64() != PUB
    assert PublicKey.from_crypto(PUB.crypto) == PUB
    with pytest.raises(AttributeError):
        PUB._spki = b""  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(PUB)) == PUB
    assert copy.deepcopy(PUB) == PUB


def test_private_key_value_semantics() -> None:
    assert load_private_key(KEY.to_base64()) == KEY
    assert generate_private_key() != KEY
    assert hash(load_private_key(KEY.to_base64())) == hash(KEY)
    assert PrivateKey.from_crypto(KEY.crypto) == KEY
    with pytest.raises(AttributeError):
        KEY._crypto = None  # type: ignore[misc, assignment]


# --- secrecy --------------------------------------------------------------------------------


def _secrets(key: PrivateKey) -> list[str]:
    pkcs8 = key.to_base64()
    pem_body = "".join(key.to_pem().splitlines()[1:-1])
    d = key.to_jwk()["d"]
    d_int = key.crypto.private_numbers().private_value
    return [pkcs8, pkcs8[40:80], pem_body[40:80], d, str(d_int), f"{d_int:x}"]


def test_private_key_repr_shows_only_key_id() -> None:
    key = generate_private_key()
    shown = [repr(key), str(key), f"{key}", f"{key!r}", f"{key}", repr([key])]
    for text in shown:
        assert key.key_id in text
        for secret in _secrets(key):
            assert secret not in text
    assert repr(key) == f"PrivateKey(key_id={key.key_id!r})"


def test_private_key_not_picklable_and_error_is_clean() -> None:
    key = generate_private_key()
    with pytest.raises(TypeError) as info:
        pickle.dumps(key)
    for secret in _secrets(key):
        assert secret not in str(info.value)
    assert copy.copy(key) is key


def _attempt(loader: Any, data: Any) -> AuthSigError | None:
    try:
        loader(data)
    except AuthSigError as exc:
        return exc
    return None


def test_loader_errors_never_echo_input() -> None:
    key = generate_private_key()
    pkcs8 = key.to_base64()
    broken = [
        pkcs8[:-8],  # truncated base64 (bad padding)
        pkcs8[:-4] + "!!!!",
        pkcs8 + "AAAA",  # trailing garbage
        "wallet-auth:" + pkcs8[:60],
        key.to_pem().replace("PRIVATE KEY", "PUBLIC KEY"),
        json.dumps(dict(key.to_jwk(), crv="P-384")),
        json.dumps(dict(key.to_jwk(), d=key.to_jwk()["d"][:-1])),
        json.dumps(dict(key.to_jwk(), x=generate_private_key().to_jwk()["x"])),
    ]
    secrets = _secrets(key)
    for data in broken:
        for loader in (load_private_key, load_public_key):
            outcome = _attempt(loader, data)
            if outcome is None:
                assert loader is load_public_key  # a private PEM/JWK can yield its public key
                continue
            message = str(outcome)
            assert all(s not in message for s in secrets)
            assert data not in message
            # no chained exception shown in tracebacks that could carry the input
            assert outcome.__cause__ is None
            assert outcome.__context__ is None or outcome.__suppress_context__


# --- refused keys ---------------------------------------------------------------------------

OTHER_CURVES = [ec.SECP256K1(), ec.SECP384R1(), ec.SECP521R1(), ec.BrainpoolP256R1()]


@pytest.mark.parametrize("curve", OTHER_CURVES, ids=lambda c: c.name)
def test_wrong_curve_everywhere(curve: ec.EllipticCurve) -> None:
    other = ec.generate_private_key(curve)
    pub = other.public_key()
    public_forms: list[Any] = [
        _der_public(pub),
        base64.b64encode(_der_public(pub)).decode(),
        pub.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode(),
    ]
    for form in public_forms:
        with pytest.raises(WrongCurveError):
            load_public_key(form)
    private_forms: list[Any] = [
        _der_private(other, serialization.PrivateFormat.PKCS8),
        _der_private(other, serialization.PrivateFormat.TraditionalOpenSSL),
        base64.b64encode(_der_private(other, serialization.PrivateFormat.PKCS8)).decode(),
        "wallet-auth:"
        + base64.b64encode(_der_private(other, serialization.PrivateFormat.PKCS8)).decode(),
        _pem_private(other, serialization.PrivateFormat.PKCS8),
        _pem_private(other, serialization.PrivateFormat.TraditionalOpenSSL),
    ]
    for form in private_forms:
        with pytest.raises(WrongCurveError):
            load_private_key(form)
    with pytest.raises(WrongCurveError):
        PublicKey.from_crypto(pub)
    with pytest.raises(WrongCurveError):
        PrivateKey.from_crypto(other)


def test_wrong_curve_jwk() -> None:
    for crv in ("P-384", "P-521", "secp256k1"):
        with pytest.raises(WrongCurveError):
            load_public_key(dict(PUB.to_jwk(), crv=crv))
        with pytest.raises(WrongCurveError):
            load_private_key(dict(KEY.to_jwk(), crv=crv))


@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
def test_non_ec_keys_refused(kind: str) -> None:
    other: Any = (
        rsa.generate_private_key(public_exponent=65537, key_size=1024)
        if kind == "rsa"
        else ed25519.Ed25519PrivateKey.generate()
    )
    forms_pub = [
        _der_public(other.public_key()),
        base64.b64encode(_der_public(other.public_key())).decode(),
    ]
    for form in forms_pub:
        with pytest.raises(KeyFormatError) as info:
            load_public_key(form)  # type: ignore[arg-type]
        assert type(info.value) is KeyFormatError
    pkcs8 = _der_private(other, serialization.PrivateFormat.PKCS8)
    for form in (
        pkcs8,
        base64.b64encode(pkcs8).decode(),
        _pem_private(other, serialization.PrivateFormat.PKCS8),
    ):
        with pytest.raises(KeyFormatError) as info:
            load_private_key(form)
        assert type(info.value) is KeyFormatError
    with pytest.raises(KeyFormatError):
        load_public_key({"kty": "OKP" if kind == "ed25519" else "RSA", "crv": "Ed25519", "x": "AA"})


def _malformed_public() -> list[Any]:
    der = PUB.spki_der
    b64 = PUB.to_base64()
    return [
        "",
        "   ",
        b"",
        "not base64 at all!",
        b64[:-4],  # truncated
        b64 + "AAAA",  # trailing garbage (decodes to extra bytes)
        b64.rstrip("=") if b64.endswith("=") else b64[:-1],
        der[:-1],  # truncated DER
        der + b"\x00",  # trailing byte
        der[:-65] + b"\x04" + bytes(64),  # (0, 0): not on the curve
        der[:24] + b"\x02\x00" + bytes(1),  # point at infinity
        b"\x00" * 65,
        PUB.point[:-1],
        "-----BEGIN PUBLIC KEY-----\n" + b64 + "\n-----END PUBLIC KEY-----\ntrailing text",
        "-----BEGIN PUBLIC KEY-----\n" + b64 + "\n-----END PRIVATE KEY-----",
        "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----",
        "{",
        "[]",
        {"kty": "EC", "crv": "P-256"},
        {"kty": "EC", "crv": "P-256", "x": PUB.to_jwk()["x"], "y": PUB.to_jwk()["y"] + "A"},
        {"kty": "EC", "crv": "P-256", "x": PUB.to_jwk()["x"] + "=", "y": PUB.to_jwk()["y"]},
        {"kty": "EC", "crv": 256, "x": PUB.to_jwk()["x"], "y": PUB.to_jwk()["y"]},
        {"crv": "P-256", "x": PUB.to_jwk()["x"], "y": PUB.to_jwk()["y"]},
        "\xff\xfe",
        b"\xff\xfe",
    ]


@pytest.mark.parametrize("data", _malformed_public(), ids=lambda d: repr(d)[:30])
def test_malformed_public_keys(data: Any) -> None:
    with pytest.raises(KeyFormatError):
        load_public_key(data)


def _malformed_private() -> list[Any]:
    pkcs8 = base64.b64decode(KEY.to_base64())
    b64 = KEY.to_base64()
    jwk = KEY.to_jwk()
    return [
        "",
        "wallet-auth:",
        b64[:-8],
        b64 + "AAAA",
        "wallet-auth: " + b64[:20] + "%" + b64[21:],
        pkcs8[:-1],
        pkcs8 + b"\x00",
        pkcs8[:20],
        PUB.to_base64(),  # a public key is not a private key
        PUB.to_pem(),
        PUB.spki_der,
        dict(jwk, d=jwk["d"][:-2]),
        {k: v for k, v in jwk.items() if k != "d"},
        dict(jwk, d="A" * 43),  # d = 0
        dict(jwk, d="_" * 42 + "8"),  # d >= n
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----",
        KEY.to_pem() + KEY.to_pem(),
    ]


@pytest.mark.parametrize("data", _malformed_private(), ids=lambda d: repr(d)[:30])
def test_malformed_private_keys(data: Any) -> None:
    with pytest.raises(KeyFormatError):
        load_private_key(data)


@pytest.mark.parametrize("data", [12345, None, object(), [PUB.to_base64()]])
def test_values_of_another_type_are_a_type_error(data: Any) -> None:
    with pytest.raises(TypeError):
        load_public_key(data)
    with pytest.raises(TypeError):
        load_private_key(data)
    with pytest.raises(TypeError):
        PublicKey(data)
    with pytest.raises(TypeError):
        PrivateKey(data)


def test_encrypted_pkcs8_der_needs_its_passphrase() -> None:
    der = KEY.crypto.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    with pytest.raises(EncryptedKeyError):
        load_private_key(der)
    assert load_private_key(der, passphrase=b"pw") == KEY
    # As a public key: named as the (encrypted) private key it is.
    with pytest.raises(KeyFormatError, match="this is a private key"):
        load_public_key(der)


# --- properties: round trips across formats -------------------------------------------------

N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
scalars = st.one_of(st.integers(min_value=1, max_value=N - 1), st.sampled_from([1, 2, N - 1]))


def _key(scalar: int) -> PrivateKey:
    return PrivateKey(ec.derive_private_key(scalar, ec.SECP256R1()))


@settings(max_examples=40, deadline=None)
@given(scalars)
def test_property_private_round_trips(scalar: int) -> None:
    key = _key(scalar)
    forms: list[Any] = [
        key.to_base64(),
        "wallet-auth:" + key.to_base64(),
        key.to_pem(),
        key.to_jwk(),
        json.dumps(key.to_jwk()),
        key.to_sec1_der(),
        base64.b64encode(key.to_sec1_der()).decode(),
        base64.b64decode(key.to_base64()),
    ]
    for form in forms:
        loaded = load_private_key(form)
        assert loaded == key
        assert loaded.to_base64() == key.to_base64()
        assert loaded.to_jwk() == key.to_jwk()


@settings(max_examples=40, deadline=None)
@given(scalars)
def test_property_public_round_trips(scalar: int) -> None:
    pub = _key(scalar).public_key
    for form in (pub.to_base64(), pub.to_pem(), pub.to_jwk(), pub.spki_der, pub.point):
        loaded = load_public_key(form)
        assert loaded == pub
        assert loaded.spki_der == pub.spki_der
        assert loaded.key_id == pub.key_id


@given(st.one_of(st.text(max_size=120), st.binary(max_size=120)))
def test_property_loaders_raise_only_typed_errors(data: str | bytes) -> None:
    for loader in (load_public_key, load_private_key):
        with contextlib.suppress(KeyFormatError):
            loader(data)


def test_embedded_public_key_must_match() -> None:
    """SEC1/PKCS#8 carry an optional public key; a mismatching one is refused."""
    other = generate_private_key().public_key.point
    for der in (KEY.to_sec1_der(), base64.b64decode(KEY.to_base64())):
        assert der.count(PUB.point) == 1
        assert load_private_key(der) == KEY
        with pytest.raises(KeyFormatError):
            load_private_key(der.replace(PUB.point, other))


def test_sec1_private_scalar_must_be_32_bytes() -> None:
    """RFC 5915: the private key OCTET STRING has the fixed length of the order (32)."""
    from asn1crypto import keys as asn1_keys

    key = _key(0x00F0 << 240 | 0x1234)  # d with a leading zero byte
    sec1 = key.to_sec1_der()
    assert bytes.fromhex("042000f0") in sec1
    assert load_private_key(sec1) == key
    short = asn1_keys.ECPrivateKey.load(sec1).dump(force=True)  # asn1crypto drops the 00
    assert bytes.fromhex("041ff0") in short
    with pytest.raises(KeyFormatError):
        load_private_key(short)


def test_error_codes() -> None:
    with pytest.raises(KeyFormatError) as info:
        load_public_key("%%%")
    assert info.value.code == "invalid_key"
    other = ec.generate_private_key(ec.SECP256K1()).public_key()
    with pytest.raises(WrongCurveError) as wrong:
        load_public_key(_der_public(other))
    assert wrong.value.code == "wrong_curve"
    assert "secp256k1" in str(wrong.value)


def test_private_pem_given_to_public_loader_is_explained() -> None:
    with pytest.raises(KeyFormatError, match="load_private_key"):
        load_public_key(KEY.to_pem())
    assert load_public_key(KEY.to_jwk()) == PUB  # a private JWK has the public part


def test_jwk_text_with_repeated_member_refused() -> None:
    x = PUB.to_jwk()["x"]
    text = json.dumps(PUB.to_jwk())[:-1] + f', "x": "{x}"}}'
    assert json.loads(text) == PUB.to_jwk()  # plain json.loads would accept it
    with pytest.raises(KeyFormatError, match="repeats"):
        load_public_key(text)


def test_oversized_input_refused_early() -> None:
    from authsig.keys import MAX_KEY_INPUT

    big = PUB.to_base64() + " " * MAX_KEY_INPUT
    with pytest.raises(KeyFormatError, match="larger"):
        load_public_key(big)
    with pytest.raises(KeyFormatError, match="larger"):
        load_private_key(b"0" * (MAX_KEY_INPUT + 1))
    assert load_public_key(PUB.to_base64() + " " * 1000) == PUB


@pytest.mark.parametrize("form", ["pkcs8", "sec1", "pkcs8-der"])
def test_private_key_given_to_public_loader_is_explained(form: str) -> None:
    forms: dict[str, str | bytes] = {
        "pkcs8": KEY.to_base64(),
        "sec1": base64.b64encode(KEY.to_sec1_der()).decode(),
        "pkcs8-der": base64.b64decode(KEY.to_base64()),
    }
    data = forms[form]
    with pytest.raises(KeyFormatError, match="use load_private_key") as info:
        load_public_key(data)
    assert KEY.to_jwk()["d"] not in str(info.value)


def test_compressed_points_refused_by_decision() -> None:
    compressed = PUB.crypto.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    assert len(compressed) == 33
    spki = bytes.fromhex("3039301306072a8648ce3d020106082a8648ce3d030107032200") + compressed
    # the construction is a valid compressed SPKI: cryptography itself loads it as our key
    assert _der_public(serialization.load_der_public_key(spki)) == PUB.spki_der
    for data in (spki, base64.b64encode(spki).decode(), compressed):
        with pytest.raises(KeyFormatError, match="compressed") as info:
            load_public_key(data)
        assert type(info.value) is KeyFormatError


def _explicit_p256_domain() -> Any:
    """P-256 spelled out as explicit SpecifiedECDomain (SEC 1 §C.2) instead of its OID."""
    from asn1crypto import keys as asn1_keys

    p = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
    b = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
    gx = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296
    gy = 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5
    domain = asn1_keys.SpecifiedECDomain(
        {
            "version": "ecdpVer1",
            "field_id": {"field_type": "prime_field", "parameters": p},
            "curve": {"a": (p - 3).to_bytes(32, "big"), "b": b.to_bytes(32, "big")},
            "base": b"\x04" + gx.to_bytes(32, "big") + gy.to_bytes(32, "big"),
            "order": N,
            "cofactor": 1,
        }
    )
    return asn1_keys.ECDomainParameters(name="specified", value=domain)


def test_explicit_curve_parameters_refused_even_when_cryptography_accepts() -> None:
    from asn1crypto import keys as asn1_keys

    params = _explicit_p256_domain()
    spki = asn1_keys.PublicKeyInfo(
        {"algorithm": {"algorithm": "ec", "parameters": params}, "public_key": PUB.point}
    ).dump()
    named = asn1_keys.ECPrivateKey.load(KEY.to_sec1_der())
    sec1 = asn1_keys.ECPrivateKey(
        {
            "version": "ecPrivkeyVer1",
            "private_key": named["private_key"],
            "parameters": params,
            "public_key": named["public_key"],
        }
    ).dump()
    pkcs8 = asn1_keys.PrivateKeyInfo(
        {
            "version": 0,
            "private_key_algorithm": {"algorithm": "ec", "parameters": params},
            "private_key": asn1_keys.ECPrivateKey(
                {
                    "version": "ecPrivkeyVer1",
                    "private_key": named["private_key"],
                    "public_key": named["public_key"],
                }
            ),
        }
    ).dump()
    # control: cryptography maps these explicit parameters to P-256 and loads our key
    assert _der_public(serialization.load_der_public_key(spki)) == PUB.spki_der
    crypto_private = serialization.load_der_private_key(sec1, None)
    assert isinstance(crypto_private, ec.EllipticCurvePrivateKey)
    assert PrivateKey(crypto_private) == KEY
    for data in (spki, base64.b64encode(spki).decode()):
        with pytest.raises(KeyFormatError, match="explicit") as info:
            load_public_key(data)
        assert type(info.value) is KeyFormatError
    for data in (sec1, base64.b64encode(sec1).decode(), pkcs8):
        with pytest.raises(KeyFormatError) as info:
            load_private_key(data)
        assert type(info.value) is KeyFormatError


# The two authorization keys of Privy's key quorum API page ("Update key quorum"), exactly as
# the page shows them: base64 SPKI with a newline after 64 characters.
PRIVY_DOC_KEYS = [
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEx4aoeD72yykviK+f/ckqE2CItVIG\n"
    "1rCnvC3/XZ1HgpOcMEMialRmTrqIK4oZlYd1RfxU3za/C9yjhboIuoPD3g==",
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAErzZtQr/bMIh3Y8f9ZqseB9i/AfjQ\n"
    "hu+agbNqXcJy/TfoNqvc/Y3Mh7gIZ8ZLXQEykycx4mYSpqrxp1lBKqsZDQ==",
]


@pytest.mark.parametrize("text", PRIVY_DOC_KEYS)
def test_privy_documentation_keys(text: str) -> None:
    key = load_public_key(text)
    assert key.to_base64() == text.replace("\n", "")
    # the same point as cryptography reads it from the DER
    der = base64.b64decode(text.replace("\n", ""))
    assert key.spki_der == _der_public(serialization.load_der_public_key(der))
    assert load_public_key(json.dumps(key.to_jwk())) == key
