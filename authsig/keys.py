"""P-256 keys: loading, exporting and identifying them.

Privy's formats are base64 of DER: SubjectPublicKeyInfo for public keys, PKCS#8 for private
keys (the dashboard prefixes private keys with ``wallet-auth:``). authsig also reads PEM
(``PUBLIC KEY``, ``PRIVATE KEY``, SEC1 ``EC PRIVATE KEY``), SEC1 DER private keys, JWK
(RFC 7517/7518, as a mapping or JSON text) and raw DER bytes.

Every key that is not on P-256 (secp256r1) is refused with :class:`WrongCurveError`;
every other unusable input with :class:`KeyFormatError`. Error messages describe the
problem, never the input (which may be a private key).

Decisions on encodings that Wycheproof marks "acceptable" (``ecdh_secp256r1_test.json``):

* **Explicit curve parameters** (``UnnamedCurve``, ``UnusedParam``): refused
  (:class:`KeyFormatError`). Only the named curve OID ``1.2.840.10045.3.1.7`` is accepted.
  Explicit parameters are a known source of curve-substitution bugs, no Privy SDK produces
  them, and checking every parameter against P-256 would only re-derive the OID. The same
  holds for private keys (PKCS#8 and SEC1), although ``cryptography`` itself loads explicit
  parameters that spell out P-256.
* **Compressed points** (``CompressedPoint``): refused (:class:`KeyFormatError`). Privy
  keys are uncompressed SPKI; a compressed key would not round-trip byte-for-byte through
  :meth:`PublicKey.to_base64` and would be refused as a quorum member by Privy's API, so a
  configuration that loaded here would fail there. A compressed x coordinate that is not on
  P-256 at all (a twist point) is reported as :class:`WrongCurveError` first.
* **Non-canonical DER** (``InvalidAsn``: BER lengths, extra or missing fields, trailing
  bytes, ...): refused (:class:`KeyFormatError`). A P-256 public key must be exactly the
  91-byte canonical SPKI encoding, so equality and hashing on SPKI bytes are sound.

A point that is not on P-256 (including points on other curves given with the P-256 OID,
and points on the twist) is :class:`WrongCurveError`; the point at infinity is
:class:`KeyFormatError`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any, NoReturn

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from authsig._keytext import (
    MAX_KEY_INPUT,
    P256_OID,
    _algorithm_label,
    _ascii_text,
    _b64url,
    _check_size,
    _fail,
    _jwk_check_type,
    _jwk_coordinate,
    _jwk_mapping,
    _key_b64decode,
    _single_pem,
    _strip_prefix,
    _type_hint,
    _wrong_curve,
)
from authsig._pkcs8 import (
    classify_private_der,
    decrypt_pkcs8,
    encryption,
    is_encrypted_pkcs8,
    params_named,
)
from authsig.errors import KeyFormatError, WrongCurveError

__all__ = [
    "MAX_KEY_INPUT",
    "PublicKey",
    "PrivateKey",
    "generate_private_key",
    "load_private_key",
    "load_public_key",
]

_CURVE = ec.SECP256R1()
# SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (66 bytes: 0 unused + 65) }
_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")
_SPKI_LEN = len(_SPKI_PREFIX) + 65


def _curve_name(curve: ec.EllipticCurve) -> str:
    return str(getattr(curve, "name", type(curve).__name__))


# --- public keys --------------------------------------------------------------------------


class PublicKey:
    """A P-256 public key. Immutable; equal and hashed by its SPKI DER bytes."""

    __slots__ = ("_crypto", "_hash", "_key_id", "_spki")

    _crypto: ec.EllipticCurvePublicKey
    _spki: bytes
    _hash: int
    _key_id: str | None

    def __init__(self, crypto: ec.EllipticCurvePublicKey, *, _spki: bytes | None = None) -> None:
        """Wrap a ``cryptography`` P-256 public key (see also :meth:`from_crypto`)."""
        if not isinstance(crypto, ec.EllipticCurvePublicKey):
            raise TypeError(f"expected an EC public key object, got {type(crypto).__name__}")
        if not isinstance(crypto.curve, ec.SECP256R1):
            raise WrongCurveError(
                f"key is on {_curve_name(crypto.curve)}, expected P-256 (secp256r1)"
            )
        spki = _spki
        if spki is None:
            spki = crypto.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        object.__setattr__(self, "_crypto", crypto)
        object.__setattr__(self, "_spki", spki)
        object.__setattr__(self, "_hash", hash(spki))
        object.__setattr__(self, "_key_id", None)

    @classmethod
    def from_crypto(cls, key: ec.EllipticCurvePublicKey) -> PublicKey:
        """Wrap a ``cryptography`` public key; raises :class:`WrongCurveError` if not P-256."""
        return cls(key)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("PublicKey is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("PublicKey is immutable")

    @property
    def crypto(self) -> ec.EllipticCurvePublicKey:
        """The underlying ``cryptography`` key."""
        return self._crypto

    @property
    def spki_der(self) -> bytes:
        """DER SubjectPublicKeyInfo (91 bytes, uncompressed point)."""
        return self._spki

    @property
    def point(self) -> bytes:
        """The 65-byte uncompressed point ``04 || x || y``."""
        return self._spki[len(_SPKI_PREFIX) :]

    @property
    def key_id(self) -> str:
        """RFC 7638 JWK thumbprint (SHA-256, base64url without padding)."""
        kid = self._key_id
        if kid is None:
            jwk = self.to_jwk()
            canonical = (
                ('{"crv":"' + jwk["crv"] + '","kty":"' + jwk["kty"] + '","x":"' + jwk["x"])
                + '","y":"'
                + jwk["y"]
                + '"}'
            )
            kid = _b64url(hashlib.sha256(canonical.encode("ascii")).digest())
            object.__setattr__(self, "_key_id", kid)
        return kid

    def to_base64(self) -> str:
        """Base64 of the SPKI DER, one line (Privy's public key format)."""
        return base64.b64encode(self._spki).decode("ascii")

    def to_pem(self) -> str:
        """PEM ``PUBLIC KEY``."""
        return self._crypto.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    def to_jwk(self) -> dict[str, str]:
        """JWK (RFC 7518 §6.2.1): ``kty``, ``crv``, ``x``, ``y``."""
        point = self.point
        return {"kty": "EC", "crv": "P-256", "x": _b64url(point[1:33]), "y": _b64url(point[33:])}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PublicKey):
            return NotImplemented
        return self._spki == other._spki

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"PublicKey(key_id={self.key_id!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (load_public_key, (self._spki,))

    def __copy__(self) -> PublicKey:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> PublicKey:
        return self


def _from_point(point: bytes) -> PublicKey:
    """Uncompressed 65-byte point -> PublicKey (on-curve check by ``cryptography``)."""
    if len(point) != 65 or point[0] != 4:
        _fail("public key point is not a 65-byte uncompressed point")
    try:
        crypto = ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, point)
    except ValueError:
        raise WrongCurveError("public key point is not on P-256") from None
    return PublicKey(crypto, _spki=_SPKI_PREFIX + point)


def _classify_spki(der: bytes) -> NoReturn:
    """Explain why ``der`` is not a canonical P-256 SPKI (always raises)."""
    from asn1crypto import keys as asn1_keys

    try:
        info = asn1_keys.PublicKeyInfo.load(der, strict=True)
        algorithm = info["algorithm"]["algorithm"].native
        params = info["algorithm"]["parameters"]
        if algorithm != "ec":
            raise KeyFormatError(f"{_algorithm_label(algorithm)}, expected a P-256 EC public key")
        if params.name != "named":
            raise KeyFormatError(
                "EC key with explicit or implicit curve parameters; only the named curve P-256 "
                "is accepted"
            )
        curve_oid = params.chosen.dotted
        if curve_oid != P256_OID:
            _wrong_curve(curve_oid, params.chosen.native)
        point = info["public_key"].contents
        canonical = info.dump(force=True)
    except KeyFormatError:
        raise
    except Exception:  # asn1crypto raises many types on garbage
        if _looks_private(der):
            _fail("this is a private key, not a public key; use load_private_key")
        _fail("not a DER SubjectPublicKeyInfo")
    # The P-256 OID, but not the canonical 91-byte encoding.
    if canonical != der:
        _fail("P-256 public key is not canonical DER")
    if point[:1] != b"\x00":
        _fail("public key BIT STRING has unused bits")
    point = point[1:]  # drop the unused-bits byte
    if len(point) == 33 and point[0] in (2, 3):
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, point)
        except ValueError:
            raise WrongCurveError("compressed public key point is not on P-256") from None
        _fail("compressed points are not accepted; use the uncompressed SPKI encoding")
    if point == b"\x00":
        _fail("public key is the point at infinity")
    _fail("P-256 public key point is not a 65-byte uncompressed point")


def _looks_private(der: bytes) -> bool:
    from asn1crypto import keys as asn1_keys

    if is_encrypted_pkcs8(der):
        return True
    for spec in (asn1_keys.PrivateKeyInfo, asn1_keys.ECPrivateKey):
        try:
            spec.load(der, strict=True).native  # noqa: B018 - forces a full parse
        except Exception:  # noqa: S112 - any parse failure means "not this structure"
            continue
        return True
    return False


def _public_from_der(der: bytes) -> PublicKey:
    if len(der) == _SPKI_LEN and der.startswith(_SPKI_PREFIX):
        return _from_point(der[len(_SPKI_PREFIX) :])
    _classify_spki(der)


def _public_from_jwk(jwk: Mapping[str, Any]) -> PublicKey:
    _jwk_check_type(jwk)
    x = _jwk_coordinate(jwk, "x")
    y = _jwk_coordinate(jwk, "y")
    return _from_point(b"\x04" + x + y)


def load_public_key(
    data: str | bytes | Mapping[str, Any] | PublicKey | PrivateKey,
) -> PublicKey:
    """Load a P-256 public key.

    Accepts base64 SPKI DER (whitespace allowed inside), PEM ``PUBLIC KEY``, a JWK (mapping
    or JSON text), DER bytes, a 65-byte uncompressed point, a :class:`PublicKey` (returned as
    is) or a :class:`PrivateKey` (its public key).
    Raises :class:`WrongCurveError` or :class:`KeyFormatError` for unusable key data, and
    :class:`TypeError` for a value of another type.
    """
    if isinstance(data, PublicKey):
        return data
    if isinstance(data, PrivateKey):
        return data.public_key
    _check_size(data)
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        if raw[:1] == b"\x30":
            return _public_from_der(raw)
        if len(raw) == 65 and raw[0] == 4:
            return _from_point(raw)
        if len(raw) == 33 and raw[0] in (2, 3):
            _fail("compressed points are not accepted; use the uncompressed point or SPKI")
        data = _ascii_text(raw)
    if isinstance(data, str):
        text = _strip_prefix(data)
        if text.startswith("-----BEGIN"):
            _label, der = _single_pem(text, ("PUBLIC KEY",))
            return _public_from_der(der)
        if text.startswith("{"):
            return _public_from_jwk(_jwk_mapping(text))
        return _public_from_der(_key_b64decode(text, "public key"))
    if isinstance(data, Mapping):
        return _public_from_jwk(data)
    raise TypeError(_type_hint(data, "public"))


# --- private keys -------------------------------------------------------------------------


class PrivateKey:
    """A P-256 private key. ``repr``/``str`` show only the key id; it cannot be pickled."""

    __slots__ = ("_crypto", "_public")

    _crypto: ec.EllipticCurvePrivateKey
    _public: PublicKey

    def __init__(self, crypto: ec.EllipticCurvePrivateKey) -> None:
        """Wrap a ``cryptography`` P-256 private key."""
        if not isinstance(crypto, ec.EllipticCurvePrivateKey):
            raise TypeError(f"expected an EC private key object, got {type(crypto).__name__}")
        if not isinstance(crypto.curve, ec.SECP256R1):
            raise WrongCurveError(
                f"key is on {_curve_name(crypto.curve)}, expected P-256 (secp256r1)"
            )
        object.__setattr__(self, "_crypto", crypto)
        object.__setattr__(self, "_public", PublicKey(crypto.public_key()))

    @classmethod
    def from_crypto(cls, key: ec.EllipticCurvePrivateKey) -> PrivateKey:
        """Wrap a ``cryptography`` private key; raises :class:`WrongCurveError` if not P-256."""
        return cls(key)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("PrivateKey is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("PrivateKey is immutable")

    @property
    def crypto(self) -> ec.EllipticCurvePrivateKey:
        """The underlying ``cryptography`` key."""
        return self._crypto

    @property
    def public_key(self) -> PublicKey:
        """The matching public key."""
        return self._public

    @property
    def key_id(self) -> str:
        """The public key's RFC 7638 thumbprint."""
        return self._public.key_id

    def _pkcs8(self, passphrase: str | bytes | None = None) -> bytes:
        return self._crypto.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, encryption(passphrase)
        )

    def to_base64(self, passphrase: str | bytes | None = None) -> str:
        """Base64 of the PKCS#8 DER, one line, no newline (Privy's private key format, which
        the official SDKs load as is). Secret!

        With ``passphrase``: the encrypted PKCS#8 (``EncryptedPrivateKeyInfo``) DER instead,
        which :func:`load_private_key` reads back with the same passphrase.
        """
        return base64.b64encode(self._pkcs8(passphrase)).decode("ascii")

    def to_pem(self, passphrase: str | bytes | None = None) -> str:
        """PEM ``PRIVATE KEY`` (PKCS#8); with ``passphrase``, ``ENCRYPTED PRIVATE KEY``. Secret!"""
        return self._crypto.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption(passphrase)
        ).decode("ascii")

    def to_sec1_der(self) -> bytes:
        """SEC1 ``ECPrivateKey`` DER (with the named curve and public key). Secret!"""
        return self._crypto.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )

    def to_jwk(self) -> dict[str, str]:
        """JWK with ``d`` (RFC 7518 §6.2.2). Secret!"""
        jwk = self._public.to_jwk()
        jwk["d"] = _b64url(self._crypto.private_numbers().private_value.to_bytes(32, "big"))
        return jwk

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PrivateKey):
            return NotImplemented
        return hmac.compare_digest(self._pkcs8(), other._pkcs8())

    def __hash__(self) -> int:
        return hash(self._public)

    def __repr__(self) -> str:
        return f"PrivateKey(key_id={self.key_id!r})"

    def __str__(self) -> str:
        return self.__repr__()

    def __reduce__(self) -> NoReturn:
        raise TypeError("PrivateKey cannot be pickled; export it explicitly with to_base64()")

    def __copy__(self) -> PrivateKey:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> PrivateKey:
        return self


def generate_private_key() -> PrivateKey:
    """A fresh random P-256 private key."""
    return PrivateKey(ec.generate_private_key(_CURVE))


def _private_from_der(der: bytes, passphrase: str | bytes | None) -> PrivateKey:
    if is_encrypted_pkcs8(der):
        der = decrypt_pkcs8(der, passphrase)
    try:
        crypto = serialization.load_der_private_key(der, password=None)
    except (TypeError, ValueError, UnsupportedAlgorithm):
        classify_private_der(der)
    if not isinstance(crypto, ec.EllipticCurvePrivateKey):
        kind = type(crypto).__name__.removeprefix("_").replace("PrivateKey", "")
        _fail(f"a {kind or 'non-EC'} private key, expected a P-256 EC private key")
    key = PrivateKey(crypto)  # refuses other named curves
    if not params_named(der):
        _fail(
            "EC key with explicit or implicit curve parameters; only the named curve P-256 "
            "is accepted"
        )
    return key


def _private_from_jwk(jwk: Mapping[str, Any]) -> PrivateKey:
    _jwk_check_type(jwk)
    if "d" not in jwk:
        _fail("JWK has no 'd': it is a public key")
    d = int.from_bytes(_jwk_coordinate(jwk, "d"), "big")
    try:
        crypto = ec.derive_private_key(d, _CURVE)
    except ValueError:
        _fail("JWK 'd' is not a valid P-256 private scalar")
    key = PrivateKey(crypto)
    if ("x" in jwk or "y" in jwk) and key.public_key != _public_from_jwk(jwk):
        _fail("JWK 'x'/'y' do not match 'd'")
    return key


def load_private_key(
    data: str | bytes | Mapping[str, Any] | PrivateKey,
    *,
    passphrase: str | bytes | None = None,
) -> PrivateKey:
    """Load a P-256 private key.

    Accepts base64 PKCS#8 or SEC1 DER (whitespace allowed inside; a ``wallet-auth:`` or
    ``wallet-api:`` prefix is stripped), PEM (``PRIVATE KEY``, ``EC PRIVATE KEY`` or
    ``ENCRYPTED PRIVATE KEY``; literal ``\\n`` line breaks, as in environment variables, are
    accepted), a JWK with ``d`` (mapping or JSON text), DER bytes, or a :class:`PrivateKey`
    (returned as is).

    An encrypted PKCS#8 key (PEM or base64/DER ``EncryptedPrivateKeyInfo``) needs
    ``passphrase``; without it :class:`~authsig.errors.EncryptedKeyError` is raised, with a
    wrong one :class:`~authsig.errors.WrongPassphraseError`. A passphrase is not used for a key
    that is not encrypted.
    Raises :class:`WrongCurveError` or :class:`KeyFormatError` (messages never echo the input),
    and :class:`TypeError` for a value of another type (a path or a ``cryptography`` key object
    is named, with what to call instead).
    """
    if isinstance(data, PrivateKey):
        return data
    _check_size(data)
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        if raw[:1] == b"\x30":
            return _private_from_der(raw, passphrase)
        data = _ascii_text(raw)
    if isinstance(data, str):
        text = _strip_prefix(data)
        if text.startswith("-----BEGIN"):
            allowed = ("PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY")
            _label, der = _single_pem(text, allowed)
            return _private_from_der(der, passphrase)
        if text.startswith("{"):
            return _private_from_jwk(_jwk_mapping(text))
        return _private_from_der(_key_b64decode(text, "private key"), passphrase)
    if isinstance(data, Mapping):
        return _private_from_jwk(data)
    raise TypeError(_type_hint(data, "private"))
