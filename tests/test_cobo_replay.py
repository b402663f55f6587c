"""Cobo events and requests on the Gate: replay refused with sync and async stores, in memory and
on a real Redis, over real sockets.

Before the HTTP layer was shared, the Cobo event middleware called the *sync* store from the
event loop: with ``RedisReplayStore(redis.asyncio.Redis(...))`` every valid event got a 503, and
with a URL the call blocked the loop. The Gate now calls ``add_if_absent_async`` under ASGI.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from _cobo_servers import uvicorn_server, waitress_server

from authsig.cobo import (
    CoboEventASGIMiddleware,
    CoboEventWSGIMiddleware,
    CoboRequestASGIMiddleware,
    CoboRequestWSGIMiddleware,
    load_api_secret,
    sign_event,
    sign_request,
)
from authsig.replay import MemoryReplayStore, RedisReplayStore, SQLiteReplayStore

SECRET = "4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d"
# Real time throughout: a real Redis expires keys on its own clock, and this module may run
# minutes after it was imported (a fixed "now" read at import time would then lie in the past
# by more than the signature window, and Redis would drop each key at once).
_serial = itertools.count()


def _stamp() -> int:
    """A fresh timestamp, unique within the run (so each signature is a new request)."""
    return time.time_ns() // 1_000_000 - 1000 + next(_serial) % 1000


async def asgi_ok(scope: Any, receive: Any, send: Any) -> None:
    while (await receive()).get("more_body"):
        pass
    reason = scope["state"]["authsig"].reason
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": reason.encode()})


def wsgi_ok(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ["authsig.decision"].reason.encode()]


def _store(kind: str, redis_url: str | None) -> Any:
    if kind == "memory":
        return MemoryReplayStore()
    import redis
    import redis.asyncio

    assert redis_url is not None
    prefix = f"test-cobo-{kind}-{time.time_ns()}:"
    if kind == "redis-url":
        return RedisReplayStore(redis_url, prefix=prefix)
    if kind == "redis-sync-client":
        return RedisReplayStore(redis.Redis.from_url(redis_url), prefix=prefix)
    return RedisReplayStore(redis.asyncio.Redis.from_url(redis_url), prefix=prefix)


def _middleware(scheme: str, interface: str, store: Any) -> Any:
    options: dict[str, Any] = {"replay_store": store}
    secret = load_api_secret(SECRET)
    if scheme == "event":
        options["public_key"] = secret.api_key
        cls: Any = CoboEventASGIMiddleware if interface == "asgi" else CoboEventWSGIMiddleware
    else:
        options["api_keys"] = [secret.api_key]
        cls = CoboRequestASGIMiddleware if interface == "asgi" else CoboRequestWSGIMiddleware
    return cls(asgi_ok if interface == "asgi" else wsgi_ok, **options)


def _signed(scheme: str, body: bytes) -> dict[str, str]:
    if scheme == "event":
        return sign_event(body, SECRET, timestamp_ms=_stamp())
    return sign_request(
        SECRET, method="POST", path="/hook", query="a=1", body=body, nonce_ms=_stamp()
    )


CASES = [
    (scheme, interface, store)
    for scheme in ("event", "request")
    for interface in ("asgi", "wsgi")
    for store in ("memory", "redis-url", "redis-sync-client", "redis-async-client")
    # WSGI has no event loop: an async-only Redis client cannot serve it.
    if not (interface == "wsgi" and store == "redis-async-client")
]


@pytest.fixture(params=CASES, ids=["-".join(c) for c in CASES])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    scheme, interface, kind = request.param
    url = request.getfixturevalue("redis_url") if kind != "memory" else None
    app = _middleware(scheme, interface, _store(kind, url))
    server = uvicorn_server if interface == "asgi" else waitress_server
    with server(app) as base:
        yield base, scheme


def test_approved_once_then_refused_as_a_replay(served: tuple[str, str]) -> None:
    base, scheme = served
    body = '{"event":"transfer","memo":"日本語 ✓","amount":12.5}'.encode()
    headers = _signed(scheme, body)
    first = httpx.post(base + "/hook?a=1", content=body, headers=headers, timeout=10)
    assert (first.status_code, first.text) == (200, "approved")
    again = httpx.post(base + "/hook?a=1", content=body, headers=headers, timeout=10)
    assert again.status_code == 409
    assert again.json()["reason"] == "replayed"
    other = _signed(scheme, body)  # a new signature (new timestamp/nonce) is a new request
    assert (
        httpx.post(base + "/hook?a=1", content=body, headers=other, timeout=10).status_code == 200
    )


def test_replay_protection_is_on_by_default() -> None:
    app = CoboEventASGIMiddleware(asgi_ok, public_key=load_api_secret(SECRET).api_key)
    # The default: the SQLite store shared by every process on the host.
    assert isinstance(app.gate.replay_store, SQLiteReplayStore)
    off = CoboEventWSGIMiddleware(
        wsgi_ok, public_key=load_api_secret(SECRET).api_key, replay_store=None
    )
    assert off.gate.replay_store is None
