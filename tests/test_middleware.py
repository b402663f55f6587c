"""The Privy middleware end to end, over ASGI and WSGI alike.

Every behaviour here runs under both interfaces through the ``server`` fixture (conftest):
``asgi`` is a Starlette app behind :class:`authsig.asgi.AuthSigMiddleware` under uvicorn,
``wsgi`` a Flask app behind :class:`authsig.wsgi.AuthSigWSGIMiddleware` under waitress, both on
127.0.0.1, called over real sockets by httpx and requests clients that sign with
:mod:`authsig.privy.client`. What only one interface has is in ``test_middleware_asgi.py`` and
``test_middleware_wsgi.py``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
from conftest import APP_ID, Keys, Sign, post_chunks, problem_of
from servers import LIMIT, OTHER_RPC, RPC, MiddlewareServer, free_port

from authsig.privy.client import PrivyAuth, PrivyRequestsAuth
from authsig.privy.quorum import KeyQuorum
from authsig.replay import RedisReplayStore

TRUSTED = ["127.0.0.1/32", "::1"]


@pytest.fixture(scope="module")
def behind_proxy(server: MiddlewareServer) -> Iterator[str]:
    """The default app of ``server``'s interface with 127.0.0.1 as a trusted proxy that writes
    X-Forwarded-*."""
    with server.serve(trusted_proxies=TRUSTED, proxy_headers="x-forwarded") as url:
        yield url


@pytest.fixture(scope="module")
def behind_forwarded_proxy(server: MiddlewareServer) -> Iterator[str]:
    """As ``behind_proxy``, for a proxy that writes RFC 7239 Forwarded."""
    with server.serve(trusted_proxies=TRUSTED, proxy_headers="forwarded") as url:
        yield url


@pytest.fixture(scope="module")
def other_proxy(server: MiddlewareServer) -> Iterator[str]:
    """The default app of ``server``'s interface trusting a proxy that is not 127.0.0.1."""
    with server.serve(trusted_proxies=["10.0.0.0/8"], proxy_headers="x-forwarded") as url:
        yield url


# --- approvals ----------------------------------------------------------------------------


def test_approved_with_httpx(server: MiddlewareServer, keys: Keys) -> None:
    body = {"method": "eth_sendTransaction", "params": {"to": "0xabc", "value": "1"}}
    response = httpx.post(
        server.url + RPC, json=body, auth=PrivyAuth(APP_ID, [keys.alice, keys.carol])
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    # The app got the exact bytes that were sent, and the decision.
    assert answer["body"] == response.request.content.decode()
    assert json.loads(answer["body"]) == answer["parsed"] == body
    assert answer["approved"] is True
    assert answer["members"] == 2
    auth = PrivyAuth(APP_ID, [keys.alice, keys.bob, keys.carol])
    response = httpx.post(server.url + RPC, json={"x": [1, 2.5, None]}, auth=auth)
    assert response.status_code == 200, response.text
    assert response.json()["members"] == 3


def test_approved_with_requests(server: MiddlewareServer, keys: Keys) -> None:
    body = {"method": "personal_sign", "params": {"message": "hello wörld"}}
    auth = PrivyRequestsAuth(APP_ID, [keys.bob, keys.carol])
    response = requests.post(server.url + RPC + "?chain=1", json=body, auth=auth, timeout=10)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["body"].encode() == response.request.body  # the app read the same bytes
    assert answer["parsed"] == body
    assert answer["approved"] is True
    assert answer["members"] == 2


def test_approved_async_client_without_body(server: MiddlewareServer, keys: Keys) -> None:
    async def run() -> httpx.Response:
        auth = PrivyAuth(APP_ID, [keys.alice, keys.bob, keys.carol])
        async with httpx.AsyncClient() as client:
            return await client.delete(server.url + RPC, auth=auth)

    response = asyncio.run(run())
    assert response.status_code == 200, response.text
    assert response.json() == {"body": "", "approved": True, "members": 3, "parsed": None}


def test_under_approved_is_403(server: MiddlewareServer, keys: Keys) -> None:
    response = httpx.post(server.url + RPC, json={"a": 1}, auth=PrivyAuth(APP_ID, keys.bob))
    assert response.status_code == 403
    assert problem_of(response)["reason"] == "threshold_not_met"
    auth = PrivyRequestsAuth(APP_ID, keys.carol)
    sent = requests.post(server.url + RPC, json={"a": 1}, auth=auth, timeout=10)
    assert sent.status_code == 403
    assert problem_of(sent)["reason"] == "threshold_not_met"


def test_foreign_signer_is_401(server: MiddlewareServer, keys: Keys) -> None:
    auth = PrivyAuth(APP_ID, [keys.alice, keys.mallory])
    response = httpx.post(server.url + RPC, json={"a": 1}, auth=auth)
    assert response.status_code == 401
    assert problem_of(response)["reason"] == "invalid_signature"


def test_unsigned_is_401(server: MiddlewareServer) -> None:
    for response in (
        httpx.post(server.url + RPC, json={"a": 1}),
        requests.post(server.url + RPC, json={"a": 1}, timeout=10),
    ):
        assert response.status_code == 401
        assert problem_of(response)["reason"] == "missing_signature"


def test_user_keys_are_resolved_and_a_failure_is_503(server: MiddlewareServer, keys: Keys) -> None:
    quorum = KeyQuorum(user_ids=("user-1",))

    def user_keys(user_id: str) -> list[Any]:
        return [keys.carol.public_key] if user_id == "user-1" else []

    def broken(user_id: str) -> list[Any]:
        raise ConnectionError("identity service down")

    auth = PrivyAuth(APP_ID, keys.carol)
    response = server.post_once(auth, {"u": 1}, quorum=quorum, user_keys=user_keys)
    assert response.status_code == 200, response.text
    assert response.json()["approved"] is True
    response = server.post_once(auth, {"u": 1}, quorum=quorum, user_keys=broken)
    assert response.status_code == 503
    assert problem_of(response)["reason"] == "user_resolution_failed"
    assert "identity service" not in response.text


# --- tampering, expiry, replay ------------------------------------------------------------


def test_tampered_body_is_401(server: MiddlewareServer, sign: Sign) -> None:
    raw = b'{"to":"0xabc","value":"1"}'
    headers = sign(server.url + RPC, raw)
    response = httpx.post(server.url + RPC, content=raw.replace(b'"1"', b'"9"'), headers=headers)
    assert response.status_code == 401
    assert problem_of(response)["reason"] == "invalid_signature"
    # The untampered request with the same signatures is accepted.
    assert httpx.post(server.url + RPC, content=raw, headers=headers).status_code == 200


def test_tampered_url_is_401(server: MiddlewareServer, sign: Sign) -> None:
    raw = b'{"to":"0xabc"}'
    headers = sign(server.url + RPC, raw)
    for url in (server.url + OTHER_RPC, server.url + RPC + "?extra=1"):
        response = requests.post(url, data=raw, headers=headers, timeout=10)
        assert response.status_code == 401
        assert problem_of(response)["reason"] == "invalid_signature"
    assert requests.post(server.url + RPC, data=raw, headers=headers, timeout=10).status_code == 200


def test_expired_is_401(server: MiddlewareServer, sign: Sign) -> None:
    raw = b'{"x":1}'
    an_hour_ago = int(time.time() * 1000) - 3_600_000
    headers = sign(server.url + RPC, raw, now_ms=an_hour_ago)
    response = httpx.post(server.url + RPC, content=raw, headers=headers)
    assert response.status_code == 401
    assert problem_of(response)["reason"] == "expired"


def test_expiry_required_with_a_replay_store(server: MiddlewareServer, sign: Sign) -> None:
    raw = b'{"x":2}'
    headers = sign(server.url + RPC, raw, expires_in=None)
    response = httpx.post(server.url + RPC, content=raw, headers=headers)
    assert response.status_code == 401
    assert problem_of(response)["reason"] == "expiry_required"


def test_replayed_is_409(server: MiddlewareServer, keys: Keys, sign: Sign) -> None:
    url = server.url + RPC
    with httpx.Client() as client:
        first = client.post(
            url, json={"n": 1}, auth=PrivyAuth(APP_ID, [keys.alice, keys.bob, keys.carol])
        )
        assert first.status_code == 200
        sent = first.request
        copy = {k: v for k, v in sent.headers.items() if k.lower() != "content-length"}
        again = client.post(url, content=sent.content, headers=copy)
        assert again.status_code == 409
        assert problem_of(again)["reason"] == "replayed"
        # Stripping one of the three signatures (two still meet the threshold) does not make
        # the copy look new.
        stripped = dict(copy)
        signatures = copy["privy-authorization-signature"].split(",")
        stripped["privy-authorization-signature"] = ",".join(signatures[1:])
        assert client.post(url, content=sent.content, headers=stripped).status_code == 409
        # Neither does the same request signed afresh by two members (same expiry).
        expiry = sent.headers["privy-request-expiry"]
        resigned = dict(copy)
        resigned.update(
            sign(
                url, sent.content, signers=[keys.bob, keys.carol], now_ms=int(expiry) - 15 * 60_000
            )
        )
        assert resigned["privy-request-expiry"] == expiry
        assert client.post(url, content=sent.content, headers=resigned).status_code == 409
        # A new request with the same body (its own idempotency key) is accepted.
        auth = PrivyAuth(APP_ID, [keys.alice, keys.bob], idempotency_key="second")
        assert client.post(url, json={"n": 1}, auth=auth).status_code == 200


def test_replayed_copy_sent_by_requests_is_409(server: MiddlewareServer, keys: Keys) -> None:
    auth = PrivyRequestsAuth(APP_ID, [keys.alice, keys.carol])
    first = requests.post(server.url + RPC, json={"pay": 5}, auth=auth, timeout=10)
    assert first.status_code == 200
    sent = first.request
    assert sent.body is not None
    again = requests.post(server.url + RPC, data=sent.body, headers=dict(sent.headers), timeout=10)
    assert again.status_code == 409
    assert problem_of(again)["reason"] == "replayed"


def test_invalid_json_body_is_400(server: MiddlewareServer, sign: Sign) -> None:
    headers = sign(server.url + RPC, b"{}")
    response = requests.post(server.url + RPC, data=b"{not json", headers=headers, timeout=10)
    assert response.status_code == 400
    assert problem_of(response)["reason"] == "invalid_body"


# --- body limits --------------------------------------------------------------------------


def test_oversized_is_413(server: MiddlewareServer, keys: Keys) -> None:
    big = {"data": "x" * (LIMIT + 1)}
    signers = [keys.alice, keys.bob]
    for response in (
        httpx.post(server.url + RPC, json=big, auth=PrivyAuth(APP_ID, signers)),
        requests.post(
            server.url + RPC, json=big, auth=PrivyRequestsAuth(APP_ID, signers), timeout=10
        ),
    ):
        assert response.status_code == 413
        assert problem_of(response)["reason"] == "body_too_large"


@pytest.mark.parametrize("client", ["httpx", "requests"])
def test_oversized_chunked_is_413(server: MiddlewareServer, sign: Sign, client: str) -> None:
    raw = json.dumps({"data": "y" * (LIMIT + 1)}).encode()
    # No Content-Length: the limit applies while reading.
    response = post_chunks(client, server.url + RPC, raw, 500, sign(server.url + RPC, raw))
    assert response.status_code == 413
    assert problem_of(response)["reason"] == "body_too_large"


@pytest.mark.parametrize("client", ["httpx", "requests"])
def test_chunked_within_limit_is_verified(
    server: MiddlewareServer, sign: Sign, client: str
) -> None:
    raw = json.dumps({"data": "z" * 1500}).encode()
    headers = sign(server.url + RPC, raw)
    response = post_chunks(client, server.url + RPC, raw, 400, headers)
    assert response.status_code == 200, response.text
    assert response.json()["body"] == raw.decode()


# --- routes without a quorum, errors --------------------------------------------------------


def test_route_without_quorum_passes_through(server: MiddlewareServer) -> None:
    response = httpx.get(server.url + "/health")
    assert response.status_code == 200
    # The decision is set, to None, for a request that needs no signature.
    assert response.json() == {"ok": True, "decision": "None"}
    # Not signed and larger than the limit: untouched, because no signature is needed.
    upload = requests.post(server.url + "/upload", data=b"u" * (LIMIT * 3), timeout=10)
    assert upload.status_code == 200
    assert upload.json() == {"size": LIMIT * 3}


def test_resolver_error_is_a_500_problem(server: MiddlewareServer) -> None:
    response = httpx.post(server.url + "/boom", json={})
    assert response.status_code == 500
    assert problem_of(response)["reason"] == "internal_error"
    assert "exploded" not in response.text


# --- public URL, proxies ------------------------------------------------------------------

X_FORWARDED = {
    "x-forwarded-proto": "https",
    "x-forwarded-host": "api.example.com",
    "x-forwarded-prefix": "/gateway",
    "x-forwarded-for": "203.0.113.7",
}
X_FORWARDED_CASED = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "api.example.com",
    "X-Forwarded-Prefix": "/gateway",
}
FORWARDED = {"forwarded": 'for=203.0.113.7;proto=https;host="api.example.com"'}


@pytest.mark.parametrize(
    ("forward", "prefix"),
    [(X_FORWARDED, "/gateway"), (X_FORWARDED_CASED, "/gateway"), (FORWARDED, "")],
    ids=["x-forwarded", "x-forwarded-cased", "forwarded"],
)
def test_trusted_proxy_headers_give_the_public_url(
    request: pytest.FixtureRequest,
    server: MiddlewareServer,
    other_proxy: str,
    sign: Sign,
    forward: dict[str, str],
    prefix: str,
) -> None:
    public_url = "https://api.example.com" + prefix + RPC + "?a=b"
    raw = b'{"via":"proxy"}'
    fresh = str(time.monotonic_ns())  # the same public request is sent by each case
    family = "forwarded" if forward is FORWARDED else "x-forwarded"
    reading, other = "behind_forwarded_proxy", "behind_proxy"
    if family == "x-forwarded":
        reading, other = other, reading
    trusted = request.getfixturevalue(reading)
    headers = {**sign(public_url, raw, idempotency_key=fresh), **forward}
    response = requests.post(trusted + RPC + "?a=b", data=raw, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    # A server told that its proxy writes the other family does not read this one: a proxy
    # passes the family it does not write through from the client.
    wrong_family = request.getfixturevalue(other)
    headers = {**sign(public_url, raw, idempotency_key=fresh + "other"), **forward}
    response = requests.post(wrong_family + RPC + "?a=b", data=raw, headers=headers, timeout=10)
    assert response.status_code == 401
    assert problem_of(response)["reason"] == "invalid_signature"
    # The same headers from a peer that is not a trusted proxy are ignored, whether the
    # server trusts no proxy or only others.
    for untrusted in (server.url, other_proxy):
        headers = {**sign(public_url, raw, idempotency_key=fresh + untrusted), **forward}
        response = requests.post(untrusted + RPC + "?a=b", data=raw, headers=headers, timeout=10)
        assert response.status_code == 401
        assert problem_of(response)["reason"] == "invalid_signature"


def test_trusted_proxy_without_headers_uses_the_request_url(behind_proxy: str, keys: Keys) -> None:
    auth = PrivyAuth(APP_ID, [keys.alice, keys.bob])
    assert httpx.post(behind_proxy + RPC, json={"plain": True}, auth=auth).status_code == 200


def test_forwarded_chain_stops_at_the_first_untrusted_hop(
    behind_forwarded_proxy: str, sign: Sign
) -> None:
    behind_proxy = behind_forwarded_proxy
    raw = b'{"hop":2}'
    # The client itself claims host=evil.example; our trusted proxy (127.0.0.1) appended its
    # own element. Only the element added by the trusted hop counts.
    forwarded = (
        "for=198.51.100.1;host=evil.example;proto=http, "
        'for=203.0.113.9;host="good.example";proto=https'
    )
    headers = {**sign("https://good.example" + RPC, raw), "Forwarded": forwarded}
    response = requests.post(behind_proxy + RPC, data=raw, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    headers = {**sign("http://evil.example" + RPC, raw), "Forwarded": forwarded}
    response = requests.post(behind_proxy + RPC, data=raw, headers=headers, timeout=10)
    assert response.status_code == 401
    assert problem_of(response)["reason"] == "invalid_signature"


@pytest.mark.parametrize(
    "base", ["https://api.example.com/", "https://wallets.example.org/api"], ids=["root", "path"]
)
def test_public_base_url(server: MiddlewareServer, sign: Sign, base: str) -> None:
    raw = b'{"base":1}'
    public = base.rstrip("/") + RPC + "?q=1"
    with server.serve(
        public_base_url=base, trusted_proxies=TRUSTED, proxy_headers="x-forwarded"
    ) as url:
        response = httpx.post(url + RPC + "?q=1", content=raw, headers=sign(public, raw))
        assert response.status_code == 200, response.text
        assert response.json()["approved"] is True
        # Signed with the URL the server happens to listen on: not the public one.
        response = httpx.post(url + RPC, content=raw, headers=sign(url + RPC, raw))
        assert response.status_code == 401
        assert problem_of(response)["reason"] == "invalid_signature"
        # Forwarding headers, even from a trusted proxy, do not override a configured base URL.
        forward = {"x-forwarded-proto": "https", "x-forwarded-host": "evil.example"}
        headers = {**sign("https://evil.example" + RPC, raw), **forward}
        assert httpx.post(url + RPC, content=raw, headers=headers).status_code == 401


# --- replay stores ------------------------------------------------------------------------


def test_replay_store_unavailable_is_503(server: MiddlewareServer, keys: Keys) -> None:
    store = RedisReplayStore(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    auth = PrivyAuth(APP_ID, [keys.alice, keys.bob])
    response = server.post_once(auth, {}, replay_store=store)
    assert response.status_code == 503
    assert problem_of(response)["reason"] == "replay_store_unavailable"


@pytest.mark.redis
def test_redis_store_shared_by_two_servers(
    server: MiddlewareServer, sign: Sign, redis_url: str
) -> None:
    public = "https://wallets.example.org/api"

    def app() -> Any:
        store = RedisReplayStore(redis_url, prefix=f"test-middleware-{server.interface}:")
        return server.app(public_base_url=public, replay_store=store)

    raw = b'{"shared":1}'
    headers = sign(public + RPC, raw)
    with server.serve_app(app()) as one, server.serve_app(app()) as two:
        assert requests.post(one + RPC, data=raw, headers=headers, timeout=10).status_code == 200
        again = requests.post(two + RPC, data=raw, headers=headers, timeout=10)
        assert again.status_code == 409
        assert problem_of(again)["reason"] == "replayed"
