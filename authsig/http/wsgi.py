"""The WSGI middleware of the Gate: any scheme, one request path.

Same behaviour as :class:`~authsig.http.asgi.GateASGIMiddleware`, with a synchronous resolver
and replay store call. The body is read once (bounded) and ``wsgi.input`` replaced with the same
bytes; the decision is in ``environ[environ_key]``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from authsig.errors import AuthSigError
from authsig.http.body import (
    BodyError,
    TooLarge,
    declared_length,
    read_wsgi_body,
    restore_wsgi_body,
)
from authsig.http.gate import Gate
from authsig.http.problem import Problem, status_line

__all__ = ["ENVIRON_KEY", "GateWSGIMiddleware"]

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

ENVIRON_KEY = "authsig.decision"
"""Key of the decision in the WSGI environ (None for requests that need no signature)."""


class GateWSGIMiddleware:
    """Wrap ``app``: every request goes through ``gate`` first."""

    def __init__(self, app: WSGIApp, gate: Gate, *, environ_key: str = ENVIRON_KEY) -> None:
        self.app = app
        self.gate = gate
        self.environ_key = environ_key

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Handle one WSGI request."""
        try:
            problem = self._check(environ)
        except Exception as exc:  # never a traceback to the client
            problem = self.gate.unexpected(exc)
        if problem is not None:
            start_response(status_line(problem.status), problem.headers())
            return [problem.body()]
        return self.app(environ, start_response)

    def _check(self, environ: Environ) -> Problem | None:
        gate = self.gate
        try:
            info = gate.urls.from_wsgi(environ)
        except AuthSigError as exc:  # a malformed header from a trusted proxy
            return gate.problem(exc.code, exc.message)
        target = gate.scheme.resolve(info)
        if target is None:
            environ.setdefault(self.environ_key, None)
            return None
        early = gate.screen(info, target)
        if early is not None:
            return early
        try:
            length = declared_length(info.headers.get("content-length"), gate.max_body_bytes)
            body = read_wsgi_body(environ, length, gate.max_body_bytes)
        except BodyError as exc:
            return gate.problem("invalid_body", str(exc), info, target=target)
        except TooLarge:
            return gate.too_large(info, target)
        outcome = gate.check(info, body, target)
        if outcome.problem is not None:
            return outcome.problem
        restore_wsgi_body(environ, body)
        environ[self.environ_key] = outcome.decision
        return None
