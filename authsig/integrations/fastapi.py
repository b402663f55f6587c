"""FastAPI (and Starlette): a dependency that checks a route's key quorum and returns the
:class:`~authsig.privy.verifier.Decision`::

    from fastapi import Depends, FastAPI
    from authsig import Decision
    from authsig.integrations.fastapi import AuthSig, require_quorum

    app = FastAPI()
    AuthSig(app, public_base_url="https://api.example.com", app_ids=["my-privy-app"])

    @app.post("/v1/transfers")
    async def transfer(decision: Decision = Depends(require_quorum(TREASURY))) -> dict:
        ...

``AuthSig`` holds the settings of :func:`~authsig.privy.middleware.privy_gate` (``user_keys``,
``policy``, ``app_ids`` and the HTTP options of :class:`~authsig.http.GateOptions`: the signed
host must be pinned with ``public_base_url``, and replay protection is the default SQLite store)
and installs the handler that answers a refusal with its RFC 9457 problem document.

``require_quorum(quorum_or_resolver)`` is the dependency: a ``KeyQuorum``, or a resolver taking
the Starlette ``Request`` (sync or async) and returning the quorum or None (no signature
needed: the dependency returns None). It verifies the request, records it in the replay store
and returns the decision, also left in ``request.state.authsig``. The same dependency works for
a whole route or router: ``dependencies=[Depends(require_quorum(TREASURY))]``. OpenAPI lists
the signature headers on every route that uses it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated, Unpack

from fastapi import Depends, Header, Request
from fastapi.responses import Response
from fastapi.security import APIKeyHeader
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect

from authsig.http import Gate, GateOptions, Problem
from authsig.http.body import BodyError, TooLarge
from authsig.integrations._common import (
    RouteQuorum,
    build_gate,
    checked_before,
    decide_async,
    route_quorum,
)
from authsig.policy import Policy
from authsig.privy.headers import APP_ID_HEADER, EXPIRY_HEADER, SIGNATURE_HEADER
from authsig.privy.quorum import AnyUserKeyResolver
from authsig.privy.verifier import Decision

__all__ = ["AuthSig", "Refused", "problem_response", "require_quorum"]

_CHECKED = "authsig.checked"
"""Scope key of (source, decision) once a request was checked (see ``checked_before``)."""


class Refused(Exception):
    """Raised by :func:`require_quorum` to refuse a request; ``AuthSig`` installs the handler
    that answers it with ``problem`` (``application/problem+json``)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.reason)
        self.problem = problem


def problem_response(problem: Problem) -> Response:
    """``problem`` as a FastAPI response."""
    return Response(
        problem.body(),
        status_code=problem.status,
        media_type="application/problem+json",
        headers={"cache-control": "no-store"},
    )


async def _refused(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, Refused):  # pragma: no cover - Starlette calls it for Refused only
        raise exc
    return problem_response(exc.problem)


class AuthSig:
    """authsig for a FastAPI or Starlette application: the settings of its gate, and the
    handler that turns a refusal into a problem response.

    ``AuthSig(app, public_base_url=..., ...)``, or ``AuthSig(...)`` then ``init_app(app)``.
    The settings are checked at once (``TypeError``/``ValueError``), not on the first request.
    """

    def __init__(
        self,
        app: Starlette | None = None,
        *,
        user_keys: AnyUserKeyResolver | None = None,
        policy: Policy | None = None,
        app_ids: str | Iterable[str] | None = None,
        **options: Unpack[GateOptions],
    ) -> None:
        settings = {"user_keys": user_keys, "policy": policy, "app_ids": app_ids, **options}
        self.gate: Gate = build_gate(settings, where="AuthSig")
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Starlette) -> None:
        """Make ``app`` (a FastAPI or Starlette app) use these settings."""
        app.state.authsig = self
        app.add_exception_handler(Refused, _refused)

    @staticmethod
    def of(request: Request) -> AuthSig:
        """The ``AuthSig`` of the app serving ``request``."""
        found = getattr(request.app.state, "authsig", None)
        if not isinstance(found, AuthSig):
            raise ValueError(
                "require_quorum needs authsig set up on the app: AuthSig(app, public_base_url=...)"
            )
        return found


async def _read_body(request: Request, gate: Gate) -> bytes:
    """The body, at most ``max_body_bytes`` within ``body_timeout`` seconds.

    FastAPI has already read it when the route has a body parameter; otherwise it is read here
    and kept where Starlette keeps a body it read, so that the endpoint reads the same bytes.
    """
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(gate.body_timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > gate.max_body_bytes:
                    raise TooLarge
                chunks.append(chunk)
    except ClientDisconnect:
        raise BodyError("the client disconnected before the whole body arrived") from None
    body = b"".join(chunks)
    request._body = body  # Starlette's cache: Request.body() returns it from now on
    return body


_SIGNATURE_DOC = (
    "Privy authorization signatures of the key quorum this route requires (comma-separated, "
    "base64 DER). Without enough of them the request is refused (401/403, problem+json)."
)
_SIGNATURE = APIKeyHeader(
    name=SIGNATURE_HEADER,
    scheme_name="PrivyAuthorizationSignature",
    description=_SIGNATURE_DOC,
    auto_error=False,  # authsig refuses, with its own status and problem document
)
_EXPIRY_DOC = "When the signed request expires, in milliseconds since the epoch (signed)."
_APP_ID_DOC = "The Privy app id the request is signed for (signed)."


def require_quorum(quorum: RouteQuorum) -> Callable[..., Awaitable[Decision | None]]:
    """The FastAPI dependency that requires ``quorum``'s approval and returns the
    :class:`~authsig.privy.verifier.Decision` (None where a resolver returned None).

    ``quorum`` is a ``KeyQuorum`` or a resolver ``(Request) -> KeyQuorum | None``, sync or
    async. For OpenAPI the signature header is declared as a security scheme
    (``PrivyAuthorizationSignature``, an API key in a header) and the expiry and app id headers
    as header parameters; none is validated by FastAPI, so that a request without them gets
    authsig's 401 and problem document rather than FastAPI's 422.
    """
    source = route_quorum(quorum)

    async def authsig_quorum(
        request: Request,
        signature: Annotated[str | None, Depends(_SIGNATURE)],
        expiry: Annotated[str | None, Header(alias=EXPIRY_HEADER, description=_EXPIRY_DOC)] = None,
        app_id: Annotated[str | None, Header(alias=APP_ID_HEADER, description=_APP_ID_DOC)] = None,
    ) -> Decision | None:
        # The Gate reads the headers as received (a repeated one is refused, not merged), so
        # the parameters above only document them.
        record: tuple[object, Decision | None] | None = request.scope.get(_CHECKED)
        if record is None and getattr(request.state, "authsig", None) is not None:
            record = ("AuthSigMiddleware", request.state.authsig)
        if checked_before(record, source):
            return record[1] if record is not None else None
        gate = AuthSig.of(request).gate

        async def read() -> bytes:
            return await _read_body(request, gate)

        result = await decide_async(gate, source, request, request.scope, read)
        if isinstance(result, Problem):
            raise Refused(result)
        request.scope[_CHECKED] = (source, result)
        request.state.authsig = result
        return result

    return authsig_quorum
