"""ASGI and WSGI middleware for Cobo signatures, on the scheme-neutral :mod:`authsig.http` layer.

- ``CoboEventASGIMiddleware`` / ``CoboEventWSGIMiddleware``: refuse unsigned, forged, stale or
  replayed Cobo events (webhooks, callbacks) before the handler runs.
- ``CoboRequestASGIMiddleware`` / ``CoboRequestWSGIMiddleware``: the same for requests signed
  with Cobo's request scheme by holders of ``api_keys``.

The body is read once (bounded) and handed on intact. Refusals are RFC 9457 problem documents
with the reason codes and statuses of :class:`~authsig.reasons.Reason`. The approving
:class:`~authsig.cobo.decision.CoboDecision` is in ``scope["state"]["authsig"]`` (ASGI) or
``environ["authsig.decision"]`` (WSGI), as for every scheme. Replay protection is on by default
(an in-process store; pass a shared store when several processes serve the app, or
``replay_store=None`` to turn it off explicitly). HTTP options: see :class:`~authsig.http.Gate`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Unpack

from authsig.cobo.events import DEFAULT_EVENT_TOLERANCE_MS, Environment
from authsig.cobo.keys import CoboPublicKey
from authsig.cobo.scheme import CoboEventScheme, CoboRequestScheme
from authsig.cobo.signing import DEFAULT_NONCE_WINDOW_MS
from authsig.http import Gate, GateASGIMiddleware, GateOptions, GateWSGIMiddleware
from authsig.http.body import ASGIApp
from authsig.http.wsgi import WSGIApp

__all__ = [
    "CoboEventASGIMiddleware",
    "CoboEventWSGIMiddleware",
    "CoboRequestASGIMiddleware",
    "CoboRequestWSGIMiddleware",
]

ApiKeys = Iterable[str | bytes | CoboPublicKey] | str | bytes | CoboPublicKey


class CoboEventASGIMiddleware(GateASGIMiddleware):
    """ASGI middleware for Cobo webhook/callback endpoints (``paths``: None protects all)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        public_key: str | bytes | CoboPublicKey | None = None,
        environment: Environment = "prod",
        tolerance_ms: int | None = DEFAULT_EVENT_TOLERANCE_MS,
        paths: Iterable[str] | None = None,
        **options: Unpack[GateOptions],
    ) -> None:
        scheme = CoboEventScheme(
            public_key=public_key, environment=environment, tolerance_ms=tolerance_ms, paths=paths
        )
        super().__init__(app, Gate(scheme, **options))


class CoboEventWSGIMiddleware(GateWSGIMiddleware):
    """WSGI middleware for Cobo webhook/callback endpoints (same options as the ASGI one)."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        public_key: str | bytes | CoboPublicKey | None = None,
        environment: Environment = "prod",
        tolerance_ms: int | None = DEFAULT_EVENT_TOLERANCE_MS,
        paths: Iterable[str] | None = None,
        **options: Unpack[GateOptions],
    ) -> None:
        scheme = CoboEventScheme(
            public_key=public_key, environment=environment, tolerance_ms=tolerance_ms, paths=paths
        )
        super().__init__(app, Gate(scheme, **options))


class CoboRequestASGIMiddleware(GateASGIMiddleware):
    """ASGI middleware for requests signed with Cobo's request scheme by one of ``api_keys``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        api_keys: ApiKeys,
        window_ms: int = DEFAULT_NONCE_WINDOW_MS,
        accept_sdk_empty_object: bool = True,
        paths: Iterable[str] | None = None,
        **options: Unpack[GateOptions],
    ) -> None:
        scheme = CoboRequestScheme(
            api_keys=api_keys,
            window_ms=window_ms,
            accept_sdk_empty_object=accept_sdk_empty_object,
            paths=paths,
        )
        super().__init__(app, Gate(scheme, **options))


class CoboRequestWSGIMiddleware(GateWSGIMiddleware):
    """WSGI middleware for requests signed with Cobo's request scheme by one of ``api_keys``."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        api_keys: ApiKeys,
        window_ms: int = DEFAULT_NONCE_WINDOW_MS,
        accept_sdk_empty_object: bool = True,
        paths: Iterable[str] | None = None,
        **options: Unpack[GateOptions],
    ) -> None:
        scheme = CoboRequestScheme(
            api_keys=api_keys,
            window_ms=window_ms,
            accept_sdk_empty_object=accept_sdk_empty_object,
            paths=paths,
        )
        super().__init__(app, Gate(scheme, **options))
