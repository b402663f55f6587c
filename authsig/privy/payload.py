"""The Privy signing payload (SPEC §1.1).

The payload is the RFC 8785 canonical form of::

    {"version": 1, "method": M, "url": U, "body": B, "headers": H}

where ``M`` is the upper-case method, ``U`` the URL exactly as given, ``B`` the parsed JSON body
(``{}``/``[]`` become ``""`` by default, a missing body is ``null``) and ``H`` holds only the
participating ``privy-*`` headers: ``privy-app-id`` (required), and ``privy-idempotency-key`` and
``privy-request-expiry`` when present.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from json.encoder import encode_basestring as _encode_str
from typing import Any, Literal, NoReturn

from authsig.errors import (
    CanonicalizationError,
    InvalidBodyError,
    MissingHeaderError,
    PayloadError,
)
from authsig.jcs import canonicalize

__all__ = [
    "PAYLOAD_VERSION",
    "PARTICIPATING_HEADERS",
    "parse_body",
    "payload_object",
    "signing_payload",
]

#: The ``version`` member of the payload.
PAYLOAD_VERSION = 1

_APP_ID = "privy-app-id"
_IDEMPOTENCY = "privy-idempotency-key"
_EXPIRY = "privy-request-expiry"

#: The headers that take part in the payload, in the order they are collected.
PARTICIPATING_HEADERS: tuple[str, ...] = (_APP_ID, _IDEMPOTENCY, _EXPIRY)

_JSON_WHITESPACE = " \t\n\r"


def _refuse_constant(name: str) -> NoReturn:
    raise InvalidBodyError(f"request body uses the non-JSON literal {name}")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise InvalidBodyError("request body holds a number too large for a double")
    return value


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InvalidBodyError(f"request body has a duplicate object key {key!r}")
            seen.add(key)
    return obj


# Built once: ``json.loads`` with keyword arguments builds a new decoder on every call.
_DECODER = json.JSONDecoder(
    parse_constant=_refuse_constant,
    parse_float=_finite_float,
    object_pairs_hook=_unique_object,
)
_scan_once: Any = _DECODER.scan_once  # type: ignore[attr-defined]


def _parse_fast(text: str) -> tuple[bool, Any]:
    """``(True, value)`` when ``text`` is one JSON value without surrounding whitespace that
    parses cleanly; ``(False, None)`` otherwise (the caller then takes the general path, which
    gives the same value or the precise error)."""
    if not text or text[0] in _JSON_WHITESPACE or text[-1] in _JSON_WHITESPACE:
        return False, None
    try:
        value, end = _scan_once(text, 0)
    except (StopIteration, ValueError, RecursionError, InvalidBodyError):
        return False, None
    if end != len(text):
        return False, None
    return True, value


def parse_body(body: bytes | bytearray | memoryview | str | None) -> Any:
    """Parse a raw request body (JSON text) into a value.

    ``None``, empty and whitespace-only bodies give ``None``. Raises
    :class:`~authsig.errors.InvalidBodyError` for invalid UTF-8, invalid JSON, the literals
    ``NaN``/``Infinity``/``-Infinity``, numbers beyond the range of a double and duplicate
    object keys.
    """
    if body is None:
        return None
    if isinstance(body, bytes | bytearray | memoryview):
        try:
            text = bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidBodyError("request body is not valid UTF-8") from None
    elif isinstance(body, str):
        text = body
    else:
        raise InvalidBodyError(f"raw request body must be bytes or str, not {type(body).__name__}")
    ok, value = _parse_fast(text)
    if ok:
        return value
    if not text.strip(_JSON_WHITESPACE):
        return None
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise InvalidBodyError("request body is nested too deeply") from None
    except ValueError as exc:
        # json.JSONDecodeError, or an integer with too many digits.
        raise InvalidBodyError(f"request body is not valid JSON: {exc}") from None


def _collect_headers(
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
) -> dict[str, str]:
    pairs: Iterable[Any] = headers.items() if isinstance(headers, Mapping) else headers
    found: dict[str, str] = {}
    try:
        for pair in pairs:
            name, value = pair
            if not isinstance(name, str):
                raise PayloadError(f"header names must be strings, not {type(name).__name__}")
            lowered = name.lower()
            if lowered not in PARTICIPATING_HEADERS:
                continue
            if not isinstance(value, str):
                raise PayloadError(f"header {lowered} must be a string, not {type(value).__name__}")
            if lowered in found:
                raise PayloadError(f"header {lowered} is given more than once")
            found[lowered] = value
    except (TypeError, ValueError):
        raise PayloadError(
            "headers must be a mapping or an iterable of (name, value) pairs"
        ) from None
    if _APP_ID not in found:
        raise MissingHeaderError(f"the {_APP_ID} header is required")
    return {name: found[name] for name in PARTICIPATING_HEADERS if name in found}


def payload_object(
    *,
    method: str,
    url: str,
    body: Any,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    empty_body: Literal["string", "preserve"] = "string",
) -> dict[str, Any]:
    """Build the payload object (before canonicalization).

    ``body`` as ``bytes``/``bytearray``/``memoryview``/``str`` is raw JSON text and is parsed
    with :func:`parse_body`; any other value is taken as already parsed. With
    ``empty_body="string"`` (the Node and Python SDKs) an empty object or array body becomes
    ``""``; ``"preserve"`` keeps it (the Rust SDK, and the Python SDK's
    ``preserve_empty_body``).
    """
    return _object(method, url, body, headers, None, empty_body)


def _object(
    method: str,
    url: str,
    body: Any,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    collected: dict[str, str] | None,
    empty_body: Literal["string", "preserve"],
) -> dict[str, Any]:
    """:func:`payload_object`; ``collected``, when given, is what :func:`_collect_headers`
    returns for ``headers`` (the verifier collects them in its own pass over the headers)."""
    if not isinstance(method, str) or not method:
        raise PayloadError("method must be a non-empty string")
    if not isinstance(url, str) or not url:
        raise PayloadError("url must be a non-empty string")
    if empty_body not in ("string", "preserve"):
        raise PayloadError(f"empty_body must be 'string' or 'preserve', not {empty_body!r}")
    if type(body) is bytes or isinstance(body, bytes | bytearray | memoryview | str):
        body = parse_body(body)
    if empty_body == "string" and isinstance(body, dict | list | tuple) and len(body) == 0:
        body = ""
    return {
        "version": PAYLOAD_VERSION,
        "method": method.upper(),
        "url": url,
        "body": body,
        "headers": _collect_headers(headers) if collected is None else collected,
    }


def signing_payload(
    *,
    method: str,
    url: str,
    body: Any,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    empty_body: Literal["string", "preserve"] = "string",
    profile: Literal["rfc8785", "canonicaljson"] = "rfc8785",
) -> bytes:
    """Return the canonical bytes that Privy authorization signatures sign (SPEC §1.1).

    See :func:`payload_object` for the arguments; ``profile="canonicaljson"`` reproduces the
    official Python SDK's bytes instead of RFC 8785. Raises
    :class:`~authsig.errors.PayloadError` subclasses and
    :class:`~authsig.errors.CanonicalizationError`.
    """
    return _signing_payload(method, url, body, headers, None, empty_body, profile)


def _signing_payload(
    method: str,
    url: str,
    body: Any,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    collected: dict[str, str] | None,
    empty_body: Literal["string", "preserve"],
    profile: Literal["rfc8785", "canonicaljson"],
) -> bytes:
    """:func:`signing_payload` (positional arguments; ``collected`` as in :func:`_object`)."""
    obj = _object(method, url, body, headers, collected, empty_body)
    if profile == "rfc8785":
        fast = _canonical_payload_fast(obj)
        if fast is not None:
            return fast
    return canonicalize(obj, profile=profile)


_HEADER_PREFIXES = tuple((name, f'"{name}":') for name in PARTICIPATING_HEADERS)
_VERSION_TAIL = f',"version":{PAYLOAD_VERSION}}}'


def _canonical_payload_fast(obj: dict[str, Any]) -> bytes | None:
    """RFC 8785 bytes of a payload object built by :func:`payload_object`, assembled from its
    parts: the members of the outer object and of ``headers`` are known plain strings in a known
    order, so only the body needs the general canonicalizer. Returns None when anything is
    unusual (the caller then canonicalizes the whole object, which gives the same bytes or the
    precise error with its path)."""
    method = obj["method"]
    url = obj["url"]
    headers = obj["headers"]
    if type(method) is not str or type(url) is not str:
        return None
    members = []
    for name, prefix in _HEADER_PREFIXES:  # already in sorted order
        value = headers.get(name)
        if value is None:
            continue
        if type(value) is not str:
            return None
        members.append(prefix + _encode_str(value))
    text = (
        ',"headers":{'
        + ",".join(members)
        + '},"method":'
        + _encode_str(method)
        + ',"url":'
        + _encode_str(url)
        + _VERSION_TAIL
    )
    try:
        body = canonicalize(obj["body"])
        rest = text.encode("utf-8")
    except (CanonicalizationError, UnicodeEncodeError):
        return None
    return b'{"body":' + body + rest
