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

from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    # Each auth class is imported on first use, so that this module imports with only one of
    # httpx and requests installed.
    if name == "TurnkeyAuth":
        from authsig.turnkey.httpx_client import TurnkeyAuth

        return TurnkeyAuth
    if name == "TurnkeyRequestsAuth":
        from authsig.turnkey.requests_client import TurnkeyRequestsAuth

        return TurnkeyRequestsAuth
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
