"""The Privy middleware under ASGI only: what WSGI has no counterpart for (async resolvers,
async user-key resolvers, a bare ASGI app, uvicorn worker processes). Served by uvicorn on
127.0.0.1; everything both interfaces share is in ``test_middleware.py``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from conftest import APP_ID, Keys, Sign, problem_of
from servers import RPC, MiddlewareServer, echo_app, fire_all, uvicorn_process, uvicorn_thread

from authsig.asgi import AuthSigMiddleware
from authsig.http import RequestInfo
from authsig.privy.client import PrivyAuth
from authsig.privy.quorum import KeyQuorum


def test_asgi_async_resolver(keys: Keys, sign: Sign) -> None:
    async def resolver(info: RequestInfo) -> KeyQuorum | None:
        await asyncio.sleep(0)
        if info.path.startswith("/v1/"):
            return keys.quorum
        if info.path == "/boom":
            raise RuntimeError("resolver exploded: secret-ish detail")
        return None

    raw = b'{"async":true}'
    with MiddlewareServer("asgi", keys.quorum).serve(quorum=resolver) as url:
        response = httpx.post(url + RPC, content=raw, headers=sign(url + RPC, raw))
        assert response.status_code == 200, response.text
        assert response.json()["members"] == 2
        response = httpx.post(
            url + RPC, content=raw, headers=sign(url + RPC, raw, signers=[keys.bob])
        )
        assert response.status_code == 403
        assert httpx.get(url + "/health").json() == {"ok": True, "decision": "None"}
        response = httpx.post(url + "/boom", json={})
        assert response.status_code == 500
        assert problem_of(response)["reason"] == "internal_error"
        assert "exploded" not in response.text


def test_asgi_async_user_keys(keys: Keys) -> None:
    quorum = KeyQuorum(user_ids=("user-1",))

    async def user_keys(user_id: str) -> list[Any]:
        await asyncio.sleep(0)
        return [keys.carol.public_key] if user_id == "user-1" else []

    async def broken(user_id: str) -> list[Any]:
        await asyncio.sleep(0)
        raise ConnectionError("identity service down")

    asgi = MiddlewareServer("asgi", keys.quorum)
    auth = PrivyAuth(APP_ID, keys.carol)
    response = asgi.post_once(auth, {"u": 2}, quorum=quorum, user_keys=user_keys)
    assert response.status_code == 200, response.text
    assert response.json()["approved"] is True
    response = asgi.post_once(auth, {"u": 2}, quorum=quorum, user_keys=broken)
    assert response.status_code == 503
    assert problem_of(response)["reason"] == "user_resolution_failed"


@pytest.mark.redis
@pytest.mark.slow
def test_asgi_redis_replay_exactly_once_across_processes(
    redis_url: str, keys: Keys, sign: Sign
) -> None:
    # Two uvicorn processes (servers.replay_app_from_env: a bare ASGI app, no framework) share
    # one Redis store; 80 copies of one request fired at both at once.
    public = "https://api.example.com"
    env = {
        "AUTHSIG_TEST_KEYS": ",".join(
            k.public_key.to_base64() for k in (keys.alice, keys.bob, keys.carol)
        ),
        "AUTHSIG_TEST_THRESHOLD": "2",
        "AUTHSIG_TEST_REDIS": redis_url,
        "AUTHSIG_TEST_BASE_URL": public,
    }
    raw = b'{"transfer":{"to":"0xdef","amount":"100"}}'
    headers = sign(public + RPC, raw)
    with (
        uvicorn_process("servers:replay_app_from_env", env) as one,
        uvicorn_process("servers:replay_app_from_env", env) as two,
    ):
        statuses = fire_all([one + RPC, two + RPC], headers, raw, 40)
        assert len(statuses) == 80
        assert statuses.count(200) == 1, statuses
        assert statuses.count(409) == 79, statuses
        # A different request is still accepted by either server.
        fresh = sign(public + RPC, raw, idempotency_key="another")
        assert httpx.post(two + RPC, content=raw, headers=fresh).status_code == 200
        assert httpx.post(one + RPC, content=raw, headers=fresh).status_code == 409


def test_asgi_bare_app_gets_the_decision_in_scope_state(keys: Keys, sign: Sign) -> None:
    # No framework: the middleware creates scope["state"] itself.
    public = "https://api.example.com/"
    app = AuthSigMiddleware(echo_app, quorum=keys.quorum, public_base_url=public)
    raw = b'{"bare":1}'
    with uvicorn_thread(app) as url:
        response = httpx.post(url + RPC, content=raw, headers=sign(public.rstrip("/") + RPC, raw))
    assert response.status_code == 200, response.text
    assert response.json()["approved"] is True
    assert response.json()["body"] == raw.decode()
