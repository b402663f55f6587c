"""``Content-Digest`` (RFC 9530): created for a body, checked against the body *received*.

The field is a structured dictionary of ``algorithm=:digest:``. authsig writes and accepts
``sha-256`` and ``sha-512`` (the algorithms RFC 9530 registers as active); members with other
names are ignored when checking, but at least one accepted algorithm must be present, and every
accepted one present must match: a field with one right and one wrong digest is a mismatch.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from authsig.httpsig import _sfv as http_sfv
from authsig.httpsig.errors import HttpSigDigestError

__all__ = ["ALGORITHMS", "DigestCheck", "check_content_digest", "content_digest"]

ALGORITHMS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}
"""The accepted digest algorithms, by their RFC 9530 names."""

_MAX_FIELD = 4096


def content_digest(body: bytes, algorithms: Iterable[str] = ("sha-256",)) -> str:
    """The ``Content-Digest`` value of ``body`` with ``algorithms`` (``sha-256``/``sha-512``)."""
    if not isinstance(body, bytes | bytearray | memoryview):
        raise TypeError("body must be bytes")
    out = http_sfv.Dictionary()
    for name in algorithms:
        if name not in ALGORITHMS:
            raise ValueError(f"unsupported digest algorithm {name!r}; use sha-256 or sha-512")
        out[name] = http_sfv.Item(ALGORITHMS[name](bytes(body)).digest())
    if not out:
        raise ValueError("at least one digest algorithm is needed")
    return str(out)


@dataclass(frozen=True)
class DigestCheck:
    """The outcome of checking a body: ``matches``, and the algorithms that did not match."""

    matches: bool
    checked: tuple[str, ...]
    mismatched: tuple[str, ...]


def _parse(lines: Sequence[str]) -> http_sfv.Dictionary:
    text = ", ".join(lines)
    if len(text) > _MAX_FIELD:
        raise HttpSigDigestError(f"Content-Digest is longer than {_MAX_FIELD} characters")
    parsed = http_sfv.Dictionary()
    try:
        parsed.parse(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise HttpSigDigestError("Content-Digest is not a structured-field dictionary") from None
    return parsed


def check_content_digest(lines: Sequence[str], body: bytes) -> DigestCheck:
    """Check the ``Content-Digest`` field (its ``lines``) against the received ``body``.

    Raises :class:`HttpSigDigestError` when the field is malformed or has no accepted
    algorithm; a digest that differs is a :class:`DigestCheck` with ``matches`` False.
    """
    parsed = _parse(lines)
    checked = []
    mismatched = []
    for name, function in ALGORITHMS.items():
        if name not in parsed:
            continue
        member = parsed[name]
        if not isinstance(member, http_sfv.Item) or not isinstance(member.value, bytes):
            raise HttpSigDigestError(f"Content-Digest {name} is not a byte sequence")
        checked.append(name)
        if not hmac.compare_digest(member.value, function(bytes(body)).digest()):
            mismatched.append(name)
    if not checked:
        raise HttpSigDigestError("Content-Digest has no sha-256 or sha-512 digest")
    return DigestCheck(not mismatched, tuple(checked), tuple(mismatched))
