"""Django: a middleware configured from settings, and a view decorator.

Settings (``settings.AUTHSIG``, a dict)::

    AUTHSIG = {
        "public_base_url": "https://api.example.com",    # the URL clients sign: required
        "app_ids": ["my-privy-app"],
        "quorums": {                                      # for the middleware: URL name -> quorum
            "payouts": "payments.quorums.TREASURY",       # a KeyQuorum, a resolver, or its path
            "wallets:rpc": "payments.quorums.for_wallet", # "namespace:name" inside a namespace
        },
    }
    MIDDLEWARE = [..., "authsig.integrations.django.AuthSigMiddleware"]

Besides ``quorums``, the keys are the settings of :func:`~authsig.privy.middleware.privy_gate`:
``user_keys`` (a resolver or its dotted path), ``policy``, ``app_ids`` and the HTTP options of
:class:`~authsig.http.GateOptions` (``replay_store`` defaults to the SQLite store shared by the
processes of the host). An unknown key, a bad value, or a URL name the URLconf does not have
raises ``ImproperlyConfigured`` on the first request, and every request fails until it is fixed.

Or decorate views, function- or class-based, sync or async::

    @require_quorum(TREASURY)
    def payout(request): ...

    @require_quorum(lambda request: TREASURY if request.method == "POST" else None)
    class WalletView(View): ...

A resolver takes the ``HttpRequest`` and returns the quorum, or None when the request needs no
signature; only async views may use an async one. The
:class:`~authsig.privy.verifier.Decision` is ``request.authsig`` (None where no signature was
needed). A refusal is the RFC 9457 problem document. Signed API views take no cookies, so they
are usually ``csrf_exempt``; the signature is what authorizes them.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, RequestDataTooBig
from django.core.signals import setting_changed
from django.http import HttpResponse, RawPostDataException
from django.urls import get_resolver
from django.utils.module_loading import import_string

from authsig.http import Gate, Problem
from authsig.http.body import BodyError, TooLarge
from authsig.integrations._common import (
    RouteQuorum,
    build_gate,
    checked_before,
    decide,
    decide_async,
    route_quorum,
)
from authsig.privy.verifier import Decision

__all__ = ["MARK", "AuthSigMiddleware", "problem_response", "require_quorum"]

MARK = "authsig_quorum"
"""Attribute of a decorated view (and of a decorated class's ``dispatch``, which ``as_view``
copies onto the view): the quorum source. The middleware leaves such views to the decorator."""

View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class _Config:
    gate: Gate
    quorums: Mapping[str, RouteQuorum]


_lock = threading.Lock()
_config_cache: list[_Config] = []


def _known(view_name: str) -> bool:
    """Whether the root URLconf has ``view_name`` (``"name"`` or ``"namespace:name"``)."""
    resolver = get_resolver()
    *namespaces, name = view_name.split(":")
    for namespace in namespaces:
        if namespace not in resolver.namespace_dict:
            return False
        resolver = resolver.namespace_dict[namespace][1]
    return name in resolver.reverse_dict


def _load() -> _Config:
    raw = getattr(settings, "AUTHSIG", None)
    if not isinstance(raw, Mapping):
        raise ImproperlyConfigured(
            'settings.AUTHSIG must be a dict, e.g. {"public_base_url": "https://api.example.com"}'
        )
    options = dict(raw)
    entries = options.pop("quorums", {})
    if isinstance(options.get("user_keys"), str):
        options["user_keys"] = import_string(options["user_keys"])
    try:
        gate = build_gate(options, where="settings.AUTHSIG")
        quorums = {
            str(name): route_quorum(import_string(value) if isinstance(value, str) else value)
            for name, value in dict(entries).items()
        }
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(str(exc)) from exc
    # A misspelt URL name would leave its route unprotected: refuse to run instead.
    unknown = sorted(name for name in quorums if not _known(name))
    if unknown:
        raise ImproperlyConfigured(
            f'settings.AUTHSIG["quorums"] names URLs the URLconf does not have: {unknown}'
        )
    return _Config(gate, quorums)


def _config() -> _Config:
    """The settings, read on first use and again after ``AUTHSIG`` or the URLconf changes."""
    if not _config_cache:
        with _lock:
            if not _config_cache:
                _config_cache.append(_load())
    return _config_cache[0]


def _forget(*, setting: str, **kwargs: Any) -> None:
    if setting in ("AUTHSIG", "ROOT_URLCONF"):
        with _lock:
            _config_cache.clear()


setting_changed.connect(_forget, dispatch_uid="authsig.integrations.django")


def problem_response(problem: Problem) -> HttpResponse:
    """``problem`` as a Django response."""
    response = HttpResponse(
        problem.body(), status=problem.status, content_type="application/problem+json"
    )
    response["Cache-Control"] = "no-store"
    return response


def _raw(request: Any) -> tuple[Mapping[str, Any], bool]:
    """The ASGI scope (under ASGI) or the WSGI environ, and which one it is."""
    scope = getattr(request, "scope", None)
    if isinstance(scope, Mapping):
        query = scope.get("query_string")
        if isinstance(query, str):  # Django's AsyncClient passes a str, which Django accepts
            scope = {**scope, "query_string": query.encode("latin-1")}
        return scope, True
    return cast(Mapping[str, Any], request.META), False


def _read(request: Any) -> bytes:
    # Under WSGI Django reads Content-Length bytes (checked against the limit before this);
    # under ASGI it has the whole body already, and the limit is checked on its length.
    try:
        return bytes(request.body)
    except RequestDataTooBig:
        raise TooLarge from None
    except RawPostDataException:
        raise BodyError("the body was read as form data before the signature check") from None


def _earlier(request: Any, source: RouteQuorum) -> bool:
    return checked_before(getattr(request, "_authsig_checked", None), source)


def _outcome(request: Any, source: RouteQuorum, result: Problem | Decision | None) -> Any:
    if isinstance(result, Problem):
        return problem_response(result)
    request._authsig_checked = (source, result)
    request.authsig = result
    return None


# _check and _check_async differ only in awaiting the decision.


def _check(request: Any, source: RouteQuorum) -> HttpResponse | None:
    """The refusal of ``request``, or None when it may go on (``request.authsig`` set)."""
    if _earlier(request, source):
        return None
    gate = _config().gate
    raw, asgi = _raw(request)
    result = decide(gate, source, request, raw, lambda: _read(request), asgi=asgi)
    return cast(HttpResponse | None, _outcome(request, source, result))


async def _check_async(request: Any, source: RouteQuorum) -> HttpResponse | None:
    """:func:`_check` for async views (async resolvers allowed)."""
    if _earlier(request, source):
        return None
    gate = _config().gate
    raw, asgi = _raw(request)

    async def read() -> bytes:
        return _read(request)

    result = await decide_async(gate, source, request, raw, read, asgi=asgi)
    return cast(HttpResponse | None, _outcome(request, source, result))


def _decorate_class(cls: type, quorum: RouteQuorum) -> type:
    """Wrap the class's ``dispatch``: every method of the view needs the approval (a resolver
    returns None for the methods that do not)."""
    dispatch = cast(Callable[..., Any], cls.dispatch)  # type: ignore[attr-defined]
    is_async = bool(getattr(cls, "view_is_async", False))
    source = route_quorum(quorum, sync_only=not is_async)
    checked: Callable[..., Any]
    if is_async:

        async def checked_dispatch_async(self: Any, request: Any, *args: Any, **kw: Any) -> Any:
            refusal = await _check_async(request, source)
            if refusal is not None:
                return refusal
            return await dispatch(self, request, *args, **kw)

        checked = checked_dispatch_async
    else:

        def checked_dispatch(self: Any, request: Any, *args: Any, **kw: Any) -> Any:
            refusal = _check(request, source)
            if refusal is not None:
                return refusal
            return dispatch(self, request, *args, **kw)

        checked = checked_dispatch
    checked.__name__ = "dispatch"
    checked.__qualname__ = f"{cls.__qualname__}.dispatch"
    setattr(checked, MARK, source)
    cls.dispatch = checked  # type: ignore[attr-defined]
    return cls


def require_quorum(quorum: RouteQuorum) -> Callable[[View], View]:
    """Decorate a view (a function, or a class-based view's class) so that it runs only with
    ``quorum``'s approval. ``quorum`` is a ``KeyQuorum`` or a resolver
    ``(HttpRequest) -> KeyQuorum | None`` (async only on async views)."""
    route_quorum(quorum)  # a wrong type fails here, not when the view is decorated

    def decorate(view: View) -> View:
        if isinstance(view, type):
            return cast(View, _decorate_class(view, quorum))
        is_async = iscoroutinefunction(view)
        source = route_quorum(quorum, sync_only=not is_async)
        wrapper: Callable[..., Any]
        if is_async:

            @functools.wraps(view)
            async def checked_async(request: Any, *args: Any, **kwargs: Any) -> Any:
                refusal = await _check_async(request, source)
                if refusal is not None:
                    return refusal
                return await view(request, *args, **kwargs)

            wrapper = checked_async
        else:

            @functools.wraps(view)
            def checked(request: Any, *args: Any, **kwargs: Any) -> Any:
                refusal = _check(request, source)
                if refusal is not None:
                    return refusal
                return view(request, *args, **kwargs)

            wrapper = checked
        setattr(wrapper, MARK, source)
        return cast(View, wrapper)

    return decorate


class AuthSigMiddleware:
    """Requires the quorum ``settings.AUTHSIG["quorums"]`` maps a URL name to, for the views
    served under that name (``request.resolver_match.view_name``: ``"name"``, or
    ``"namespace:name"``). Views decorated with :func:`require_quorum` are left to the
    decorator; naming one here too is refused (``ImproperlyConfigured``): protect a view once.

    Sets ``request.authsig`` on every request that reaches a view: the decision, or None.
    Runs sync or async, as the handler does (async resolvers need the async handler).
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: Any) -> Any:
        """Pass the request on (the check runs in ``process_view``, once the URL resolved)."""
        if self.is_async:
            return self._call_async(request)
        return self.get_response(request)

    async def _call_async(self, request: Any) -> Any:
        return await self.get_response(request)

    @property
    def process_view(self) -> Callable[..., Any]:
        """Django's view hook, in the handler's mode (Django calls the async one with await)."""
        return self._view_async if self.is_async else self._view

    def _source(self, request: Any, view_func: Any) -> RouteQuorum | None:
        if not hasattr(request, "authsig"):
            request.authsig = None
        match = getattr(request, "resolver_match", None)
        name = getattr(match, "view_name", None)
        source = _config().quorums.get(name) if name else None
        if getattr(view_func, MARK, None) is not None:
            if source is not None:
                raise ImproperlyConfigured(
                    f"the view {name!r} has @require_quorum and is named in "
                    'settings.AUTHSIG["quorums"]: protect it once'
                )
            return None
        return source

    def _view(self, request: Any, view_func: Any, args: Any, kwargs: Any) -> Any:
        source = self._source(request, view_func)
        return None if source is None else _check(request, source)

    async def _view_async(self, request: Any, view_func: Any, args: Any, kwargs: Any) -> Any:
        source = self._source(request, view_func)
        return None if source is None else await _check_async(request, source)
