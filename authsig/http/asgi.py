"""The ASGI middleware of the Gate: any scheme, one request path.

Per HTTP request the scheme's resolver says whether the request must be checked; if so the body
is read once (bounded), checked by the :class:`~authsig.http.gate.Gate`, and handed on intact
to the application with the decision in ``scope["state"][state_key]`` (``request.state.authsig``
in Starlette). Refusals are RFC 9457 problem documents; an unexpected failure is a 500 whose
cause goes to the log, never a traceback to the client.
"""

from __future__ import annotations

import logging

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
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        try:
            result = await self._check(scope, receive)
        except Disconnected:  # the client went away: nobody to answer
            return
        except Exception as exc:  # never a traceback to the client
            logger.error(
                "authsig: unexpected %s while checking a request", type(exc).__name__, exc_info=True
            )
            result = self.gate.internal_error()
        if isinstance(result, Problem):
            await send_problem(send, result)
        elif result is not None:
            await self.app(scope, replaying(result, receive), send)
        else:
            await self.app(scope, receive, send)

    async def _check(self, scope: Scope, receive: Receive) -> Problem | bytes | None:
        """A refusal, the body to hand on (checked), or None (passed through unchecked)."""
        gate = self.gate
        info = gate.urls.from_asgi(scope)
        target = await gate.scheme.resolve_async(info)
        state = scope.setdefault("state", {})
        if target is None:
            state.setdefault(self.state_key, None)
            return None
        try:
            declared_length(info.headers.get("content-length"), gate.max_body_bytes)
            body = await read_asgi_body(receive, gate.max_body_bytes)
        except BodyError as exc:
            return gate.problem("invalid_body", str(exc))
        except TooLarge:
            return gate.too_large()
        outcome = await gate.check_async(info, body, target)
        if outcome.problem is not None:
            return outcome.problem
        state[self.state_key] = outcome.decision
        return body


async def send_problem(send: Send, problem: Problem) -> None:
    """Send ``problem`` as the whole response."""
    body = problem.body()
    headers = [
        (name.encode("latin-1"), value.encode("latin-1")) for name, value in problem.headers()
    ]
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
