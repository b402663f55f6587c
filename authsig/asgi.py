"""ASGI middleware: refuse requests that lack the approvals of their key quorum.

Plain ASGI (works under Starlette, FastAPI, Quart, ...; needs no framework at runtime)::

    from authsig.asgi import AuthSigMiddleware

    app = AuthSigMiddleware(
        app,
        quorum=lambda request: quorum if request.method != "GET" else None,
        public_base_url="https://api.example.com",
        replay_store=RedisReplayStore("redis://localhost:6379/0"),
    )

Per HTTP request the ``quorum`` resolver (a :class:`~authsig.privy.quorum.KeyQuorum`, or a sync or
async callable taking a :class:`~authsig._middleware.RequestInfo`) says which quorum must
approve it; ``None`` passes the request through untouched. Otherwise the body is read once (at
most ``max_body_bytes``), verified together with the public URL and headers, checked against
the replay store, and handed on intact to the app, with the
:class:`~authsig.privy.verifier.Decision` in ``scope["state"]["authsig"]``
(``request.state.authsig``
in Starlette). Refusals are RFC 9457 ``application/problem+json`` documents with a ``reason``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any, Literal

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
from authsig._middleware import (
    DEFAULT_MAX_BODY_BYTES,
    PROBLEM_TYPE_PREFIX,
    Gate,
    Problem,
    QuorumSource,
    RequestInfo,
    join_headers,
    quote_path,
)
from authsig.replay import ReplayStore

__all__ = ["AuthSigMiddleware", "RequestInfo", "STATE_KEY"]

logger = logging.getLogger("authsig.middleware")


STATE_KEY = "authsig"
"""Key of the Decision in ``scope["state"]`` (None for requests that need no signature)."""


class AuthSigMiddleware:
    """ASGI middleware that verifies Privy authorization signatures against a key quorum.

    Keyword arguments (see :class:`~authsig._middleware.Gate`):

    - ``quorum``: a ``KeyQuorum`` or a resolver ``(RequestInfo) -> KeyQuorum | None``
      (sync or async).
    - ``public_base_url``: the base URL clients sign (e.g. ``https://api.example.com``);
      the signed URL is that base + the request path + ``?query``.
    - ``trusted_proxies``: CIDRs whose ``Forwarded`` / ``X-Forwarded-Proto/Host/Prefix``
      headers are believed (ignored from anyone else, and when ``public_base_url`` is set).
    - ``max_body_bytes``: body limit of signed routes (413 ``body_too_large`` beyond it).
    - ``replay_store``: a :class:`~authsig.replay.ReplayStore`; approved requests are recorded
      until their expiry and copies refused (409 ``replayed``). The default ``"memory"`` is a
      :class:`~authsig.replay.MemoryReplayStore` of this process (use a
      :class:`~authsig.replay.RedisReplayStore` when several processes serve the app);
      ``None`` turns replay protection off, explicitly. With a store, ``require_expiry``
      defaults to True; a request without expiry (when allowed) is remembered for
      ``max_lifetime``.
    - ``user_keys``, ``allow_foreign_signatures``, ``require_expiry``, ``max_lifetime``,
      ``clock_skew``, ``empty_body``, ``profile``, ``max_signatures``,
      ``max_header_length``: passed to :func:`authsig.privy.verifier.verify_request_async`.
    - ``problem_type_prefix``: prefix of the problem ``type`` URI (``urn:authsig:problem:``
      + reason code by default).
    - ``detailed_problems``: when False, the problem ``detail`` is a generic sentence instead
      of the verifier's explanation (which names the quorum and which signatures failed).

    Behind uvicorn ``--proxy-headers`` or waitress ``trusted_proxy`` the server rewrites the
    client address and scheme itself; use either the server's proxy handling or
    ``trusted_proxies`` here (with the server's off), not both.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        quorum: QuorumSource,
        public_base_url: str | None = None,
        trusted_proxies: Iterable[str] = (),
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        replay_store: ReplayStore | Literal["memory"] | None = "memory",
        user_keys: Any = None,
        allow_foreign_signatures: bool = False,
        require_expiry: bool | None = None,
        max_lifetime: timedelta | None = None,
        clock_skew: timedelta | None = None,
        empty_body: Literal["string", "preserve"] = "string",
        profile: Literal["rfc8785", "canonicaljson"] = "rfc8785",
        max_signatures: int | None = None,
        max_header_length: int | None = None,
        problem_type_prefix: str = PROBLEM_TYPE_PREFIX,
        detailed_problems: bool = True,
    ) -> None:
        """Wrap ``app``; see the class docstring for the options."""
        self.app = app
        self.gate = Gate(
            quorum=quorum,
            public_base_url=public_base_url,
            trusted_proxies=trusted_proxies,
            max_body_bytes=max_body_bytes,
            replay_store=replay_store,
            user_keys=user_keys,
            allow_foreign_signatures=allow_foreign_signatures,
            require_expiry=require_expiry,
            max_lifetime=max_lifetime,
            clock_skew=clock_skew,
            empty_body=empty_body,
            profile=profile,
            max_signatures=max_signatures,
            max_header_length=max_header_length,
            problem_type_prefix=problem_type_prefix,
            detailed_problems=detailed_problems,
        )

    def request_info(self, scope: Scope) -> RequestInfo:
        """Describe an HTTP scope (headers, public URL, peer)."""
        items = tuple(
            (bytes(name).decode("latin-1").lower(), bytes(value).decode("latin-1"))
            for name, value in scope.get("headers", ())
        )
        headers = join_headers(items)
        raw_path_bytes = scope.get("raw_path")
        if raw_path_bytes:
            raw_path = bytes(raw_path_bytes).decode("latin-1").split("?", 1)[0]
        else:
            raw_path = quote_path(str(scope.get("root_path", "")) + str(scope.get("path", "/")))
        query = bytes(scope.get("query_string", b"")).decode("latin-1")
        client = scope.get("client")
        peer = str(client[0]) if client else None
        host = headers.get("host")
        if not host:
            server = scope.get("server")
            host = f"{server[0]}:{server[1]}" if server else "localhost"
        url = self.gate.url(
            scheme=str(scope.get("scheme", "http")),
            host=host,
            raw_path=raw_path,
            query_string=query,
            headers=headers,
            peer=peer,
        )
        return RequestInfo(
            method=str(scope.get("method", "GET")).upper(),
            url=url,
            path=str(scope.get("path", "/")),
            query_string=query,
            headers=headers,
            peer=peer,
            raw=scope,
            header_items=items,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection scope."""
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        gate = self.gate
        try:
            info = self.request_info(scope)
            quorum = await gate.aresolve(info)
            if quorum is None:
                scope.setdefault("state", {})[STATE_KEY] = None
                passthrough = True
            else:
                passthrough = False
                _, early = gate.content_length(info.headers.get("content-length"))
                if early is not None:
                    await _send_problem(send, early)
                    return
                try:
                    body = await read_body(receive, gate.max_body_bytes)
                except TooLarge:
                    await _send_problem(send, gate.too_large())
                    return
                except Disconnected:
                    return
                outcome = await gate.acheck(info, body, quorum)
                if outcome.problem is not None:
                    await _send_problem(send, outcome.problem)
                    return
                scope.setdefault("state", {})[STATE_KEY] = outcome.decision
        except Exception as exc:  # never a traceback to the client
            logger.error(
                "authsig: unexpected %s while checking a request", type(exc).__name__, exc_info=True
            )
            await _send_problem(send, gate.internal_error())
            return

        if passthrough:
            await self.app(scope, receive, send)
            return

        await self.app(scope, replaying(body, receive), send)


async def _send_problem(send: Send, problem: Problem) -> None:
    body = problem.body()
    headers = [
        (name.encode("latin-1"), value.encode("latin-1")) for name, value in problem.headers()
    ]
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
