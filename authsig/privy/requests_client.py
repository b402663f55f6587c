"""``PrivyRequestsAuth``: Privy authorization signatures for requests.

Imports requests only (not httpx); :mod:`authsig.privy.client` describes both auth classes,
what they sign and what happens on a redirect.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

import requests
import requests.auth

from authsig._outbound import origin, prepared_body, requests_redirect_hook
from authsig.errors import PayloadError
from authsig.privy.client import (
    IdempotencyKey,
    RedirectPolicy,
    _Settings,
    refuse_redirect,
    secret_headers,
)
from authsig.privy.dialects import Dialect
from authsig.privy.expiry import DEFAULT_EXPIRES_IN
from authsig.privy.signing import sign_request

if TYPE_CHECKING:  # pragma: no cover - typing only
    from requests import PreparedRequest

    from authsig.keys import PrivateKey
    from authsig.signatures import Signer

__all__ = ["PrivyRequestsAuth"]


def _body(r: PreparedRequest) -> bytes:
    return prepared_body(r, PayloadError, "sign")


def _hook(url: str, policy: RedirectPolicy) -> Any:
    """The response hook that keeps this request's secrets on its origin."""
    refuse = refuse_redirect if policy == "refuse" else None
    return requests_redirect_hook(origin(url), _is_secret, refuse)


def _is_secret(name: str) -> bool:
    return bool(secret_headers([name]))


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
            r.headers.update(sign_request(**settings.kwargs(method, url, _body(r), r.headers)))
        if sign or basic:
            r.register_hook("response", _hook(r.url or "", settings.redirects))  # type: ignore[no-untyped-call]
        return r
