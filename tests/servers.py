"""Real servers for tests: redis-server, uvicorn and waitress on 127.0.0.1 free ports, and the
apps the middleware tests serve (:class:`MiddlewareServer`: the same Starlette and Flask routes
behind the ASGI and the WSGI Privy middleware).

Everything here is bounded in time and stopped by the caller (use the context managers from
fixtures). Nothing listens anywhere but 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
START_TIMEOUT = 20.0
ROOT = Path(__file__).resolve().parent.parent


class ServerUnavailable(RuntimeError):
    """A server binary is missing or did not come up."""


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = START_TIMEOUT, proc: Any = None) -> None:
    """Wait until something accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ServerUnavailable(f"server process exited with {proc.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise ServerUnavailable(f"nothing listening on {HOST}:{port} after {timeout}s")


def _stop_process(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# --- redis ---------------------------------------------------------------------------------


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """Run a throw-away ``redis-server`` on a free port; yields its ``redis://`` URL.

    Raises :class:`ServerUnavailable` when ``redis-server`` is not installed (CI installs it
    with apt-get) or does not answer.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServerUnavailable(
            "redis-server is not installed (apt-get install redis-server; .ci/run does)"
        )
    with tempfile.TemporaryDirectory(prefix="authsig-redis-") as tmp:
        port = free_port()
        proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                HOST,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                tmp,
                "--protected-mode",
                "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=tmp,
        )
        try:
            wait_for_port(port, proc=proc)
            url = f"redis://{HOST}:{port}/0"
            import redis

            client = redis.Redis.from_url(url)
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                try:
                    client.ping()
                    break
                except redis.RedisError:
                    if time.monotonic() > deadline:
                        raise ServerUnavailable("redis-server does not answer PING") from None
                    time.sleep(0.05)
            client.close()
            yield url
        finally:
            _stop_process(proc)


# --- uvicorn / waitress in threads --------------------------------------------------------


@contextlib.contextmanager
def uvicorn_thread(app: Any, **config: Any) -> Iterator[str]:
    """Serve the ASGI ``app`` with uvicorn in a thread; yields ``http://127.0.0.1:PORT``."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    port = int(sock.getsockname()[1])
    # uvicorn's own X-Forwarded-* handling is off: the middleware decides whom to trust.
    config.setdefault("proxy_headers", False)
    cfg = uvicorn.Config(app, log_level="warning", lifespan="off", **config)
    server = uvicorn.Server(cfg)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise ServerUnavailable("uvicorn did not start")
            time.sleep(0.02)
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextlib.contextmanager
def waitress_thread(app: Callable[..., Any], **config: Any) -> Iterator[str]:
    """Serve the WSGI ``app`` with waitress in a thread; yields ``http://127.0.0.1:PORT``.

    waitress's own proxy-header clearing is off (the middleware decides whom to trust).
    """
    from waitress.server import create_server

    config.setdefault("clear_untrusted_proxy_headers", False)
    server: Any = create_server(app, host=HOST, port=0, threads=4, **config)
    port = int(server.effective_port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for_port(port)
        yield f"http://{HOST}:{port}"
    finally:

        def close_all() -> None:  # runs in the server's loop thread; an empty map ends run()
            for channel in list(server._map.values()):
                channel.close()

        # pull_trigger queues close_all before it writes to the trigger's pipe: a worker
        # thread waking the loop at that moment (as it does after each response) can run
        # close_all first, which closes the pipe, and our write then fails. The server is
        # closing either way.
        with contextlib.suppress(OSError):
            server.trigger.pull_trigger(close_all)
        thread.join(timeout=10)
        server.task_dispatcher.shutdown()


# --- uvicorn in a subprocess --------------------------------------------------------------


@contextlib.contextmanager
def uvicorn_process(factory: str, env: Mapping[str, str]) -> Iterator[str]:
    """Run ``uvicorn --factory tests-module:function`` in its own process.

    ``factory`` is ``module:function`` importable from the tests folder; ``env`` is added to
    the environment (how the factory gets its settings).
    """
    port = free_port()
    full_env = {
        **os.environ,
        **env,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            factory,
            "--host",
            HOST,
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--lifespan",
            "off",
            "--no-proxy-headers",
        ],
        env=full_env,
        cwd=str(ROOT / "tests"),
    )
    try:
        wait_for_port(port, proc=proc)
        yield f"http://{HOST}:{port}"
    finally:
        _stop_process(proc)


def fire(url: str, headers: Mapping[str, str], body: bytes, count: int, threads: int) -> list[int]:
    """POST the same request ``count`` times from ``threads`` threads; the status codes.

    Module-level so that a ``spawn`` process pool can run it.
    """
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    with httpx.Client(timeout=30.0) as client:

        def one(_: int) -> int:
            return client.post(url, headers=dict(headers), content=body).status_code

        with ThreadPoolExecutor(max_workers=threads) as pool:
            return list(pool.map(one, range(count)))


def fire_all(urls: Sequence[str], headers: Mapping[str, str], body: bytes, count: int) -> list[int]:
    """Fire from one process per URL at once (``spawn``); all status codes together."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(urls), mp_context=ctx) as pool:
        futures = [pool.submit(fire, url, dict(headers), body, count, 8) for url in urls]
        results: list[int] = []
        for future in futures:
            results.extend(future.result(timeout=120))
    return results


# --- an app factory for server subprocesses -------------------------------------------------


async def echo_app(scope: Any, receive: Any, send: Any) -> None:
    """A bare ASGI app: answers 200 with the body it received and the authsig decision."""
    import json

    if scope["type"] != "http":
        return
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    decision = scope.get("state", {}).get("authsig")
    answer = {
        "body": b"".join(chunks).decode("utf-8", "replace"),
        "approved": None if decision is None else bool(decision.approved),
        "pid": os.getpid(),
    }
    data = json.dumps(answer).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": data})


def replay_app_from_env() -> Any:
    """uvicorn factory: ``echo_app`` behind the ASGI middleware with a Redis replay store.

    Settings: ``AUTHSIG_TEST_KEYS`` (comma-separated base64 SPKI public keys),
    ``AUTHSIG_TEST_THRESHOLD``, ``AUTHSIG_TEST_REDIS`` (URL), ``AUTHSIG_TEST_BASE_URL``.
    """
    from authsig.asgi import AuthSigMiddleware
    from authsig.privy.quorum import KeyQuorum
    from authsig.replay import RedisReplayStore

    quorum = KeyQuorum(
        public_keys=tuple(os.environ["AUTHSIG_TEST_KEYS"].split(",")),  # type: ignore[arg-type]
        authorization_threshold=int(os.environ["AUTHSIG_TEST_THRESHOLD"]),
    )
    return AuthSigMiddleware(
        echo_app,
        quorum=quorum,
        public_base_url=os.environ["AUTHSIG_TEST_BASE_URL"],
        replay_store=RedisReplayStore(os.environ["AUTHSIG_TEST_REDIS"]),
    )


# --- the Privy middleware under test: one app per server interface --------------------------

RPC = "/v1/wallets/w1/rpc"
"""A route that needs the quorum's approval (every path under ``/v1/`` does)."""
OTHER_RPC = "/v1/wallets/w2/rpc"
LIMIT = 2048
"""``max_body_bytes`` of the apps below unless a test says otherwise."""
INTERFACES = ("asgi", "wsgi")


def route_resolver(quorum: Any) -> Callable[[Any], Any]:
    """The quorum resolver of the apps below: ``/v1/...`` needs ``quorum``, ``/boom`` makes the
    resolver raise (a detail that must not reach the client), anything else passes through."""

    def resolve(info: Any) -> Any:
        if info.path.startswith("/v1/"):
            return quorum
        if info.path == "/boom":
            raise RuntimeError("resolver exploded: secret-ish detail")
        return None

    return resolve


def _rpc_answer(body: bytes, decision: Any, parsed: Any) -> dict[str, Any]:
    # What the app saw: the bytes it read, the middleware's decision, its own JSON parse.
    return {
        "body": body.decode(),
        "approved": decision.approved,
        "members": len(decision.approved_members),
        "parsed": parsed,
    }


def starlette_app(**middleware: Any) -> Any:
    """A Starlette app behind :class:`authsig.asgi.AuthSigMiddleware` (``middleware`` are its
    options). Routes: ``RPC`` and ``OTHER_RPC`` echo body and decision, ``/health`` shows the
    decision (GET), ``/upload`` the body size, ``/boom`` is never reached."""
    import json

    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from authsig.asgi import AuthSigMiddleware

    async def rpc(request: Request) -> Response:
        body = await request.body()
        try:
            parsed = await request.json()
        except json.JSONDecodeError:
            parsed = None
        return JSONResponse(_rpc_answer(body, request.state.authsig, parsed))

    async def health(request: Request) -> Response:
        return JSONResponse(
            {"ok": True, "decision": repr(getattr(request.state, "authsig", "absent"))}
        )

    async def upload(request: Request) -> Response:
        return JSONResponse({"size": len(await request.body())})

    async def boom(request: Request) -> Response:
        return JSONResponse({"unreachable": True})

    routes = [
        Route(RPC, rpc, methods=["POST", "DELETE"]),
        Route(OTHER_RPC, rpc, methods=["POST"]),
        Route("/health", health),
        Route("/upload", upload, methods=["POST"]),
        Route("/boom", boom, methods=["POST"]),
    ]
    return Starlette(routes=routes, middleware=[Middleware(AuthSigMiddleware, **middleware)])


def flask_app(**middleware: Any) -> Any:
    """A Flask app behind :class:`authsig.wsgi.AuthSigWSGIMiddleware`, with the routes of
    :func:`starlette_app`."""
    from flask import Flask, jsonify, request

    from authsig.wsgi import ENVIRON_KEY, AuthSigWSGIMiddleware

    app = Flask("authsig-test")

    @app.route(RPC, methods=["POST", "DELETE"])
    @app.post(OTHER_RPC)
    def rpc() -> Any:
        answer = _rpc_answer(
            request.get_data(), request.environ[ENVIRON_KEY], request.get_json(silent=True)
        )
        return jsonify(answer)

    @app.get("/health")
    def health() -> Any:
        return jsonify(ok=True, decision=repr(request.environ.get(ENVIRON_KEY, "absent")))

    @app.post("/upload")
    def upload() -> Any:
        return jsonify(size=len(request.get_data()))

    @app.post("/boom")
    def boom() -> Any:
        return jsonify(unreachable=True)

    app.wsgi_app = AuthSigWSGIMiddleware(app.wsgi_app, **middleware)  # type: ignore[method-assign]
    return app


class MiddlewareServer:
    """The Privy middleware under one server interface: ``"asgi"`` (Starlette under uvicorn) or
    ``"wsgi"`` (Flask under waitress), both on 127.0.0.1.

    ``url`` is the base URL of the running default app (see :meth:`started`); :meth:`app`
    builds an app with given middleware options and :meth:`serve` serves one.
    """

    def __init__(self, interface: str, quorum: Any, url: str = "") -> None:
        if interface not in INTERFACES:
            raise ValueError(f"interface must be one of {INTERFACES}, not {interface!r}")
        self.interface = interface
        self.quorum = quorum
        self.url = url

    def __repr__(self) -> str:
        return f"MiddlewareServer({self.interface!r}, url={self.url!r})"

    def app(self, **options: Any) -> Any:
        """The app behind the middleware; by default ``route_resolver(quorum)``, ``LIMIT``
        bytes, an in-memory replay store (the middleware's own default), no trusted proxies."""
        options.setdefault("quorum", route_resolver(self.quorum))
        options.setdefault("max_body_bytes", LIMIT)
        if "public_base_url" not in options and "trusted_proxies" not in options:
            # A test server listens on a free port it learns only once started: let the Host
            # header name it (the middleware refuses to guess unless told so).
            options.setdefault("trust_host_header", True)
        return starlette_app(**options) if self.interface == "asgi" else flask_app(**options)

    def serve_app(self, app: Any) -> contextlib.AbstractContextManager[str]:
        """Serve ``app`` (of this interface) in a thread; the context yields its base URL."""
        return uvicorn_thread(app) if self.interface == "asgi" else waitress_thread(app)

    def serve(self, **options: Any) -> contextlib.AbstractContextManager[str]:
        """Serve ``self.app(**options)``; the context yields its base URL."""
        return self.serve_app(self.app(**options))

    def post_once(self, auth: Any, body: Any, **options: Any) -> Any:
        """Serve ``self.app(**options)``, POST the JSON ``body`` to ``RPC`` with the httpx
        ``auth``, stop the server; the httpx response."""
        import httpx

        with self.serve(**options) as url:
            return httpx.post(url + RPC, json=body, auth=auth)

    @classmethod
    @contextlib.contextmanager
    def started(cls, interface: str, quorum: Any) -> Iterator[MiddlewareServer]:
        """A server of ``interface`` running the default app, stopped on exit."""
        server = cls(interface, quorum)
        with server.serve() as url:
            yield cls(interface, quorum, url)
