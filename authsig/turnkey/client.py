"""Client-side stamping for httpx and requests: the body is stamped exactly as it is sent.

::

    key = TurnkeyPrivateKey.from_hex(api_private_key_hex)
    httpx.post("https://api.example.com/public/v1/submit/...", json=body, auth=TurnkeyAuth(key))
    requests.post(url, json=body, auth=TurnkeyRequestsAuth(key))

Every request is stamped (Turnkey's API is POST only; a request without a body stamps the empty
body).

Redirects: a stamped body is a credential until its ``timestampMs`` is too old, so it must not
reach another origin. :class:`TurnkeyRequestsAuth` removes ``X-Stamp`` and the body from a
redirect that leaves the origin (requests follows redirects by default). httpx follows none
unless asked, and an httpx auth does not see the hops it follows: keep ``follow_redirects`` off
for stamped requests.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import httpx
import requests.auth

from authsig._outbound import origin, prepared_body, requests_redirect_hook
from authsig.turnkey.errors import TurnkeyError
from authsig.turnkey.keys import TurnkeyPrivateKey
from authsig.turnkey.stamp import STAMP_HEADER, stamp

if TYPE_CHECKING:
    from requests import PreparedRequest

__all__ = ["TurnkeyAuth", "TurnkeyRequestsAuth"]


def _is_stamp(name: str) -> bool:
    return name.lower() == STAMP_HEADER.lower()


def _key(key: object) -> TurnkeyPrivateKey:
    if not isinstance(key, TurnkeyPrivateKey):
        raise TypeError("key must be an authsig.turnkey.TurnkeyPrivateKey")
    return key


class TurnkeyAuth(httpx.Auth):
    """``httpx`` auth that adds ``X-Stamp`` over the request's body (sync and async clients)."""

    requires_request_body = True

    def __init__(self, key: TurnkeyPrivateKey) -> None:
        self._key = _key(key)

    def __repr__(self) -> str:
        return f"TurnkeyAuth(public_key={self._key.public_key.hex})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Stamp ``request`` (its body was read first: ``requires_request_body``)."""
        request.headers[STAMP_HEADER] = stamp(request.content, self._key)
        yield request


class TurnkeyRequestsAuth(requests.auth.AuthBase):
    """``requests`` auth that adds ``X-Stamp`` over the prepared body."""

    def __init__(self, key: TurnkeyPrivateKey) -> None:
        self._key = _key(key)

    def __repr__(self) -> str:
        return f"TurnkeyRequestsAuth(public_key={self._key.public_key.hex})"

    def __call__(self, r: PreparedRequest) -> PreparedRequest:
        """Stamp the prepared request in place."""
        raw = prepared_body(r, TurnkeyError, "stamp")
        r.headers[STAMP_HEADER] = stamp(raw, self._key)
        hook = requests_redirect_hook(origin(r.url or ""), _is_stamp)
        r.register_hook("response", hook)  # type: ignore[no-untyped-call]
        return r
