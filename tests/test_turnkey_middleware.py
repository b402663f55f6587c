"""Turnkey stamps through the shared Gate, over real sockets (uvicorn and waitress), stamped by
authsig's httpx and requests auth classes.

A stamp carries no time and no nonce: the replay claim is the body's hash and the stamping key,
kept until the body's ``timestampMs`` leaves the policy's lifetime.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import requests
from servers import uvicorn_thread, waitress_thread

from authsig.policy import Policy
from authsig.replay import MemoryReplayStore
from authsig.turnkey import (
    P256,
    Quorum,
    TurnkeyASGIMiddleware,
    TurnkeyPrivateKey,
    TurnkeyWSGIMiddleware,
    User,
    stamp,
)
from authsig.turnkey.client import TurnkeyAuth, TurnkeyRequestsAuth

NOW = 1_795_519_976_869
ALICE = TurnkeyPrivateKey.from_hex("a1" * 32, P256)
BOB = TurnkeyPrivateKey.from_hex("b2" * 32, P256)
MALLORY = TurnkeyPrivateKey.from_hex("c3" * 32, P256)
QUORUM = Quorum(1, (User("alice", [ALICE.public_key]), User("bob", [BOB.public_key])))
POLICY = Policy(max_lifetime=timedelta(minutes=5), clock_skew=timedelta(seconds=30))


def _body(timestamp: int = NOW, **extra: Any) -> bytes:
    return json.dumps({"organizationId": "org-1", "timestampMs": str(timestamp), **extra}).encode()


async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    decision = scope.get("state", {}).get("authsig")
    out = json.dumps({"body": body.decode(), "user": getattr(decision, "user", None)})
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": out.encode()})


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    decision = environ.get("authsig.decision")
    out = json.dumps({"body": body.decode(), "user": getattr(decision, "user", None)})
    start_response("200 OK", [("Content-Type", "application/json")])
    return [out.encode()]


@pytest.fixture(params=["asgi-uvicorn", "wsgi-waitress"])
def base(request: pytest.FixtureRequest) -> Iterator[str]:
    store = MemoryReplayStore(clock=lambda: NOW)
    options: dict[str, Any] = {
        "keys": QUORUM,
        "policy": POLICY,
        "paths": ["/submit"],
        "replay_store": store,
        "clock": lambda: NOW,
    }
    if request.param == "asgi-uvicorn":
        with uvicorn_thread(TurnkeyASGIMiddleware(asgi_app, **options)) as url:
            yield url
    else:
        with waitress_thread(TurnkeyWSGIMiddleware(wsgi_app, **options)) as url:
            yield url


def _post(url: str, body: bytes, header: str | None) -> httpx.Response:
    headers = {} if header is None else {"X-Stamp": header}
    return httpx.post(url, content=body, headers=headers, timeout=10)


def _refusal(response: httpx.Response) -> tuple[int, str]:
    assert response.headers["content-type"] == "application/problem+json"
    return response.status_code, response.json()["reason"]


def test_a_stamped_body_passes_once_and_its_replay_is_refused(base: str) -> None:
    body = _body(memo="héllo 世界")
    sent = httpx.post(base + "/submit", content=body, auth=TurnkeyAuth(ALICE), timeout=10)
    assert sent.status_code == 200
    assert sent.json() == {"body": body.decode(), "user": "alice"}
    header = sent.request.headers["X-Stamp"]
    assert _refusal(_post(base + "/submit", body, header)) == (409, "replayed")
    # Re-stamping the same body with the same key is still the same request...
    assert _refusal(_post(base + "/submit", body, stamp(body, ALICE))) == (409, "replayed")
    # ... but another user's stamp of it is another approval.
    assert _post(base + "/submit", body, stamp(body, BOB)).json()["user"] == "bob"


def test_requests_auth_stamps_the_body_as_sent(base: str) -> None:
    payload = {"organizationId": "org-1", "timestampMs": str(NOW + 1), "memo": "naïve"}
    sent = requests.post(base + "/submit", json=payload, auth=TurnkeyRequestsAuth(BOB), timeout=10)
    assert (sent.status_code, sent.json()["user"]) == (200, "bob")


def test_refusals(base: str) -> None:
    body = _body(NOW + 2)
    good = stamp(body, ALICE)
    assert _refusal(_post(base + "/submit", body, None)) == (401, "missing_signature")
    assert _refusal(_post(base + "/submit", body + b" ", good)) == (
        401,
        "turnkey_invalid_signature",
    )
    assert _refusal(_post(base + "/submit", body, good + "=")) == (401, "turnkey_malformed_stamp")
    assert _refusal(_post(base + "/submit", body, stamp(body, MALLORY))) == (
        401,
        "unknown_api_key",
    )
    twice = httpx.post(
        base + "/submit",
        content=body,
        headers=[("X-Stamp", good), ("X-Stamp", good)],
        timeout=10,
    )
    assert _refusal(twice) == (401, "turnkey_malformed_stamp")
    for stale in (_body(NOW - 5 * 60_000 - 30_001), _body(NOW + 30_001), b'{"a":1}', b"[]"):
        refused = _refusal(_post(base + "/submit", stale, stamp(stale, ALICE)))
        assert refused == (401, "turnkey_stale_timestamp")
    edge = _body(NOW - 5 * 60_000 - 30_000)
    assert _post(base + "/submit", edge, stamp(edge, ALICE)).status_code == 200
    # Paths outside ``paths`` pass through unchecked.
    assert _post(base + "/health", b"anything", None).json() == {"body": "anything", "user": None}


def test_scheme_options_are_checked() -> None:
    from authsig.turnkey import TurnkeyScheme

    with pytest.raises(TypeError):
        TurnkeyScheme(keys=ALICE.public_key.hex)
    with pytest.raises(ValueError):
        TurnkeyScheme(keys=[])
    with pytest.raises(TypeError):
        TurnkeyScheme(keys=[ALICE.public_key], policy={})  # type: ignore[arg-type]


def test_httpx_async_client_stamps_the_body() -> None:
    store = MemoryReplayStore(clock=lambda: NOW)
    app = TurnkeyASGIMiddleware(asgi_app, keys=QUORUM, replay_store=store, clock=lambda: NOW)
    body = _body(NOW + 3)

    async def send(url: str) -> httpx.Response:
        async with httpx.AsyncClient(auth=TurnkeyAuth(ALICE), timeout=10) as client:
            return await client.post(url + "/", content=body)

    with uvicorn_thread(app) as url:
        sent = asyncio.run(send(url))
    assert (sent.status_code, sent.json()["user"]) == (200, "alice")
    assert repr(TurnkeyAuth(ALICE)) == f"TurnkeyAuth(public_key={ALICE.public_key.hex})"


def test_a_refusal_names_the_body_the_stamp_verifies_over(caplog: pytest.LogCaptureFixture) -> None:
    from authsig.http import Gate
    from authsig.turnkey import TurnkeyScheme
    from authsig.turnkey.diagnosis import near_miss

    payload = {"organizationId": "org-1", "timestampMs": str(NOW), "memo": "héllo"}
    compact = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    spaced = json.dumps(payload).encode()  # what the client sent; it stamped the compact text
    header = stamp(compact, ALICE)
    assert near_miss(spaced, header) == "re-serialised compactly (as JSON.stringify writes it)"
    assert near_miss(compact + b"\n", header) == "without its trailing newline"
    assert near_miss(compact, header) is None  # it verifies as is
    assert near_miss(b"{}", header) is None
    assert near_miss(spaced, "not a stamp") is None

    gate = Gate(TurnkeyScheme(keys=QUORUM, policy=POLICY), replay_store=None, clock=lambda: NOW)
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/", "HTTP_X_STAMP": header}
    with caplog.at_level("INFO", logger="authsig.http"):
        outcome = gate.check(gate.urls.from_wsgi(environ), spaced, True)
    assert outcome.problem is not None
    assert outcome.problem.reason == "turnkey_invalid_signature"
    assert "re-serialised compactly" in caplog.text
    assert "re-serialised compactly" not in json.dumps(outcome.problem.to_dict())
