"""The Privy signing payload.

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
from typing import Any, Literal

from authsig._jcstext import _refuse_constant, canonicalize_text
from authsig.errors import CanonicalizationError, InvalidBodyError, PayloadError
from authsig.jcs import canonicalize
from authsig.privy.dialects import DIALECTS, Dialect, get_dialect
from authsig.privy.headers import PARTICIPATING_HEADERS, Headers, PrivyHeaders, read_headers

__all__ = [
    "PAYLOAD_VERSION",
    "PARTICIPATING_HEADERS",
    "dialect_payloads",
    "parse_body",
    "payload_object",
    "signing_payload",
]

#: The ``version`` member of the payload.
PAYLOAD_VERSION = 1

_JSON_WHITESPACE = " \t\n\r"
_EMPTY_BODY = ("string", "preserve")


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


def parse_body(body: bytes | bytearray | memoryview | str | None) -> Any:
    """Parse a raw request body (JSON text) into a value.

    ``None``, empty and whitespace-only bodies give ``None``. Raises :class:`TypeError` for
    another type, and :class:`~authsig.errors.InvalidBodyError` for invalid UTF-8, invalid
    JSON, the literals ``NaN``/``Infinity``/``-Infinity``, numbers beyond the range of a double
    and duplicate object keys.
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
        raise TypeError(f"a raw request body must be bytes or str, not {type(body).__name__}")
    if not text.strip(_JSON_WHITESPACE):
        return None
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise InvalidBodyError("request body is nested too deeply") from None
    except ValueError as exc:
        # json.JSONDecodeError, or an integer with too many digits.
        raise InvalidBodyError(f"request body is not valid JSON: {exc}") from None


def payload_object(
    *,
    method: str,
    url: str,
    body: Any,
    headers: Headers | PrivyHeaders,
    empty_body: Literal["string", "preserve"] = "string",
    dialect: str | Dialect | None = None,
) -> dict[str, Any]:
    """Build the payload object (before canonicalization).

    ``body`` as ``bytes``/``bytearray``/``memoryview``/``str`` is raw JSON text and is parsed
    with :func:`parse_body`; any other value is taken as already parsed. ``headers`` are the
    request headers (or what :func:`~authsig.privy.headers.read_headers` read from them). With
    ``empty_body="string"`` (the Node and Python SDKs) an empty object or array body becomes
    ``""``; ``"preserve"`` keeps it (the Rust SDK, and the Python SDK's
    ``preserve_empty_body``). ``dialect`` (a name from
    :data:`~authsig.privy.dialects.DIALECTS`) builds the payload an official SDK signs
    instead, and excludes a non-default ``empty_body``; a participating header the dialect does
    not sign must not be sent (:class:`~authsig.errors.PayloadError`), since nothing would
    protect its value.

    Raises :class:`TypeError`/:class:`ValueError` for arguments of the wrong type or an unknown
    ``empty_body``, and :class:`~authsig.errors.PayloadError` subclasses for request parts that
    cannot form a payload (an empty method or URL, a body that is not JSON, no app id, a
    participating header twice).
    """
    if not isinstance(method, str) or not isinstance(url, str):
        raise TypeError("method and url must be str")
    # Empty ones are the request's fault, not the caller's: a server can hand them over.
    if not method:
        raise PayloadError("method must be a non-empty string")
    if not url:
        raise PayloadError("url must be a non-empty string")
    if empty_body not in _EMPTY_BODY:
        raise ValueError(f"empty_body must be 'string' or 'preserve', not {empty_body!r}")
    if dialect is not None and empty_body != "string":
        raise ValueError("a dialect sets the empty-body rule; give dialect or empty_body")
    body, absent = _parse(body)
    signed = read_headers(headers).payload_headers()
    if dialect is not None:
        return _dialect_payload(get_dialect(dialect), method, url, body, absent, signed)
    if empty_body == "string" and isinstance(body, dict | list | tuple) and len(body) == 0:
        body = ""
    return {
        "version": PAYLOAD_VERSION,
        "method": method.upper(),
        "url": url,
        "body": body,
        "headers": signed,
    }


def _parse(body: Any) -> tuple[Any, bool]:
    """The parsed body, and whether the request has none. A request without a body (None, or
    empty/whitespace text) differs from one that sends the JSON text null: some SDKs sign the
    two differently."""
    if isinstance(body, bytes | bytearray | memoryview | str):
        parsed = parse_body(body)
        if parsed is not None:
            return parsed, False
        text = body if isinstance(body, str) else bytes(body).decode("utf-8")  # valid: parsed
        return None, not text.strip(_JSON_WHITESPACE)
    return body, body is None


def _dialect_payload(
    dialect: Dialect, method: str, url: str, body: Any, absent: bool, signed: dict[str, str]
) -> dict[str, Any]:
    for name in signed:
        if not dialect.signs_header(name):
            raise PayloadError(
                f"the request sends {name}, which {dialect.sdk} (dialect {dialect.name!r}) "
                "does not sign: its value would be unprotected; do not send it"
            )
    return dialect.payload_object(method=method, url=url, body=body, absent=absent, headers=signed)


def signing_payload(
    *,
    method: str,
    url: str,
    body: Any,
    headers: Headers | PrivyHeaders,
    empty_body: Literal["string", "preserve"] = "string",
    profile: Literal["rfc8785", "canonicaljson"] = "rfc8785",
    dialect: str | Dialect | None = None,
) -> bytes:
    """Return the canonical bytes that Privy authorization signatures sign.

    See :func:`payload_object` for the arguments; ``profile="canonicaljson"`` reproduces the
    official Python SDK's bytes instead of RFC 8785. A ``dialect`` excludes non-default
    ``empty_body`` and ``profile`` (:class:`ValueError`). Raises what :func:`payload_object`
    raises and :class:`~authsig.errors.CanonicalizationError`.
    """
    if (
        dialect is None
        and profile == "rfc8785"
        and isinstance(body, _RAW)
        and len(body) >= BULK_FROM_BYTES
    ):
        spliced = _bulk_payload(method, url, body, headers, empty_body)
        if spliced is not None:
            return spliced
    obj = payload_object(
        method=method, url=url, body=body, headers=headers, empty_body=empty_body, dialect=dialect
    )
    if dialect is None:
        return canonicalize(obj, profile=profile)
    if profile != "rfc8785":
        raise ValueError("a dialect sets the canonicalization; give dialect or profile")
    return get_dialect(dialect).canonicalize(obj)


_RAW = (bytes, bytearray, memoryview, str)
#: From this size on, a raw body is canonicalized by the bulk route (:mod:`authsig._jcstext`),
#: whose cost per byte stays within about 2x ``json.loads`` + ``json.dumps`` on hostile bodies;
#: below it, the exact route's smaller fixed cost wins, and any body costs little.
BULK_FROM_BYTES = 2048
# The payload's members in RFC 8785 order start with "body", so its canonical text starts so.
_BODY_NULL = b'{"body":null'


def _bulk_payload(
    method: str,
    url: str,
    body: bytes | bytearray | memoryview | str,
    headers: Headers | PrivyHeaders,
    empty_body: Literal["string", "preserve"],
) -> bytes | None:
    """The payload by the bulk route for the raw body (see :mod:`authsig._jcstext`): the body's
    canonical bytes spliced into the canonical payload built around a null body. ``None`` when
    the body is one the exact route takes (empty or whitespace, an empty object or array)."""

    def exact(text: str) -> object:  # raises the error the bulk route found, located
        obj = payload_object(method=method, url=url, body=text, headers=headers)
        return canonicalize(obj)

    data = canonicalize_text(body, exact)
    if data is None or data in (b"{}", b"[]"):
        return None
    obj = payload_object(method=method, url=url, body=None, headers=headers, empty_body=empty_body)
    around = canonicalize(obj)
    return b'{"body":' + data + around[len(_BODY_NULL) :]


def dialect_payloads(
    *, method: str, url: str, body: Any, headers: Headers | PrivyHeaders
) -> list[tuple[tuple[Dialect, ...], bytes]]:
    """The payload each dialect of :data:`~authsig.privy.dialects.DIALECTS` signs for this
    request, grouped by bytes (dialects that agree share an entry), in table order.

    A dialect is left out when the request sends a header it does not sign (it would refuse
    the request) or when it cannot canonicalize the body. For telling which SDK made a
    signature (``explain``).
    """
    body, absent = _parse(body)
    sent = read_headers(headers).payload_headers()
    groups: dict[bytes, list[Dialect]] = {}
    for dialect in DIALECTS.values():
        if not all(dialect.signs_header(name) for name in sent):
            continue
        obj = dialect.payload_object(method=method, url=url, body=body, absent=absent, headers=sent)
        try:
            data = dialect.canonicalize(obj)
        except CanonicalizationError:
            continue
        groups.setdefault(data, []).append(dialect)
    return [(tuple(found), data) for data, found in groups.items()]
