"""Cobo WaaS 2.0 request signatures: ``Biz-Api-Key``, ``Biz-Api-Nonce``, ``Biz-Api-Signature``.

String to sign: ``METHOD|PATH|NONCE|PARAMS|BODY``; digest ``sha256(sha256(utf8(string)))``;
the signature is over the 32-byte digest, hex-encoded (the official ``cobo-waas2``
SDK's ``SignHelper``). ``PARAMS`` is the query string exactly as it travels and ``BODY`` the raw
body text (empty when there is none).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import urlencode

from authsig._clock import now_ms as _now_ms
from authsig.cobo.decision import CoboDecision, ReplayStoreLike, header_value
from authsig.cobo.errors import CoboKeyError, CoboRequestError
from authsig.cobo.keys import CoboPrivateKey, CoboPublicKey, load_api_key, load_api_secret
from authsig.errors import ReplayStoreUnavailableError

__all__ = [
    "API_KEY_HEADER",
    "DEFAULT_NONCE_WINDOW_MS",
    "NONCE_HEADER",
    "SIGNATURE_HEADER",
    "Query",
    "encode_query",
    "request_digest",
    "sdk_json_body",
    "sign_request",
    "string_to_sign",
    "verify_request",
]

API_KEY_HEADER = "Biz-Api-Key"
NONCE_HEADER = "Biz-Api-Nonce"
SIGNATURE_HEADER = "Biz-Api-Signature"

#: Default freshness window for ``Biz-Api-Nonce``: 5 minutes into the past and the future.
DEFAULT_NONCE_WINDOW_MS = 5 * 60 * 1000

#: Smallest plausible millisecond timestamp (2001-09-09); smaller decimal values are seconds.
_MIN_MS = 10**12
_MAX_DIGITS = 16
_DIGITS = re.compile(r"[0-9]+")
_METHOD = re.compile(r"[A-Za-z]+")
_SIG_HEX = re.compile(r"[0-9a-fA-F]+")

Query = str | Mapping[str, Any] | Sequence[tuple[str, Any]] | None


def encode_query(query: Query) -> str:
    """The ``PARAMS`` part of the string to sign.

    A ``str`` is the query string exactly as sent (a leading ``?`` is dropped) and is used
    byte for byte. A mapping or a sequence of pairs is encoded as the Python SDK does
    (``urllib.parse.urlencode``: insertion order, spaces as ``+``, ``,`` and ``/`` escaped);
    send exactly that string.
    """
    if query is None:
        return ""
    if isinstance(query, str):
        return query[1:] if query.startswith("?") else query
    if isinstance(query, bytes | bytearray):
        raise CoboRequestError("query must be text, a mapping or a sequence of pairs, not bytes")
    try:
        return urlencode(query)
    except TypeError as exc:
        raise CoboRequestError("query must be text, a mapping or a sequence of pairs") from exc


def sdk_json_body(value: Any) -> str:
    """Serialize a JSON body the way the Python SDK signs it (``json.dumps`` defaults).

    The SDK signs ``""`` for a falsy body (``None``, ``{}``, ``[]``) — even though it sends
    ``{}`` for an empty object; see ``verify_request(accept_sdk_empty_object=...)``.
    """
    return json.dumps(value) if value else ""


def _body_bytes(body: str | bytes | bytearray | memoryview | None) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        try:
            return body.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise CoboRequestError("body text is not encodable as UTF-8") from exc
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    raise CoboRequestError(
        f"body must be the raw text or bytes as sent, not {type(body).__name__} "
        "(use sdk_json_body() to serialize like the SDK)"
    )


def _method(method: str) -> str:
    if not isinstance(method, str) or not _METHOD.fullmatch(method):
        raise CoboRequestError("method must be an HTTP method name such as 'GET'")
    return method.upper()


def _path(path: str) -> str:
    if not isinstance(path, str) or not path.startswith("/") or "?" in path or "#" in path:
        raise CoboRequestError("path must be the URL path (starting with '/', e.g. '/v2/wallets')")
    return path


def _message(method: str, path: str, nonce: str, params: str, body: bytes) -> bytes:
    head = "|".join((_method(method), _path(path), nonce, params, ""))
    try:
        return head.encode("utf-8") + body
    except UnicodeEncodeError as exc:
        raise CoboRequestError("path or query is not encodable as UTF-8") from exc


def string_to_sign(
    *, method: str, path: str, nonce: str | int, query: Query = "", body: str | bytes | None = ""
) -> bytes:
    """``METHOD|PATH|NONCE|PARAMS|BODY`` as UTF-8 bytes (useful for diagnostics)."""
    return _message(method, path, str(nonce), encode_query(query), _body_bytes(body))


def request_digest(
    *, method: str, path: str, nonce: str | int, query: Query = "", body: str | bytes | None = ""
) -> bytes:
    """The 32-byte digest that is signed: ``sha256(sha256(string_to_sign))``."""
    message = string_to_sign(method=method, path=path, nonce=nonce, query=query, body=body)
    return hashlib.sha256(hashlib.sha256(message).digest()).digest()


def sign_request(
    api_secret: str | bytes | CoboPrivateKey,
    *,
    method: str,
    path: str,
    query: Query = "",
    body: str | bytes | None = "",
    nonce_ms: int | None = None,
) -> dict[str, str]:
    """Sign a request as the official SDK does; returns the three ``Biz-Api-*`` headers.

    ``api_secret`` is hex text (Ed25519 seed), raw bytes or a loaded :class:`CoboPrivateKey`
    (load secp256k1 secrets with ``load_api_secret(..., curve="SECP256K1")``). ``body`` is the
    raw body text or bytes exactly as sent; ``query`` see :func:`encode_query`.
    """
    key = load_api_secret(api_secret) if not isinstance(api_secret, CoboPrivateKey) else api_secret
    if nonce_ms is None:
        nonce_ms = _now_ms()
    if isinstance(nonce_ms, bool) or not isinstance(nonce_ms, int) or nonce_ms < 0:
        raise CoboRequestError("nonce_ms must be a non-negative integer (milliseconds)")
    digest = request_digest(method=method, path=path, nonce=nonce_ms, query=query, body=body)
    return {
        API_KEY_HEADER: key.api_key,
        NONCE_HEADER: str(nonce_ms),
        SIGNATURE_HEADER: key.sign_digest(digest),
    }


def _load_keys(
    api_keys: Iterable[str | bytes | CoboPublicKey] | str | bytes | CoboPublicKey,
) -> set[CoboPublicKey]:
    if isinstance(api_keys, str | bytes | CoboPublicKey):
        return {load_api_key(api_keys)}
    return {load_api_key(k) for k in api_keys}


def _single(
    headers: Mapping[str, str] | Iterable[tuple[str, str]], name: str
) -> tuple[str | None, str | None]:
    """(value, problem) for a header that must appear at most once."""
    value = header_value(headers, name)
    if isinstance(value, list):
        return None, f"{name} appears {len(value)} times"
    return value, None


def parse_timestamp(value: str, what: str) -> tuple[int | None, str | None]:
    """(milliseconds, None) or (None, reason message) for a decimal millisecond timestamp."""
    text = value.strip()
    if not _DIGITS.fullmatch(text) or len(text) > _MAX_DIGITS:
        return None, f"{what} is not a decimal count of milliseconds"
    ms = int(text)
    if ms < _MIN_MS:
        return None, f"{what} {text} looks like seconds; milliseconds since the epoch are expected"
    return ms, None


def check_freshness(
    timestamp_ms: int, now_ms: int, window_ms: int, what: str
) -> tuple[str, str] | None:
    """(reason, message) when ``timestamp_ms`` lies outside ``now_ms +- window_ms``."""
    if timestamp_ms < now_ms - window_ms:
        return "stale_nonce", f"{what} is {now_ms - timestamp_ms} ms old (window {window_ms} ms)"
    if timestamp_ms > now_ms + window_ms:
        return (
            "future_nonce",
            f"{what} is {timestamp_ms - now_ms} ms in the future (window {window_ms} ms)",
        )
    return None


def signature_bytes(value: str) -> bytes | None:
    """Hex signature text -> bytes, or None when it is not hex of a plausible length."""
    text = value.strip()
    if not (16 <= len(text) <= 200) or len(text) % 2 or not _SIG_HEX.fullmatch(text):
        return None
    return bytes.fromhex(text)


def claim_once(store: ReplayStoreLike | None, key: str, last_ms: int) -> tuple[str, str] | None:
    """Record ``key`` in the replay store until just after ``last_ms`` (the last moment a copy
    could be accepted); (reason, message) on replay or store failure."""
    if store is None:
        return None
    try:
        fresh = store.add_if_absent(key, last_ms + 1)
    except (ReplayStoreUnavailableError, OSError):
        return "replay_store_unavailable", "the replay store is unavailable; refusing (fail closed)"
    if not fresh:
        return "replayed", "this signed message was already accepted inside its window"
    return None


class CoboChecked(NamedTuple):
    """A verified request or event before the replay step: the decision and, when approved,
    the replay key and the last millisecond at which a copy could still be accepted."""

    decision: CoboDecision
    replay_key: str | None = None
    last_ms: int = 0


def load_api_keys(
    api_keys: Iterable[str | bytes | CoboPublicKey] | str | bytes | CoboPublicKey,
) -> frozenset[CoboPublicKey]:
    """The accepted API keys, loaded once; raises ``CoboKeyError`` for none or a bad one."""
    keys = frozenset(_load_keys(api_keys))
    if not keys:
        raise CoboKeyError("api_keys is empty: no request could ever be accepted")
    return keys


def _request_headers(
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
) -> tuple[str, str, str] | CoboDecision:
    """(api key, nonce, signature) header texts, or the refusal when one is missing/repeated."""
    key_text, problem = _single(headers, API_KEY_HEADER)
    if problem or key_text is None:
        return CoboDecision.refuse("missing_header", problem or f"{API_KEY_HEADER} is missing")
    nonce_text, problem = _single(headers, NONCE_HEADER)
    if problem or nonce_text is None:
        return CoboDecision.refuse("missing_header", problem or f"{NONCE_HEADER} is missing")
    sig_text, problem = _single(headers, SIGNATURE_HEADER)
    if problem:
        return CoboDecision.refuse("malformed_signature", problem)
    if sig_text is None:
        return CoboDecision.refuse("missing_signature", f"{SIGNATURE_HEADER} is missing")
    return key_text, nonce_text, sig_text


def check_request(
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    *,
    method: str,
    path: str,
    params: str,
    body: bytes,
    keys: frozenset[CoboPublicKey],
    now_ms: int,
    window_ms: int,
    accept_sdk_empty_object: bool,
    explain: bool,
) -> CoboChecked:
    """The checks of :func:`verify_request` without the replay step (its caller's job)."""
    parts = _request_headers(headers)
    if isinstance(parts, CoboDecision):
        return CoboChecked(parts)
    key_text, nonce_text, sig_text = parts
    try:
        api_key = load_api_key(key_text.strip())
    except CoboKeyError:
        refused = CoboDecision.refuse("unknown_api_key", f"{API_KEY_HEADER} is not a valid API key")
        return CoboChecked(refused)
    if api_key not in keys:
        message = f"API key {api_key.hex} is not accepted here"
        return CoboChecked(CoboDecision.refuse("unknown_api_key", message, api_key=api_key.hex))
    nonce_ms, problem = parse_timestamp(nonce_text, NONCE_HEADER)
    if nonce_ms is None:
        return CoboChecked(
            CoboDecision.refuse("malformed_nonce", problem or "", api_key=api_key.hex)
        )
    stale = check_freshness(nonce_ms, now_ms, window_ms, NONCE_HEADER)
    if stale:
        return CoboChecked(CoboDecision.refuse(*stale, api_key=api_key.hex, timestamp_ms=nonce_ms))
    signature = signature_bytes(sig_text)
    if signature is None:
        message = f"{SIGNATURE_HEADER} is not a hex signature"
        return CoboChecked(CoboDecision.refuse("malformed_signature", message, api_key=api_key.hex))
    nonce = nonce_text.strip()
    candidates = [body]
    if accept_sdk_empty_object and body == b"{}":
        candidates.append(b"")
    for candidate in candidates:
        signed = _message(method, path, nonce, params, candidate)
        digest = hashlib.sha256(hashlib.sha256(signed).digest()).digest()
        if api_key.verify_digest(digest, signature):
            approved = CoboDecision.approve(
                "the request signature is valid", api_key=api_key.hex, timestamp_ms=nonce_ms
            )
            # Fresh while nonce >= now - window: the last accepting moment is nonce + window.
            claim = f"cobo:req:{api_key.hex}:{digest.hex()}"
            return CoboChecked(approved, claim, nonce_ms + window_ms)
    detail = "the signature does not match METHOD|PATH|NONCE|PARAMS|BODY for this API key"
    if explain:
        # Imported here: explain builds on this module (diagnostics sit above the checks).
        from authsig.cobo.explain import request_near_misses

        hints = request_near_misses(
            api_key, signature, method=method, path=path, nonce=nonce, params=params, body=body
        )
        if hints:
            detail += f"; it would match with {hints[0]}"
    refused = CoboDecision.refuse(
        "invalid_signature", detail, api_key=api_key.hex, timestamp_ms=nonce_ms
    )
    return CoboChecked(refused)


def claimed(checked: CoboChecked, store: ReplayStoreLike | None) -> CoboDecision:
    """The decision once the replay store (if any) has recorded an approved request."""
    decision = checked.decision
    if not decision.approved or checked.replay_key is None:
        return decision
    refused = claim_once(store, checked.replay_key, checked.last_ms)
    if refused:
        return CoboDecision.refuse(
            *refused, api_key=decision.api_key, timestamp_ms=decision.timestamp_ms
        )
    return decision


def verify_request(
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    *,
    method: str,
    path: str,
    query: Query,
    body: str | bytes | None,
    api_keys: Iterable[str | bytes | CoboPublicKey] | str | bytes | CoboPublicKey,
    now_ms: int | None = None,
    window_ms: int = DEFAULT_NONCE_WINDOW_MS,
    replay_store: ReplayStoreLike | None = None,
    accept_sdk_empty_object: bool = True,
    explain: bool = False,
) -> CoboDecision:
    """Verify a Cobo-style signed request as a server or gateway receives it.

    ``path``, ``query`` and ``body`` must be what travelled (raw path, raw query string, raw
    body). ``api_keys`` are the accepted API keys (hex, raw bytes or loaded keys). The nonce
    must lie within ``now_ms +- window_ms``. With ``replay_store``, each signed request is
    accepted once (kept for as long as its nonce is fresh). ``accept_sdk_empty_object``: the
    Python SDK signs an empty body but sends ``{}`` for an empty JSON object; when the body is
    exactly ``{}`` a signature over the empty body is accepted too.

    ``explain=True``: when the signature does not verify, also try a few common mistakes
    (trailing slash, ``/v2`` prefix, sorted query, ``+`` versus ``%20``, empty body) and name
    the one that matches in the message (costs a few extra verifications per forged request).

    Refusals are returned as a :class:`CoboDecision` with ``approved`` False; invalid arguments
    (bad ``api_keys``, path, method) raise :class:`~authsig.cobo.errors.CoboError` subclasses.
    """
    keys = load_api_keys(api_keys)
    if window_ms < 0:
        raise CoboRequestError("window_ms must not be negative")
    raw_body = _body_bytes(body)
    params = encode_query(query)
    _method(method)
    _path(path)
    checked = check_request(
        headers,
        method=method,
        path=path,
        params=params,
        body=raw_body,
        keys=keys,
        now_ms=_now_ms() if now_ms is None else now_ms,
        window_ms=window_ms,
        accept_sdk_empty_object=accept_sdk_empty_object,
        explain=explain,
    )
    return claimed(checked, replay_store)
