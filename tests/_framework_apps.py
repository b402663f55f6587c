"""The apps the integration tests serve: FastAPI and Flask with authsig's integrations, each
with the same routes, and servers that learn their URL before the app is built (so that the app
can pin it as its ``public_base_url``, as a deployment does).

Routes (``quorum`` is the test quorum):

- ``POST /v1/echo``: requires ``quorum``; answers ``{"approved", "body", "query", "members"}``
  with the body as the view read it (the ten-case script's route).
- ``POST /v1/async-resolver``: the same through an async resolver.
- ``GET|POST /v1/maybe``: a resolver that needs a signature for POST only.
- ``POST /boom``: a resolver that raises (its text must not reach the client).
- ``POST /v1/twice``: two different quorum checks on one route (a programmer error).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request
from flask import Flask, g, request
from pydantic import BaseModel
from servers import (
    HOST,
    ROOT,
    _stop_process,
    free_port,
    uvicorn_thread,
    wait_for_port,
    waitress_thread,
)

from authsig.privy.quorum import KeyQuorum
from authsig.privy.verifier import Decision

ECHO = "/v1/echo"


class Transfer(BaseModel):
    """The body of ``/v1/model``."""

    to: str
    amount: str


def answer(decision: Any, body: bytes, query: str) -> dict[str, Any]:
    """What a protected route answers: the decision and what the view read."""
    return {
        "approved": None if decision is None else decision.approved,
        "members": None if decision is None else len(decision.approved_members),
        "body": body.decode(),
        "query": query,
    }


def as_httpx(response: Any) -> httpx.Response:
    """A Flask or Django test-client response as an httpx one (for ``conftest.problem_of``)."""
    content = response.get_data() if hasattr(response, "get_data") else response.content
    return httpx.Response(
        response.status_code, headers=list(response.headers.items()), content=content
    )


def resolvers(quorum: KeyQuorum) -> dict[str, Callable[[Any], Any]]:
    """The resolvers of the routes above (they take the framework's request)."""

    async def async_resolver(request: Any) -> KeyQuorum:
        return quorum

    def post_only(request: Any) -> KeyQuorum | None:
        return quorum if request.method == "POST" else None

    def boom(request: Any) -> KeyQuorum:
        raise RuntimeError("resolver exploded: secret-ish detail")

    def other(request: Any) -> KeyQuorum:
        return quorum

    return {"async": async_resolver, "post_only": post_only, "boom": boom, "other": other}


def fastapi_app(quorum: KeyQuorum, **settings: Any) -> Any:
    """The FastAPI app with ``AuthSig(app, **settings)``; also ``/v1/model`` (a pydantic body
    parameter, which FastAPI reads before any dependency), ``/v1/route-level`` (the dependency
    in ``dependencies=``) and ``/v2/echo`` (the quorum on the router and the route)."""
    from authsig.integrations.fastapi import AuthSig, require_quorum

    app = FastAPI()
    AuthSig(app, **settings)
    extra = resolvers(quorum)
    checked = require_quorum(quorum)

    async def echo(request: Request, decision: Decision | None) -> dict[str, Any]:
        return answer(decision, await request.body(), request.url.query)

    @app.post(ECHO)
    async def protected(request: Request, decision: Decision = Depends(checked)) -> Any:
        return await echo(request, decision)

    @app.post("/v1/async-resolver")
    async def by_async(
        request: Request, decision: Decision = Depends(require_quorum(extra["async"]))
    ) -> Any:
        return await echo(request, decision)

    @app.get("/v1/maybe")
    @app.post("/v1/maybe")
    async def maybe(
        request: Request, decision: Decision | None = Depends(require_quorum(extra["post_only"]))
    ) -> Any:
        return await echo(request, decision)

    @app.post("/boom")
    async def boom(decision: Decision = Depends(require_quorum(extra["boom"]))) -> Any:
        return {"unreachable": True}

    @app.post("/v1/twice", dependencies=[Depends(checked)])
    async def twice(decision: Decision = Depends(require_quorum(extra["other"]))) -> Any:
        return {"unreachable": True}

    @app.post("/v1/model")
    async def model(transfer: Transfer, decision: Decision = Depends(checked)) -> Any:
        return {"approved": decision.approved, "to": transfer.to, "amount": transfer.amount}

    @app.post("/v1/route-level", dependencies=[Depends(checked)])
    async def route_level(request: Request) -> Any:
        return await echo(request, request.state.authsig)

    # Another dependency object for the same quorum as the parameter's below.
    router = APIRouter(prefix="/v2", dependencies=[Depends(require_quorum(quorum))])

    @router.post("/echo")
    async def on_router(request: Request, decision: Decision = Depends(checked)) -> Any:
        return await echo(request, decision)

    app.include_router(router)
    return app


def flask_app(quorum: KeyQuorum, **settings: Any) -> Any:
    """The Flask app with ``AuthSig(app, **settings)``."""
    from authsig.integrations.flask import AuthSig, require_quorum

    app = Flask("authsig-flask-test")
    AuthSig(app, **settings)
    extra = resolvers(quorum)

    def echo_flask() -> Any:
        return answer(g.authsig, request.get_data(), request.query_string.decode())

    @app.post(ECHO)
    @require_quorum(quorum)
    def protected() -> Any:
        return echo_flask()

    @app.post("/v1/async-resolver")
    @require_quorum(extra["async"])
    async def by_async() -> Any:
        return echo_flask()

    @app.route("/v1/maybe", methods=["GET", "POST"])
    @require_quorum(extra["post_only"])
    def maybe() -> Any:
        return echo_flask()

    @app.post("/boom")
    @require_quorum(extra["boom"])
    def boom() -> Any:
        return {"unreachable": True}

    @app.post("/v1/twice")
    @require_quorum(quorum)
    @require_quorum(extra["other"])
    def twice() -> Any:
        return {"unreachable": True}

    return app


class _LateASGI:
    """An ASGI app built once the server's URL is known."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


class _LateWSGI:
    """A WSGI app built once the server's URL is known."""

    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)


@contextlib.contextmanager
def serve(interface: str, build: Callable[[str], Any]) -> Iterator[str]:
    """Serve ``build(base_url)`` on 127.0.0.1: an ASGI app with uvicorn (``interface``
    ``"asgi"``), a WSGI app with waitress (``"wsgi"``); yields the base URL."""
    late: _LateASGI | _LateWSGI = _LateASGI() if interface == "asgi" else _LateWSGI()
    server = uvicorn_thread if interface == "asgi" else waitress_thread
    with server(late) as url:
        late.app = build(url)
        yield url


@contextlib.contextmanager
def gunicorn_process(factory: str, env: Mapping[str, str], log: Path) -> Iterator[str]:
    """Run ``gunicorn factory`` (``module:function()`` importable from the tests folder) on a
    free 127.0.0.1 port, its settings in ``env`` plus ``AUTHSIG_TEST_BASE_URL`` (its own base
    URL); yields that URL. The server's output goes to ``log``."""
    port = free_port()
    base = f"http://{HOST}:{port}"
    full_env = {
        **os.environ,
        **env,
        "AUTHSIG_TEST_BASE_URL": base,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
    }
    argv = [
        *(sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"{HOST}:{port}"),
        *("--log-level", "warning", "--graceful-timeout", "5", factory),
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, env=full_env, cwd=str(ROOT / "tests"), stdout=out, stderr=subprocess.STDOUT
        )
        try:
            wait_for_port(port, proc=proc)
            yield base
        finally:
            _stop_process(proc)
