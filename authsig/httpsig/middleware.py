"""ASGI and WSGI middleware for RFC 9421 signatures, on the scheme-neutral :mod:`authsig.http`
layer.

Refusals are RFC 9457 problem documents with the reason codes of
:class:`~authsig.reasons.Reason`; the approving
:class:`~authsig.httpsig.decision.HttpSigDecision` is in ``scope["state"]["authsig"]`` (ASGI) or
``environ["authsig.decision"]`` (WSGI). Replay protection is on by default: every signature must
then carry the same ``nonce`` (``require_nonce`` None follows the replay store), and a copy is
refused while any of its signatures could still be accepted. HTTP options: see
:class:`~authsig.http.Gate`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Unpack

from authsig.http import Gate, GateASGIMiddleware, GateOptions, GateWSGIMiddleware
from authsig.http.body import ASGIApp
from authsig.http.wsgi import WSGIApp
from authsig.httpsig.scheme import HttpSigScheme, QuorumSource
from authsig.httpsig.verify import KeyResolver, KeySource
from authsig.policy import Policy

__all__ = ["HttpSigASGIMiddleware", "HttpSigWSGIMiddleware", "httpsig_gate"]


def httpsig_gate(
    *,
    keys: KeySource | KeyResolver,
    quorum: QuorumSource = None,
    policy: Policy | None = None,
    require_nonce: bool | None = None,
    require_content_digest: bool = True,
    tag: str | None = None,
    paths: Iterable[str] | None = None,
    **options: Unpack[GateOptions],
) -> Gate:
    """The Gate of the RFC 9421 middleware (for a framework integration of one's own)."""
    if require_nonce is None:
        # The nonce is the replay store's name for a request: with a store it is required.
        require_nonce = options.get("replay_store", "default") is not None
    scheme = HttpSigScheme(
        keys=keys,
        quorum=quorum,
        policy=policy,
        require_nonce=require_nonce,
        require_content_digest=require_content_digest,
        tag=tag,
        paths=paths,
    )
    return Gate(scheme, **options)


class HttpSigASGIMiddleware(GateASGIMiddleware):
    """ASGI middleware: RFC 9421 signatures by ``keys`` against ``quorum``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        keys: KeySource | KeyResolver,
        quorum: QuorumSource = None,
        policy: Policy | None = None,
        require_nonce: bool | None = None,
        require_content_digest: bool = True,
        tag: str | None = None,
        paths: Iterable[str] | None = None,
        **options: Unpack[GateOptions],
    ) -> None:
        gate = httpsig_gate(
            keys=keys,
            quorum=quorum,
            policy=policy,
            require_nonce=require_nonce,
            require_content_digest=require_content_digest,
            tag=tag,
            paths=paths,
            **options,
        )
        super().__init__(app, gate)


class HttpSigWSGIMiddleware(GateWSGIMiddleware):
    """WSGI middleware: RFC 9421 signatures by ``keys`` against ``quorum``."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        keys: KeySource | KeyResolver,
        quorum: QuorumSource = None,
        policy: Policy | None = None,
        require_nonce: bool | None = None,
        require_content_digest: bool = True,
        tag: str | None = None,
        paths: Iterable[str] | None = None,
        **options: Unpack[GateOptions],
    ) -> None:
        gate = httpsig_gate(
            keys=keys,
            quorum=quorum,
            policy=policy,
            require_nonce=require_nonce,
            require_content_digest=require_content_digest,
            tag=tag,
            paths=paths,
            **options,
        )
        super().__init__(app, gate)
