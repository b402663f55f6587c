"""Turnkey API keys for the three stamp schemes Turnkey lists.

- ``SIGNATURE_SCHEME_TK_API_P256``: a compressed P-256 point (33 bytes, hex), ECDSA-SHA256,
  DER signature in hex (``@turnkey/api-key-stamper``, ``turnkey-api-key-stamper``).
- ``SIGNATURE_SCHEME_TK_API_SECP256K1``: the same over secp256k1.
- ``SIGNATURE_SCHEME_TK_API_ED25519``: a 32-byte Ed25519 key (hex), the 64-byte signature of
  the body in hex.

Keys travel as lower-case hex, as every Turnkey stamper writes them; one spelling per key, so
that a key is one allow-list entry and one approval. Private key material never appears in a
``repr`` or an error message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final, Literal

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from authsig.turnkey.errors import TurnkeyKeyError, TurnkeySchemeError

__all__ = [
    "ED25519",
    "P256",
    "SCHEMES",
    "SECP256K1",
    "StampScheme",
    "TurnkeyPrivateKey",
    "TurnkeyPublicKey",
    "check_scheme",
]

StampScheme = Literal[
    "SIGNATURE_SCHEME_TK_API_P256",
    "SIGNATURE_SCHEME_TK_API_SECP256K1",
    "SIGNATURE_SCHEME_TK_API_ED25519",
]
P256: Final = "SIGNATURE_SCHEME_TK_API_P256"
SECP256K1: Final = "SIGNATURE_SCHEME_TK_API_SECP256K1"
ED25519: Final = "SIGNATURE_SCHEME_TK_API_ED25519"
SCHEMES: tuple[StampScheme, ...] = (P256, SECP256K1, ED25519)

_CURVES: dict[str, ec.EllipticCurve] = {P256: ec.SECP256R1(), SECP256K1: ec.SECP256K1()}
_HEX = re.compile(r"(?:[0-9a-f]{2})+")
_CURVE_ORDERS = {
    P256: 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    SECP256K1: 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
}


def check_scheme(scheme: object) -> StampScheme:
    """``scheme`` if it is one of :data:`SCHEMES`; else :class:`TurnkeySchemeError`."""
    for known in SCHEMES:
        if scheme == known:
            return known
    raise TurnkeySchemeError("the stamp names a signature scheme authsig does not verify")


def curve_order(scheme: StampScheme) -> int:
    """The group order n of an ECDSA scheme (for the DER range and low-S checks)."""
    return _CURVE_ORDERS[scheme]


def _hex_bytes(text: str, what: str, error: type[Exception]) -> bytes:
    if not isinstance(text, str):
        raise TypeError(f"{what} must be hex text (str)")
    if not _HEX.fullmatch(text):
        raise error(f"{what} is not lower-case hex with an even number of digits")
    return bytes.fromhex(text)


@dataclass(frozen=True)
class TurnkeyPublicKey:
    """A Turnkey API public key: its ``scheme`` and its ``hex`` (the stamp's ``publicKey``)."""

    scheme: StampScheme
    hex: str
    crypto: ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey = field(compare=False, repr=False)

    @classmethod
    def from_hex(cls, text: str, scheme: str = P256) -> TurnkeyPublicKey:
        """Load a key as stamps carry it; raises :class:`TurnkeyKeyError` for anything but
        lower-case hex of a compressed point on the scheme's curve (32 bytes for Ed25519)."""
        known = check_scheme(scheme)
        raw = _hex_bytes(text, "the public key", TurnkeyKeyError)
        if known == ED25519:
            if len(raw) != 32:
                raise TurnkeyKeyError("an Ed25519 public key is 32 bytes")
            return cls(known, text, ed25519.Ed25519PublicKey.from_public_bytes(raw))
        if len(raw) != 33 or raw[0] not in (2, 3):
            raise TurnkeyKeyError("the public key is not a compressed point (33 bytes, 02/03)")
        try:
            point = ec.EllipticCurvePublicKey.from_encoded_point(_CURVES[known], raw)
        except ValueError:
            raise TurnkeyKeyError("the public key is not a point on the scheme's curve") from None
        return cls(known, text, point)


class TurnkeyPrivateKey:
    """A Turnkey API private key of one scheme; ``public_key`` is what stamps name."""

    __slots__ = ("_crypto", "public_key", "scheme")

    def __init__(
        self, scheme: StampScheme, crypto: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    ) -> None:
        known = check_scheme(scheme)
        if known == ED25519:
            fits = isinstance(crypto, ed25519.Ed25519PrivateKey)
        else:
            curve = getattr(crypto, "curve", None)
            fits = isinstance(crypto, ec.EllipticCurvePrivateKey) and isinstance(
                curve, type(_CURVES[known])
            )
        if not fits:
            raise TypeError(f"crypto is not a private key of {known}")
        self.scheme: StampScheme = known
        self._crypto = crypto
        public = crypto.public_key()
        if isinstance(public, ed25519.Ed25519PublicKey):
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        else:
            raw = public.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
            )
        self.public_key = TurnkeyPublicKey(scheme, raw.hex(), public)

    @property
    def crypto(self) -> ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey:
        """The ``cryptography`` key object."""
        return self._crypto

    @classmethod
    def generate(cls, scheme: str = P256) -> TurnkeyPrivateKey:
        """A fresh key of ``scheme``."""
        known = check_scheme(scheme)
        if known == ED25519:
            return cls(known, ed25519.Ed25519PrivateKey.generate())
        return cls(known, ec.generate_private_key(_CURVES[known]))

    @classmethod
    def from_hex(cls, text: str, scheme: str = P256) -> TurnkeyPrivateKey:
        """Load the hex private key Turnkey's tools print (the 32-byte scalar, or the Ed25519
        seed); raises :class:`TurnkeyKeyError` without echoing the text."""
        known = check_scheme(scheme)
        raw = _hex_bytes(text, "the private key", TurnkeyKeyError)
        if len(raw) != 32:
            raise TurnkeyKeyError("a private key is 32 bytes (64 hex digits)")
        if known == ED25519:
            return cls(known, ed25519.Ed25519PrivateKey.from_private_bytes(raw))
        value = int.from_bytes(raw, "big")
        if not 0 < value < _CURVE_ORDERS[known]:
            raise TurnkeyKeyError("the private key is out of range for the curve")
        try:
            return cls(known, ec.derive_private_key(value, _CURVES[known]))
        except UnsupportedAlgorithm:  # pragma: no cover - an OpenSSL without secp256k1
            raise TurnkeySchemeError("this OpenSSL does not support the scheme's curve") from None

    def to_hex(self) -> str:
        """The private key as hex (for a key file the caller asked for)."""
        if isinstance(self._crypto, ed25519.Ed25519PrivateKey):
            raw = self._crypto.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
            return raw.hex()
        return self._crypto.private_numbers().private_value.to_bytes(32, "big").hex()

    def __repr__(self) -> str:
        return f"TurnkeyPrivateKey({self.scheme}, public_key={self.public_key.hex})"
