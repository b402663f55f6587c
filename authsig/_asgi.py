"""ASGI plumbing shared by :mod:`authsig.asgi` and :mod:`authsig.cobo.middleware`.

Both middlewares read the whole request body (up to a limit) before verifying it, then hand
the wrapped app a ``receive`` that delivers that body once and the real ``receive`` after.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class Disconnected(Exception):
    """The client disconnected before the whole body arrived."""


class TooLarge(Exception):
    """The body exceeds the limit given to :func:`read_body`."""


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body; raises :class:`TooLarge` as soon as it passes ``limit`` bytes
    and :class:`Disconnected` on ``http.disconnect``. Other message types are skipped."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        kind = message.get("type")
        if kind == "http.disconnect":
            raise Disconnected
        if kind != "http.request":
            continue
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that first returns ``body`` as one complete ``http.request`` message, then
    defers to ``receive`` (for the disconnect the app may wait for)."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
