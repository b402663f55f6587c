"""Privy header names and the multi-signature ``privy-authorization-signature`` header.

The header is a comma-joined list of base64 DER signatures (``sig1,sig2``). Parsing is
strict about the entries (canonical, padded standard base64; no empty entries; no
duplicates) and tolerant about optional whitespace around commas. Size limits are checked
before any per-entry work, so an oversized header costs almost nothing to refuse.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable

from authsig.errors import (
    DuplicateSignatureError,
    EmptySignatureEntryError,
    HeaderTooLargeError,
    SignatureHeaderError,
)
from authsig.policy import DEFAULT_MAX_HEADER_LENGTH, DEFAULT_MAX_SIGNATURES

__all__ = [
    "SIGNATURE_HEADER",
    "APP_ID_HEADER",
    "EXPIRY_HEADER",
    "IDEMPOTENCY_HEADER",
    "MAX_SIGNATURES",
    "MAX_HEADER_LENGTH",
    "format_signature_header",
    "parse_signature_header",
]

SIGNATURE_HEADER = "privy-authorization-signature"
APP_ID_HEADER = "privy-app-id"
EXPIRY_HEADER = "privy-request-expiry"
IDEMPOTENCY_HEADER = "privy-idempotency-key"

MAX_SIGNATURES = DEFAULT_MAX_SIGNATURES
"""Default maximum number of entries in the signature header."""
MAX_HEADER_LENGTH = DEFAULT_MAX_HEADER_LENGTH
"""Default maximum length (characters) of the signature header value."""

_OWS = " \t"
_OWS_CHARS = ("", " ", "\t")  # entry[:1] / entry[-1:] values that need a strip (or are empty)
_B64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


def _check_entry(entry: str, index: int) -> None:
    if not entry:
        raise EmptySignatureEntryError(f"signature entry {index + 1} is empty")
    if not _B64.fullmatch(entry):
        raise SignatureHeaderError(f"signature entry {index + 1} is not strict base64")
    try:
        raw = binascii.a2b_base64(entry, strict_mode=True)
    except (binascii.Error, ValueError):
        raise SignatureHeaderError(f"signature entry {index + 1} is not strict base64") from None
    if base64.b64encode(raw).decode("ascii") != entry:
        raise SignatureHeaderError(f"signature entry {index + 1} is not canonical base64")


def parse_signature_header(
    value: str,
    *,
    max_signatures: int = MAX_SIGNATURES,
    max_length: int = MAX_HEADER_LENGTH,
) -> list[str]:
    """Split the signature header into its base64 entries, in order.

    Spaces and tabs around entries are ignored. Raises :class:`HeaderTooLargeError` (more
    than ``max_length`` characters or ``max_signatures`` entries, checked first),
    :class:`EmptySignatureEntryError` (an empty header or entry: ``a,,b``, ``a,``),
    :class:`SignatureHeaderError` (an entry that is not canonical standard base64) and
    :class:`DuplicateSignatureError`.
    """
    if not isinstance(value, str):
        raise SignatureHeaderError("signature header must be text")
    if len(value) > max_length:
        raise HeaderTooLargeError(
            f"signature header is {len(value)} characters, more than the limit of {max_length}"
        )
    count = value.count(",") + 1
    if count > max_signatures:
        raise HeaderTooLargeError(
            f"signature header has {count} entries, more than the limit of {max_signatures}"
        )
    if not value.strip(_OWS):
        raise EmptySignatureEntryError("signature header is empty")
    entries = [part.strip(_OWS) for part in value.split(",")]
    if "" in entries:  # structure first: an empty entry is reported before bad base64
        raise EmptySignatureEntryError(f"signature entry {entries.index('') + 1} is empty")
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        _check_entry(entry, index)
        if entry in seen:
            raise DuplicateSignatureError(f"signature entry {index + 1} repeats an earlier one")
        seen.add(entry)
    return entries


def _parse_with_der(
    value: str,
    *,
    max_signatures: int = MAX_SIGNATURES,
    max_length: int = MAX_HEADER_LENGTH,
) -> tuple[list[str], list[bytes]]:
    """:func:`parse_signature_header`, also returning the decoded bytes of each entry.

    Internal (the verifier's hot path): entries that are exactly the canonical base64 of their
    own bytes are accepted with one decode and one re-encode each; anything else goes through
    :func:`parse_signature_header`, which raises the precise error.
    """
    if (
        type(value) is str
        and "," not in value
        and 0 < len(value) <= max_length
        and max_signatures >= 1
        and value[0] not in _OWS
        and value[-1] not in _OWS
    ):
        # One signature (the usual case): canonical base64 is accepted as is.
        try:
            raw = binascii.a2b_base64(value, strict_mode=True)
        except (binascii.Error, ValueError):
            pass
        else:
            if binascii.b2a_base64(raw, newline=False) == value.encode("ascii", "replace"):
                return [value], [raw]
    if type(value) is str and len(value) <= max_length and value.count(",") < max_signatures:
        entries = value.split(",")
        raws: list[bytes] = []
        a2b = binascii.a2b_base64
        b2a = binascii.b2a_base64
        ok = True
        for i, entry in enumerate(entries):
            if entry[:1] in _OWS_CHARS or entry[-1:] in _OWS_CHARS:
                entry = entry.strip(_OWS)
                entries[i] = entry
            if not entry:
                ok = False
                break
            try:
                raw = a2b(entry, strict_mode=True)
            except (binascii.Error, ValueError):
                ok = False
                break
            if b2a(raw, newline=False) != entry.encode("ascii", "replace"):
                ok = False
                break
            raws.append(raw)
        if ok and (len(entries) == 1 or len(set(entries)) == len(entries)):
            return entries, raws
    entries = parse_signature_header(value, max_signatures=max_signatures, max_length=max_length)
    return entries, [binascii.a2b_base64(entry) for entry in entries]


def format_signature_header(signatures: Iterable[str]) -> str:
    """Join base64 signatures into the header value (``sig1,sig2``, no spaces).

    Each entry must be canonical base64, non-empty and unique (the same errors as
    :func:`parse_signature_header`); limits are the verifier's business and not applied.
    """
    if isinstance(signatures, str):
        raise TypeError("signatures must be an iterable of strings, not a single string")
    entries = list(signatures)
    if not entries:
        raise EmptySignatureEntryError("no signatures to put in the header")
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        if not isinstance(entry, str):
            raise TypeError("each signature must be base64 text (str)")
        _check_entry(entry, index)
        if entry in seen:
            raise DuplicateSignatureError(f"signature entry {index + 1} repeats an earlier one")
        seen.add(entry)
    return ",".join(entries)
