"""ASGI and WSGI middleware that refuse requests lacking the approvals of their key quorum.

Both are the scheme-neutral middleware of :mod:`authsig.http` running a
:class:`~authsig.privy.scheme.PrivyScheme`::

    from authsig.asgi import AuthSigMiddleware

    app = AuthSigMiddleware(
        app,
        quorum=lambda request: quorum if request.method != "GET" else None,
        public_base_url="https://api.example.com",
        replay_store=RedisReplayStore("redis://localhost:6379/0"),
    )

Options: ``quorum`` (a ``KeyQuorum`` or a resolver ``(RequestInfo) -> KeyQuorum | None``, sync or
async under ASGI, sync under WSGI), ``user_keys``, ``policy`` (an
:class:`~authsig.policy.Policy`), ``app_ids`` (the Privy app ids this endpoint serves; others
are refused), and the HTTP settings of :class:`~authsig.http.Gate`
(``public_base_url`` or ``trust_host_header``, ``trusted_proxies`` with ``proxy_headers``,
``max_body_bytes``, ``body_timeout``, ``replay_store``, ``allow_method_override``,
``problem_type_prefix``, ``detailed_problems``, ``clock``). With a replay store (the default),
a policy whose ``require_expiry`` is left at None requires an expiry.

Behind uvicorn ``--proxy-headers`` or waitress ``trusted_proxy`` the server rewrites the client
address and scheme itself; use either the server's proxy handling or ``trusted_proxies`` here
(with the server's off), not both.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Unpack

from authsig.http import Gate, GateASGIMiddleware, GateOptions, GateWSGIMiddleware
from authsig.http.body import ASGIApp
from authsig.http.wsgi import WSGIApp
from authsig.policy import DEFAULT_POLICY, Policy
from authsig.privy.quorum import AnyUserKeyResolver
from authsig.privy.scheme import PrivyScheme, QuorumSource

__all__ = ["AuthSigMiddleware", "AuthSigWSGIMiddleware", "privy_gate"]


def privy_gate(
    quorum: QuorumSource,
    *,
    user_keys: AnyUserKeyResolver | None = None,
    policy: Policy | None = None,
    app_ids: str | Iterable[str] | None = None,
    **options: Unpack[GateOptions],
) -> Gate:
    """The Gate of the Privy middleware (for a framework integration of one's own)."""
    policy = policy if policy is not None else DEFAULT_POLICY
    if not isinstance(policy, Policy):
        raise TypeError(f"policy must be an authsig Policy, not {type(policy).__name__}")
    if policy.require_expiry is None:
        # A replay store remembers a request until its expiry: without one it would have to
        # remember it for the longest lifetime, so the default requires an expiry.
        protected = options.get("replay_store", "default") is not None
        policy = policy.replace(require_expiry=protected)
    scheme = PrivyScheme(quorum, user_keys=user_keys, policy=policy, app_ids=app_ids)
    return Gate(scheme, **options)


class AuthSigMiddleware(GateASGIMiddleware):
    """ASGI middleware: Privy authorization signatures against a key quorum.

    The :class:`~authsig.privy.verifier.Decision` is in ``scope["state"]["authsig"]``
    (``request.state.authsig`` in Starlette; None where the resolver returned None).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        quorum: QuorumSource,
        user_keys: AnyUserKeyResolver | None = None,
        policy: Policy | None = None,
        app_ids: str | Iterable[str] | None = None,
        **options: Unpack[GateOptions],
    ) -> None:
        gate = privy_gate(quorum, user_keys=user_keys, policy=policy, app_ids=app_ids, **options)
        super().__init__(app, gate)


class AuthSigWSGIMiddleware(GateWSGIMiddleware):
    """WSGI middleware: Privy authorization signatures against a key quorum.

    The resolver must be synchronous. The :class:`~authsig.privy.verifier.Decision` is in
    ``environ["authsig.decision"]`` (None where the resolver returned None).
    """

    def __init__(
        self,
        app: WSGIApp,
        *,
        quorum: QuorumSource,
        user_keys: AnyUserKeyResolver | None = None,
        policy: Policy | None = None,
        app_ids: str | Iterable[str] | None = None,
        **options: Unpack[GateOptions],
    ) -> None:
        gate = privy_gate(quorum, user_keys=user_keys, policy=policy, app_ids=app_ids, **options)
        super().__init__(app, gate)
