"""``keys.json``: loading P-256 keys in Privy's formats; keys on other curves are refused."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from .der import (
    OID_SECP256K1,
    P256_ORDER,
    Der,
    b64,
    ed25519_seed,
    jwk,
    key_id,
    p256,
    pem,
    scalar,
    secp256k1,
    spki_b64,
)

DESCRIPTION = "Loading P-256 keys in Privy's formats; keys on other curves are refused."

#: (name, kind, input (an entry of _inputs()), expected error (None: the main key loads)).
_CASES: list[tuple[str, str, str, str | None]] = [
    ("public/base64-spki", "public", "spki", None),
    ("public/base64-spki-with-newline", "public", "spki-with-newline", None),
    ("public/pem", "public", "spki-pem", None),
    ("public/jwk", "public", "jwk", None),
    ("private/base64-pkcs8", "private", "pkcs8", None),
    ("private/wallet-auth-prefix", "private", "wallet-auth", None),
    ("private/base64-sec1", "private", "sec1", None),
    ("private/pem", "private", "pkcs8-pem", None),
    ("private/pem-sec1", "private", "sec1-pem", None),
    ("public/wrong-curve-secp256k1", "public", "secp256k1-spki", "wrong_curve"),
    ("public/wrong-curve-p384", "public", "p384-spki", "wrong_curve"),
    ("private/wrong-curve-secp256k1", "private", "secp256k1-pkcs8", "wrong_curve"),
    ("public/ed25519-is-not-p256", "public", "ed25519-spki", "invalid_key"),
    ("public/truncated-der", "public", "truncated-spki", "invalid_key"),
    ("public/not-base64", "public", "not-base64", "invalid_key"),
]

_DESCRIPTIONS = {
    "public/base64-spki-with-newline": "Privy shows keys with a line break after 64 characters",
    "private/wallet-auth-prefix": (
        "the Privy dashboard shows private keys with a wallet-auth: prefix"
    ),
}


def _inputs(der: Der) -> dict[str, str]:
    """Every input text, by the name the case table uses."""
    spki, pkcs8 = b64(der.spki), b64(der.pkcs8)
    k1 = secp256k1("keys/secp256k1")
    p384 = ec.derive_private_key(scalar("keys/p384", P256_ORDER), ec.SECP384R1())
    ed = ed25519.Ed25519PrivateKey.from_private_bytes(ed25519_seed("keys/ed25519"))
    return {
        "spki": spki,
        "spki-with-newline": spki[:64] + "\n" + spki[64:],
        "spki-pem": pem("PUBLIC KEY", der.spki),
        "jwk": jwk(der.point),
        "pkcs8": pkcs8,
        "wallet-auth": "wallet-auth:" + pkcs8,
        "sec1": b64(der.sec1),
        "pkcs8-pem": pem("PRIVATE KEY", der.pkcs8),
        "sec1-pem": pem("EC PRIVATE KEY", der.sec1),
        "secp256k1-spki": spki_b64(k1.public_key()),
        "p384-spki": spki_b64(p384.public_key()),
        "secp256k1-pkcs8": b64(Der.of(k1, OID_SECP256K1).pkcs8),
        "ed25519-spki": spki_b64(ed.public_key()),
        "truncated-spki": b64(der.spki[:-5]),
        "not-base64": "not a key!",
    }


def cases() -> list[dict[str, Any]]:
    der = Der.of(p256("keys/main").crypto)
    inputs = _inputs(der)
    ok = {"public_key": b64(der.spki), "key_id": key_id(der.point)}
    out: list[dict[str, Any]] = []
    for name, kind, input_name, error in _CASES:
        case: dict[str, Any] = {
            "name": name,
            "kind": kind,
            "input": inputs[input_name],
            "expected": ok if error is None else {"error": error},
        }
        if name in _DESCRIPTIONS:
            case["description"] = _DESCRIPTIONS[name]
        out.append(case)
    return out
