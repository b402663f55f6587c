"""WSGI middleware: refuse requests that lack the approvals of their key quorum.

For Flask, Django (through its WSGI handler) and any PEP 3333 app::

    from authsig.wsgi import AuthSigWSGIMiddleware

    app.wsgi_app = AuthSigWSGIMiddleware(
        app.wsgi_app,
        quorum=lambda request: quorum if request.method != "GET" else None,
        public_base_url="https://api.example.com",
    )

Same behaviour as :class:`authsig.asgi.AuthSigMiddleware`, but the quorum resolver must be
synchronous. The body is read once (bounded by ``max_body_bytes``) and ``wsgi.input`` is
replaced with an in-memory copy, so the app reads the same bytes. The
:class:`~authsig.privy.verifier.Decision` is in ``environ["authsig.decision"]`` (None for requests
that need no signature).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any, Literal

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

__all__ = ["AuthSigWSGIMiddleware", "ENVIRON_KEY", "RequestInfo"]

logger = logging.getLogger("authsig.middleware")

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

ENVIRON_KEY = "authsig.decision"
"""Key of the Decision in the WSGI environ."""

_CHUNK = 64 * 1024
_STATUS_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    409: "Conflict",
    413: "Content Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class _TooLarge(Exception):
    pass


class AuthSigWSGIMiddleware:
    """WSGI middleware that verifies Privy authorization signatures against a key quorum.

    Takes the same keyword arguments as :class:`authsig.asgi.AuthSigMiddleware`; the
    ``quorum`` resolver must be synchronous.
    """

    def __init__(
        self,
        app: WSGIApp,
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
        """Wrap ``app``; see :class:`authsig.asgi.AuthSigMiddleware` for the options."""
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

    def request_info(self, environ: Environ) -> RequestInfo:
        """Describe a WSGI request (headers, public URL, peer)."""
        pairs: list[tuple[str, str]] = []
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                pairs.append((key[5:].replace("_", "-").lower(), str(value)))
        if environ.get("CONTENT_TYPE"):
            pairs.append(("content-type", str(environ["CONTENT_TYPE"])))
        if environ.get("CONTENT_LENGTH"):
            pairs.append(("content-length", str(environ["CONTENT_LENGTH"])))
        headers = join_headers(pairs)
        query = str(environ.get("QUERY_STRING", ""))
        raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if isinstance(raw_uri, str) and raw_uri.startswith("/"):
            raw_path = raw_uri.split("?", 1)[0]
        else:
            raw_path = quote_path(
                str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
            )
        host = headers.get("host")
        if not host:
            host = f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '80')}"
        peer = environ.get("REMOTE_ADDR")
        url = self.gate.url(
            scheme=str(environ.get("wsgi.url_scheme", "http")),
            host=host,
            raw_path=raw_path or "/",
            query_string=query,
            headers=headers,
            peer=str(peer) if peer else None,
        )
        return RequestInfo(
            method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
            url=url,
            path=str(environ.get("PATH_INFO", "")),
            query_string=query,
            headers=headers,
            peer=str(peer) if peer else None,
            raw=environ,
            header_items=tuple(pairs),
        )

    def _read_body(self, environ: Environ, length: int | None) -> bytes:
        limit = self.gate.max_body_bytes
        stream = environ.get("wsgi.input")
        if stream is None:
            return b""
        if length is None and not environ.get("wsgi.input_terminated"):
            return b""  # PEP 3333: without CONTENT_LENGTH there is no body to read
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
                raise _TooLarge
        return b"".join(chunks)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Handle one WSGI request."""
        gate = self.gate
        try:
            info = self.request_info(environ)
            quorum = gate.resolve(info)
            if quorum is None:
                environ[ENVIRON_KEY] = None
            else:
                length, early = gate.content_length(info.headers.get("content-length"))
                if early is not None:
                    return _problem_response(start_response, early)
                try:
                    body = self._read_body(environ, length)
                except _TooLarge:
                    return _problem_response(start_response, gate.too_large())
                outcome = gate.check(info, body, quorum)
                if outcome.problem is not None:
                    return _problem_response(start_response, outcome.problem)
                environ["wsgi.input"] = io.BytesIO(body)
                environ["CONTENT_LENGTH"] = str(len(body))
                environ[ENVIRON_KEY] = outcome.decision
        except Exception as exc:  # never a traceback to the client
            logger.error(
                "authsig: unexpected %s while checking a request", type(exc).__name__, exc_info=True
            )
            return _problem_response(start_response, gate.internal_error())
        return self.app(environ, start_response)


def _problem_response(start_response: StartResponse, problem: Problem) -> list[bytes]:
    status = f"{problem.status} {_STATUS_TEXT.get(problem.status, 'Error')}"
    start_response(status, problem.headers())
    return [problem.body()]
