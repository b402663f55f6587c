"""The FastAPI integration with FastAPI's own test client: the dependency's decision, its
forms (parameter, ``dependencies=``, router), refusals as problem documents, body limits,
OpenAPI, settings checked at start-up, and a protected route checked only once.

Over a real socket: ``test_integrations_ten_cases.py`` (uvicorn) and the body read below.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _framework_apps import ECHO, fastapi_app, serve
from conftest import APP_ID, Keys, Sign, problem_of
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from authsig.asgi import AuthSigMiddleware
from authsig.integrations.fastapi import AuthSig, require_quorum
from authsig.privy.client import PrivyAuth
from authsig.privy.verifier import Decision

BASE = "http://testserver"
LIMIT = 4096


@pytest.fixture(scope="module")
def client(keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUTHSIG_REPLAY_DB", str(tmp_path_factory.mktemp("replay") / "db"))
        app = fastapi_app(keys.quorum, public_base_url=BASE, app_ids=[APP_ID], max_body_bytes=LIMIT)
    return TestClient(app)


@pytest.fixture(scope="module")
def auth(keys: Keys) -> PrivyAuth:
    return PrivyAuth(APP_ID, [keys.alice, keys.bob])


def test_the_dependency_returns_the_decision(client: TestClient, auth: PrivyAuth) -> None:
    response = client.post(ECHO + "?page=2", json={"to": "0xabc", "n": 1}, auth=auth)
    assert response.status_code == 200
    # The endpoint read the same body after the dependency did, and got the typed decision.
    assert response.json() == {
        "approved": True,
        "members": 2,
        "body": response.request.content.decode(),
        "query": "page=2",
    }


def test_a_copy_is_a_replay(client: TestClient, sign: Sign) -> None:
    body = b'{"transfer": "replayed"}'
    headers = sign(BASE + ECHO, body)
    assert client.post(ECHO, content=body, headers=headers).status_code == 200
    assert problem_of(client.post(ECHO, content=body, headers=headers))["reason"] == "replayed"


@pytest.mark.parametrize(
    ("signers", "status", "reason"),
    [(["alice"], 403, "threshold_not_met"), (["alice", "mallory"], 401, "invalid_signature")],
)
def test_refusals_are_problem_documents(
    client: TestClient, keys: Keys, signers: list[str], status: int, reason: str
) -> None:
    auth = PrivyAuth(APP_ID, [getattr(keys, name) for name in signers])
    response = client.post(ECHO, json={"n": 1}, auth=auth)
    assert response.status_code == status
    assert problem_of(response)["reason"] == reason
    assert response.headers["cache-control"] == "no-store"


def test_a_body_parameter_is_read_by_fastapi_and_checked_by_authsig(
    client: TestClient, auth: PrivyAuth
) -> None:
    response = client.post("/v1/model", json={"to": "0xabc", "amount": "3"}, auth=auth)
    assert response.json() == {"approved": True, "to": "0xabc", "amount": "3"}
    # Unsigned: authsig's 401, not FastAPI's 422, even though the body is fine for the model.
    unsigned = client.post("/v1/model", json={"to": "0xabc", "amount": "3"})
    assert problem_of(unsigned)["reason"] == "missing_signature"


def test_a_body_parameter_is_parsed_before_any_dependency(client: TestClient) -> None:
    # FastAPI decodes a JSON body before it runs dependencies (docs/fastapi.md says so): a
    # body that is not JSON gets its 422 first.
    response = client.post(
        "/v1/model", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


def test_resolvers_sync_async_and_none(client: TestClient, auth: PrivyAuth) -> None:
    assert client.post("/v1/async-resolver", json={"a": 1}, auth=auth).json()["approved"]
    # A resolver returning None: no signature needed, the decision is None.
    assert client.get("/v1/maybe").json() == {
        "approved": None,
        "members": None,
        "body": "",
        "query": "",
    }
    assert problem_of(client.post("/v1/maybe", json={}))["reason"] == "missing_signature"
    assert client.post("/v1/maybe", json={"b": 2}, auth=auth).json()["approved"] is True


def test_the_route_and_router_forms(client: TestClient, auth: PrivyAuth) -> None:
    response = client.post("/v1/route-level", json={"c": 3}, auth=auth)
    assert response.json()["approved"] is True  # from request.state.authsig
    assert problem_of(client.post("/v1/route-level", json={}))["reason"] == "missing_signature"
    # The same quorum on the router and as a parameter: checked once, no 409.
    response = client.post("/v2/echo", json={"d": 4}, auth=auth)
    assert response.status_code == 200
    assert response.json()["approved"] is True


def test_a_resolver_that_raises_is_a_500_problem(
    client: TestClient, auth: PrivyAuth, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="authsig.http"):
        response = client.post("/boom", json={}, auth=auth)
    assert response.status_code == 500
    assert problem_of(response)["reason"] == "internal_error"
    assert "secret-ish" not in response.text
    assert "RuntimeError" in caplog.text


def test_two_different_checks_on_one_route_are_a_programmer_error(
    client: TestClient, auth: PrivyAuth
) -> None:
    # The second check would find the request in the replay store (409): refuse to guess.
    with pytest.raises(ValueError, match="checked twice"):
        client.post("/v1/twice", json={}, auth=auth)


def test_bodies_over_the_limit(client: TestClient, sign: Sign) -> None:
    big = json.dumps({"pad": "x" * LIMIT}).encode()
    headers = sign(BASE + ECHO, big)
    declared = client.post(ECHO, content=big, headers=headers)
    assert problem_of(declared)["reason"] == "body_too_large"

    def chunks() -> Iterator[bytes]:
        yield big[:1000]
        yield big[1000:]

    chunked = client.post(ECHO, content=chunks(), headers=headers)
    assert "content-length" not in chunked.request.headers
    assert problem_of(chunked)["reason"] == "body_too_large"


def test_the_gate_checks_before_the_body(client: TestClient, keys: Keys, sign: Sign) -> None:
    body = b'{"e": 5}'
    other_app = sign(BASE + ECHO, body) | {"privy-app-id": "someone-else"}
    assert problem_of(client.post(ECHO, content=body, headers=other_app))["reason"] == (
        "unexpected_app_id"
    )
    override = sign(BASE + ECHO, body) | {"x-http-method-override": "DELETE"}
    assert problem_of(client.post(ECHO, content=body, headers=override))["reason"] == (
        "method_override"
    )


def test_openapi_lists_the_signature_headers(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    scheme = spec["components"]["securitySchemes"]["PrivyAuthorizationSignature"]
    assert scheme == {
        "type": "apiKey",
        "in": "header",
        "name": "privy-authorization-signature",
        "description": scheme["description"],
    }
    for path in (ECHO, "/v1/model", "/v1/route-level", "/v2/echo"):
        operation = spec["paths"][path]["post"]
        assert operation["security"] == [{"PrivyAuthorizationSignature": []}]
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert headers == {"privy-request-expiry", "privy-app-id"}


def test_settings_are_checked_when_set_up(keys: Keys) -> None:
    with pytest.raises(ValueError, match="public_base_url"):
        AuthSig(FastAPI())  # the signed host must be pinned
    with pytest.raises(ValueError, match="public_base_uri"):
        AuthSig(FastAPI(), public_base_uri="https://api.example.com")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="KeyQuorum or a resolver"):
        require_quorum("treasury")  # type: ignore[arg-type]


def test_without_authsig_on_the_app_the_route_fails_loudly(keys: Keys) -> None:
    app = FastAPI()

    @app.post("/x")
    async def x(decision: Decision = Depends(require_quorum(keys.quorum))) -> Any:
        return {}

    with pytest.raises(ValueError, match="AuthSig"):
        TestClient(app).post("/x", json={})


def test_behind_the_middleware_the_dependency_does_not_check_again(
    keys: Keys, auth: PrivyAuth, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTHSIG_REPLAY_DB", str(tmp_path / "db"))
    app = FastAPI()
    AuthSig(app, public_base_url=BASE)
    app.add_middleware(AuthSigMiddleware, quorum=keys.quorum, public_base_url=BASE)

    @app.post("/x")
    async def x(decision: Decision = Depends(require_quorum(keys.quorum))) -> Any:
        return {}

    with pytest.raises(ValueError, match="checked twice"):
        TestClient(app).post("/x", json={}, auth=auth)


def test_a_chunked_body_over_a_real_socket(keys: Keys, replay_db_env: Path) -> None:
    # uvicorn hands the body over in pieces; the dependency reads them within the limit and the
    # endpoint reads the same bytes afterwards.
    body = json.dumps({"pad": "y" * 3000}).encode()
    with serve("asgi", lambda url: fastapi_app(keys.quorum, public_base_url=url)) as url:
        auth = PrivyAuth(APP_ID, [keys.alice, keys.carol])

        def pieces() -> Iterator[bytes]:
            for i in range(0, len(body), 500):
                yield body[i : i + 500]

        request = httpx.Request("POST", url + ECHO, content=body)
        signed = next(auth.sync_auth_flow(request))
        headers = {k: v for k, v in signed.headers.items() if k.startswith("privy-")}
        response = httpx.post(url + ECHO, content=pieces(), headers=headers)
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 200, response.text
    assert response.json()["body"] == body.decode()


@pytest.fixture
def replay_db_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "replay.sqlite3"
    monkeypatch.setenv("AUTHSIG_REPLAY_DB", str(path))
    return path
