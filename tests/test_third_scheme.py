"""A third scheme, written only here, plugs into the HTTP layer with no change to it.

The scheme is a toy (HMAC-SHA256 over method, path and body, with a timestamp), but it uses
every seam a real scheme uses: a reason code of its own registered from outside the HTTP layer,
a resolver that passes some paths through, a decision type of its own, and a replay claim. It
runs under both middlewares, over real sockets (uvicorn and waitress), with sync and async
replay stores, and the architecture test proves that the HTTP layer imports no scheme.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from _cobo_servers import uvicorn_server, waitress_server

from authsig.http import Checked, Gate, GateASGIMiddleware, GateWSGIMiddleware, RequestInfo
from authsig.reasons import Reason
from authsig.replay import MemoryReplayStore

SECRET = b"toy-secret"
NOW = 1_800_000_000_000
WINDOW = 60_000

# A reason the core table lacks, registered by the scheme's own code.
Reason.register("toy_bad_mac", 401, "Bad MAC", "The MAC does not match the request.")


@dataclass(frozen=True)
class ToyDecision:
    approved: bool
    reason: str
    message: str


def toy_sign(method: str, path: str, body: bytes, ts: int) -> dict[str, str]:
    mac = hmac.new(SECRET, f"{method}|{path}|{ts}|".encode() + body, hashlib.sha256)
    return {"x-toy-ts": str(ts), "x-toy-mac": mac.hexdigest()}


class ToyScheme:
    name = "toy"
    signs_url = False  # the MAC covers the path, not the host

    def resolve(self, info: RequestInfo) -> str | None:
        return None if info.path.startswith("/public") else "toy"

    async def resolve_async(self, info: RequestInfo) -> str | None:
        return self.resolve(info)

    def verify(self, info: RequestInfo, body: bytes, target: Any, now: int) -> Checked:
        ts_text = info.headers.get("x-toy-ts", "")
        if not ts_text.isdigit():
            return Checked(ToyDecision(False, "missing_header", "x-toy-ts is missing"))
        ts = int(ts_text)
        if ts < now - WINDOW:
            return Checked(ToyDecision(False, "stale_nonce", "too old"))
        want = toy_sign(info.method, info.path, body, ts)["x-toy-mac"]
        if not hmac.compare_digest(want, info.headers.get("x-toy-mac", "")):
            return Checked(ToyDecision(False, "toy_bad_mac", "the MAC differs"))
        return Checked(ToyDecision(True, "approved", "ok"), f"toy:{want}", ts + WINDOW)

    async def verify_async(self, info: RequestInfo, body: bytes, target: Any, now: int) -> Checked:
        return self.verify(info, body, target, now)


class AsyncOnlyStore:
    """A store with only the async call (the ASGI path must use it, never block on it)."""

    def __init__(self) -> None:
        self.inner = MemoryReplayStore(clock=lambda: NOW)
        self.async_calls = 0

    def add_if_absent(self, key: str, expires_at_ms: int) -> bool:
        raise AssertionError("the async path called the sync store method")

    async def add_if_absent_async(self, key: str, expires_at_ms: int) -> bool:
        self.async_calls += 1
        return self.inner.add_if_absent(key, expires_at_ms)


async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    decision = scope.get("state", {}).get("authsig")
    out = json.dumps({"body": body.decode(), "decision": getattr(decision, "reason", None)})
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": out.encode()})


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    decision = environ.get("authsig.decision")
    out = json.dumps({"body": body.decode(), "decision": getattr(decision, "reason", None)})
    start_response("200 OK", [("Content-Type", "application/json")])
    return [out.encode()]


@pytest.fixture(params=["asgi-uvicorn", "wsgi-waitress"])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, Any]]:
    if request.param == "asgi-uvicorn":
        store: Any = AsyncOnlyStore()
        app: Any = GateASGIMiddleware(
            asgi_app, Gate(ToyScheme(), replay_store=store, clock=lambda: NOW)
        )
        with uvicorn_server(app) as base:
            yield base, store
    else:
        store = MemoryReplayStore(clock=lambda: NOW)
        app = GateWSGIMiddleware(wsgi_app, Gate(ToyScheme(), replay_store=store, clock=lambda: NOW))
        with waitress_server(app) as base:
            yield base, store


def test_a_scheme_written_outside_plugs_into_the_gate(served: tuple[str, Any]) -> None:
    base, store = served
    body = '{"memo":"héllo 世界"}'.encode()
    headers = toy_sign("POST", "/pay", body, NOW)
    first = httpx.post(base + "/pay", content=body, headers=headers, timeout=10)
    assert first.status_code == 200
    assert first.json() == {"body": body.decode(), "decision": "approved"}
    again = httpx.post(base + "/pay", content=body, headers=headers, timeout=10)
    assert (again.status_code, again.json()["reason"]) == (409, "replayed")
    if isinstance(store, AsyncOnlyStore):
        assert store.async_calls == 2

    forged = httpx.post(base + "/pay", content=body + b" ", headers=headers, timeout=10)
    assert forged.status_code == 401
    assert forged.headers["content-type"] == "application/problem+json"
    assert forged.json()["reason"] == "toy_bad_mac"
    assert forged.json()["title"] == "Bad MAC"

    stale = toy_sign("POST", "/pay", body, NOW - WINDOW - 1)
    response = httpx.post(base + "/pay", content=body, headers=stale, timeout=10)
    assert (response.status_code, response.json()["reason"]) == (401, "stale_nonce")

    public = httpx.post(base + "/public/x", content=b"anything", timeout=10)
    assert public.json() == {"body": "anything", "decision": None}


def test_an_unregistered_reason_fails_closed() -> None:
    class Sloppy(ToyScheme):
        def verify(self, info: RequestInfo, body: bytes, target: Any, now: int) -> Checked:
            return Checked(ToyDecision(False, "never_registered", "?"))

    gate = Gate(Sloppy(), replay_store=None)
    info = gate.urls.from_wsgi({"REQUEST_METHOD": "POST", "PATH_INFO": "/pay"})
    outcome = gate.check(info, b"", "toy")
    assert outcome.problem is not None
    assert (outcome.problem.status, outcome.problem.reason) == (500, "internal_error")


def test_registering_a_reason_twice_with_another_meaning_is_refused() -> None:
    assert Reason.register("toy_bad_mac", 401, "Bad MAC", "The MAC does not match the request.")
    with pytest.raises(ValueError, match="another meaning"):
        Reason.register("toy_bad_mac", 403, "Bad MAC", "x")
    with pytest.raises(ValueError, match="status"):
        Reason.register("toy_other", 700, "x", "x")
