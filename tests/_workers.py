"""Multi-worker servers for the replay tests: ``uvicorn --workers N`` and ``gunicorn -w N`` in
their own processes, serving the Privy middleware with its default settings.

The app factories read their settings from the environment (the servers import them by name):
``AUTHSIG_TEST_KEYS`` (comma-separated base64 SPKI public keys), ``AUTHSIG_TEST_BASE_URL``, and
``AUTHSIG_TEST_STORE`` (``default``: no ``replay_store`` argument at all; ``memory``).
POST requests are checked against the quorum; GET requests pass through and tell which worker
(pid) answered.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from servers import HOST, ROOT, ServerUnavailable, _stop_process, echo_app, free_port, wait_for_port


def _options() -> dict[str, Any]:
    from authsig.privy.quorum import KeyQuorum

    quorum = KeyQuorum(public_keys=tuple(os.environ["AUTHSIG_TEST_KEYS"].split(",")))
    options: dict[str, Any] = {
        "quorum": lambda request: quorum if request.method == "POST" else None,
        "public_base_url": os.environ["AUTHSIG_TEST_BASE_URL"],
    }
    if os.environ.get("AUTHSIG_TEST_STORE", "default") != "default":
        options["replay_store"] = os.environ["AUTHSIG_TEST_STORE"]
    return options


def asgi_app() -> Any:
    """uvicorn factory: ``echo_app`` behind the ASGI middleware."""
    from authsig.asgi import AuthSigMiddleware

    return AuthSigMiddleware(echo_app, **_options())


def _wsgi_echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    decision = environ.get("authsig.decision")
    answer = {"approved": None if decision is None else bool(decision.approved)}
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({**answer, "pid": os.getpid()}).encode()]


def wsgi_app() -> Any:
    """gunicorn factory (``_workers:wsgi_app()``): a WSGI echo behind the WSGI middleware."""
    from authsig.wsgi import AuthSigWSGIMiddleware

    return AuthSigWSGIMiddleware(_wsgi_echo, **_options())


def _argv(server: str, port: int, workers: int) -> list[str]:
    if server == "uvicorn":
        return [
            *(sys.executable, "-m", "uvicorn", "--factory", "_workers:asgi_app"),
            *("--workers", str(workers), "--host", HOST, "--port", str(port)),
            *("--log-level", "warning", "--lifespan", "off", "--no-proxy-headers"),
        ]
    return [
        *(sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"{HOST}:{port}"),
        *("--log-level", "warning", "--graceful-timeout", "5", "_workers:wsgi_app()"),
    ]


@contextlib.contextmanager
def workers_process(server: str, workers: int, env: Mapping[str, str], log: Path) -> Iterator[str]:
    """Run ``server`` (``uvicorn`` or ``gunicorn``) with ``workers`` workers; yields the base
    URL once every worker answers. The server's stderr goes to ``log``."""
    port = free_port()
    full_env = {
        **os.environ,
        **env,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
    }
    with log.open("wb") as err:
        proc = subprocess.Popen(
            _argv(server, port, workers),
            env=full_env,
            cwd=str(ROOT / "tests"),
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        try:
            wait_for_port(port, proc=proc)
            base = f"http://{HOST}:{port}"
            wait_for_workers(base, workers, proc)
            yield base
        finally:
            _stop_process(proc)


def _get_pid(url: str) -> int | None:
    import httpx

    try:
        response = httpx.get(url, headers={"connection": "close"}, timeout=10)
    except httpx.HTTPError:
        return None
    return int(response.json()["pid"]) if response.status_code == 200 else None


def wait_for_workers(base: str, workers: int, proc: Any, timeout: float = 60.0) -> None:
    """GET in parallel bursts (new connections) until ``workers`` distinct pids answered: the
    copies fired next can then reach every worker."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout
    with ThreadPoolExecutor(max_workers=16) as pool:
        while len(seen) < workers:
            if proc.poll() is not None:
                raise ServerUnavailable(f"the server exited with {proc.returncode}")
            if time.monotonic() > deadline:
                raise ServerUnavailable(f"only {len(seen)} of {workers} workers answered")
            pids = pool.map(_get_pid, [base + "/whoami"] * 16)
            seen.update(pid for pid in pids if pid is not None)


def fire_copies(url: str, headers: Mapping[str, str], body: bytes, count: int) -> list[Any]:
    """POST ``count`` copies of one request at once, each on its own connection; the
    responses (status code, JSON body)."""
    import httpx

    def one(_: int) -> tuple[int, Any]:
        response = httpx.post(
            url, headers={**headers, "connection": "close"}, content=body, timeout=60
        )
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))
