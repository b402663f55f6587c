"""Client-side signing for httpx and requests.

Both auth classes sign an outgoing request from the request itself: its method, the full URL
as sent, and the body bytes as sent (parsed as JSON; an empty body signs as ``null``)::

    import httpx
    from authsig.privy.client import PrivyAuth

    auth = PrivyAuth(app_id="my-app", keys=[alice_key, kms_signer])
    httpx.post("https://api.example.com/v1/wallets/w1/rpc", json=body, auth=auth)

    import requests
    from authsig.privy.client import PrivyRequestsAuth

    requests.post(url, json=body, auth=PrivyRequestsAuth(app_id="my-app", keys=alice_key))

``keys`` are :class:`~authsig.keys.PrivateKey` objects or signer callables (``payload bytes ->
base64 DER or DER bytes``; with httpx's async client they may be ``async``). By default only
POST, PUT, PATCH and DELETE are signed (as the Privy SDKs do); ``sign_all_methods=True`` signs
every request. Each request gets ``privy-request-expiry`` (now + ``expires_in``; None to omit)
and, when ``idempotency_key`` is given (a string, or a callable such as
``lambda: str(uuid.uuid4())`` for a fresh key per request), ``privy-idempotency-key``. An
idempotency key already set on the request is kept and signed.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Collection, Generator, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

import httpx
import requests.auth

from authsig.errors import PayloadError
from authsig.privy.expiry import DEFAULT_EXPIRES_IN
from authsig.privy.headers import IDEMPOTENCY_HEADER
from authsig.privy.signing import sign_request, sign_request_async

if TYPE_CHECKING:  # pragma: no cover - typing only
    from requests import PreparedRequest

    from authsig.keys import PrivateKey
    from authsig.signatures import AsyncSigner, Signer

__all__ = ["DEFAULT_SIGNED_METHODS", "PrivyAuth", "PrivyRequestsAuth"]

DEFAULT_SIGNED_METHODS: frozenset[str] = frozenset({"POST", "PUT", "PATCH", "DELETE"})
"""Methods signed by default (the Privy SDKs sign only these)."""

IdempotencyKey = str | Callable[[], str] | None


class _Settings:
    def __init__(
        self,
        *,
        app_id: str,
        keys: Any,
        expires_in: timedelta | None,
        idempotency_key: IdempotencyKey,
        sign_all_methods: bool,
        methods: Collection[str] | None,
        empty_body: Literal["string", "preserve"],
    ) -> None:
        if not isinstance(app_id, str):
            raise TypeError(f"app_id must be a str, not {type(app_id).__name__}")
        if not app_id:
            raise ValueError("app_id must not be empty")
        self.app_id = app_id
        self.keys = keys
        self.expires_in = expires_in
        self.idempotency_key = idempotency_key
        self.sign_all_methods = sign_all_methods
        self.methods = (
            frozenset(m.upper() for m in methods) if methods is not None else DEFAULT_SIGNED_METHODS
        )
        self.empty_body: Literal["string", "preserve"] = empty_body

    def should_sign(self, method: str) -> bool:
        return self.sign_all_methods or method.upper() in self.methods

    def idempotency(self, existing: str | None) -> str | None:
        if existing:
            return existing
        key = self.idempotency_key
        if key is None:
            return None
        value = key() if callable(key) else key
        if not isinstance(value, str):
            raise TypeError(f"the idempotency key must be a str, not {type(value).__name__}")
        if not value:
            raise ValueError("the idempotency key must not be empty")
        return value

    def kwargs(
        self, method: str, url: str, body: bytes, existing_key: str | None
    ) -> dict[str, Any]:
        return {
            "method": method.upper(),
            "url": url,
            "body": body,
            "app_id": self.app_id,
            "keys": self.keys,
            "idempotency_key": self.idempotency(existing_key),
            "expires_in": self.expires_in,
            "empty_body": self.empty_body,
        }

    def __repr__(self) -> str:
        return f"app_id={self.app_id!r}"


class PrivyAuth(httpx.Auth):
    """``httpx`` auth that adds Privy authorization signatures (sync and async clients)."""

    requires_request_body = True

    def __init__(
        self,
        app_id: str,
        keys: PrivateKey | Signer | AsyncSigner | Sequence[PrivateKey | Signer | AsyncSigner],
        *,
        expires_in: timedelta | None = DEFAULT_EXPIRES_IN,
        idempotency_key: IdempotencyKey = None,
        sign_all_methods: bool = False,
        methods: Collection[str] | None = None,
        empty_body: Literal["string", "preserve"] = "string",
    ) -> None:
        """Sign requests for ``app_id`` with ``keys`` (see the module docstring)."""
        self._settings = _Settings(
            app_id=app_id,
            keys=keys,
            expires_in=expires_in,
            idempotency_key=idempotency_key,
            sign_all_methods=sign_all_methods,
            methods=methods,
            empty_body=empty_body,
        )

    def __repr__(self) -> str:
        return f"PrivyAuth({self._settings!r})"

    def _kwargs(self, request: httpx.Request) -> dict[str, Any] | None:
        settings = self._settings
        if not settings.should_sign(request.method):
            return None
        return settings.kwargs(
            request.method,
            str(request.url),
            request.content,
            request.headers.get(IDEMPOTENCY_HEADER),
        )

    @staticmethod
    def _apply(request: httpx.Request, headers: dict[str, str]) -> None:
        for name, value in headers.items():
            request.headers[name] = value

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign ``request`` (sync client; async signers are refused)."""
        kwargs = self._kwargs(request)
        if kwargs is not None:
            self._apply(request, sign_request(**kwargs))
        yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Sign ``request`` (async client; signers may be async)."""
        kwargs = self._kwargs(request)
        if kwargs is not None:
            self._apply(request, await sign_request_async(**kwargs))
        yield request


class PrivyRequestsAuth(requests.auth.AuthBase):
    """``requests`` auth that adds Privy authorization signatures."""

    def __init__(
        self,
        app_id: str,
        keys: PrivateKey | Signer | Sequence[PrivateKey | Signer],
        *,
        expires_in: timedelta | None = DEFAULT_EXPIRES_IN,
        idempotency_key: IdempotencyKey = None,
        sign_all_methods: bool = False,
        methods: Collection[str] | None = None,
        empty_body: Literal["string", "preserve"] = "string",
    ) -> None:
        """Sign requests for ``app_id`` with ``keys`` (see the module docstring)."""
        self._settings = _Settings(
            app_id=app_id,
            keys=keys,
            expires_in=expires_in,
            idempotency_key=idempotency_key,
            sign_all_methods=sign_all_methods,
            methods=methods,
            empty_body=empty_body,
        )

    def __repr__(self) -> str:
        return f"PrivyRequestsAuth({self._settings!r})"

    def __call__(self, r: PreparedRequest) -> PreparedRequest:
        """Sign the prepared request in place."""
        settings = self._settings
        method = (r.method or "GET").upper()
        if not settings.should_sign(method):
            return r
        body = r.body
        if body is None:
            raw = b""
        elif isinstance(body, bytes):
            raw = body
        elif isinstance(body, str):
            # Send exactly the bytes that are signed (http.client would encode str as latin-1).
            raw = body.encode("utf-8")
            r.body = raw
            r.headers["Content-Length"] = str(len(raw))
        else:
            raise PayloadError(
                "cannot sign a streamed or file body; pass the JSON body as bytes, str or json="
            )
        url = r.url or ""
        existing = r.headers.get(IDEMPOTENCY_HEADER)
        headers = sign_request(**settings.kwargs(method, url, raw, existing))
        for name, value in headers.items():
            r.headers[name] = value
        return r
