"""Flask: an extension and a route decorator that requires a key quorum's approval::

    from flask import Flask, g
    from authsig.integrations.flask import AuthSig, require_quorum

    app = Flask(__name__)
    AuthSig(app, public_base_url="https://api.example.com", app_ids=["my-privy-app"])

    @app.post("/v1/transfers")
    @require_quorum(TREASURY)
    def transfer():
        return {"approvals": len(g.authsig.approved_members)}

``AuthSig`` holds the settings of :func:`~authsig.privy.middleware.privy_gate` (``user_keys``,
``policy``, ``app_ids`` and the HTTP options of :class:`~authsig.http.GateOptions`), given as
keywords or in ``app.config["AUTHSIG"]`` (a dict; keywords win). ``AuthSig(app)`` or
``authsig = AuthSig(...)`` then ``authsig.init_app(app)`` (application factories).

``@require_quorum(quorum_or_resolver)`` goes under the route decorator (above it, Flask would
register the bare view: the app then refuses every request, saying so). The resolver takes the
Flask ``request`` and returns the quorum, or None when the request needs no signature; it must
be synchronous on a synchronous view (async views, with ``flask[async]``, may use an async one).
The :class:`~authsig.privy.verifier.Decision` is ``g.authsig`` and
``request.environ["authsig.decision"]``; a refusal is the RFC 9457 problem document.
"""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, Unpack, cast

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from authsig.http import ENVIRON_KEY, Gate, GateOptions, Problem
from authsig.http.body import BodyError, TooLarge
from authsig.integrations._common import (
    RouteQuorum,
    build_gate,
    checked_before,
    decide,
    decide_async,
    route_quorum,
)
from authsig.policy import Policy
from authsig.privy.quorum import AnyUserKeyResolver
from authsig.privy.verifier import Decision

__all__ = ["EXTENSION", "AuthSig", "problem_response", "require_quorum"]

EXTENSION = "authsig"
"""Key of the app's gate in ``app.extensions``, and of the decision in ``flask.g``."""

View = TypeVar("View", bound=Callable[..., Any])


class AuthSig:
    """The authsig extension: the settings of the app's gate, checked when it is set up."""

    def __init__(
        self,
        app: Flask | None = None,
        *,
        user_keys: AnyUserKeyResolver | None = None,
        policy: Policy | None = None,
        app_ids: str | Iterable[str] | None = None,
        **options: Unpack[GateOptions],
    ) -> None:
        privy = {"user_keys": user_keys, "policy": policy, "app_ids": app_ids}
        # Only what was given, so that app.config["AUTHSIG"] fills in the rest.
        self.settings: dict[str, Any] = {
            **{name: value for name, value in privy.items() if value is not None},
            **options,
        }
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Build ``app``'s gate from ``app.config["AUTHSIG"]`` and this extension's keywords."""
        config = app.config.get("AUTHSIG") or {}
        if not isinstance(config, dict):
            raise TypeError('app.config["AUTHSIG"] must be a dict of authsig settings')
        app.extensions[EXTENSION] = build_gate({**config, **self.settings}, where="AuthSig")
        app.before_request(_check_decorator_order)


_guarded: weakref.WeakSet[Callable[..., Any]] = weakref.WeakSet()
"""The views ``require_quorum`` wrapped (the functions as they were before)."""
_ORDER_CHECKED = "authsig.order_checked"


def _check_decorator_order() -> None:
    """Refuse to serve an app where a view was registered without its ``require_quorum``.

    Flask's route decorator returns the function it registered, so ``@require_quorum`` written
    above ``@app.route`` wraps a function Flask never calls: the route would be unprotected.
    Checked on the first request (every route is registered by then), until it passes.
    """
    app = current_app
    if app.extensions.get(_ORDER_CHECKED):
        return
    bare = sorted(name for name, view in app.view_functions.items() if view in _guarded)
    if bare:
        raise ValueError(
            f"@require_quorum is above the route decorator of {bare}: Flask registered the "
            "view without it; put @require_quorum under @app.route"
        )
    app.extensions[_ORDER_CHECKED] = True


def _gate() -> Gate:
    gate = current_app.extensions.get(EXTENSION)
    if not isinstance(gate, Gate):
        raise ValueError(
            "require_quorum needs authsig set up on the app: AuthSig(app, public_base_url=...)"
        )
    return gate


def problem_response(problem: Problem) -> Response:
    """``problem`` as a Flask response."""
    return current_app.response_class(
        problem.body(), status=problem.status, headers=problem.headers()
    )


def _read_body(gate: Gate) -> bytes:
    """The body through werkzeug, which stops reading at the limit (a declared
    ``Content-Length`` was checked before; this bounds chunked uploads)."""
    limit = gate.max_body_bytes
    configured = request.max_content_length
    request.max_content_length = limit if configured is None else min(limit, configured)
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise TooLarge from None
    except BadRequest as exc:  # the client sent less than it declared
        raise BodyError(f"the body could not be read ({exc.code})") from None


def _record(source: RouteQuorum, result: Decision | None) -> None:
    g.authsig_checked = (source, result)
    setattr(g, EXTENSION, result)
    request.environ[ENVIRON_KEY] = result


def _earlier(source: RouteQuorum) -> bool:
    record = g.get("authsig_checked")
    if record is None and request.environ.get(ENVIRON_KEY) is not None:
        record = ("AuthSigWSGIMiddleware", request.environ[ENVIRON_KEY])
    return checked_before(record, source)


def require_quorum(quorum: RouteQuorum) -> Callable[[View], View]:
    """Decorate a view so that it runs only with ``quorum``'s approval.

    ``quorum`` is a ``KeyQuorum`` or a resolver ``(request) -> KeyQuorum | None``.
    """
    route_quorum(quorum)  # a wrong type fails here, not when the view is decorated

    def decorate(view: View) -> View:
        is_async = inspect.iscoroutinefunction(view)
        source = route_quorum(quorum, sync_only=not is_async)
        _guarded.add(view)

        if is_async:

            @functools.wraps(view)
            async def checked_async(*args: Any, **kwargs: Any) -> Any:
                if not _earlier(source):
                    gate = _gate()

                    async def read() -> bytes:
                        return _read_body(gate)

                    result = await decide_async(
                        gate, source, request, request.environ, read, asgi=False
                    )
                    if isinstance(result, Problem):
                        return problem_response(result)
                    _record(source, result)
                return await view(*args, **kwargs)

            return cast(View, checked_async)

        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if not _earlier(source):
                gate = _gate()
                result = decide(gate, source, request, request.environ, lambda: _read_body(gate))
                if isinstance(result, Problem):
                    return problem_response(result)
                _record(source, result)
            return view(*args, **kwargs)

        return cast(View, checked)

    return decorate
