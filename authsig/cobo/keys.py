"""Cobo WaaS 2.0 API keys: Ed25519 (the default) and secp256k1 (the SDK's ``curve_type`` option).

The API secret is the raw private key as hex (Ed25519: the 32-byte seed, 64 hex chars;
secp256k1: the 32-byte scalar). The API key is the raw public key as hex (Ed25519: 32 bytes,
64 hex chars; secp256k1: the 33-byte compressed point, 66 hex chars). Signatures travel as hex:
Ed25519 raw 64 bytes, secp256k1 DER with low S (what the official SDK produces).
"""

from __future__ import annotations

import hmac
import re
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)

from authsig.cobo.errors import CoboKeyError

__all__ = [
    "CoboPrivateKey",
    "CoboPublicKey",
    "Curve",
    "SECP256K1_ORDER",
    "ed25519_verify",
    "generate_api_key_pair",
    "generate_api_secret",
    "load_api_key",
    "load_api_secret",
]

Curve = Literal["ED25519", "SECP256K1"]

SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_ORDER = SECP256K1_ORDER // 2
_HEX = re.compile(r"[0-9a-fA-F]*")


def _check_curve(curve: str) -> Curve:
    upper = curve.upper() if isinstance(curve, str) else ""
    if upper == "ED25519":
        return "ED25519"
    if upper == "SECP256K1":
        return "SECP256K1"
    raise CoboKeyError(f"unsupported curve {curve!r}: expected 'ED25519' or 'SECP256K1'")


def _from_hex(value: str, what: str) -> bytes:
    text = value.strip()
    if text[:2] in ("0x", "0X"):
        text = text[2:]
    if len(text) % 2 or not _HEX.fullmatch(text):
        raise CoboKeyError(f"{what} is not hex text")
    return bytes.fromhex(text)


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Verify a raw Ed25519 signature (RFC 8032) over ``message``.

    Returns False for anything that is not a valid signature by ``public_key``: wrong length,
    non-canonical encodings, a public key that is not a curve point. Never raises on bad input.
    """
    if len(public_key) != 32 or len(signature) != 64:
        return False
    try:
        key = ed25519.Ed25519PublicKey.from_public_bytes(bytes(public_key))
        key.verify(bytes(signature), bytes(message))
    except (InvalidSignature, ValueError):
        return False
    return True


def _secp256k1_low_s_der(der: bytes) -> bytes:
    r, s = decode_dss_signature(der)
    if s > _HALF_ORDER:
        s = SECP256K1_ORDER - s
    return encode_dss_signature(r, s)


def _strict_secp256k1_der(signature: bytes) -> tuple[int, int] | None:
    """(r, s) when ``signature`` is canonical DER with 0 < r, s < n and low S, else None."""
    try:
        r, s = decode_dss_signature(signature)
    except ValueError:
        return None
    if not (0 < r < SECP256K1_ORDER and 0 < s <= _HALF_ORDER):
        return None
    if encode_dss_signature(r, s) != signature:
        return None
    return r, s


class CoboPublicKey:
    """A Cobo API key (a public key). Immutable; equal when curve and raw bytes are equal."""

    __slots__ = ("_crypto", "_curve", "_raw")

    def __init__(self, curve: Curve, raw: bytes) -> None:
        curve = _check_curve(curve)
        crypto: ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
        try:
            if curve == "ED25519":
                if len(raw) != 32:
                    raise CoboKeyError("an Ed25519 API key is 32 bytes (64 hex chars)")
                crypto = ed25519.Ed25519PublicKey.from_public_bytes(bytes(raw))
                raw = bytes(raw)
            else:
                if len(raw) not in (33, 65):
                    raise CoboKeyError(
                        "a secp256k1 API key is a 33-byte compressed (66 hex chars) "
                        "or 65-byte uncompressed point"
                    )
                crypto = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), bytes(raw))
                raw = crypto.public_bytes(
                    serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
                )
        except ValueError as exc:
            raise CoboKeyError(f"not a valid {curve} public key") from exc
        self._curve: Curve = curve
        self._raw = raw
        self._crypto = crypto

    @property
    def curve(self) -> Curve:
        """``"ED25519"`` or ``"SECP256K1"``."""
        return self._curve

    @property
    def raw(self) -> bytes:
        """Raw public key bytes (secp256k1: compressed point)."""
        return self._raw

    @property
    def hex(self) -> str:
        """The API key as lower-case hex, as the SDK sends it in ``Biz-Api-Key``."""
        return self._raw.hex()

    def verify_digest(self, digest: bytes, signature: bytes) -> bool:
        """Verify ``signature`` (Ed25519 raw 64 bytes; secp256k1 strict low-S DER) over ``digest``.

        The signed message is the 32-byte double-SHA-256 digest itself. Returns False on any
        invalid or malformed signature; never raises on bad input.
        """
        if self._curve == "ED25519":
            return ed25519_verify(self._raw, digest, signature)
        if len(digest) != 32 or _strict_secp256k1_der(bytes(signature)) is None:
            return False
        assert isinstance(self._crypto, ec.EllipticCurvePublicKey)
        try:
            self._crypto.verify(
                bytes(signature), bytes(digest), ec.ECDSA(Prehashed(hashes.SHA256()))
            )
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CoboPublicKey):
            return NotImplemented
        return self._curve == other._curve and hmac.compare_digest(self._raw, other._raw)

    def __hash__(self) -> int:
        return hash((self._curve, self._raw))

    def __repr__(self) -> str:
        return f"CoboPublicKey({self._curve}, {self.hex})"


class CoboPrivateKey:
    """A Cobo API secret (a private key). ``repr``/``str`` show only the API key (public)."""

    __slots__ = ("_crypto", "_curve", "_public")

    def __init__(self, curve: Curve, secret: bytes) -> None:
        curve = _check_curve(curve)
        if len(secret) != 32:
            raise CoboKeyError("an API secret is 32 bytes (64 hex chars)")
        crypto: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
        if curve == "ED25519":
            crypto = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(secret))
            raw = crypto.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        else:
            scalar = int.from_bytes(secret, "big")
            if not 0 < scalar < SECP256K1_ORDER:
                raise CoboKeyError("a secp256k1 API secret must be in [1, n-1]")
            crypto = ec.derive_private_key(scalar, ec.SECP256K1())
            raw = crypto.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
            )
        self._curve: Curve = curve
        self._crypto = crypto
        self._public = CoboPublicKey(curve, raw)

    @property
    def curve(self) -> Curve:
        """``"ED25519"`` or ``"SECP256K1"``."""
        return self._curve

    @property
    def public_key(self) -> CoboPublicKey:
        """The matching API key."""
        return self._public

    @property
    def api_key(self) -> str:
        """The API key as hex (what goes in ``Biz-Api-Key``)."""
        return self._public.hex

    def secret_hex(self) -> str:
        """Export the API secret as hex. Handle the result as a secret."""
        if isinstance(self._crypto, ed25519.Ed25519PrivateKey):
            return self._crypto.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            ).hex()
        return self._crypto.private_numbers().private_value.to_bytes(32, "big").hex()

    def sign_digest(self, digest: bytes) -> str:
        """Sign the 32-byte request digest; hex of the signature, as the SDK encodes it.

        Ed25519 is deterministic (identical to the SDK's). secp256k1 uses RFC 6979 nonces and
        low-S DER (the SDK uses random nonces, so its bytes differ, but both verify).
        """
        if isinstance(self._crypto, ed25519.Ed25519PrivateKey):
            return self._crypto.sign(bytes(digest)).hex()
        if len(digest) != 32:
            raise CoboKeyError("a secp256k1 request digest is 32 bytes")
        der = self._crypto.sign(
            bytes(digest), ec.ECDSA(Prehashed(hashes.SHA256()), deterministic_signing=True)
        )
        return _secp256k1_low_s_der(der).hex()

    def __repr__(self) -> str:
        return f"CoboPrivateKey({self._curve}, api_key={self.api_key})"

    __str__ = __repr__


def generate_api_secret(curve: Curve = "ED25519") -> CoboPrivateKey:
    """Generate a new API key pair as a :class:`CoboPrivateKey`."""
    curve = _check_curve(curve)
    if curve == "ED25519":
        seed = ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return CoboPrivateKey("ED25519", seed)
    value = ec.generate_private_key(ec.SECP256K1()).private_numbers().private_value
    return CoboPrivateKey("SECP256K1", value.to_bytes(32, "big"))


def generate_api_key_pair(curve: Curve = "ED25519") -> tuple[str, str]:
    """Generate ``(api_secret_hex, api_key_hex)``, like the SDK's ``generate_key_pair``."""
    key = generate_api_secret(curve)
    return key.secret_hex(), key.api_key


def load_api_secret(
    data: str | bytes | CoboPrivateKey, *, curve: Curve = "ED25519"
) -> CoboPrivateKey:
    """Load an API secret: hex text (64 chars) or the 32 raw bytes.

    Raises :class:`~authsig.errors.CoboKeyError` (the message never echoes the input).
    """
    if isinstance(data, CoboPrivateKey):
        if data.curve != _check_curve(curve):
            raise CoboKeyError(f"the API secret is {data.curve}, not {curve}")
        return data
    if isinstance(data, str):
        raw = _from_hex(data, "the API secret")
    elif isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
    else:
        raise CoboKeyError(f"cannot load an API secret from {type(data).__name__}")
    return CoboPrivateKey(curve, raw)


def load_api_key(data: str | bytes | CoboPublicKey, *, curve: Curve | None = None) -> CoboPublicKey:
    """Load an API key (public key): hex text or raw bytes.

    Without ``curve`` the length decides: 32 bytes is Ed25519, a 33-byte compressed or 65-byte
    uncompressed point is secp256k1.
    """
    if isinstance(data, CoboPublicKey):
        if curve is not None and data.curve != _check_curve(curve):
            raise CoboKeyError(f"the API key is {data.curve}, not {curve}")
        return data
    if isinstance(data, str):
        raw = _from_hex(data, "the API key")
    elif isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
    else:
        raise CoboKeyError(f"cannot load an API key from {type(data).__name__}")
    if curve is None:
        curve = "ED25519" if len(raw) == 32 else "SECP256K1"
    return CoboPublicKey(curve, raw)
