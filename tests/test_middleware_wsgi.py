"""WSGI middleware end to end: waitress on 127.0.0.1 serving Flask, called by ``requests``
(and httpx) clients that sign with :mod:`authsig.privy.client`."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
from flask import Flask, jsonify, request
from servers import ServerUnavailable, redis_server, waitress_thread

from authsig.http import RequestInfo
from authsig.keys import generate_private_key
from authsig.privy.client import PrivyAuth, PrivyRequestsAuth
from authsig.privy.quorum import KeyQuorum
from authsig.privy.signing import sign_request
from authsig.replay import MemoryReplayStore, RedisReplayStore
from authsig.wsgi import ENVIRON_KEY, AuthSigWSGIMiddleware

APP_ID = "app-wsgi"
LIMIT = 2048
RPC = "/v1/wallets/w1/rpc"
PUBLIC = "https://wallets.example.org/api"


class Keys:
    def __init__(self) -> None:
        self.alice, self.bob, self.carol, self.mallory = (generate_private_key() for _ in range(4))
        self.quorum = KeyQuorum(
            public_keys=(self.alice.public_key, self.bob.public_key, self.carol.public_key),
            authorization_threshold=2,
        )


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


def flask_app(keys: Keys, **options: Any) -> Flask:
    app = Flask("authsig-test")

    @app.post(RPC)
    @app.post("/v1/wallets/w2/rpc")
    def rpc() -> Any:
        decision = request.environ[ENVIRON_KEY]
        data = request.get_data()
        return jsonify(
            body=data.decode(),
            approved=decision.approved,
            members=len(decision.approved_members),
            parsed=request.get_json(silent=True),
        )

    @app.get("/health")
    def health() -> Any:
        return jsonify(ok=True, decision=repr(request.environ.get(ENVIRON_KEY, "absent")))

    @app.post("/upload")
    def upload() -> Any:
        return jsonify(size=len(request.get_data()))

    @app.post("/boom")
    def boom() -> Any:
        return jsonify(unreachable=True)

    def resolver(info: RequestInfo) -> KeyQuorum | None:
        if info.path.startswith("/v1/"):
            return keys.quorum
        if info.path == "/boom":
            raise KeyError("resolver exploded")
        return None

    options.setdefault("replay_store", MemoryReplayStore())
    app.wsgi_app = AuthSigWSGIMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, quorum=resolver, max_body_bytes=LIMIT, **options
    )
    return app


@pytest.fixture(scope="module")
def direct(keys: Keys) -> Iterator[str]:
    with waitress_thread(flask_app(keys)) as url:
        yield url


@pytest.fixture(scope="module")
def behind_proxy(keys: Keys) -> Iterator[str]:
    with waitress_thread(flask_app(keys, trusted_proxies=["127.0.0.0/8"])) as url:
        yield url


@pytest.fixture(scope="module")
def public(keys: Keys) -> Iterator[str]:
    with waitress_thread(flask_app(keys, public_base_url=PUBLIC)) as url:
        yield url


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    try:
        with redis_server() as url:
            yield url
    except ServerUnavailable as exc:
        pytest.skip(str(exc))


def problem_of(response: requests.Response | httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/problem+json"
    doc: dict[str, Any] = response.json()
    assert set(doc) == {"type", "title", "status", "detail", "reason"}
    assert doc["status"] == response.status_code
    assert "Traceback" not in response.text
    return doc


def _signed(keys: Keys, url: str, raw: bytes, **kwargs: Any) -> dict[str, str]:
    headers = sign_request(
        method="POST", url=url, body=raw, app_id=APP_ID, keys=[keys.alice, keys.bob], **kwargs
    )
    headers["content-type"] = "application/json"
    return headers


# --- approvals ----------------------------------------------------------------------------


def test_approved_with_requests(direct: str, keys: Keys) -> None:
    body = {"method": "personal_sign", "params": {"message": "hello wörld"}}
    auth = PrivyRequestsAuth(APP_ID, [keys.bob, keys.carol])
    response = requests.post(direct + RPC + "?chain=1", json=body, auth=auth, timeout=10)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["body"].encode() == response.request.body  # the app read the same bytes
    assert answer["parsed"] == body
    assert answer["approved"] is True
    assert answer["members"] == 2


def test_approved_with_httpx(direct: str, keys: Keys) -> None:
    auth = PrivyAuth(APP_ID, [keys.alice, keys.bob, keys.carol])
    response = httpx.post(direct + RPC, json={"x": [1, 2.5, None]}, auth=auth)
    assert response.status_code == 200, response.text
    assert response.json()["members"] == 3


def test_under_approved_is_403(direct: str, keys: Keys) -> None:
    auth = PrivyRequestsAuth(APP_ID, keys.carol)
    response = requests.post(direct + RPC, json={"a": 1}, auth=auth, timeout=10)
    assert response.status_code == 403
    assert problem_of(response)["reason"] == "threshold_not_met"


def test_unsigned_is_401(direct: str) -> None:
    response = requests.post(direct + RPC, json={"a": 1}, timeout=10)
    assert response.status_code == 401
    assert problem_of(response)["reason"] == "missing_signature"


def test_tampered_body_and_url_are_401(direct: str, keys: Keys) -> None:
    raw = b'{"amount":"1"}'
    headers = _signed(keys, direct + RPC, raw)
    response = requests.post(direct + RPC, data=b'{"amount":"2"}', headers=headers, timeout=10)
    assert response.status_code == 401
    assert problem_of(response)["reason"] == "invalid_signature"
    response = requests.post(direct + "/v1/wallets/w2/rpc", data=raw, headers=headers, timeout=10)
    assert response.status_code == 401
    assert problem_of(response)["reason"] == "invalid_signature"
    assert requests.post(direct + RPC, data=raw, headers=headers, timeout=10).status_code == 200


def test_expired_is_401(direct: str, keys: Keys) -> None:
    raw = b'{"old":true}'
    headers = _signed(keys, direct + RPC, raw, now_ms=int(time.time() * 1000) - 3_600_000)
    response = requests.post(direct + RPC, data=raw, headers=headers, timeout=10)
    assert response.status_code == 401
    assert problem_of(response)["reason"] == "expired"


def test_replayed_is_409(direct: str, keys: Keys) -> None:
    auth = PrivyRequestsAuth(APP_ID, [keys.alice, keys.carol])
    first = requests.post(direct + RPC, json={"pay": 5}, auth=auth, timeout=10)
    assert first.status_code == 200
    sent = first.request
    assert sent.body is not None
    again = requests.post(direct + RPC, data=sent.body, headers=dict(sent.headers), timeout=10)
    assert again.status_code == 409
    assert problem_of(again)["reason"] == "replayed"


def test_invalid_json_body_is_400(direct: str, keys: Keys) -> None:
    headers = _signed(keys, direct + RPC, b"{}")
    response = requests.post(direct + RPC, data=b"{not json", headers=headers, timeout=10)
    assert response.status_code == 400
    assert problem_of(response)["reason"] == "invalid_body"


# --- body limits --------------------------------------------------------------------------


def test_oversized_is_413(direct: str, keys: Keys) -> None:
    auth = PrivyRequestsAuth(APP_ID, [keys.alice, keys.bob])
    big = {"data": "x" * (LIMIT + 1)}
    response = requests.post(direct + RPC, json=big, auth=auth, timeout=10)
    assert response.status_code == 413
    assert problem_of(response)["reason"] == "body_too_large"


def test_oversized_chunked_is_413(direct: str, keys: Keys) -> None:
    raw = json.dumps({"data": "y" * (LIMIT + 1)}).encode()
    headers = _signed(keys, direct + RPC, raw)

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(raw), 700):
            yield raw[i : i + 700]

    response = requests.post(direct + RPC, data=chunks(), headers=headers, timeout=10)
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert response.status_code == 413
    assert problem_of(response)["reason"] == "body_too_large"


def test_chunked_within_limit_is_verified(direct: str, keys: Keys) -> None:
    raw = json.dumps({"data": "z" * 1200}).encode()
    headers = _signed(keys, direct + RPC, raw)

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(raw), 500):
            yield raw[i : i + 500]

    response = requests.post(direct + RPC, data=chunks(), headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["body"] == raw.decode()


# --- routes without a quorum, errors --------------------------------------------------------


def test_route_without_quorum_passes_through(direct: str) -> None:
    response = requests.get(direct + "/health", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "decision": "None"}
    response = requests.post(direct + "/upload", data=b"u" * (LIMIT * 4), timeout=10)
    assert response.status_code == 200
    assert response.json() == {"size": LIMIT * 4}


def test_resolver_error_is_a_500_problem(direct: str) -> None:
    response = requests.post(direct + "/boom", json={}, timeout=10)
    assert response.status_code == 500
    assert problem_of(response)["reason"] == "internal_error"
    assert "exploded" not in response.text


def test_async_resolver_is_refused_in_wsgi(keys: Keys) -> None:
    async def resolver(info: RequestInfo) -> KeyQuorum:
        return keys.quorum

    def app(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b"unreachable"]

    wrapped = AuthSigWSGIMiddleware(app, quorum=resolver)
    with waitress_thread(wrapped) as url:
        response = requests.post(url + RPC, json={}, timeout=10)
    assert response.status_code == 500
    assert problem_of(response)["reason"] == "internal_error"


# --- public URL, proxies ------------------------------------------------------------------


def test_trusted_and_untrusted_proxy(behind_proxy: str, direct: str, keys: Keys) -> None:
    raw = b'{"hop":1}'
    public_url = "https://wallets.example.org/api" + RPC + "?a=b"
    forward = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "wallets.example.org",
        "X-Forwarded-Prefix": "/api",
    }
    headers = {**_signed(keys, public_url, raw), **forward}
    response = requests.post(behind_proxy + RPC + "?a=b", data=raw, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    headers = {**_signed(keys, public_url, raw, idempotency_key="2"), **forward}
    response = requests.post(direct + RPC + "?a=b", data=raw, headers=headers, timeout=10)
    assert response.status_code == 401
    assert problem_of(response)["reason"] == "invalid_signature"


def test_forwarded_chain_stops_at_the_first_untrusted_hop(behind_proxy: str, keys: Keys) -> None:
    raw = b'{"hop":2}'
    # The client itself claims host=evil.example; our trusted proxy (127.0.0.1) appended its
    # own element. Only the element added by the trusted hop counts.
    forwarded = (
        "for=198.51.100.1;host=evil.example;proto=http, "
        'for=203.0.113.9;host="good.example";proto=https'
    )
    headers = {**_signed(keys, "https://good.example" + RPC, raw), "Forwarded": forwarded}
    response = requests.post(behind_proxy + RPC, data=raw, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    headers = {
        **_signed(keys, "http://evil.example" + RPC, raw, idempotency_key="x"),
        "Forwarded": forwarded,
    }
    response = requests.post(behind_proxy + RPC, data=raw, headers=headers, timeout=10)
    assert response.status_code == 401


def test_public_base_url(public: str, keys: Keys) -> None:
    raw = b'{"base":true}'
    headers = _signed(keys, PUBLIC + RPC, raw)
    assert requests.post(public + RPC, data=raw, headers=headers, timeout=10).status_code == 200
    headers = _signed(keys, public + RPC, raw)
    response = requests.post(public + RPC, data=raw, headers=headers, timeout=10)
    assert response.status_code == 401


# --- Redis replay store shared by two WSGI servers ----------------------------------------


@pytest.mark.redis
def test_redis_store_shared_by_two_servers(redis_url: str, keys: Keys) -> None:
    def make() -> Flask:
        return flask_app(keys, public_base_url=PUBLIC, replay_store=RedisReplayStore(redis_url))

    raw = b'{"shared":1}'
    headers = _signed(keys, PUBLIC + RPC, raw)
    with waitress_thread(make()) as one, waitress_thread(make()) as two:
        assert requests.post(one + RPC, data=raw, headers=headers, timeout=10).status_code == 200
        again = requests.post(two + RPC, data=raw, headers=headers, timeout=10)
        assert again.status_code == 409
        assert problem_of(again)["reason"] == "replayed"
