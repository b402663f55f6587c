"""Cobo request signing for httpx and requests: what cobo-waas2 sends, from any client code.

Both auth classes sign the request as it travels: ``METHOD|PATH|NONCE|PARAMS|BODY`` with the
raw path, the raw query string and the raw body bytes, and add ``Biz-Api-Key``,
``Biz-Api-Nonce`` (milliseconds) and ``Biz-Api-Signature``::

    import httpx
    from authsig.cobo.client import CoboAuth

    auth = CoboAuth(api_secret)          # hex text, raw bytes or a CoboPrivateKey
    httpx.get("https://api.dev.cobo.com/v2/wallets", params={"limit": 10}, auth=auth)

    import requests
    from authsig.cobo.client import CoboRequestsAuth

    requests.post(url, data=json.dumps(body), auth=CoboRequestsAuth(api_secret))

Every method is signed (the SDK signs GET too). ``sdk_empty_object=True`` (the default) signs
an empty body for a body that is exactly ``{}``, as cobo-waas2 does (it sends ``{}`` but signs
``""``); False signs the ``{}`` that travels.

Redirects: a signed request must not reach another origin with its headers or its body
(whoever receives them could replay them to Cobo within the nonce window). Both libraries drop
``Authorization`` on such a redirect but copy every other header and, for a 307/308, the body.
:class:`CoboRequestsAuth` removes the ``Biz-Api-*`` headers and the body from a redirect that
leaves the origin (requests follows redirects by default). httpx follows redirects only with
``follow_redirects=True`` and lets only a client-level request hook see the redirected
request: pass ``event_hooks=auth.event_hooks()`` (``async_event_hooks()`` for
``httpx.AsyncClient``); without it, a signed request that left its origin raises
:class:`~authsig.cobo.errors.CoboRedirectError` when the response comes back.

This module needs only the library it adapts: with only httpx installed ``CoboAuth`` works,
with only requests ``CoboRequestsAuth`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from authsig._clock import now_ms as _now_ms
from authsig._outbound import origin, prepared_body, requests_redirect_hook
from authsig.cobo.errors import CoboRedirectError, CoboRequestError
from authsig.cobo.keys import CoboPrivateKey, Curve, load_api_secret
from authsig.cobo.signing import API_KEY_HEADER, NONCE_HEADER, SIGNATURE_HEADER, sign_request

try:  # each auth class needs only its own library
    import httpx
except ModuleNotFoundError:  # pragma: no cover - exercised in a subprocess by the tests
    _HAVE_HTTPX = False
else:
    _HAVE_HTTPX = True

if TYPE_CHECKING:  # pragma: no cover - typing only
    from requests import PreparedRequest

__all__ = [
    "CoboAuth",
    "CoboRedirectError",
    "CoboRequestsAuth",
    "CoboSigner",
    "redirect_guard",
    "redirect_guard_async",
]

_SIGNING_HEADERS = (API_KEY_HEADER, NONCE_HEADER, SIGNATURE_HEADER)
_SIGNING_LOWER = frozenset(name.lower() for name in _SIGNING_HEADERS)
_EXTENSION = "authsig.cobo.signed_origin"  # httpx request extension: where it was signed


def _is_signing_header(name: str) -> bool:
    return name.lower() in _SIGNING_LOWER


class CoboSigner:
    """The signing both auth classes share: the key, the clock, the empty-object rule."""

    def __init__(
        self,
        api_secret: str | bytes | CoboPrivateKey,
        *,
        curve: Curve = "ED25519",
        sdk_empty_object: bool = True,
        clock: Callable[[], int] | None = None,
    ) -> None:
        """``clock`` returns the nonce in milliseconds (default: the current time)."""
        if not isinstance(sdk_empty_object, bool):
            raise TypeError("sdk_empty_object must be a bool")
        if clock is not None and not callable(clock):
            raise TypeError("clock must be a callable returning milliseconds")
        self._key = load_api_secret(api_secret, curve=curve)
        self._sdk_empty_object = sdk_empty_object
        self._clock = clock or _now_ms

    @property
    def api_key(self) -> str:
        """The API key (public) that signs."""
        return self._key.api_key

    def headers(self, method: str, path_and_query: str, body: bytes) -> dict[str, str]:
        """The ``Biz-Api-*`` headers for a request with this raw path, query and body."""
        path, _, query = path_and_query.partition("?")
        signed_body = b"" if self._sdk_empty_object and body == b"{}" else body
        return sign_request(
            self._key,
            method=method,
            path=path or "/",
            query=query,
            body=signed_body,
            nonce_ms=self._clock(),
        )

    def __repr__(self) -> str:
        return f"api_key={self.api_key}"


class _CoboAuthBase:
    """What both auth classes hold: a :class:`CoboSigner`; their repr shows the API key only."""

    def __init__(
        self,
        api_secret: str | bytes | CoboPrivateKey,
        *,
        curve: Curve = "ED25519",
        sdk_empty_object: bool = True,
        clock: Callable[[], int] | None = None,
    ) -> None:
        """Sign with ``api_secret`` (see the module docstring for the options)."""
        self._signer = CoboSigner(
            api_secret, curve=curve, sdk_empty_object=sdk_empty_object, clock=clock
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._signer!r})"


if TYPE_CHECKING or _HAVE_HTTPX:

    def redirect_guard(request: httpx.Request) -> None:
        """httpx ``request`` hook: a request Cobo's auth signed that is about to leave its
        origin loses its ``Biz-Api-*`` headers and its body."""
        signed_for = request.extensions.get(_EXTENSION)
        if signed_for is None or signed_for == origin(str(request.url)):
            return
        for name in (*_SIGNING_HEADERS, "content-type", "transfer-encoding"):
            request.headers.pop(name, None)
        request.headers["content-length"] = "0"
        request.stream = httpx.ByteStream(b"")

    async def redirect_guard_async(request: httpx.Request) -> None:
        """:func:`redirect_guard` for ``httpx.AsyncClient`` (whose hooks are awaited)."""
        redirect_guard(request)

    def _check_history(response: httpx.Response) -> None:
        """Fail loudly when a signed request reached another origin (no guard installed)."""
        for hop in (*response.history, response):
            request = hop.request
            signed_for = request.extensions.get(_EXTENSION)
            if signed_for is None or signed_for == origin(str(request.url)):
                continue
            if SIGNATURE_HEADER in request.headers:
                raise CoboRedirectError(
                    "a signed request was redirected to another origin with its Biz-Api-* "
                    "headers: pass event_hooks=auth.event_hooks() (async_event_hooks() for "
                    "AsyncClient) to the httpx client so that they are stripped first"
                )

    class CoboAuth(_CoboAuthBase, httpx.Auth):
        """``httpx`` auth that signs every request as cobo-waas2 does (sync and async)."""

        requires_request_body = True

        @staticmethod
        def event_hooks() -> dict[str, list[Callable[[httpx.Request], Any]]]:
            """``event_hooks=`` for ``httpx.Client``: keeps signed requests on their origin."""
            return {"request": [redirect_guard]}

        @staticmethod
        def async_event_hooks() -> dict[str, list[Callable[[httpx.Request], Any]]]:
            """``event_hooks=`` for ``httpx.AsyncClient``."""
            return {"request": [redirect_guard_async]}

        def auth_flow(
            self, request: httpx.Request
        ) -> Generator[httpx.Request, httpx.Response, None]:
            """Sign ``request`` in place (no I/O: the same flow serves both clients)."""
            raw = request.url.raw_path.decode("ascii")
            request.headers.update(self._signer.headers(request.method, raw, request.content))
            # httpx hands a request's extensions to each redirect it builds from it: the hook
            # finds where the chain was signed on every hop.
            request.extensions[_EXTENSION] = origin(str(request.url))
            response = yield request
            _check_history(response)


class CoboRequestsAuth(_CoboAuthBase):
    """``requests`` auth that signs every request as cobo-waas2 does.

    A plain callable (all that requests asks of an auth), so it needs no httpx.
    """

    def __call__(self, r: PreparedRequest) -> PreparedRequest:
        """Sign the prepared request in place."""
        raw = prepared_body(r, CoboRequestError, "sign")
        headers = self._signer.headers((r.method or "GET").upper(), r.path_url, raw)
        r.headers.update(headers)
        hook = requests_redirect_hook(origin(r.url or ""), _is_signing_header)
        r.hooks.setdefault("response", []).append(hook)
        return r
