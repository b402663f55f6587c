"""Reading key text: strict base64, PEM blocks, JWK members, and the input limits the key
loaders of :mod:`authsig.keys` share. Every failure is a :class:`~authsig.errors.KeyFormatError`
raised without the input in its message or its chain.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Mapping
from typing import Any, NoReturn

from cryptography.hazmat.primitives.asymmetric import ec

from authsig.errors import KeyFormatError, WrongCurveError

PATH_GIVEN = (
    "a file path was given where key text was expected: read the file first, or use "
    "authsig.signers.resolve_key(PATH)"
)
"""The hint for a path given to a key loader (it never repeats the path)."""
_PATH_LIKE = re.compile(r"[\w.~/\\:-]{1,4096}")
_PREFIXES = ("wallet-auth:", "wallet-api:")
MAX_KEY_INPUT = 65536
"""Largest key input (characters or bytes) the loaders look at; P-256 keys are far smaller."""
_WHITESPACE = re.compile(r"[ \t\r\n\f\v]+")
_B64URL_32 = re.compile(r"[A-Za-z0-9_-]{43}")
_PEM_BLOCK = re.compile(
    r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END ([A-Z0-9 ]+)-----",
    re.DOTALL,
)


def _fail(message: str) -> NoReturn:
    # ``from None``: a chained exception could carry the input in its message.
    raise KeyFormatError(message) from None


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _strict_b64decode(text: str, what: str) -> bytes:
    """Standard base64 with padding, whitespace removed first; nothing else tolerated."""
    compact = _WHITESPACE.sub("", text)
    if not compact:
        _fail(f"{what} is empty")
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        _fail(f"{what} is not valid base64")
    if base64.b64encode(raw).decode("ascii") != compact:
        _fail(f"{what} is not canonical base64")
    return raw


def _pem_blocks(text: str) -> list[tuple[str, bytes]]:
    blocks: list[tuple[str, bytes]] = []
    end = 0
    for match in _PEM_BLOCK.finditer(text):
        if text[end : match.start()].strip():
            _fail("unexpected text outside the PEM blocks")
        end = match.end()
        label, body, end_label = match.group(1), match.group(2), match.group(3)
        if label != end_label:
            _fail("PEM BEGIN and END labels differ")
        if "Proc-Type" in body or "DEK-Info" in body:
            _fail(
                "legacy-encrypted PEM (Proc-Type/DEK-Info) is not supported: re-encrypt it as "
                "PKCS#8 (ENCRYPTED PRIVATE KEY), e.g. with openssl pkcs8 -topk8"
            )
        blocks.append((label, _strict_b64decode(body, "PEM body")))
    if text[end:].strip():
        _fail("unexpected text outside the PEM blocks")
    if not blocks:
        _fail("no PEM block found")
    return blocks


def _single_pem(text: str, allowed: tuple[str, ...]) -> tuple[str, bytes]:
    blocks = [(label, der) for label, der in _pem_blocks(text) if label != "EC PARAMETERS"]
    if len(blocks) != 1:
        _fail("expected exactly one PEM key block")
    label, der = blocks[0]
    if label not in allowed:
        if "PRIVATE" in label and "PUBLIC KEY" in allowed:
            _fail(f"PEM block is a private key ({label}); use load_private_key")
        if label == "PUBLIC KEY":
            _fail(PUBLIC_GIVEN)
        _fail(f"unsupported PEM block type {label!r}; expected one of {', '.join(allowed)}")
    return label, der


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError("duplicate member")
        result[name] = value
    return result


def _jwk_mapping(data: str) -> Mapping[str, Any]:
    try:
        value = json.loads(data, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError):
        _fail("JWK text is not valid JSON (or repeats a member)")
    if not isinstance(value, dict):
        _fail("JWK must be a JSON object")
    return value


def _jwk_coordinate(jwk: Mapping[str, Any], name: str) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str):
        _fail(f"JWK member {name!r} is missing or not a string")
    if not _B64URL_32.fullmatch(value):
        _fail(f"JWK member {name!r} is not 32 bytes of base64url without padding")
    raw = base64.urlsafe_b64decode(value + "=")
    if _b64url(raw) != value:
        _fail(f"JWK member {name!r} is not canonical base64url")
    return raw


def _jwk_check_type(jwk: Mapping[str, Any]) -> None:
    kty = jwk.get("kty")
    if kty != "EC":
        if isinstance(kty, str) and kty in ("RSA", "OKP", "oct"):
            _fail(f"JWK is a {kty} key, expected an EC P-256 key")
        _fail("JWK 'kty' must be 'EC'")
    crv = jwk.get("crv")
    if crv != "P-256":
        if isinstance(crv, str) and len(crv) <= 32:
            raise WrongCurveError(f"JWK key is on {crv!r}, expected P-256")
        _fail("JWK 'crv' is missing or invalid")


def _ascii_text(data: bytes) -> str:
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        _fail("key bytes are neither DER nor ASCII text")


def _check_size(data: object) -> None:
    if isinstance(data, str | bytes | bytearray | memoryview) and len(data) > MAX_KEY_INPUT:
        _fail(f"key input is larger than {MAX_KEY_INPUT} characters")


def _strip_prefix(text: str) -> str:
    """Key text without surrounding whitespace, a dashboard prefix or escaped newlines.

    A PEM kept in an environment variable or a ``.env`` file often has literal ``\\n`` for
    its line breaks. A backslash is never part of base64 or PEM, so they are read as newlines
    (JSON text is left alone: ``\\n`` is an escape there).
    """
    text = text.strip()
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    if "\\" in text and not text.startswith("{"):
        text = text.replace("\\r\\n", "\n").replace("\\n", "\n").strip()
    return text


def _key_b64decode(text: str, what: str) -> bytes:
    """Base64 key text; a value that reads as a file path gets its own hint."""
    if _looks_like_path(text):
        _fail(PATH_GIVEN)
    return _strict_b64decode(text, what)


def _looks_like_path(text: str) -> bool:
    # Base64 has no '.', '~' or '\\', and DER key text starts with 'M', not '/'.
    if not _PATH_LIKE.fullmatch(text):
        return False
    return any(c in text for c in ".~\\") or text.startswith("/")


PUBLIC_GIVEN = (
    "this is a public key, not a private key: signing needs the private key "
    "(load_public_key reads public keys)"
)
"""The hint for a public key given where a private key was expected."""

P256_OID = "1.2.840.10045.3.1.7"
_CURVE_NAMES = {
    "1.3.132.0.10": "secp256k1",
    "1.3.132.0.34": "P-384",
    "1.3.132.0.35": "P-521",
    "1.3.132.0.33": "P-224",
    "1.2.840.10045.3.1.1": "P-192",
    "1.2.250.1.223.101.256.1": "FRP256v1",
}


def _wrong_curve(oid: str, asn1_name: str) -> NoReturn:
    """Raise for a curve OID that is not P-256: WrongCurveError for a known curve."""
    label = _CURVE_NAMES.get(oid) or (asn1_name if asn1_name != oid else None)
    if label is None:
        _fail("unknown elliptic curve OID")
    raise WrongCurveError(f"key is on {label}, expected P-256 (secp256r1)")


_ALGORITHMS = {
    "rsa": "an RSA key",
    "rsassa_pss": "an RSA-PSS key",
    "dsa": "a DSA key",
    "ed25519": "an Ed25519 key",
    "ed448": "an Ed448 key",
    "x25519": "an X25519 key",
    "x448": "an X448 key",
}


def _algorithm_label(algorithm: str) -> str:
    # Unknown algorithms come back as dotted OIDs from the input: do not echo them.
    return _ALGORITHMS.get(algorithm, "not an EC key")


def _type_hint(data: object, want: str) -> str:
    """The TypeError message for a value no key loader reads (``want``: private or public)."""
    name = type(data).__name__
    if isinstance(data, os.PathLike):
        return (
            f"cannot load a {want} key from a path ({name}): read the file first, or use "
            "authsig.signers.resolve_key(str(path))"
        )
    if isinstance(data, ec.EllipticCurvePrivateKey):
        fix = "PrivateKey.from_crypto(key)" + (".public_key" if want == "public" else "")
        return f"cannot load a {want} key from a cryptography key object: use {fix}"
    if isinstance(data, ec.EllipticCurvePublicKey):
        if want == "public":
            return (
                "cannot load a public key from a cryptography key object: "
                "use PublicKey.from_crypto(key)"
            )
        return "a cryptography public key object cannot sign: signing needs the private key"
    if type(data).__module__.startswith("cryptography."):
        return (
            f"cannot load a {want} key from a cryptography {name}: authsig keys are P-256 EC keys"
        )
    return f"cannot load a {want} key from {name}"
