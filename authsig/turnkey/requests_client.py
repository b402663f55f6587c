"""``TurnkeyRequestsAuth``: Turnkey stamps for requests.

Imports requests only (not httpx); :mod:`authsig.turnkey.client` describes both auth classes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import requests.auth

from authsig._outbound import origin, prepared_body, requests_redirect_hook
from authsig.turnkey.client import is_stamp, signing_key
from authsig.turnkey.errors import TurnkeyError
from authsig.turnkey.keys import TurnkeyPrivateKey
from authsig.turnkey.stamp import STAMP_HEADER, stamp

if TYPE_CHECKING:
    from requests import PreparedRequest

__all__ = ["TurnkeyRequestsAuth"]


class TurnkeyRequestsAuth(requests.auth.AuthBase):
    """``requests`` auth that adds ``X-Stamp`` over the prepared body."""

    def __init__(self, key: TurnkeyPrivateKey) -> None:
        self._key = signing_key(key)

    def __repr__(self) -> str:
        return f"TurnkeyRequestsAuth(public_key={self._key.public_key.hex})"

    def __call__(self, r: PreparedRequest) -> PreparedRequest:
        """Stamp the prepared request in place."""
        raw = prepared_body(r, TurnkeyError, "stamp")
        r.headers[STAMP_HEADER] = stamp(raw, self._key)
        hook = requests_redirect_hook(origin(r.url or ""), is_stamp)
        r.register_hook("response", hook)  # type: ignore[no-untyped-call]
        return r
