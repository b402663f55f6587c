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

from typing import TYPE_CHECKING

from authsig._outbound import lazy_classes
from authsig.turnkey.keys import TurnkeyPrivateKey
from authsig.turnkey.stamp import STAMP_HEADER

if TYPE_CHECKING:  # pragma: no cover - typing only
    from authsig.turnkey.httpx_client import TurnkeyAuth
    from authsig.turnkey.requests_client import TurnkeyRequestsAuth

__all__ = ["TurnkeyAuth", "TurnkeyRequestsAuth"]


def is_stamp(name: str) -> bool:
    """Whether a header name is the stamp (what must not reach another origin)."""
    return name.lower() == STAMP_HEADER.lower()


def signing_key(key: object) -> TurnkeyPrivateKey:
    """``key``, checked to be a Turnkey private key."""
    if not isinstance(key, TurnkeyPrivateKey):
        raise TypeError("key must be an authsig.turnkey.TurnkeyPrivateKey")
    return key


__getattr__ = lazy_classes(
    __name__,
    {
        "TurnkeyAuth": "authsig.turnkey.httpx_client",
        "TurnkeyRequestsAuth": "authsig.turnkey.requests_client",
    },
)
