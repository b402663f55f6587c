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

Redirects: a signed request must not reach another origin with its headers (whoever receives
them could replay them to Cobo within the nonce window). requests follows redirects by default;
:class:`CoboRequestsAuth` removes the ``Biz-Api-*`` headers from a redirect that leaves the
origin. httpx follows redirects only with ``follow_redirects=True``, and its auth classes are
not asked again for redirects: add :meth:`CoboAuth.redirect_guard` (or
:meth:`CoboAuth.redirect_guard_async` for ``AsyncClient``) to the client's ``request`` event
hooks to get the same.

This module needs only the library it adapts: with only httpx installed ``CoboAuth`` works,
with only requests ``CoboRequestsAuth`` does.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from authsig._clock import now_ms as _now_ms
from authsig.cobo.errors import CoboRequestError
from authsig.cobo.keys import CoboPrivateKey, Curve, load_api_secret
from authsig.cobo.signing import API_KEY_HEADER, NONCE_HEADER, SIGNATURE_HEADER, sign_request

try:  # each auth class needs only its own library
    import httpx
except ModuleNotFoundError:  # pragma: no cover - exercised in a subprocess by the tests
    _HAVE_HTTPX = False
else:
    _HAVE_HTTPX = True

if TYPE_CHECKING:  # pragma: no cover - typing only
    from requests import PreparedRequest, Response

__all__ = ["CoboAuth", "CoboRequestsAuth", "CoboSigner"]

_SIGNING_HEADERS = (API_KEY_HEADER, NONCE_HEADER, SIGNATURE_HEADER)
_REMEMBERED = 1024  # signatures whose origin the httpx redirect guard remembers


def _origin(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


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

    class CoboAuth(_CoboAuthBase, httpx.Auth):
        """``httpx`` auth that signs every request as cobo-waas2 does (sync and async)."""

        requires_request_body = True

        def __init__(
            self,
            api_secret: str | bytes | CoboPrivateKey,
            *,
            curve: Curve = "ED25519",
            sdk_empty_object: bool = True,
            clock: Callable[[], int] | None = None,
        ) -> None:
            """Sign with ``api_secret`` (see the module docstring for the options)."""
            super().__init__(
                api_secret, curve=curve, sdk_empty_object=sdk_empty_object, clock=clock
            )
            self._origins: OrderedDict[str, str] = OrderedDict()

        def auth_flow(
            self, request: httpx.Request
        ) -> Generator[httpx.Request, httpx.Response, None]:
            """Sign ``request`` in place (no I/O: the same flow serves both clients)."""
            raw = request.url.raw_path.decode("ascii")
            headers = self._signer.headers(request.method, raw, request.content)
            for name, value in headers.items():
                request.headers[name] = value
            self._origins[headers[SIGNATURE_HEADER]] = _origin(str(request.url))
            while len(self._origins) > _REMEMBERED:
                self._origins.popitem(last=False)
            yield request

        def redirect_guard(self, request: httpx.Request) -> None:
            """A ``request`` event hook: drop the ``Biz-Api-*`` headers from a redirect that
            leaves the origin they were signed for."""
            signature = request.headers.get(SIGNATURE_HEADER)
            signed_for = self._origins.get(signature) if signature else None
            if signed_for is not None and signed_for != _origin(str(request.url)):
                for name in _SIGNING_HEADERS:
                    request.headers.pop(name, None)

        async def redirect_guard_async(self, request: httpx.Request) -> None:
            """:meth:`redirect_guard` for ``httpx.AsyncClient`` (whose hooks are awaited)."""
            self.redirect_guard(request)


class CoboRequestsAuth(_CoboAuthBase):
    """``requests`` auth that signs every request as cobo-waas2 does.

    A plain callable (all that requests asks of an auth), so it needs no httpx.
    """

    def __call__(self, r: PreparedRequest) -> PreparedRequest:
        """Sign the prepared request in place."""
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
            raise CoboRequestError("cannot sign a streamed or file body; pass bytes or str")
        headers = self._signer.headers((r.method or "GET").upper(), r.path_url, raw)
        r.headers.update(headers)
        r.hooks.setdefault("response", []).append(_strip_on_cross_origin_redirect)
        return r


def _strip_on_cross_origin_redirect(response: Response, *args: Any, **kwargs: Any) -> None:
    """requests copies the request it sent to build each redirect: before it does, drop the
    signing headers from it when the redirect leaves the origin."""
    if not response.is_redirect:
        return
    request = response.request
    # Resolved the way requests resolves it (relative, scheme-relative, any letter case).
    target = urljoin(request.url or "", response.headers.get("location", ""))
    if _origin(target) != _origin(request.url or ""):
        for name in _SIGNING_HEADERS:
            request.headers.pop(name, None)
