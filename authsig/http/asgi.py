"""The ASGI middleware of the Gate: any scheme, one request path.

Per HTTP request the scheme's resolver says whether the request must be checked; if so the body
is read once (bounded), checked by the :class:`~authsig.http.gate.Gate`, and handed on intact
to the application with the decision in ``scope["state"][state_key]`` (``request.state.authsig``
in Starlette). Refusals are RFC 9457 problem documents; an unexpected failure is a 500 whose
cause goes to the log, never a traceback to the client.
"""

from __future__ import annotations

import asyncio
import logging

from authsig.errors import AuthSigError
from authsig.http.body import (
    ASGIApp,
    BodyError,
    Disconnected,
    Receive,
    Scope,
    Send,
    TooLarge,
    declared_length,
    read_asgi_body,
    replaying,
)
from authsig.http.gate import Gate
from authsig.http.problem import Problem

__all__ = ["STATE_KEY", "GateASGIMiddleware", "send_problem"]

logger = logging.getLogger("authsig.http")

STATE_KEY = "authsig"
"""Key of the decision in ``scope["state"]`` (None for requests that need no signature)."""


class GateASGIMiddleware:
    """Wrap ``app``: every ``http`` request goes through ``gate`` first."""

    def __init__(self, app: ASGIApp, gate: Gate, *, state_key: str = STATE_KEY) -> None:
        self.app = app
        self.gate = gate
        self.state_key = state_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection scope."""
        kind = scope.get("type")
        if kind == "websocket":
            await self._websocket(scope, receive, send)
            return
        if kind != "http":
            await self.app(scope, receive, send)
            return
        try:
            result = await self._check(scope, receive)
        except Disconnected:  # the client went away: nobody to answer
            return
        except Exception as exc:  # never a traceback to the client
            result = self.gate.unexpected(exc)
        if isinstance(result, Problem):
            await send_problem(send, result)
        elif result is not None:
            await self.app(scope, replaying(result, receive), send)
        else:
            await self.app(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket handshake on a protected path is refused (close code 1008, which the
        server answers with 403): a signature covers one request and its body, not a stream of
        messages. Unprotected paths pass through."""
        try:
            info = self.gate.urls.from_asgi(scope)
            target = await self.gate.scheme.resolve_async(info)
        except Exception as exc:  # fail closed, as for HTTP
            logger.error("authsig: unexpected %s on a websocket handshake", type(exc).__name__)
            target = True
            info = None
        if target is None:
            await self.app(scope, receive, send)
            return
        if info is not None:
            logger.info("authsig: refused websocket handshake %r on a protected path", info.path)
        await send({"type": "websocket.close", "code": 1008})

    async def _check(self, scope: Scope, receive: Receive) -> Problem | bytes | None:
        """A refusal, the body to hand on (checked), or None (passed through unchecked)."""
        gate = self.gate
        try:
            info = gate.urls.from_asgi(scope)
        except AuthSigError as exc:  # a malformed header from a trusted proxy
            return gate.problem(exc.code, exc.message)
        target = await gate.scheme.resolve_async(info)
        state = scope.setdefault("state", {})
        if target is None:
            state.setdefault(self.state_key, None)
            return None
        early = gate.screen(info, target)
        if early is not None:
            return early
        try:
            declared_length(info.headers.get("content-length"), gate.max_body_bytes)
            body = await _read_within(receive, gate.max_body_bytes, gate.body_timeout)
        except BodyError as exc:
            return gate.problem("invalid_body", str(exc), info, target=target)
        except TooLarge:
            return gate.too_large(info, target)
        except TimeoutError:
            return gate.too_slow(info, target)
        outcome = await gate.check_async(info, body, target)
        if outcome.problem is not None:
            return outcome.problem
        state[self.state_key] = outcome.decision
        return body


async def _read_within(receive: Receive, limit: int, timeout: float | None) -> bytes:
    """The body, within ``timeout`` seconds for the whole of it: a client that stalls mid-body
    would otherwise hold its connection and buffer for as long as it likes."""
    if timeout is None:
        return await read_asgi_body(receive, limit)
    async with asyncio.timeout(timeout):
        return await read_asgi_body(receive, limit)


async def send_problem(send: Send, problem: Problem) -> None:
    """Send ``problem`` as the whole response."""
    body = problem.body()
    headers = [
        (name.encode("latin-1"), value.encode("latin-1")) for name, value in problem.headers()
    ]
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
