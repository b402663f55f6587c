"""Reading key text: strict base64, PEM blocks, JWK members, and the input limits the key
loaders of :mod:`authsig.keys` share. Every failure is a :class:`~authsig.errors.KeyFormatError`
raised without the input in its message or its chain.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any, NoReturn

from authsig.errors import KeyFormatError, WrongCurveError

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
            _fail("encrypted PEM keys are not supported")
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
    text = text.strip()
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text
