"""ASGI and WSGI middleware that refuses unsigned or forged Cobo events before the handler runs.

The body is read once, verified with :func:`authsig.cobo.events.verify_event`, and handed on
intact. Refusals are RFC 9457 ``application/problem+json`` documents (401 for a missing,
malformed, forged or stale signature; 409 replay; 413 body too large; 503 replay store down).
The approving :class:`~authsig.cobo.decision.CoboDecision` is put in the ASGI scope / WSGI
environ under ``"authsig.cobo"``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

from authsig._asgi import (
    ASGIApp,
    Disconnected,
    Receive,
    Scope,
    Send,
    TooLarge,
    read_body,
    replaying,
)
from authsig._clock import now_ms as _now_ms
from authsig.cobo.decision import CoboDecision, ReplayStoreLike
from authsig.cobo.errors import CoboRequestError
from authsig.cobo.events import (
    DEFAULT_EVENT_TOLERANCE_MS,
    Environment,
    _public_key,
    verify_event,
)
from authsig.cobo.keys import CoboPublicKey

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "PROBLEM_TYPE_PREFIX",
    "SCOPE_KEY",
    "CoboEventASGIMiddleware",
    "CoboEventWSGIMiddleware",
    "problem_document",
]

SCOPE_KEY = "authsig.cobo"
#: Problem ``type`` URIs are this prefix plus the reason code (as in the Privy middleware).
PROBLEM_TYPE_PREFIX = "urn:authsig:problem:"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_TITLES = {
    401: "Unauthorized",
    409: "Conflict",
    413: "Content Too Large",
    503: "Service Unavailable",
}


def problem_document(decision: CoboDecision, instance: str | None = None) -> bytes:
    """The RFC 9457 problem document (JSON bytes) for a refused decision."""
    doc: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + decision.reason,
        "title": _TITLES.get(decision.http_status, "Refused"),
        "status": decision.http_status,
        "detail": decision.message,
        "reason": decision.reason,
    }
    if instance:
        doc["instance"] = instance
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


class _Config:
    def __init__(
        self,
        public_key: str | bytes | CoboPublicKey | None,
        environment: Environment,
        tolerance_ms: int | None,
        replay_store: ReplayStoreLike | None,
        max_body_bytes: int,
        paths: Iterable[str] | None,
        clock: Callable[[], int] | None,
    ) -> None:
        # Resolve the key now: a wrong configuration fails at start-up, not per request.
        self.public_key = _public_key(public_key, environment)
        self.tolerance_ms = tolerance_ms
        self.replay_store = replay_store
        if max_body_bytes < 0:
            raise CoboRequestError("max_body_bytes must not be negative")
        self.max_body_bytes = max_body_bytes
        self.paths = None if paths is None else frozenset(paths)
        self.clock = clock or _now_ms

    def applies(self, path: str) -> bool:
        return self.paths is None or path in self.paths

    def verify(self, body: bytes, headers: Iterable[tuple[str, str]]) -> CoboDecision:
        return verify_event(
            body,
            headers,
            public_key=self.public_key,
            now_ms=self.clock(),
            tolerance_ms=self.tolerance_ms,
            replay_store=self.replay_store,
        )

    def too_large(self) -> CoboDecision:
        return CoboDecision.refuse(
            "body_too_large", f"the body exceeds the limit of {self.max_body_bytes} bytes"
        )


class CoboEventASGIMiddleware:
    """ASGI middleware for Cobo webhook/callback endpoints.

    ``paths``: exact request paths to protect (None: every HTTP request). Other arguments as
    in :func:`~authsig.cobo.events.verify_event`; ``clock`` returns now in milliseconds.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        public_key: str | bytes | CoboPublicKey | None = None,
        environment: Environment = "prod",
        tolerance_ms: int | None = DEFAULT_EVENT_TOLERANCE_MS,
        replay_store: ReplayStoreLike | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        paths: Iterable[str] | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.app = app
        self._config = _Config(
            public_key, environment, tolerance_ms, replay_store, max_body_bytes, paths, clock
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Verify, then call the wrapped app with the body replayed."""
        if scope.get("type") != "http" or not self._config.applies(str(scope.get("path", ""))):
            await self.app(scope, receive, send)
            return
        try:
            body = await read_body(receive, self._config.max_body_bytes)
        except TooLarge:
            await self._refuse(send, self._config.too_large(), scope)
            return
        except Disconnected:
            return
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
        decision = self._config.verify(body, headers)
        if not decision.approved:
            await self._refuse(send, decision, scope)
            return
        scope[SCOPE_KEY] = decision
        await self.app(scope, replaying(body, receive), send)

    @staticmethod
    async def _refuse(send: Send, decision: CoboDecision, scope: Scope) -> None:
        payload = problem_document(decision, str(scope.get("path", "")) or None)
        await send(
            {
                "type": "http.response.start",
                "status": decision.http_status,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(payload)).encode("ascii")),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload, "more_body": False})


class CoboEventWSGIMiddleware:
    """WSGI middleware for Cobo webhook/callback endpoints (same options as the ASGI one)."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        public_key: str | bytes | CoboPublicKey | None = None,
        environment: Environment = "prod",
        tolerance_ms: int | None = DEFAULT_EVENT_TOLERANCE_MS,
        replay_store: ReplayStoreLike | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        paths: Iterable[str] | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.app = app
        self._config = _Config(
            public_key, environment, tolerance_ms, replay_store, max_body_bytes, paths, clock
        )

    def _read_body(self, environ: dict[str, Any]) -> bytes | None:
        """The body, or None when it exceeds the limit."""
        stream = environ.get("wsgi.input")
        if stream is None:
            return b""
        limit = self._config.max_body_bytes
        length_text = str(environ.get("CONTENT_LENGTH") or "").strip()
        if length_text:
            try:
                length = int(length_text)
            except ValueError:
                length = -1
            if length < 0 or length > limit:
                return None
            return bytes(stream.read(length)) if length else b""
        if environ.get("wsgi.input_terminated"):
            data = bytes(stream.read(limit + 1))
            return None if len(data) > limit else data
        return b""

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Verify, then call the wrapped app with ``wsgi.input`` replaced by the read body."""
        if not self._config.applies(str(environ.get("PATH_INFO", ""))):
            return self.app(environ, start_response)
        body = self._read_body(environ)
        if body is None:
            return self._refuse(start_response, self._config.too_large(), environ)
        headers = [
            (key[5:].replace("_", "-"), str(value))
            for key, value in environ.items()
            if key.startswith("HTTP_")
        ]
        decision = self._config.verify(body, headers)
        if not decision.approved:
            return self._refuse(start_response, decision, environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ[SCOPE_KEY] = decision
        return self.app(environ, start_response)

    @staticmethod
    def _refuse(
        start_response: StartResponse, decision: CoboDecision, environ: dict[str, Any]
    ) -> list[bytes]:
        payload = problem_document(decision, str(environ.get("PATH_INFO", "")) or None)
        status = f"{decision.http_status} {_TITLES.get(decision.http_status, 'Refused')}"
        start_response(
            status,
            [
                ("Content-Type", "application/problem+json"),
                ("Content-Length", str(len(payload))),
                ("Cache-Control", "no-store"),
            ],
        )
        return [payload]
