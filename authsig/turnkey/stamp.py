"""Turnkey API stamps: make one over a body, read one strictly, verify it.

The ``X-Stamp`` header is unpadded base64url of a JSON object with exactly three string
members: ``publicKey`` (hex), ``scheme`` and ``signature`` (hex). The signature covers the raw
request body and nothing else: not the method, not the URL, not a time. What makes a stamped
body fresh is therefore the body itself (Turnkey bodies carry ``timestampMs``); see
:mod:`authsig.turnkey.scheme`.

Reading is strict: canonical unpadded base64url, UTF-8 JSON with exactly the three members and
none repeated, lower-case hex, a compressed point on the scheme's curve, canonical DER with
``0 < r, s < n``. JSON whitespace and member order are free, because Turnkey's own stampers
differ there (``turnkey-api-key-stamper`` writes ``json.dumps`` spacing); nothing counts
stamps by their spelling (replay keys and approvals go by body and key). High-S ECDSA signatures are
accepted by default, because Turnkey's own stampers do not normalise S (``node:crypto`` in
``@turnkey/api-key-stamper``, ``cryptography`` in ``turnkey-api-key-stamper``) and Turnkey's
``verifyStampSignature`` accepts them; ``require_low_s=True`` refuses them.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from authsig.errors import SignatureFormatError
from authsig.signatures import parse_der_signature
from authsig.turnkey.errors import (
    TurnkeySignatureError,
    TurnkeyStampError,
    TurnkeyUnknownKeyError,
)
from authsig.turnkey.keys import (
    ED25519,
    P256,
    StampScheme,
    TurnkeyPrivateKey,
    TurnkeyPublicKey,
    check_scheme,
    curve_order,
)

__all__ = [
    "MAX_STAMP_LENGTH",
    "STAMP_HEADER",
    "Stamp",
    "encode_stamp",
    "parse_stamp",
    "stamp",
    "verify_stamp",
]

STAMP_HEADER: Final = "X-Stamp"
MAX_STAMP_LENGTH = 1024
"""Longest ``X-Stamp`` value read (a P-256 stamp is about 400 characters): a longer header is
refused before it is decoded."""

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_HEX = re.compile(r"(?:[0-9a-f]{2})+")
_MEMBERS = ("publicKey", "scheme", "signature")
_ECDSA = ec.ECDSA(hashes.SHA256())
_ECDSA_RFC6979 = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)


@dataclass(frozen=True)
class Stamp:
    """A parsed stamp: the key that made it, its scheme, and the signature bytes."""

    public_key: TurnkeyPublicKey
    signature: bytes = field(repr=False)

    @property
    def scheme(self) -> StampScheme:
        """The stamp's signature scheme."""
        return self.public_key.scheme

    @property
    def key_hex(self) -> str:
        """The stamp's ``publicKey`` (hex)."""
        return self.public_key.hex

    def to_header(self) -> str:
        """The ``X-Stamp`` value (compact JSON, members in Turnkey's order)."""
        return encode_stamp(self.public_key.hex, self.public_key.scheme, self.signature.hex())


def encode_stamp(public_key_hex: str, scheme: str, signature_hex: str) -> str:
    """The ``X-Stamp`` value of three members, as ``@turnkey/api-key-stamper`` writes it."""
    text = json.dumps(
        {"publicKey": public_key_hex, "scheme": scheme, "signature": signature_hex},
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(text.encode()).decode("ascii").rstrip("=")


def _sign(body: bytes, key: TurnkeyPrivateKey, deterministic: bool) -> bytes:
    crypto = key.crypto
    if isinstance(crypto, ed25519.Ed25519PrivateKey):
        return crypto.sign(body)
    return crypto.sign(body, _ECDSA_RFC6979 if deterministic else _ECDSA)


def stamp(body: bytes | str, key: TurnkeyPrivateKey, *, deterministic: bool = False) -> str:
    """The ``X-Stamp`` value for ``body`` (the exact bytes sent; a ``str`` is UTF-8 encoded).

    ``deterministic=True`` signs ECDSA with RFC 6979 nonces (same key and body, same stamp;
    the published vectors use it); Ed25519 is deterministic anyway.
    """
    if isinstance(body, str):
        body = body.encode("utf-8")
    if not isinstance(body, bytes | bytearray | memoryview):
        raise TypeError("body must be bytes or str")
    if not isinstance(key, TurnkeyPrivateKey):
        raise TypeError("key must be an authsig.turnkey.TurnkeyPrivateKey")
    signature = _sign(bytes(body), key, bool(deterministic))
    return Stamp(key.public_key, signature).to_header()


def _decode_base64url(header: str) -> bytes:
    if len(header) > MAX_STAMP_LENGTH:
        raise TurnkeyStampError(f"the stamp is longer than {MAX_STAMP_LENGTH} characters")
    if not header or not _B64URL.fullmatch(header) or len(header) % 4 == 1:
        raise TurnkeyStampError("the stamp is not unpadded base64url")
    try:
        raw = base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))
    except (binascii.Error, ValueError):  # pragma: no cover - the pattern admits only valid text
        raise TurnkeyStampError("the stamp is not unpadded base64url") from None
    # Unused bits of the last character must be zero: one spelling per stamp.
    if base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=") != header:
        raise TurnkeyStampError("the stamp is not canonical base64url")
    return raw


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            raise TurnkeyStampError(f"the stamp repeats the member {name!r}")
        out[name] = value
    return out


def _stamp_members(raw: bytes) -> dict[str, str]:
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        if isinstance(exc, TurnkeyStampError):
            raise
        raise TurnkeyStampError("the stamp is not UTF-8 JSON") from None
    if not isinstance(value, dict):
        raise TurnkeyStampError("the stamp is not a JSON object")
    if sorted(value) != list(_MEMBERS):
        raise TurnkeyStampError("the stamp must have exactly publicKey, scheme and signature")
    for name in _MEMBERS:
        if not isinstance(value[name], str):
            raise TurnkeyStampError(f"the stamp's {name} is not a string")
    return value


def _ecdsa_der(der: bytes, scheme: StampScheme, require_low_s: bool) -> tuple[int, int]:
    try:
        if scheme == P256:
            # The core's strict parser: minimal lengths and integers, 0 < r, s < n.
            r, s = parse_der_signature(der)
        else:
            r, s = decode_dss_signature(der)
            # Canonical DER only (the re-encoding is minimal), and the range of secp256k1.
            if encode_dss_signature(r, s) != der or not 0 < r < curve_order(scheme):
                raise SignatureFormatError("not canonical DER")
            if not 0 < s < curve_order(scheme):
                raise SignatureFormatError("s is out of range")
    except (SignatureFormatError, ValueError):
        raise TurnkeySignatureError("the stamp's signature is not a strict DER signature") from None
    if require_low_s and s > curve_order(scheme) // 2:
        raise TurnkeySignatureError("the stamp's signature has a high S (require_low_s)")
    return r, s


def parse_stamp(header: str, *, require_low_s: bool = False) -> Stamp:
    """Read an ``X-Stamp`` value strictly (see the module docstring).

    Raises :class:`~authsig.turnkey.errors.TurnkeyStampError` (encoding, JSON shape),
    :class:`~authsig.turnkey.errors.TurnkeySchemeError`, :class:`~authsig.turnkey.errors.
    TurnkeyKeyError` or :class:`~authsig.turnkey.errors.TurnkeySignatureError`; ``TypeError``
    when ``header`` is not a ``str``.
    """
    if not isinstance(header, str):
        raise TypeError("the stamp must be text (str)")
    members = _stamp_members(_decode_base64url(header))
    scheme = check_scheme(members["scheme"])
    key = TurnkeyPublicKey.from_hex(members["publicKey"], scheme)
    signature_hex = members["signature"]
    if not _HEX.fullmatch(signature_hex):
        raise TurnkeySignatureError("the stamp's signature is not lower-case hex")
    signature = bytes.fromhex(signature_hex)
    if scheme == ED25519:
        if len(signature) != 64:
            raise TurnkeySignatureError("an Ed25519 signature is 64 bytes")
    else:
        _ecdsa_der(signature, scheme, require_low_s)
    return Stamp(key, signature)


def _verifies(body: bytes, parsed: Stamp) -> bool:
    crypto = parsed.public_key.crypto
    try:
        if isinstance(crypto, ed25519.Ed25519PublicKey):
            crypto.verify(parsed.signature, body)
        else:
            crypto.verify(parsed.signature, body, _ECDSA)
    except InvalidSignature:
        return False
    return True


def verify_stamp(
    body: bytes | str,
    header: str | Stamp,
    *,
    keys: Iterable[str | TurnkeyPublicKey] | None = None,
    require_low_s: bool = False,
) -> Stamp:
    """Check that ``header`` is a valid stamp of ``body`` (by one of ``keys``, when given);
    return the parsed stamp.

    Raises what :func:`parse_stamp` raises, and
    :class:`~authsig.turnkey.errors.TurnkeySignatureError` when the signature does not verify,
    :class:`~authsig.turnkey.errors.TurnkeyUnknownKeyError` when the key is not in ``keys``.
    """
    if isinstance(body, str):
        body = body.encode("utf-8")
    if not isinstance(body, bytes | bytearray | memoryview):
        raise TypeError("body must be bytes or str")
    if isinstance(header, Stamp):
        parsed = header
        if require_low_s and parsed.scheme != ED25519:
            _ecdsa_der(parsed.signature, parsed.scheme, True)
    else:
        parsed = parse_stamp(header, require_low_s=require_low_s)
    if keys is not None:
        # Hex alone is read as P-256: a key is its scheme and its bytes.
        allowed = {
            k if isinstance(k, TurnkeyPublicKey) else TurnkeyPublicKey.from_hex(k) for k in keys
        }
        if parsed.public_key not in allowed:
            raise TurnkeyUnknownKeyError("the stamp's key is not one this check accepts")
    if not _verifies(bytes(body), parsed):
        raise TurnkeySignatureError("the stamp's signature does not verify over the body")
    return parsed
