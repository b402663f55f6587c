"""Payload files and signature files of the multi-party flow (``payload``, ``sign --payload``,
``combine``).

A payload file holds exactly the bytes that are signed. Both ``sign --payload`` and ``combine``
read the request back from it and refuse one that is not canonical: the request shown to a
signer, and assembled by ``combine``, must be the one the bytes describe.

A signature file holds one line per signature, ``SIGNATURE KEY_ID``: the key id (RFC 7638
thumbprint) says who signed, so ``combine`` can name a missing or wrong signer. Files written
before the key id was added (one bare signature per line, or comma-separated) still read.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from authsig.cli._io import CLIError, read_input
from authsig.errors import AuthSigError, PayloadError

__all__ = [
    "PayloadParts",
    "SignatureEntry",
    "format_signature_line",
    "parse_payload_file",
    "read_signatures",
    "refuse_expired",
    "summary",
]

Profile = Literal["rfc8785", "canonicaljson"]
EmptyBody = Literal["string", "preserve"]
PROFILES: tuple[Profile, ...] = ("rfc8785", "canonicaljson")
# No lifetime cap when checking a payload's expiry: only whether it is already dead matters.
_NO_LIFETIME_CAP = timedelta(days=3650)
_PREVIEW = 72


@dataclass(frozen=True)
class PayloadParts:
    """The request parts recovered from a canonical payload file."""

    method: str
    url: str
    body: Any
    headers: dict[str, str]
    profile: Profile


@dataclass(frozen=True)
class SignatureEntry:
    """One signature, and the key id its file declares (None in files without one)."""

    signature: str
    key_id: str | None


def _shape_ok(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and obj.get("version") == 1
        and isinstance(obj.get("method"), str)
        and isinstance(obj.get("url"), str)
        and "body" in obj
        and isinstance(obj.get("headers"), dict)
        and all(isinstance(v, str) for v in obj["headers"].values())
    )


def parse_payload_file(
    name: str, payload: bytes, profiles: Sequence[Profile] = PROFILES
) -> PayloadParts:
    """Recover method, URL, body and privy headers from payload bytes, checked canonical in
    one of ``profiles``; :class:`CLIError` otherwise."""
    from authsig.privy.payload import parse_body, signing_payload

    try:
        obj = parse_body(payload)
    except PayloadError as exc:
        raise CLIError(f"{name}: not a signing payload ({exc.message})") from None
    if not _shape_ok(obj):
        raise CLIError(f"{name}: not a signing payload (want version, method, url, body, headers)")
    body = obj["body"]
    empty_body: EmptyBody = "preserve"
    if body == "":
        # "" in the payload is how an empty {} body is signed by default.
        body, empty_body = {}, "string"
    headers: dict[str, str] = dict(obj["headers"])
    for profile in profiles:
        rebuilt = signing_payload(
            method=obj["method"],
            url=obj["url"],
            body=body,
            headers=headers,
            empty_body=empty_body,
            profile=profile,
        )
        if rebuilt == payload:
            return PayloadParts(obj["method"], obj["url"], body, headers, profile)
    raise CLIError(
        f"{name}: payload is not in canonical form (was it edited, or made with another --profile?)"
    )


def refuse_expired(name: str, parts: PayloadParts) -> None:
    """Raise the expiry's own error (exit 2) when the payload is already expired."""
    from authsig.privy.expiry import check_expiry
    from authsig.privy.headers import EXPIRY_HEADER

    expiry = parts.headers.get(EXPIRY_HEADER)
    if expiry is None:
        return
    try:
        check_expiry(expiry, max_lifetime=_NO_LIFETIME_CAP)
    except AuthSigError as exc:
        raise type(exc)(f"{name}: {exc.message}") from None


def _printable(text: str) -> str:
    """``text`` with every non-printable character escaped: a payload is untrusted input,
    and a terminal must not run the control sequences it might hold."""
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


def _expiry_line(expiry: str | None) -> str:
    if expiry is None:
        return "never (no privy-request-expiry: the signed request stays valid forever)"
    try:
        at_ms = int(expiry)
        when = datetime.fromtimestamp(at_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
    except (ValueError, OverflowError, OSError):  # refused just after, by refuse_expired
        return f"{_printable(expiry)} (not a time in milliseconds)"
    from authsig._clock import now_ms

    left = (at_ms - now_ms()) // 1000
    return f"{when} UTC (in {left // 60}m {left % 60}s)"


def summary(parts: PayloadParts) -> str:
    """What a signer is about to approve, in a few lines for a human (stderr)."""
    from authsig.jcs import canonicalize
    from authsig.privy.headers import APP_ID_HEADER, EXPIRY_HEADER, IDEMPOTENCY_HEADER

    body = canonicalize(parts.body).decode("utf-8")
    preview = _printable(body if len(body) <= _PREVIEW else body[: _PREVIEW - 3] + "...")
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    lines = [
        "you are signing:",
        f"  request:         {_printable(parts.method)} {_printable(parts.url)}",
        f"  app id:          {_printable(parts.headers.get(APP_ID_HEADER, '(none)'))}",
    ]
    if IDEMPOTENCY_HEADER in parts.headers:
        lines.append(f"  idempotency key: {_printable(parts.headers[IDEMPOTENCY_HEADER])}")
    lines += [
        f"  body:            {len(body.encode('utf-8'))} bytes, sha256 {digest}",
        f"                   {preview}",
        f"  expires:         {_expiry_line(parts.headers.get(EXPIRY_HEADER))}",
    ]
    return "\n".join(lines)


def format_signature_line(signature: str, key_id: str) -> str:
    """One line of a signature file: the signature, then who made it."""
    return f"{signature} {key_id}"


def _parse_entry(text: str, where: str) -> SignatureEntry:
    fields = text.split()
    if len(fields) == 1:
        return SignatureEntry(fields[0], None)
    if len(fields) == 2:
        return SignatureEntry(fields[0], fields[1])
    raise CLIError(f"{where}: want 'SIGNATURE KEY_ID' or 'SIGNATURE' on each line")


def read_signatures(values: Sequence[str]) -> list[SignatureEntry]:
    """Signatures given inline or in files (``SIGNATURE [KEY_ID]`` per line; commas also
    separate signatures, as in the header and in old files)."""
    entries: list[SignatureEntry] = []
    for value in values:
        if value == "-" or os.path.isfile(value):
            text = read_input(value).decode("utf-8", "replace")
            found = [line.strip() for line in text.replace(",", "\n").splitlines()]
            found = [line for line in found if line]
            if not found:
                raise CLIError(f"{value}: no signature in file")
            entries.extend(_parse_entry(line, value) for line in found)
        else:
            entries.append(_parse_entry(value, "a SIGNATURE argument"))
    return entries
