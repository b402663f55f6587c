"""The two RFC 9421 algorithms authsig signs and verifies (section 3.3): ``ecdsa-p256-sha256``
(ECDSA over SHA-256 with P-256, the signature as 64 bytes ``r || s``) and ``ed25519``.

A key is authsig's P-256 :class:`~authsig.keys.PublicKey`/:class:`~authsig.keys.PrivateKey`
or a ``cryptography`` Ed25519 key; the key decides the algorithm, and an ``alg`` parameter, when
a signature carries one, must name the same.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from authsig.errors import KeyFormatError
from authsig.httpsig.errors import HttpSigKeyError
from authsig.keys import PrivateKey, PublicKey, load_private_key, load_public_key
from authsig.signatures import der_to_raw, sign, verify_raw_signature

__all__ = [
    "Algorithm",
    "SigningKey",
    "VerifyingKey",
    "algorithm_of",
    "fingerprint",
    "load_signing_key",
    "load_verifying_key",
    "sign_base",
    "verify_base",
]

Algorithm = Literal["ecdsa-p256-sha256", "ed25519"]
VerifyingKey = PublicKey | ed25519.Ed25519PublicKey
SigningKey = PrivateKey | ed25519.Ed25519PrivateKey


def algorithm_of(key: VerifyingKey | SigningKey) -> Algorithm:
    """The RFC 9421 algorithm name of ``key``."""
    if isinstance(key, PublicKey | PrivateKey):
        return "ecdsa-p256-sha256"
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return "ed25519"
    raise TypeError("a key is an authsig P-256 key or a cryptography Ed25519 key")


def _raw_ed25519(key: ed25519.Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(key: VerifyingKey) -> str:
    """A name for the key material (not its keyid): two keyids with one key share it."""
    raw = b"p256:" + key.point if isinstance(key, PublicKey) else b"ed25519:" + _raw_ed25519(key)
    return hashlib.sha256(raw).hexdigest()


def sign_base(base: bytes, key: SigningKey, *, deterministic: bool = False) -> bytes:
    """The signature over ``base`` (raw ``r || s`` for P-256, 64 bytes for Ed25519);
    ``deterministic`` signs P-256 with RFC 6979 nonces (Ed25519 always is)."""
    if isinstance(key, PrivateKey):
        return der_to_raw(base64.b64decode(sign(base, key, deterministic=deterministic)))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(base)
    raise TypeError("a signing key is an authsig PrivateKey or a cryptography Ed25519 key")


def verify_base(base: bytes, signature: bytes, key: VerifyingKey) -> bool:
    """Whether ``signature`` over ``base`` verifies with ``key`` (never raises on bad bytes)."""
    if isinstance(key, PublicKey):
        return len(signature) == 64 and verify_raw_signature(base, signature, key)
    if len(signature) != 64:
        return False
    try:
        key.verify(signature, base)
    except InvalidSignature:
        return False
    return True


def _ed25519_public(data: Any) -> ed25519.Ed25519PublicKey | None:
    if isinstance(data, ed25519.Ed25519PublicKey):
        return data
    if isinstance(data, ed25519.Ed25519PrivateKey):
        return data.public_key()
    if isinstance(data, bytes) and len(data) == 32:
        return ed25519.Ed25519PublicKey.from_public_bytes(data)
    text = data.encode() if isinstance(data, str) else data
    if isinstance(text, bytes) and text.lstrip().startswith(b"-----BEGIN PUBLIC KEY"):
        try:
            loaded = serialization.load_pem_public_key(text)
        except ValueError:
            return None
        return loaded if isinstance(loaded, ed25519.Ed25519PublicKey) else None
    return None


def load_verifying_key(data: Any) -> VerifyingKey:
    """A verifying key from an Ed25519 key (object, PEM, 32 raw bytes) or anything
    :func:`authsig.keys.load_public_key` reads (P-256). Raises :class:`HttpSigKeyError`."""
    found = _ed25519_public(data)
    if found is not None:
        return found
    try:
        return load_public_key(data)
    except KeyFormatError:
        raise HttpSigKeyError("not a P-256 or Ed25519 public key") from None


def load_signing_key(data: Any) -> SigningKey:
    """A signing key from an Ed25519 private key (object or PEM ``PRIVATE KEY``) or anything
    :func:`authsig.keys.load_private_key` reads (P-256). Raises :class:`HttpSigKeyError`."""
    if isinstance(data, ed25519.Ed25519PrivateKey):
        return data
    text = data.encode() if isinstance(data, str) else data
    if isinstance(text, bytes) and text.lstrip().startswith(b"-----BEGIN PRIVATE KEY"):
        try:
            loaded = serialization.load_pem_private_key(text, password=None)
        except (ValueError, TypeError):
            loaded = None
        if isinstance(loaded, ed25519.Ed25519PrivateKey):
            return loaded
    try:
        return load_private_key(data)
    except KeyFormatError:
        raise HttpSigKeyError("not a P-256 or Ed25519 private key") from None
