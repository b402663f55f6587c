"""What the framework integrations share: the Privy Gate built from settings, the route's quorum
resolved from the framework's own request, and one request through the Gate.

Each integration supplies only what its framework does differently: where the ASGI scope or
WSGI environ is, how the body is read, and how a refusal is answered. Everything else (the
checks before the body, the body limit, verification and the replay step) is the Gate's, as in
the generic middleware, so that the reason codes, statuses and replay behaviour are the same.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeAlias, cast

from authsig.errors import AuthSigError
from authsig.http import Gate, GateOptions, Problem, RequestInfo
from authsig.http.body import BodyError, TooLarge, declared_length
from authsig.privy.middleware import privy_gate
from authsig.privy.quorum import KeyQuorum
from authsig.privy.verifier import Decision

__all__ = [
    "SETTINGS",
    "RouteQuorum",
    "build_gate",
    "checked_before",
    "decide",
    "decide_async",
    "route_quorum",
]


RouteQuorum: TypeAlias = (
    "KeyQuorum | Callable[[Any], KeyQuorum | Awaitable[KeyQuorum | None] | None]"
)
"""A fixed quorum, or a resolver taking the framework's request (sync, or async where the
framework runs async views) and returning the quorum that must approve it, or None."""

_PRIVY_SETTINGS = frozenset({"user_keys", "policy", "app_ids"})
SETTINGS: frozenset[str] = _PRIVY_SETTINGS | GateOptions.__optional_keys__
"""The settings every integration accepts: ``privy_gate``'s (``user_keys``, ``policy``,
``app_ids``) and the HTTP options of :class:`~authsig.http.GateOptions`."""


def _resolved_by_the_route(info: RequestInfo) -> None:
    # The integrations resolve each route's quorum from the framework's request and hand it to
    # the Gate, so the Gate's own resolver is never asked.
    raise RuntimeError("an authsig integration gate resolves no quorum of its own")


def build_gate(settings: Mapping[str, Any], *, where: str) -> Gate:
    """The Privy Gate of an application, from ``settings`` (named in errors as ``where``).

    Raises ``ValueError`` for an unknown setting (a misspelt ``public_base_url`` must not
    go unnoticed) and whatever ``privy_gate`` raises for a bad value.
    """
    unknown = sorted(set(settings) - SETTINGS)
    if unknown:
        raise ValueError(f"{where}: unknown setting(s) {unknown}; known: {sorted(SETTINGS)}")
    options = {name: value for name, value in settings.items() if name not in _PRIVY_SETTINGS}
    return privy_gate(
        _resolved_by_the_route,
        user_keys=settings.get("user_keys"),
        policy=settings.get("policy"),
        app_ids=settings.get("app_ids"),
        **cast(GateOptions, options),
    )


def route_quorum(source: object, *, sync_only: bool = False) -> RouteQuorum:
    """``source`` checked when a route is declared: a ``KeyQuorum`` or a callable; with
    ``sync_only`` (a synchronous view) not a coroutine function."""
    if isinstance(source, KeyQuorum):
        return source
    if not callable(source):
        raise TypeError(
            "require_quorum takes a KeyQuorum or a resolver (request -> KeyQuorum | None), "
            f"not {type(source).__name__}"
        )
    if sync_only and inspect.iscoroutinefunction(source):
        raise TypeError("an async quorum resolver needs an async view")
    return cast(RouteQuorum, source)


def checked_before(record: tuple[object, Any] | None, source: RouteQuorum) -> bool:
    """Whether this request was already checked against ``source`` (``record`` is what the
    integration noted on the request: the source and the decision).

    Raises ``ValueError`` (a configuration mistake) when it was checked against another source:
    a second check would find the request in the replay store and refuse it as a replay of
    itself.
    """
    if record is None:
        return False
    if record[0] is source:
        return True
    raise ValueError(
        "this request is checked twice (two different require_quorum on one route, or "
        "require_quorum behind authsig's middleware); protect each route once"
    )


def _quorum(value: object) -> KeyQuorum | None:
    if value is None or isinstance(value, KeyQuorum):
        return value
    raise TypeError(f"the quorum resolver returned {type(value).__name__}, not a KeyQuorum or None")


def _describe(gate: Gate, raw: Mapping[str, Any], asgi: bool) -> RequestInfo | Problem:
    try:
        return gate.urls.from_asgi(raw) if asgi else gate.urls.from_wsgi(raw)
    except AuthSigError as exc:  # a malformed forwarding header from a trusted proxy
        return gate.problem(exc.code, exc.message)


def _before_body(gate: Gate, info: RequestInfo, target: KeyQuorum) -> Problem | None:
    """What is refused before a byte of the body is read: the Gate's header checks, then a
    declared ``Content-Length`` over the limit."""
    early = gate.screen(info, target)
    if early is not None:
        return early
    try:
        declared_length(info.headers.get("content-length"), gate.max_body_bytes)
    except BodyError as exc:
        return gate.problem("invalid_body", str(exc), info)
    except TooLarge:
        return gate.too_large(info)
    return None


def _unreadable(gate: Gate, info: RequestInfo, exc: Exception) -> Problem:
    if isinstance(exc, TooLarge):
        return gate.too_large(info)
    if isinstance(exc, TimeoutError):
        return gate.too_slow(info)
    return gate.problem("invalid_body", str(exc), info)


def _answer(gate: Gate, info: RequestInfo, body: bytes) -> Problem | None:
    # A framework may have read the body before the check (FastAPI does for a body parameter,
    # Django under ASGI always does): the limit still holds.
    return gate.too_large(info) if len(body) > gate.max_body_bytes else None


_BodyErrors = (BodyError, TooLarge, TimeoutError)

# decide and decide_async differ only in awaiting the resolver, the body and the Gate.


def decide(
    gate: Gate,
    source: RouteQuorum,
    request: Any,
    raw: Mapping[str, Any],
    read_body: Callable[[], bytes],
    *,
    asgi: bool = False,
) -> Problem | Decision | None:
    """One request through ``gate`` (sync): the refusal, the approving decision, or None when
    the resolver says the request needs no signature.

    ``request`` is what the resolver receives, ``raw`` the WSGI environ (or, with ``asgi``,
    the ASGI scope), ``read_body`` reads the body, raising ``TooLarge`` past the limit or
    ``BodyError``. Never raises: an unexpected failure is logged and answered with the 500
    problem, as the middleware does.
    """
    try:
        info = _describe(gate, raw, asgi)
        if isinstance(info, Problem):
            return info
        if isinstance(source, KeyQuorum):
            target: KeyQuorum | None = source
        else:
            result = source(request)
            if inspect.isawaitable(result):
                if inspect.iscoroutine(result):
                    result.close()
                raise TypeError(
                    "the quorum resolver is async but the request is checked synchronously; "
                    "use a sync resolver, or an async view under an async server"
                )
            target = _quorum(result)
        if target is None:
            return None
        refusal = _before_body(gate, info, target)
        if refusal is not None:
            return refusal
        try:
            body = read_body()
        except _BodyErrors as exc:
            return _unreadable(gate, info, exc)
        refusal = _answer(gate, info, body)
        if refusal is not None:
            return refusal
        outcome = gate.check(info, body, target)
        return outcome.problem if outcome.problem is not None else cast(Decision, outcome.decision)
    except Exception as exc:  # never a traceback to the client
        return gate.unexpected(exc)  # logged with its traceback, counted


async def decide_async(
    gate: Gate,
    source: RouteQuorum,
    request: Any,
    raw: Mapping[str, Any],
    read_body: Callable[[], Awaitable[bytes]],
    *,
    asgi: bool = True,
) -> Problem | Decision | None:
    """:func:`decide` for async views: the resolver may be async; the body is awaited, and so
    are the verifier and the replay store (``Gate.check_async``)."""
    try:
        info = _describe(gate, raw, asgi)
        if isinstance(info, Problem):
            return info
        if isinstance(source, KeyQuorum):
            target: KeyQuorum | None = source
        else:
            result = source(request)
            if inspect.isawaitable(result):
                result = await result
            target = _quorum(result)
        if target is None:
            return None
        refusal = _before_body(gate, info, target)
        if refusal is not None:
            return refusal
        try:
            body = await read_body()
        except _BodyErrors as exc:
            return _unreadable(gate, info, exc)
        refusal = _answer(gate, info, body)
        if refusal is not None:
            return refusal
        outcome = await gate.check_async(info, body, target)
        return outcome.problem if outcome.problem is not None else cast(Decision, outcome.decision)
    except Exception as exc:  # never a traceback to the client
        return gate.unexpected(exc)  # logged with its traceback, counted
