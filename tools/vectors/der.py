"""Deterministic test keys and their encodings, written by hand.

Every key is derived from a public label (a SHA-256 of the label reduced to a scalar), so the
vectors are the same on every run. Key encodings are built here by hand (DER is canonical), so
the files do not depend on how a version of ``cryptography`` or authsig's own encoders lay out
PKCS#8, SEC1, PEM or JWK.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from authsig.keys import PrivateKey

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

OID_EC_PUBLIC_KEY = bytes.fromhex("06072a8648ce3d0201")
OID_P256 = bytes.fromhex("06082a8648ce3d030107")
OID_SECP256K1 = bytes.fromhex("06052b8104000a")


def scalar(label: str, order: int) -> int:
    """The private scalar of ``label``: in [1, order - 1]."""
    digest = hashlib.sha256(f"authsig test vectors/{label}".encode()).digest()
    return int.from_bytes(digest, "big") % (order - 1) + 1


def p256(label: str) -> PrivateKey:
    return PrivateKey.from_crypto(ec.derive_private_key(scalar(label, P256_ORDER), ec.SECP256R1()))


def secp256k1(label: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(scalar(label, K1_ORDER), ec.SECP256K1())


def ed25519_seed(label: str) -> bytes:
    return hashlib.sha256(f"authsig test vectors/ed25519/{label}".encode()).digest()


def spki_b64(key: ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey) -> str:
    """SPKI DER (canonical: named curve, uncompressed point) of a key on another curve."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return b64(der)


def tlv(tag: int, content: bytes) -> bytes:
    """One DER tag-length-value (definite length, up to 65535 bytes)."""
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    elif n < 0x100:
        length = bytes([0x81, n])
    else:
        length = bytes([0x82]) + n.to_bytes(2, "big")
    return bytes([tag]) + length + content


@dataclass(frozen=True)
class Der:
    """Hand-built encodings of one EC key pair (32-byte field)."""

    d: bytes
    point: bytes
    pkcs8: bytes
    sec1: bytes
    spki: bytes

    @classmethod
    def of(cls, key: ec.EllipticCurvePrivateKey, curve_oid: bytes = OID_P256) -> Der:
        numbers = key.private_numbers()
        d = numbers.private_value.to_bytes(32, "big")
        pub = numbers.public_numbers
        point = b"\x04" + pub.x.to_bytes(32, "big") + pub.y.to_bytes(32, "big")
        bits = tlv(0x03, b"\x00" + point)
        algorithm = tlv(0x30, OID_EC_PUBLIC_KEY + curve_oid)
        inner = tlv(0x30, b"\x02\x01\x01" + tlv(0x04, d) + tlv(0xA1, bits))
        return cls(
            d=d,
            point=point,
            pkcs8=tlv(0x30, b"\x02\x01\x00" + algorithm + tlv(0x04, inner)),
            sec1=tlv(0x30, b"\x02\x01\x01" + tlv(0x04, d) + tlv(0xA0, curve_oid) + tlv(0xA1, bits)),
            spki=tlv(0x30, algorithm + bits),
        )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def pem(label: str, der: bytes) -> str:
    text = b64(der)
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def jwk(point: bytes) -> str:
    return json.dumps(
        {"crv": "P-256", "kty": "EC", "x": b64url(point[1:33]), "y": b64url(point[33:])},
        sort_keys=True,
    )


def key_id(point: bytes) -> str:
    """RFC 7638 thumbprint of a P-256 point, computed here independently of authsig.keys."""
    members = f'{{"crv":"P-256","kty":"EC","x":"{b64url(point[1:33])}","y":"{b64url(point[33:])}"}}'
    return b64url(hashlib.sha256(members.encode("ascii")).digest())


def key_entry(key: PrivateKey) -> dict[str, Any]:
    """A signer's keys as the vectors publish them."""
    der = Der.of(key.crypto)
    return {
        "private_key": b64(der.pkcs8),
        "private_scalar_hex": der.d.hex(),
        "public_key": b64(der.spki),
        "key_id": key_id(der.point),
    }


def public_b64(label: str) -> str:
    """Base64 SPKI of the P-256 key of ``label``."""
    return b64(Der.of(p256(label).crypto).spki)
