"""Harness ``keys``: the P-256 key loaders (DER, base64, PEM, JWK) and the Cobo key loaders.

Invariants: only AuthSigError subclasses (KeyFormatError family) escape; any key that loads
round-trips through every output format to an equal key with the same key id; a private
key's repr never shows the secret; a loaded Cobo key round-trips through hex.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from authsig.cobo.keys import load_api_key, load_api_secret
from authsig.errors import AuthSigError
from authsig.keys import PrivateKey, PublicKey, load_private_key, load_public_key
from fuzz import InvariantBroken
from fuzz._data import Reader


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise InvariantBroken(what)


def _public_round_trip(key: PublicKey) -> None:
    for form in (key.to_base64(), key.to_pem(), key.to_jwk(), key.spki_der, key.point):
        again = load_public_key(form)
        _check(again == key and again.key_id == key.key_id, "public key round trip differs")
    _check(len(key.point) == 65 and key.point[0] == 4, "point is not uncompressed")


def _private_round_trip(key: PrivateKey) -> None:
    for form in (key.to_base64(), key.to_pem(), key.to_jwk()):
        again = load_private_key(form)
        _check(again == key and again.key_id == key.key_id, "private key round trip differs")
    _check(key.to_base64() not in repr(key) and key.to_jwk()["d"] not in repr(key), "repr leak")
    _public_round_trip(key.public_key)


def _input(r: Reader) -> Any:
    kind = r.byte() % 6
    raw = r.rest()
    if kind == 0:
        return raw
    if kind == 1:
        return raw.decode("latin-1")
    if kind == 2:  # base64 of the raw bytes, maybe with a prefix
        return "wallet-auth:" + base64.b64encode(raw).decode()
    if kind == 3:  # PEM armour around the raw bytes
        label = ("PUBLIC KEY", "PRIVATE KEY", "EC PRIVATE KEY", "CERTIFICATE")[len(raw) % 4]
        body = base64.b64encode(raw).decode()
        return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"
    if kind == 4:  # a JWK mapping parsed from the bytes (any JSON value)
        try:
            return json.loads(raw.decode("utf-8", "replace"))
        except (ValueError, RecursionError):
            return raw.decode("utf-8", "replace")
    return raw.decode("utf-8", "replace")


def test_one_input(data: bytes) -> None:
    """One fuzz case (see the module docstring for the invariants)."""
    r = Reader(data)
    target = r.byte() % 4
    value = _input(r)
    try:
        if target == 0:
            _public_round_trip(load_public_key(value))
        elif target == 1:
            _private_round_trip(load_private_key(value))
        elif target == 2:
            if isinstance(value, str | bytes):
                key = load_api_key(value)
                _check(load_api_key(key.hex) == key, "Cobo API key round trip differs")
        elif isinstance(value, str | bytes):
            secret = load_api_secret(value)
            _check(load_api_secret(secret.secret_hex()).api_key == secret.api_key, "Cobo secret")
            _check(secret.secret_hex() not in repr(secret), "Cobo secret in repr")
    except AuthSigError:
        return


def _seeds() -> list[bytes]:
    """Valid keys in every input shape (target byte, shape byte, data) for the corpus."""
    from cryptography.hazmat.primitives.asymmetric import ec

    key = PrivateKey(ec.derive_private_key(5, ec.SECP256R1()))
    pub = key.public_key
    der = base64.b64decode(key.to_base64())
    return [
        bytes([0, 0]) + pub.spki_der,
        bytes([0, 0]) + pub.point,
        bytes([0, 1]) + pub.to_pem().encode(),
        bytes([0, 2]) + pub.spki_der,
        bytes([0, 4]) + json.dumps(pub.to_jwk()).encode(),
        bytes([1, 0]) + der,
        bytes([1, 1]) + key.to_pem().encode(),
        bytes([1, 2]) + der,
        bytes([1, 3]) + der,
        bytes([1, 4]) + json.dumps(key.to_jwk()).encode(),
        bytes([2, 1]) + b"ab" * 32,
        bytes([3, 1]) + b"cd" * 32,
    ]


SEEDS = _seeds()
