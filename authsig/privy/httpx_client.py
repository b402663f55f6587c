"""``PrivyAuth``: Privy authorization signatures for httpx (sync and async clients).

Imports httpx only (not requests); :mod:`authsig.privy.client` describes both auth classes,
what they sign and what happens on a redirect.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Collection, Generator, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

import httpx

from authsig._outbound import origin
from authsig.privy.client import (
    CrossOriginRedirectError,
    IdempotencyKey,
    RedirectPolicy,
    _Settings,
    refuse_redirect,
    secret_headers,
)
from authsig.privy.dialects import Dialect
from authsig.privy.expiry import DEFAULT_EXPIRES_IN
from authsig.privy.signing import sign_request, sign_request_async

if TYPE_CHECKING:  # pragma: no cover - typing only
    from authsig.keys import PrivateKey
    from authsig.signatures import AsyncSigner, Signer

__all__ = ["PrivyAuth", "guard_redirect", "guard_redirect_async"]

# The request's extensions carry where it was signed and the policy. httpx hands the same
# extensions to every request of a redirect chain, so the hook below can tell a hop that left
# the origin, whichever auth object signed the first request.
_EXTENSION = "authsig.privy.signed_origin"


def guard_redirect(request: httpx.Request) -> None:
    """httpx request hook: apply ``on_cross_origin_redirect`` to a request about to be sent."""
    stamp = request.extensions.get(_EXTENSION)
    if stamp is None:
        return
    signed_origin, policy = stamp
    if origin(str(request.url)) == signed_origin:
        return
    if policy == "refuse":
        raise refuse_redirect(str(request.url))
    for name in secret_headers(list(request.headers.keys())):
        del request.headers[name]
    # The body goes too: a 307/308 would resend it, and a signed body is what a replay needs.
    for name in ("content-type", "transfer-encoding"):
        request.headers.pop(name, None)
    request.headers["content-length"] = "0"
    request.stream = httpx.ByteStream(b"")


async def guard_redirect_async(request: httpx.Request) -> None:
    """:func:`guard_redirect` for ``httpx.AsyncClient`` (whose hooks are awaited)."""
    guard_redirect(request)


def _check_history(response: httpx.Response) -> None:
    """Fail loudly when a signed request reached another origin (no guard hook installed)."""
    for hop in (*response.history, response):
        request = hop.request
        stamp = request.extensions.get(_EXTENSION)
        if stamp is None or origin(str(request.url)) == stamp[0]:
            continue
        if any(n.lower().startswith("privy-") for n in request.headers):
            raise CrossOriginRedirectError(
                "a signed request was redirected to another origin with its privy-* headers: "
                "pass event_hooks=auth.event_hooks() (async_event_hooks() for AsyncClient) "
                "to the httpx client so that they are stripped before it is sent"
            )


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
        app_secret: str | None = None,
        on_cross_origin_redirect: RedirectPolicy = "strip",
        check_url: bool = True,
        dialect: str | Dialect | None = None,
    ) -> None:
        """Sign requests for ``app_id`` with ``keys`` (see :mod:`authsig.privy.client`)."""
        self._settings = _Settings(
            app_id=app_id,
            keys=keys,
            expires_in=expires_in,
            idempotency_key=idempotency_key,
            sign_all_methods=sign_all_methods,
            methods=methods,
            empty_body=empty_body,
            app_secret=app_secret,
            on_cross_origin_redirect=on_cross_origin_redirect,
            check_url=check_url,
            dialect=dialect,
        )

    def __repr__(self) -> str:
        return f"PrivyAuth({self._settings!r})"

    @staticmethod
    def event_hooks() -> dict[str, list[Callable[[httpx.Request], Any]]]:
        """``event_hooks=`` for ``httpx.Client``: keeps signed requests on their origin."""
        return {"request": [guard_redirect]}

    @staticmethod
    def async_event_hooks() -> dict[str, list[Callable[[httpx.Request], Any]]]:
        """``event_hooks=`` for ``httpx.AsyncClient``."""
        return {"request": [guard_redirect_async]}

    def _prepare(self, request: httpx.Request) -> dict[str, Any] | None:
        """Add the app secret and the redirect stamp; the ``sign_request`` arguments or None."""
        settings = self._settings
        basic = settings.basic_auth()
        request.headers.update(basic)
        sign = settings.should_sign(request.method)
        if sign or basic:
            request.extensions[_EXTENSION] = (origin(str(request.url)), settings.redirects)
        if not sign:
            return None
        return settings.kwargs(request.method, str(request.url), request.content, request.headers)

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign ``request`` (sync client; async signers are refused)."""
        kwargs = self._prepare(request)
        if kwargs is not None:
            request.headers.update(sign_request(**kwargs))
        response = yield request
        _check_history(response)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Sign ``request`` (async client; signers may be async)."""
        kwargs = self._prepare(request)
        if kwargs is not None:
            request.headers.update(await sign_request_async(**kwargs))
        response = yield request
        _check_history(response)
