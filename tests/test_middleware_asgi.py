"""ASGI middleware end to end: uvicorn on 127.0.0.1 serving Starlette and bare ASGI apps,
called by httpx clients that sign with :class:`authsig.privy.client.PrivyAuth`."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from servers import (
    ServerUnavailable,
    echo_app,
    fire_all,
    free_port,
    redis_server,
    uvicorn_process,
    uvicorn_thread,
)
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from authsig.asgi import AuthSigMiddleware
from authsig.http import RequestInfo
from authsig.keys import generate_private_key
from authsig.privy.client import PrivyAuth
from authsig.privy.quorum import KeyQuorum
from authsig.privy.signing import sign_request
from authsig.replay import MemoryReplayStore, RedisReplayStore

APP_ID = "app-e2e"
LIMIT = 2048
PUBLIC = "https://api.example.com"
RPC = "/v1/wallets/w1/rpc"


class Keys:
    def __init__(self) -> None:
        self.alice, self.bob, self.carol, self.mallory = (generate_private_key() for _ in range(4))
        self.quorum = KeyQuorum(
            public_keys=(self.alice.public_key, self.bob.public_key, self.carol.public_key),
            authorization_threshold=2,
            id="treasury",
        )


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


async def rpc(request: Request) -> Response:
    decision = request.state.authsig
    body = await request.body()
    return JSONResponse(
        {
            "body": body.decode(),
            "approved": decision.approved,
            "members": len(decision.approved_members),
        }
    )


async def health(request: Request) -> Response:
    return JSONResponse({"ok": True, "decision": repr(request.state.authsig)})


async def upload(request: Request) -> Response:
    return JSONResponse({"size": len(await request.body())})


async def boom(request: Request) -> Response:
    return JSONResponse({"unreachable": True})


def starlette_app(keys: Keys, **options: Any) -> Starlette:
    async def resolver(info: RequestInfo) -> KeyQuorum | None:  # an async resolver
        await asyncio.sleep(0)
        if info.path.startswith("/v1/"):
            return keys.quorum
        if info.path == "/boom":
            raise RuntimeError("resolver exploded: secret-ish detail")
        return None

    routes = [
        Route(RPC, rpc, methods=["POST", "DELETE"]),
        Route("/v1/wallets/w2/rpc", rpc, methods=["POST"]),
        Route("/health", health),
        Route("/upload", upload, methods=["POST"]),
        Route("/boom", boom, methods=["POST"]),
    ]
    options.setdefault("replay_store", MemoryReplayStore())
    middleware = [
        Middleware(AuthSigMiddleware, quorum=resolver, max_body_bytes=LIMIT, **options)  # type: ignore[arg-type]
    ]
    return Starlette(routes=routes, middleware=middleware)


@pytest.fixture(scope="module")
def direct(keys: Keys) -> Iterator[str]:
    """Starlette behind the middleware; no trusted proxies."""
    with uvicorn_thread(starlette_app(keys)) as url:
        yield url


@pytest.fixture(scope="module")
def behind_proxy(keys: Keys) -> Iterator[str]:
    """Starlette behind the middleware; 127.0.0.1 is a trusted proxy."""
    with uvicorn_thread(starlette_app(keys, trusted_proxies=["127.0.0.1/32", "::1"])) as url:
        yield url


@pytest.fixture(scope="module")
def bare(keys: Keys) -> Iterator[str]:
    """A bare ASGI app behind the middleware with a configured public base URL (sync resolver)."""
    app = AuthSigMiddleware(echo_app, quorum=lambda info: keys.quorum, public_base_url=PUBLIC + "/")
    with uvicorn_thread(app) as url:
        yield url


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    try:
        with redis_server() as url:
            yield url
    except ServerUnavailable as exc:
        pytest.skip(str(exc))


def problem_of(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/problem+json"
    doc = response.json()
    assert set(doc) == {"type", "title", "status", "detail", "reason"}
    assert doc["status"] == response.status_code
    assert doc["type"].endswith(doc["reason"])
    assert "Traceback" not in response.text
    return doc


# --- approvals ----------------------------------------------------------------------------


def test_approved_two_of_three(direct: str, keys: Keys) -> None:
    body = {"method": "eth_sendTransaction", "params": {"to": "0xabc", "value": "1"}}
    auth = PrivyAuth(APP_ID, [keys.alice, keys.carol])
    response = httpx.post(direct + RPC, json=body, auth=auth)
    assert response.status_code == 200, response.text
    answer = response.json()
    # The app got the exact bytes that were sent, and the decision.
    assert answer["body"] == response.request.content.decode()
    assert json.loads(answer["body"]) == body
    assert answer["approved"] is True
    assert answer["members"] == 2


def test_approved_async_client_three_keys(direct: str, keys: Keys) -> None:
    async def run() -> httpx.Response:
        auth = PrivyAuth(APP_ID, [keys.alice, keys.bob, keys.carol])
        async with httpx.AsyncClient() as client:
            return await client.delete(direct + RPC, auth=auth)

    response = asyncio.run(run())
    assert response.status_code == 200, response.text
    assert response.json() == {"body": "", "approved": True, "members": 3}


def test_under_approved_is_403(direct: str, keys: Keys) -> None:
    response = httpx.post(direct + RPC, json={"a": 1}, auth=PrivyAuth(APP_ID, keys.bob))
    assert response.status_code == 403
    assert problem_of(response)["reason"] == "threshold_not_met"


def test_foreign_signer_is_401(direct: str, keys: Keys) -> None:
    auth = PrivyAuth(APP_ID, [keys.alice, keys.mallory])
    response = httpx.post(direct + RPC, json={"a": 1}, auth=auth)
    assert response.status_code == 401
    assert problem_of(response)["reason"] == "invalid_signature"


def test_unsigned_is_401(direct: str) -> None:
    response = httpx.post(direct + RPC, json={"a": 1})
    assert response.status_code == 401
    assert problem_of(response)["reason"] == "missing_signature"


# --- tampering, expiry, replay ------------------------------------------------------------


def _signed(keys: Keys, url: str, raw: bytes, **kwargs: Any) -> dict[str, str]:
    headers = sign_request(
        method="POST", url=url, body=raw, app_id=APP_ID, keys=[keys.alice, keys.bob], **kwargs
    )
    headers["content-type"] = "application/json"
    return headers


def test_tampered_body_is_401(direct: str, keys: Keys) -> None:
    raw = b'{"to":"0xabc","value":"1"}'
    headers = _signed(keys, direct + RPC, raw)
    response = httpx.post(direct + RPC, content=raw.replace(b'"1"', b'"9"'), headers=headers)
    assert response.status_code == 401
    assert problem_of(response)["reason"] == "invalid_signature"
    # The untampered request with the same signatures is accepted.
    assert httpx.post(direct + RPC, content=raw, headers=headers).status_code == 200


def test_tampered_url_is_401(direct: str, keys: Keys) -> None:
    raw = b'{"to":"0xabc"}'
    headers = _signed(keys, direct + RPC, raw)
    response = httpx.post(direct + "/v1/wallets/w2/rpc", content=raw, headers=headers)
    assert response.status_code == 401
    assert problem_of(response)["reason"] == "invalid_signature"
    response = httpx.post(direct + RPC + "?extra=1", content=raw, headers=headers)
    assert response.status_code == 401


def test_expired_is_401(direct: str, keys: Keys) -> None:
    raw = b'{"x":1}'
    an_hour_ago = int(time.time() * 1000) - 3_600_000
    headers = _signed(keys, direct + RPC, raw, now_ms=an_hour_ago)
    response = httpx.post(direct + RPC, content=raw, headers=headers)
    assert response.status_code == 401
    assert problem_of(response)["reason"] == "expired"


def test_expiry_required_with_a_replay_store(direct: str, keys: Keys) -> None:
    raw = b'{"x":2}'
    headers = _signed(keys, direct + RPC, raw, expires_in=None)
    response = httpx.post(direct + RPC, content=raw, headers=headers)
    assert response.status_code == 401
    assert problem_of(response)["reason"] == "expiry_required"


def test_replayed_is_409(direct: str, keys: Keys) -> None:
    with httpx.Client() as client:
        auth = PrivyAuth(APP_ID, [keys.alice, keys.bob, keys.carol])
        first = client.post(direct + RPC, json={"n": 1}, auth=auth)
        assert first.status_code == 200
        sent = first.request
        copy = {k: v for k, v in sent.headers.items() if k.lower() != "content-length"}
        again = client.post(direct + RPC, content=sent.content, headers=copy)
        assert again.status_code == 409
        assert problem_of(again)["reason"] == "replayed"
        # Stripping one of the three signatures (two still meet the threshold) does not make
        # the copy look new.
        stripped = dict(copy)
        signatures = copy["privy-authorization-signature"].split(",")
        stripped["privy-authorization-signature"] = ",".join(signatures[1:])
        third = client.post(direct + RPC, content=sent.content, headers=stripped)
        assert third.status_code == 409
        # Neither does the same request signed afresh by two members (same expiry).
        resigned = dict(copy)
        resigned.update(
            sign_request(
                method="POST",
                url=direct + RPC,
                body=sent.content,
                app_id=APP_ID,
                keys=[keys.bob, keys.carol],
                now_ms=int(sent.headers["privy-request-expiry"]) - 15 * 60_000,
            )
        )
        assert resigned["privy-request-expiry"] == sent.headers["privy-request-expiry"]
        assert client.post(direct + RPC, content=sent.content, headers=resigned).status_code == 409
        # A new request with the same body (its own idempotency key) is accepted.
        auth = PrivyAuth(APP_ID, [keys.alice, keys.bob], idempotency_key="second")
        assert client.post(direct + RPC, json={"n": 1}, auth=auth).status_code == 200


# --- body limits --------------------------------------------------------------------------


def test_oversized_is_413(direct: str, keys: Keys) -> None:
    big = {"data": "x" * (LIMIT + 10)}
    response = httpx.post(direct + RPC, json=big, auth=PrivyAuth(APP_ID, [keys.alice, keys.bob]))
    assert response.status_code == 413
    assert problem_of(response)["reason"] == "body_too_large"


def test_oversized_chunked_is_413(direct: str, keys: Keys) -> None:
    raw = json.dumps({"data": "y" * (LIMIT + 10)}).encode()
    headers = _signed(keys, direct + RPC, raw)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies while reading
        for i in range(0, len(raw), 500):
            yield raw[i : i + 500]

    response = httpx.post(direct + RPC, content=chunks(), headers=headers)
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert problem_of(response)["reason"] == "body_too_large"


def test_chunked_within_limit_is_verified(direct: str, keys: Keys) -> None:
    raw = json.dumps({"data": "z" * 1500}).encode()
    headers = _signed(keys, direct + RPC, raw, idempotency_key="chunked-ok")

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(raw), 400):
            yield raw[i : i + 400]

    response = httpx.post(direct + RPC, content=chunks(), headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["body"] == raw.decode()


# --- routes without a quorum, errors --------------------------------------------------------


def test_route_without_quorum_passes_through(direct: str) -> None:
    response = httpx.get(direct + "/health")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "decision": "None"}
    # Not signed and larger than the limit: untouched, because no signature is needed.
    response = httpx.post(direct + "/upload", content=b"x" * (LIMIT * 3))
    assert response.status_code == 200
    assert response.json() == {"size": LIMIT * 3}


def test_resolver_error_is_a_500_problem(direct: str) -> None:
    response = httpx.post(direct + "/boom", json={})
    assert response.status_code == 500
    doc = problem_of(response)
    assert doc["reason"] == "internal_error"
    assert "exploded" not in response.text


# --- public URL, proxies ------------------------------------------------------------------


def _proxied(keys: Keys, public_url: str, raw: bytes, forward: dict[str, str]) -> dict[str, str]:
    headers = _signed(keys, public_url, raw, idempotency_key=str(time.monotonic_ns()))
    headers.update(forward)
    return headers


X_FORWARDED = {
    "x-forwarded-proto": "https",
    "x-forwarded-host": "api.example.com",
    "x-forwarded-prefix": "/gateway",
    "x-forwarded-for": "203.0.113.7",
}
FORWARDED = {"forwarded": 'for=203.0.113.7;proto=https;host="api.example.com"'}


@pytest.mark.parametrize("forward", [X_FORWARDED, FORWARDED], ids=["x-forwarded", "forwarded"])
def test_trusted_proxy_headers_give_the_public_url(
    behind_proxy: str, direct: str, keys: Keys, forward: dict[str, str]
) -> None:
    prefix = forward.get("x-forwarded-prefix", "")
    public_url = "https://api.example.com" + prefix + RPC
    raw = b'{"via":"proxy"}'
    headers = _proxied(keys, public_url, raw, forward)
    response = httpx.post(behind_proxy + RPC, content=raw, headers=headers)
    assert response.status_code == 200, response.text
    # The same headers from a peer that is not a trusted proxy are ignored.
    headers = _proxied(keys, public_url, raw, forward)
    response = httpx.post(direct + RPC, content=raw, headers=headers)
    assert response.status_code == 401
    assert problem_of(response)["reason"] == "invalid_signature"


def test_trusted_proxy_without_headers_uses_the_request_url(behind_proxy: str, keys: Keys) -> None:
    auth = PrivyAuth(APP_ID, [keys.alice, keys.bob])
    assert httpx.post(behind_proxy + RPC, json={"plain": True}, auth=auth).status_code == 200


def test_public_base_url(bare: str, keys: Keys) -> None:
    raw = b'{"base":1}'
    headers = _signed(keys, PUBLIC + RPC + "?q=1", raw)
    response = httpx.post(bare + RPC + "?q=1", content=raw, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["approved"] is True
    # Signed with the URL the server happens to listen on: not the public one.
    headers = _signed(keys, bare + RPC, raw)
    response = httpx.post(bare + RPC, content=raw, headers=headers)
    assert response.status_code == 401
    # Forwarding headers do not override a configured base URL.
    headers = _signed(keys, "https://evil.example" + RPC, raw)
    headers["x-forwarded-host"] = "evil.example"
    assert httpx.post(bare + RPC, content=raw, headers=headers).status_code == 401


# --- replay stores: unavailable, Redis across processes -------------------------------------


def test_replay_store_unavailable_is_503(keys: Keys) -> None:
    store = RedisReplayStore(f"redis://127.0.0.1:{free_port()}/0")
    app = AuthSigMiddleware(echo_app, quorum=keys.quorum, replay_store=store)
    with uvicorn_thread(app) as url:
        response = httpx.post(url + RPC, json={}, auth=PrivyAuth(APP_ID, [keys.alice, keys.bob]))
    assert response.status_code == 503
    assert problem_of(response)["reason"] == "replay_store_unavailable"


@pytest.mark.redis
@pytest.mark.slow
def test_redis_replay_exactly_once_across_processes(redis_url: str, keys: Keys) -> None:
    env = {
        "AUTHSIG_TEST_KEYS": ",".join(
            k.public_key.to_base64() for k in (keys.alice, keys.bob, keys.carol)
        ),
        "AUTHSIG_TEST_THRESHOLD": "2",
        "AUTHSIG_TEST_REDIS": redis_url,
        "AUTHSIG_TEST_BASE_URL": PUBLIC,
    }
    raw = b'{"transfer":{"to":"0xdef","amount":"100"}}'
    headers = _signed(keys, PUBLIC + RPC, raw)
    with (
        uvicorn_process("servers:replay_app_from_env", env) as one,
        uvicorn_process("servers:replay_app_from_env", env) as two,
    ):
        statuses = fire_all([one + RPC, two + RPC], headers, raw, 40)
        assert len(statuses) == 80
        assert statuses.count(200) == 1, statuses
        assert statuses.count(409) == 79, statuses
        # A different request is still accepted by either server.
        fresh = _signed(keys, PUBLIC + RPC, raw, idempotency_key="another")
        assert httpx.post(two + RPC, content=raw, headers=fresh).status_code == 200
        assert httpx.post(one + RPC, content=raw, headers=fresh).status_code == 409
