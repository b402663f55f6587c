"""Sign a request for Privy: the headers to send (``sign_request`` / ``sign_request_async``).

The recipe: build the participating headers (``privy-app-id``, and ``privy-idempotency-key`` and
``privy-request-expiry`` when used), canonicalize the payload (:mod:`authsig.privy.payload`)
over exactly those header values, sign it with every key, and join the signatures into
``privy-authorization-signature``.

Keys may be :class:`~authsig.keys.PrivateKey` objects or signer callables for keys held in a
KMS/HSM: ``signer(payload: bytes) -> str | bytes`` returning base64 DER text or DER bytes
(``sign_request_async`` also takes ``async`` signers and runs them concurrently). What a signer
returns is checked to be a well-formed DER ECDSA signature; failures become
:class:`~authsig.errors.SignerError`, naming the cause's type and its message scrubbed of
anything that looks like key material, and chained to the cause.

The URL is checked the way the official Python SDK checks it (``privy-client``'s
``WalletAPIRequestSignatureInput``): absolute ``https://``/``http://``, no trailing slash; and
a few more mistakes that make a signature no server can verify (a fragment, no path, user
credentials). ``check_url=False`` signs any URL, for servers that are not Privy's.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

from authsig.errors import DuplicateSignatureError, SignatureFormatError, SignerError
from authsig.keys import PrivateKey
from authsig.privy.dialects import Dialect, get_dialect
from authsig.privy.expiry import DEFAULT_EXPIRES_IN, make_expiry
from authsig.privy.headers import (
    APP_ID_HEADER,
    EXPIRY_HEADER,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    PrivyHeaders,
)
from authsig.privy.payload import signing_payload
from authsig.signatures import AsyncSigner, Signer, decode_signature, sign
from authsig.signers._base import chainable_cause, signer_error

__all__ = ["RequestURLError", "check_request_url", "sign_request", "sign_request_async"]

_KeyLike = PrivateKey | Signer
_AsyncKeyLike = PrivateKey | Signer | AsyncSigner


def _key_list(keys: Any) -> list[Any]:
    """Normalize ``keys`` to a non-empty list of private keys and callables."""
    if isinstance(keys, PrivateKey) or (callable(keys) and not isinstance(keys, type)):
        items: list[Any] = [keys]
    elif isinstance(keys, Sequence) and not isinstance(keys, str | bytes | bytearray):
        items = list(keys)
    else:
        raise TypeError(
            f"keys must be a PrivateKey, a signer callable or a sequence of them, not "
            f"{type(keys).__name__} (load key text with authsig.keys.load_private_key)"
        )
    if not items:
        raise ValueError("at least one key or signer is required")
    seen: set[str] = set()
    for index, item in enumerate(items):
        if isinstance(item, PrivateKey):
            if item.key_id in seen:
                raise ValueError(f"key {index + 1} repeats an earlier private key")
            seen.add(item.key_id)
        elif not callable(item) or isinstance(item, type):
            raise TypeError(
                f"key {index + 1} is a {type(item).__name__}, not a PrivateKey or signer callable"
            )
    return items


class RequestURLError(ValueError):
    """The URL given to sign is one that Privy cannot verify a signature over.

    A :class:`ValueError`, like every other wrong argument of :func:`sign_request` (and like
    the official SDK's own URL check): the URL is the caller's choice, not input from a peer.
    :attr:`problem` names the check that failed, one stable word per check: ``not_absolute``,
    ``scheme``, ``whitespace``, ``no_host``, ``credentials``, ``no_path``, ``trailing_slash``,
    ``fragment``.
    """

    def __init__(self, problem: str, message: str) -> None:
        super().__init__(message)
        self.problem = problem


def _has_space_or_control(url: str) -> bool:
    """Whether ``url`` holds whitespace (``str.isspace``) or an ASCII control character.

    Printable ASCII without a space has neither, which three C string methods tell without a
    Python step per character (URLs are nearly always such); other text is scanned.
    ``tests/test_signing.py`` holds the two ways equal."""
    if url.isascii() and url.isprintable() and " " not in url:
        return False
    return any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url)


def _url_problem(url: str) -> tuple[str, str] | None:
    """The first check ``url`` fails, as ``(problem, what to change)``, or None."""
    if _has_space_or_control(url):
        return "whitespace", "holds whitespace or control characters; percent-encode them"
    if not url.startswith(("https://", "http://")):
        if "://" in url:
            scheme = url.partition("://")[0]
            return "scheme", (
                f"has the scheme {scheme!r}; Privy requests are https:// (or http://), "
                "written in lower case as they are sent"
            )
        return "not_absolute", (
            "is not absolute; give the full URL the request is sent to, "
            "e.g. https://api.privy.io/v1/wallets/WALLET_ID/rpc"
        )
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return "no_host", "has an invalid port"
    if not parts.hostname:
        return "no_host", "has no host"
    if "@" in parts.netloc:
        return "credentials", (
            "holds user credentials; they are never part of the request line, so the "
            "server signs a different URL (and the password would be in the payload)"
        )
    if "#" in url:
        return "fragment", "has a #fragment, which is never sent; remove it"
    if not parts.path:
        return "no_path", (
            "has no path: it is sent as '/', a URL with a trailing slash; give the endpoint's path"
        )
    if url.endswith("/") or parts.path.endswith("/"):
        return "trailing_slash", (
            "ends in a slash; Privy's endpoints have none, and the signature covers the URL "
            "exactly (remove the trailing slash)"
        )
    return None


def check_request_url(url: str) -> None:
    """Raise :class:`RequestURLError` unless ``url`` is one a Privy signature can cover.

    Absolute ``https://`` or ``http://`` (lower case), a host, a path without a trailing slash,
    no fragment, no credentials, no whitespace. The message quotes only the check that failed,
    not the URL (URLs may carry tokens in their query).
    """
    if not isinstance(url, str):
        raise TypeError(f"url must be a str, not {type(url).__name__}")
    problem = _url_problem(url)
    if problem is not None:
        raise RequestURLError(problem[0], f"the request URL {problem[1]}")


def _check_text(name: str, value: object) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if not value:
        raise ValueError(f"{name} must not be empty")


def _prepare(
    *,
    method: str,
    url: str,
    body: Any,
    app_id: str,
    idempotency_key: str | None,
    expires_in: timedelta | None,
    now_ms: int | None,
    empty_body: Literal["string", "preserve"],
    dialect: str | Dialect | None = None,
    check_url: bool,
) -> tuple[dict[str, str], bytes]:
    """The participating headers and the payload bytes they are signed in."""
    _check_text("app_id", app_id)
    if check_url and url != "":  # an empty URL is the payload's PayloadError, as before
        check_request_url(url)
    if idempotency_key is not None:
        _check_text("idempotency_key", idempotency_key)
    if now_ms is not None and (isinstance(now_ms, bool) or not isinstance(now_ms, int)):
        raise TypeError("now_ms must be an integer count of milliseconds since the epoch")
    headers = {APP_ID_HEADER: app_id}
    if idempotency_key is not None:
        headers[IDEMPOTENCY_HEADER] = idempotency_key
    if expires_in is not None:
        if not isinstance(expires_in, timedelta):
            raise TypeError("expires_in must be a datetime.timedelta or None")
        if expires_in <= timedelta(0):
            raise ValueError("expires_in must be positive (the request would already be expired)")
        if dialect is not None and not get_dialect(dialect).signs_header(EXPIRY_HEADER):
            raise ValueError(
                f"dialect {get_dialect(dialect).name!r} never signs {EXPIRY_HEADER}; pass "
                "expires_in=None (an expiry it does not sign would be unprotected)"
            )
        headers[EXPIRY_HEADER] = make_expiry(expires_in, now_ms=now_ms)
    # The participating headers are made here, in payload order: no need to read them back.
    signed = PrivyHeaders(signature=None, signed=headers)
    payload = signing_payload(
        method=method, url=url, body=body, headers=signed, empty_body=empty_body, dialect=dialect
    )
    return headers, payload


def _signer_failed(index: int, exc: BaseException) -> SignerError:
    # The cause's type and message say which KMS call failed and why, so both are kept, with
    # what might be secret scrubbed (PEM blocks, long base64/hex runs: signers._base.scrub).
    # The cause is chained unless its own message holds such a run (chainable_cause), since a
    # logged traceback prints the chained message as it is.
    return signer_error(exc, what=f"signer {index + 1} failed")


def _check_signature(index: int, result: object) -> str:
    """A signer's result -> canonical base64 DER, or :class:`SignerError`."""
    try:
        if isinstance(result, str):
            decode_signature(result)
            return result
        if isinstance(result, bytes | bytearray | memoryview):
            text = base64.b64encode(bytes(result)).decode("ascii")
            decode_signature(text)
            return text
    except SignatureFormatError as exc:
        raise SignerError(
            f"signer {index + 1} returned something that is not a DER ECDSA P-256 signature ({exc})"
        ) from None
    raise SignerError(
        f"signer {index + 1} returned {type(result).__name__}; "
        "expected base64 DER text or DER bytes"
    )


def _finish(headers: dict[str, str], signatures: list[str]) -> dict[str, str]:
    # Every entry is canonical base64 DER already (ours from b64encode, a signer's checked by
    # _check_signature), so only what format_signature_header adds is left to check: that two
    # signers did not return the same signature.
    if len(set(signatures)) != len(signatures):
        raise DuplicateSignatureError("two signers returned the same signature")
    result = {
        APP_ID_HEADER: headers[APP_ID_HEADER],
        SIGNATURE_HEADER: ",".join(signatures),
    }
    if EXPIRY_HEADER in headers:
        result[EXPIRY_HEADER] = headers[EXPIRY_HEADER]
    if IDEMPOTENCY_HEADER in headers:
        result[IDEMPOTENCY_HEADER] = headers[IDEMPOTENCY_HEADER]
    return result


def sign_request(
    *,
    method: str,
    url: str,
    body: Any,
    app_id: str,
    keys: _KeyLike | Sequence[_KeyLike],
    idempotency_key: str | None = None,
    expires_in: timedelta | None = DEFAULT_EXPIRES_IN,
    now_ms: int | None = None,
    empty_body: Literal["string", "preserve"] = "string",
    deterministic: bool = False,
    dialect: str | Dialect | None = None,
    check_url: bool = True,
) -> dict[str, str]:
    """Sign a Privy request; returns the headers to send (lower-case names).

    ``body`` is the raw body (``bytes``/``str`` JSON text, sent exactly as signed) or an already
    parsed value. ``keys`` is one key or signer, or a sequence of them (one signature each, in
    order). The result holds ``privy-app-id``, ``privy-authorization-signature``, and
    ``privy-request-expiry`` (now + ``expires_in``; omitted when ``expires_in`` is None) and
    ``privy-idempotency-key`` (when given); send those exact values, since they are signed.

    ``now_ms`` fixes the clock (tests, vectors); ``deterministic=True`` signs private keys per
    RFC 6979. ``dialect`` signs the payload an official SDK would
    (:data:`~authsig.privy.dialects.DIALECTS`); with a dialect that never signs the expiry,
    ``expires_in`` must be None. ``url`` must pass :func:`check_request_url`
    (:class:`RequestURLError`, a :class:`ValueError`) unless ``check_url=False`` (a server that
    is not Privy's).

    Raises :class:`TypeError`/:class:`ValueError` for arguments of the wrong type or value,
    :class:`~authsig.errors.SignerError` when a signer fails or returns a non-signature, and
    the payload errors of :func:`~authsig.privy.payload.signing_payload`
    (a body that is not JSON or cannot be canonicalized).
    """
    items = _key_list(keys)
    headers, payload = _prepare(
        method=method,
        url=url,
        body=body,
        app_id=app_id,
        idempotency_key=idempotency_key,
        expires_in=expires_in,
        now_ms=now_ms,
        empty_body=empty_body,
        dialect=dialect,
        check_url=check_url,
    )
    signatures: list[str] = []
    for index, item in enumerate(items):
        if isinstance(item, PrivateKey):
            signatures.append(sign(payload, item, deterministic=deterministic))
            continue
        try:
            result = item(payload)
        except Exception as exc:
            raise _signer_failed(index, exc) from chainable_cause(exc)
        if inspect.isawaitable(result):
            if inspect.iscoroutine(result):
                result.close()
            raise SignerError(
                f"signer {index + 1} is asynchronous; use sign_request_async for async signers"
            )
        signatures.append(_check_signature(index, result))
    return _finish(headers, signatures)


async def sign_request_async(
    *,
    method: str,
    url: str,
    body: Any,
    app_id: str,
    keys: _AsyncKeyLike | Sequence[_AsyncKeyLike],
    idempotency_key: str | None = None,
    expires_in: timedelta | None = DEFAULT_EXPIRES_IN,
    now_ms: int | None = None,
    empty_body: Literal["string", "preserve"] = "string",
    deterministic: bool = False,
    dialect: str | Dialect | None = None,
    check_url: bool = True,
) -> dict[str, str]:
    """Like :func:`sign_request`; signers may also be ``async`` (awaited concurrently)."""
    items = _key_list(keys)
    headers, payload = _prepare(
        method=method,
        url=url,
        body=body,
        app_id=app_id,
        idempotency_key=idempotency_key,
        expires_in=expires_in,
        now_ms=now_ms,
        empty_body=empty_body,
        dialect=dialect,
        check_url=check_url,
    )

    async def run(index: int, item: Any) -> str:
        if isinstance(item, PrivateKey):
            return sign(payload, item, deterministic=deterministic)
        try:
            result = item(payload)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:
            raise _signer_failed(index, exc) from chainable_cause(exc)
        return _check_signature(index, result)

    outcomes = await asyncio.gather(
        *(run(index, item) for index, item in enumerate(items)), return_exceptions=True
    )
    signatures: list[str] = []
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
        signatures.append(outcome)
    return _finish(headers, signatures)
