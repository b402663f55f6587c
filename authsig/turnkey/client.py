"""Client-side stamping for httpx and requests: the body is stamped exactly as it is sent.

::

    key = TurnkeyPrivateKey.from_hex(api_private_key_hex)
    httpx.post("https://api.example.com/public/v1/submit/...", json=body, auth=TurnkeyAuth(key))
    requests.post(url, json=body, auth=TurnkeyRequestsAuth(key))

Every request is stamped (Turnkey's API is POST only; a request without a body stamps the empty
body).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import httpx
import requests.auth

from authsig.turnkey.errors import TurnkeyError
from authsig.turnkey.keys import TurnkeyPrivateKey
from authsig.turnkey.stamp import STAMP_HEADER, stamp

if TYPE_CHECKING:
    from requests import PreparedRequest

__all__ = ["TurnkeyAuth", "TurnkeyRequestsAuth"]


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
        body = r.body
        if body is None:
            raw = b""
        elif isinstance(body, bytes):
            raw = body
        elif isinstance(body, str):
            # Send exactly the bytes that are stamped (http.client would encode str as latin-1).
            raw = body.encode("utf-8")
            r.body = raw
            r.headers["Content-Length"] = str(len(raw))
        else:
            raise TurnkeyError("cannot stamp a streamed or file body; pass bytes, str or json=")
        r.headers[STAMP_HEADER] = stamp(raw, self._key)
        return r
