"""ECDSA P-256 / SHA-256 signatures: sign, verify, and the DER <-> raw r||s conversions.

Privy signatures are DER (``SEQUENCE { r INTEGER, s INTEGER }``) in standard base64 with
padding. SDK signatures are randomized and not low-S normalized, so verification accepts
high-S. ``deterministic=True`` signs per RFC 6979 (same key and payload, same signature).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from authsig.errors import SignatureFormatError
from authsig.keys import PrivateKey, PublicKey

__all__ = [
    "Signer",
    "AsyncSigner",
    "P256_N",
    "P256_ORDER",
    "sign",
    "verify_signature",
    "decode_signature",
    "parse_der_signature",
    "der_to_raw",
    "raw_to_der",
    "verify_raw_signature",
]

Signer = Callable[[bytes], str | bytes]
"""A synchronous external signer (KMS/HSM): payload -> base64 DER text or DER bytes."""

AsyncSigner = Callable[[bytes], Awaitable[str | bytes]]
"""An asynchronous external signer: payload -> awaitable of base64 DER text or DER bytes."""

P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
"""The order n of the P-256 base point."""
P256_ORDER = P256_N
"""The 0.1 name of :data:`P256_N`."""

_ECDSA = ec.ECDSA(hashes.SHA256())
_ECDSA_DETERMINISTIC = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
_MAX_DER_LEN = 72  # 2 + 2 * (2 + 33)


def sign(payload: bytes, private_key: PrivateKey, *, deterministic: bool = False) -> str:
    """Sign ``payload`` with ECDSA P-256/SHA-256; returns base64 of the DER signature."""
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise TypeError("payload must be bytes")
    if not isinstance(private_key, PrivateKey):
        raise TypeError("private_key must be an authsig.keys.PrivateKey")
    algorithm = _ECDSA_DETERMINISTIC if deterministic else _ECDSA
    der = private_key.crypto.sign(bytes(payload), algorithm)
    return base64.b64encode(der).decode("ascii")


def verify_signature(payload: bytes, signature: str | bytes, public_key: PublicKey) -> bool:
    """True when ``signature`` is a valid ECDSA P-256/SHA-256 signature of ``payload``.

    ``signature`` is base64 DER text (``str``, canonical padded base64 only) or DER bytes.
    Anything that is not a valid signature (bad base64, bad DER, wrong key, tampered
    payload) gives False; high-S is accepted. Only a wrong argument type raises
    (:class:`TypeError`).
    """
    if isinstance(signature, str):
        try:
            der = binascii.a2b_base64(signature, strict_mode=True)
        except (binascii.Error, ValueError):
            return False
        # strict_mode ignores the unused bits of the last character: insist on the one
        # canonical text, so a signature has exactly one accepted spelling.
        if binascii.b2a_base64(der, newline=False) != signature.encode("ascii"):
            return False
    elif isinstance(signature, bytes | bytearray | memoryview):
        der = bytes(signature)
    else:
        raise TypeError("signature must be str (base64 DER) or bytes (DER)")
    if len(der) > _MAX_DER_LEN:
        return False
    try:
        public_key.crypto.verify(der, payload, _ECDSA)
    except InvalidSignature:
        return False
    return True


def parse_der_signature(der: bytes) -> tuple[int, int]:
    """``(r, s)`` of a strict DER ``SEQUENCE { INTEGER r, INTEGER s }`` with 0 < r, s < n.

    Raises :class:`SignatureFormatError` saying what is wrong: an impossible length, not a
    SEQUENCE, a wrong or non-minimal length, a negative or non-minimally encoded INTEGER, a
    value out of range for P-256, or trailing bytes.
    """
    if len(der) < 8 or len(der) > _MAX_DER_LEN:
        raise SignatureFormatError(f"DER signature has an impossible length ({len(der)} bytes)")
    if der[0] != 0x30:
        raise SignatureFormatError("DER signature does not start with a SEQUENCE")
    if der[1] != len(der) - 2:  # short-form length only: a signature is < 128 bytes
        raise SignatureFormatError("DER signature SEQUENCE length is wrong or not minimal")
    r, end = _der_integer(der, 2, "r")
    s, end = _der_integer(der, end, "s")
    if end != len(der):
        raise SignatureFormatError("DER signature has trailing bytes")
    return r, s


def _der_integer(der: bytes, pos: int, name: str) -> tuple[int, int]:
    """The INTEGER at ``pos`` (in [1, n-1]) and the position after it."""
    if pos + 2 > len(der) or der[pos] != 0x02:
        raise SignatureFormatError(f"DER signature: {name} is not an INTEGER")
    length = der[pos + 1]
    start, end = pos + 2, pos + 2 + length
    if length == 0 or length > 33 or end > len(der):
        raise SignatureFormatError(f"DER signature: {name} has an invalid length")
    if der[start] & 0x80:
        raise SignatureFormatError(f"DER signature: {name} is negative")
    if length > 1 and der[start] == 0 and not der[start + 1] & 0x80:
        raise SignatureFormatError(f"DER signature: {name} is not minimally encoded")
    value = int.from_bytes(der[start:end], "big")
    if not 0 < value < P256_N:
        raise SignatureFormatError(f"DER signature: {name} is out of range for P-256")
    return value, end


def decode_signature(signature: str) -> bytes:
    """Strict base64 (canonical, padded) -> DER bytes, with the DER structure checked.

    Raises :class:`SignatureFormatError` for anything but a minimally encoded
    ``SEQUENCE`` of two INTEGERs in ``[1, n-1]`` without trailing bytes, and :class:`TypeError`
    when ``signature`` is not a str.
    """
    if not isinstance(signature, str):
        raise TypeError(f"signature must be base64 text (str), not {type(signature).__name__}")
    try:
        der = binascii.a2b_base64(signature, strict_mode=True)
    except (binascii.Error, ValueError):
        raise SignatureFormatError("signature is not strict base64") from None
    if base64.b64encode(der).decode("ascii") != signature:
        raise SignatureFormatError("signature is not canonical base64")
    parse_der_signature(der)
    return der


def der_to_raw(der: bytes) -> bytes:
    """DER signature -> 64-byte ``r || s`` (IEEE P1363, JWS ES256)."""
    r, s = parse_der_signature(bytes(der))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def raw_to_der(raw: bytes) -> bytes:
    """64-byte ``r || s`` -> DER signature. Raises :class:`SignatureFormatError`."""
    if len(raw) != 64:
        raise SignatureFormatError(f"raw signature must be 64 bytes, got {len(raw)}")
    r = int.from_bytes(raw[:32], "big")
    s = int.from_bytes(raw[32:], "big")
    if not (0 < r < P256_N and 0 < s < P256_N):
        raise SignatureFormatError("raw signature: r or s is out of range for P-256")
    return encode_dss_signature(r, s)


def verify_raw_signature(payload: bytes, raw: bytes, public_key: PublicKey) -> bool:
    """Like :func:`verify_signature` for a 64-byte ``r || s`` signature; never raises on it."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise TypeError("raw signature must be bytes")
    try:
        der = raw_to_der(bytes(raw))
    except SignatureFormatError:
        return False
    return verify_signature(payload, der, public_key)
