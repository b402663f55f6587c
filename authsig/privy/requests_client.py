"""``PrivyRequestsAuth``: Privy authorization signatures for requests.

Imports requests only (not httpx); :mod:`authsig.privy.client` describes both auth classes,
what they sign and what happens on a redirect.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urljoin

import requests
import requests.auth
import requests.sessions

from authsig.errors import PayloadError
from authsig.privy.client import (
    IdempotencyKey,
    RedirectPolicy,
    _Settings,
    origin,
    refuse_redirect,
    secret_headers,
)
from authsig.privy.expiry import DEFAULT_EXPIRES_IN
from authsig.privy.signing import sign_request

if TYPE_CHECKING:  # pragma: no cover - typing only
    from requests import PreparedRequest

    from authsig.keys import PrivateKey
    from authsig.signatures import Signer

__all__ = ["PrivyRequestsAuth"]

# requests' own reading of a Location header (it re-decodes latin-1 as UTF-8); the method uses
# nothing of the session, so one mixin instance serves every hook.
_REDIRECTS = requests.sessions.SessionRedirectMixin()


def _on_response(
    signed_origin: tuple[str, str, int],
    policy: RedirectPolicy,
    response: requests.Response,
    **_: Any,
) -> requests.Response:
    """Response hook: before requests follows a redirect off the origin, strip or refuse.

    requests builds each hop by copying the request just answered, so what is removed from it
    here is absent from every later hop.
    """
    location = _REDIRECTS.get_redirect_target(response)
    if location is None:
        return response
    target = urljoin(response.url, location)
    if origin(target) == signed_origin:
        return response
    if policy == "refuse":
        response.close()
        raise refuse_redirect(target)
    request = response.request
    for name in secret_headers(list(request.headers)):
        del request.headers[name]
    for name in ("Content-Type", "Transfer-Encoding"):
        request.headers.pop(name, None)
    request.headers["Content-Length"] = "0"
    request.body = None
    return response


def _raw_body(r: PreparedRequest) -> bytes:
    body = r.body
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        # Send exactly the bytes that are signed (http.client would encode str as latin-1).
        raw = body.encode("utf-8")
        r.body = raw
        r.headers["Content-Length"] = str(len(raw))
        return raw
    raise PayloadError(
        "cannot sign a streamed or file body; pass the JSON body as bytes, str or json="
    )


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
        app_secret: str | None = None,
        on_cross_origin_redirect: RedirectPolicy = "strip",
        check_url: bool = True,
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
        )

    def __repr__(self) -> str:
        return f"PrivyRequestsAuth({self._settings!r})"

    def __call__(self, r: PreparedRequest) -> PreparedRequest:
        """Sign the prepared request in place, and watch its redirects."""
        settings = self._settings
        method = (r.method or "GET").upper()
        basic = settings.basic_auth()
        r.headers.update(basic)
        sign = settings.should_sign(method)
        if sign:
            url = r.url or ""
            r.headers.update(sign_request(**settings.kwargs(method, url, _raw_body(r), r.headers)))
        if sign or basic:
            hook = partial(_on_response, origin(r.url or ""), settings.redirects)
            r.register_hook("response", hook)  # type: ignore[no-untyped-call]
        return r
