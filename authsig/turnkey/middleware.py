"""ASGI and WSGI middleware for Turnkey stamps, on the scheme-neutral :mod:`authsig.http` layer.

``TurnkeyASGIMiddleware`` / ``TurnkeyWSGIMiddleware`` refuse unstamped, forged, stale or
replayed requests to ``paths`` (all when None) before the handler runs. The approving
:class:`~authsig.turnkey.scheme.TurnkeyDecision` is in ``scope["state"]["authsig"]`` (ASGI) or
``environ["authsig.decision"]`` (WSGI). HTTP options (replay store, body limit, ...): see
:class:`~authsig.http.Gate`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Unpack

from authsig.http import Gate, GateASGIMiddleware, GateOptions, GateWSGIMiddleware
from authsig.http.body import ASGIApp
from authsig.http.wsgi import WSGIApp
from authsig.policy import Policy
from authsig.turnkey.approvals import Quorum
from authsig.turnkey.keys import TurnkeyPublicKey
from authsig.turnkey.scheme import TurnkeyScheme

__all__ = ["TurnkeyASGIMiddleware", "TurnkeyWSGIMiddleware"]

Keys = Quorum | Iterable[str | TurnkeyPublicKey]


class TurnkeyASGIMiddleware(GateASGIMiddleware):
    """ASGI middleware for requests stamped by one of ``keys`` (see ``TurnkeyScheme``)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        keys: Keys,
        policy: Policy | None = None,
        require_low_s: bool = False,
        paths: Iterable[str] | None = None,
        **options: Unpack[GateOptions],
    ) -> None:
        scheme = TurnkeyScheme(keys=keys, policy=policy, require_low_s=require_low_s, paths=paths)
        super().__init__(app, Gate(scheme, **options))


class TurnkeyWSGIMiddleware(GateWSGIMiddleware):
    """WSGI middleware for requests stamped by one of ``keys`` (same options as the ASGI one)."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        keys: Keys,
        policy: Policy | None = None,
        require_low_s: bool = False,
        paths: Iterable[str] | None = None,
        **options: Unpack[GateOptions],
    ) -> None:
        scheme = TurnkeyScheme(keys=keys, policy=policy, require_low_s=require_low_s, paths=paths)
        super().__init__(app, Gate(scheme, **options))
