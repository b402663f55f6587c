"""Privy header names, reading them from a request, and the ``privy-authorization-signature``
header.

:func:`read_headers` reads what the scheme needs from a request's headers in one pass: the
signature header and the participating headers that the payload signs.

The signature header is a comma-joined list of base64 DER signatures (``sig1,sig2``). Parsing
is strict about the entries (canonical, padded standard base64; no empty entries; no
duplicates) and tolerant about optional whitespace around commas. Size limits are checked
before any per-entry work, so an oversized header costs almost nothing to refuse.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple, TypeAlias

from authsig.errors import (
    AuthSigError,
    DuplicateSignatureError,
    EmptySignatureEntryError,
    HeaderTooLargeError,
    MissingHeaderError,
    PayloadError,
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
    "PARTICIPATING_HEADERS",
    "Headers",
    "PrivyHeaders",
    "format_signature_header",
    "parse_signature_header",
    "read_headers",
]

SIGNATURE_HEADER = "privy-authorization-signature"
APP_ID_HEADER = "privy-app-id"
EXPIRY_HEADER = "privy-request-expiry"
IDEMPOTENCY_HEADER = "privy-idempotency-key"

PARTICIPATING_HEADERS: tuple[str, ...] = (APP_ID_HEADER, IDEMPOTENCY_HEADER, EXPIRY_HEADER)
"""The headers the payload signs, in the order they appear in it (``privy-app-id`` is
required, the others are signed when sent)."""

Headers: TypeAlias = Mapping[str, str] | Iterable[tuple[str, str]]
"""Request headers: a mapping or (name, value) pairs; names are case-insensitive."""

MAX_SIGNATURES = DEFAULT_MAX_SIGNATURES
"""Default maximum number of entries in the signature header."""
MAX_HEADER_LENGTH = DEFAULT_MAX_HEADER_LENGTH
"""Default maximum length (characters) of the signature header value."""

_OWS = " \t"
_B64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


def _check_entry(entry: str, index: int) -> None:
    if not entry:
        raise EmptySignatureEntryError(f"signature entry {index + 1} is empty")
    try:
        raw = binascii.a2b_base64(entry, strict_mode=True)
    except (binascii.Error, ValueError):
        raise SignatureHeaderError(f"signature entry {index + 1} is not strict base64") from None
    # Strict mode still accepts unused bits set in the last character, and padding after a
    # complete group: insist on the one canonical text, so that a signature has exactly one
    # accepted spelling. Only the first kind is merely "not canonical".
    if binascii.b2a_base64(raw, newline=False) != entry.encode("ascii"):
        kind = "canonical" if _B64.fullmatch(entry) else "strict"
        raise SignatureHeaderError(f"signature entry {index + 1} is not {kind} base64")


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
        raise TypeError(f"the signature header value must be a str, not {type(value).__name__}")
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


class PrivyHeaders(NamedTuple):
    """The Privy headers of one request, as :func:`read_headers` found them.

    ``signature`` is the signature header's (first) value, None when it was not sent. ``signed``
    holds the participating headers that were sent, in payload order. ``header_error`` is set
    when the signature or expiry header was sent more than once: the request cannot be
    checked at all. ``payload_error`` is set when the participating headers cannot form a
    payload (one sent twice, or no ``privy-app-id``); it is raised when a payload is built.
    """

    signature: str | None
    signed: dict[str, str]
    header_error: AuthSigError | None = None
    payload_error: PayloadError | None = None

    @property
    def expiry(self) -> str | None:
        """The ``privy-request-expiry`` value (None when it was not sent)."""
        return self.signed.get(EXPIRY_HEADER)

    def payload_headers(self) -> dict[str, str]:
        """The participating headers, or the error that keeps them from forming a payload."""
        if isinstance(self.header_error, PayloadError):
            raise self.header_error
        if self.payload_error is not None:
            raise self.payload_error
        return self.signed


def _text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"header {name} must be a str, not {type(value).__name__}")
    return value


_NOT_PAIRS = "headers must be a mapping or an iterable of (name, value) pairs"


def read_headers(headers: Headers | PrivyHeaders) -> PrivyHeaders:
    """Read the signature header and the participating headers of a request, in one pass.

    Names are case-insensitive. A problem with the request (a header sent twice, no app id) is
    recorded on the result, not raised, so that the verifier can report problems in a fixed
    order. Raises :class:`TypeError` when ``headers`` is neither a mapping nor (name, value)
    pairs of strings (for the headers read here). A :class:`PrivyHeaders` is returned as is.
    """
    if isinstance(headers, PrivyHeaders):
        return headers
    pairs: Iterable[Any] = headers.items() if isinstance(headers, Mapping) else headers
    signature: str | None = None
    found: dict[str, str] = {}
    header_error: AuthSigError | None = None
    payload_error: PayloadError | None = None
    try:
        iterator = iter(pairs)
    except TypeError:
        raise TypeError(_NOT_PAIRS) from None
    for pair in iterator:
        try:
            name, value = pair
        except (TypeError, ValueError):
            raise TypeError(_NOT_PAIRS) from None
        if not isinstance(name, str):
            raise TypeError(f"header names must be str, not {type(name).__name__}")
        lowered = name.lower()
        if lowered == SIGNATURE_HEADER:
            if signature is None:
                signature = _text(lowered, value)
            elif header_error is None:
                header_error = SignatureHeaderError(
                    f"the {SIGNATURE_HEADER} header is sent more than once; send one header "
                    "with the signatures separated by commas"
                )
        elif lowered in _PARTICIPATING:
            if lowered not in found:
                found[lowered] = _text(lowered, value)
            elif lowered == EXPIRY_HEADER:
                if header_error is None:
                    header_error = PayloadError(
                        f"the {EXPIRY_HEADER} header is sent more than once"
                    )
            elif payload_error is None:
                payload_error = PayloadError(f"header {lowered} is given more than once")
    if APP_ID_HEADER not in found and payload_error is None:
        payload_error = MissingHeaderError(f"the {APP_ID_HEADER} header is required")
    if len(found) > 1:
        found = {name: found[name] for name in PARTICIPATING_HEADERS if name in found}
    return PrivyHeaders(signature, found, header_error, payload_error)


_PARTICIPATING = frozenset(PARTICIPATING_HEADERS)


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
