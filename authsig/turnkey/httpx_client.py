"""``TurnkeyAuth``: Turnkey stamps for httpx (sync and async clients).

Imports httpx only (not requests); :mod:`authsig.turnkey.client` describes both auth classes.
"""

from __future__ import annotations

from collections.abc import Generator

import httpx

from authsig.turnkey.client import signing_key
from authsig.turnkey.keys import TurnkeyPrivateKey
from authsig.turnkey.stamp import STAMP_HEADER, stamp

__all__ = ["TurnkeyAuth"]


class TurnkeyAuth(httpx.Auth):
    """``httpx`` auth that adds ``X-Stamp`` over the request's body (sync and async clients)."""

    requires_request_body = True

    def __init__(self, key: TurnkeyPrivateKey) -> None:
        self._key = signing_key(key)

    def __repr__(self) -> str:
        return f"TurnkeyAuth(public_key={self._key.public_key.hex})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Stamp ``request`` (its body was read first: ``requires_request_body``)."""
        request.headers[STAMP_HEADER] = stamp(request.content, self._key)
        yield request
