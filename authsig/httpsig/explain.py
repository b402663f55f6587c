"""Why an RFC 9421 signature failed, when it can tell: which component differed.

A signature that does not verify is re-checked against near misses of the request (the host
with or without its port, the Host or forwarding headers' host, ``http`` for ``https``, the
path with or without a trailing slash or its first segment, the query left out or sorted, other
methods). When one verifies, the components whose values differ between the two messages are
what the signer and the server disagree on. A body that does not match its ``Content-Digest``
is compared with common mangles (empty, a trailing newline added or dropped).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from authsig.errors import AuthSigError
from authsig.httpsig import _sfv as http_sfv
from authsig.httpsig.algorithms import verify_base
from authsig.httpsig.components import HttpMessage, component_value, signature_base
from authsig.httpsig.decision import HttpSigDecision
from authsig.httpsig.digest import ALGORITHMS
from authsig.httpsig.fields import SignatureEntry, parse_signatures
from authsig.httpsig.verify import KeyResolver

__all__ = ["Difference", "diagnose_refusal", "explain_signature"]

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Difference:
    """A covered component whose value the signer saw as ``signed`` and the server as
    ``received``."""

    component: str
    received: str
    signed: str


def _hosts(message: HttpMessage, scheme: str, netloc: str) -> Iterator[str]:
    host, colon, port = netloc.rpartition(":")
    if colon and port.isdigit():
        yield host
    else:
        yield f"{netloc}:{_DEFAULT_PORTS.get(scheme, 443)}"
    for name in ("host", "x-forwarded-host"):
        for value in message.field_lines(name):
            yield value.split(",")[0].strip()


def _paths(path: str) -> Iterator[str]:
    yield path[:-1] if path.endswith("/") and len(path) > 1 else path + "/"
    parts = path.split("/")
    if len(parts) > 2:
        yield "/" + "/".join(parts[2:])


def _urls(message: HttpMessage) -> Iterator[str]:
    parts = urlsplit(message.url)
    scheme, netloc, path, query = parts.scheme, parts.netloc, parts.path, parts.query
    other = {"https": "http", "http": "https"}.get(scheme, scheme)
    yield urlunsplit((other, netloc, path, query, ""))
    for host in _hosts(message, scheme, netloc):
        if host and host != netloc:
            yield urlunsplit((scheme, host, path, query, ""))
    for variant in _paths(path or "/"):
        yield urlunsplit((scheme, netloc, variant, query, ""))
    if query:
        yield urlunsplit((scheme, netloc, path, "", ""))
        yield urlunsplit((scheme, netloc, path, "&".join(sorted(query.split("&"))), ""))


def _variants(message: HttpMessage) -> Iterator[HttpMessage]:
    for url in _urls(message):
        yield HttpMessage(message.method, url, message.headers)
    for method in _METHODS:
        if method != message.method:
            yield HttpMessage(method, message.url, message.headers)


def _verifies(message: HttpMessage, entry: SignatureEntry, keys: KeyResolver) -> bool:
    key = keys(entry.keyid) if entry.keyid is not None else None
    if key is None:
        return False
    try:
        base = signature_base(message, entry.covered, entry.params_text)
    except AuthSigError:
        return False
    return verify_base(base, entry.signature, key)


def _differences(
    received: HttpMessage, signed: HttpMessage, covered: tuple[http_sfv.Item, ...]
) -> list[Difference]:
    out = []
    for item in covered:
        try:
            ours, theirs = component_value(received, item), component_value(signed, item)
        except AuthSigError:
            continue
        if ours != theirs:
            out.append(Difference(str(item), ours, theirs))
    return out


def explain_signature(
    message: HttpMessage, keys: KeyResolver, label: str
) -> list[Difference] | None:
    """The components that differ between ``message`` and a near miss over which signature
    ``label`` verifies; None when no near miss verifies (or the signature is not readable)."""
    try:
        entries = parse_signatures(
            message.field_lines("signature-input"), message.field_lines("signature")
        )
    except AuthSigError:
        return None
    entry = next((e for e in entries if e.label == label), None)
    if entry is None:
        return None
    for variant in _variants(message):
        if _verifies(variant, entry, keys):
            return _differences(message, variant, entry.covered)
    return None


def _body_hint(message: HttpMessage, body: bytes) -> str | None:
    lines = message.field_lines("content-digest")
    parsed = http_sfv.Dictionary()
    try:
        parsed.parse(", ".join(lines).encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return None
    candidates = {
        "an empty body": b"",
        "the body with a trailing newline": body + b"\n",
        "the body without its trailing newline": body.rstrip(b"\r\n"),
    }
    for name, function in ALGORITHMS.items():
        member = parsed.get(name)
        if not isinstance(member, http_sfv.Item) or not isinstance(member.value, bytes):
            continue
        for what, candidate in candidates.items():
            if candidate != body and function(candidate).digest() == member.value:
                return f"the Content-Digest is that of {what}; the digest must be of the body sent"
    return None


def diagnose_refusal(
    message: HttpMessage, body: bytes, keys: KeyResolver, decision: HttpSigDecision
) -> str | None:
    """One sentence on what differed, for the server log; None when nothing near verifies."""
    if decision.reason == "httpsig_digest_mismatch":
        return _body_hint(message, body)
    if decision.reason != "invalid_signature" or decision.label is None:
        return None
    found = explain_signature(message, keys, decision.label)
    if not found:
        return None
    parts = "; ".join(
        f"{d.component} was signed as {d.signed!r} but the server saw {d.received!r}" for d in found
    )
    return f"{decision.label} verifies over a near miss: {parts}"
