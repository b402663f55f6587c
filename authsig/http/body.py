"""Reading a request body once, bounded, for ASGI and WSGI alike.

A signed request's body is verified before the application sees it, so the middleware reads it
whole (up to a limit), then hands the application the same bytes: an ASGI ``receive`` that
delivers them once, or a fresh ``wsgi.input``. A declared ``Content-Length`` over the limit is
refused before a byte is read.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = [
    "ASGIApp",
    "BodyError",
    "Disconnected",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "TooLarge",
    "declared_length",
    "read_asgi_body",
    "read_wsgi_body",
    "replaying",
    "restore_wsgi_body",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_CHUNK = 64 * 1024


class BodyError(Exception):
    """The body cannot be read as declared (a ``Content-Length`` that is not a number)."""


class TooLarge(Exception):
    """The body exceeds the limit."""


class Disconnected(Exception):
    """The client disconnected before the whole body arrived."""


def declared_length(value: str | None, limit: int) -> int | None:
    """The ``Content-Length`` as an int (None when absent).

    Raises :class:`BodyError` when it is not a plain decimal number and :class:`TooLarge` when
    it exceeds ``limit``.
    """
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    if not text.isdigit() or not text.isascii():
        raise BodyError("the Content-Length header is not a number")
    length = int(text)
    if length > limit:
        raise TooLarge
    return length


async def read_asgi_body(receive: Receive, limit: int) -> bytes:
    """The whole request body from ASGI ``http.request`` messages.

    Raises :class:`TooLarge` as soon as it passes ``limit`` bytes and :class:`Disconnected` on
    ``http.disconnect``. Other message types are skipped.
    """
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


def read_wsgi_body(environ: MutableMapping[str, Any], length: int | None, limit: int) -> bytes:
    """The body from ``wsgi.input``: ``length`` bytes when declared; without a length, only
    when the server says the input is terminated (PEP 3333), else no body.

    Raises :class:`TooLarge` when more than ``limit`` bytes arrive.
    """
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    if length is None and not environ.get("wsgi.input_terminated"):
        return b""
    remaining = length if length is not None else limit + 1
    chunks: list[bytes] = []
    size = 0
    while remaining > 0:
        chunk = stream.read(min(_CHUNK, remaining))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        remaining -= len(chunk)
        if size > limit:
            raise TooLarge
    return b"".join(chunks)


def restore_wsgi_body(environ: MutableMapping[str, Any], body: bytes) -> None:
    """Give the application the bytes that were read, as a fresh ``wsgi.input``."""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
