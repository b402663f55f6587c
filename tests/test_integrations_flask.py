"""The Flask integration with Flask's own test client: the extension (keywords,
``app.config["AUTHSIG"]``, ``init_app``), the decorator on sync and async views, the decision in
``flask.g`` and the environ, refusals as problem documents, body limits, and a route checked
only once.

Over a real socket: ``test_integrations_ten_cases.py`` (waitress) and the chunked body below.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _framework_apps import ECHO, as_httpx, flask_app, serve
from conftest import APP_ID, Keys, Sign, problem_of
from flask import Flask, g, request

from authsig.http import ENVIRON_KEY
from authsig.integrations.flask import AuthSig, require_quorum
from authsig.privy.client import PrivyAuth
from authsig.wsgi import AuthSigWSGIMiddleware

BASE = "http://localhost"
LIMIT = 4096


@pytest.fixture(autouse=True)
def replay_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "replay.sqlite3"
    monkeypatch.setenv("AUTHSIG_REPLAY_DB", str(path))
    return path


@pytest.fixture
def app(keys: Keys) -> Any:
    return flask_app(keys.quorum, public_base_url=BASE, app_ids=[APP_ID], max_body_bytes=LIMIT)


def post(app: Any, path: str, body: bytes, headers: dict[str, str] | None = None) -> Any:
    """POST with Flask's test client; the response as an httpx one."""
    return as_httpx(app.test_client().post(path, data=body, headers=headers or {}))


def test_approved_the_decision_is_in_g_and_the_environ(keys: Keys, sign: Sign) -> None:
    app = Flask("decision")
    AuthSig(app, public_base_url=BASE)
    seen: dict[str, Any] = {}

    @app.post("/pay")
    @require_quorum(keys.quorum)
    def pay() -> Any:
        seen.update(g=g.authsig, environ=request.environ[ENVIRON_KEY], body=request.get_data())
        return {"ok": True}

    body = b'{"to": "0xabc"}'
    response = post(app, "/pay?x=1", body, sign(BASE + "/pay?x=1", body))
    assert response.status_code == 200
    assert seen["g"] is seen["environ"]
    assert seen["g"].approved
    assert len(seen["g"].approved_members) == 2
    assert seen["body"] == body


def test_refusals_and_replays(app: Any, keys: Keys, sign: Sign) -> None:
    body = b'{"n": 1}'
    few = sign(BASE + ECHO, body, signers=[keys.alice])
    assert problem_of(post(app, ECHO, body, few))["reason"] == "threshold_not_met"
    assert problem_of(post(app, ECHO, body))["reason"] == "missing_signature"
    headers = sign(BASE + ECHO, body)
    assert post(app, ECHO, body, headers).json()["approved"] is True
    replay = post(app, ECHO, body, headers)
    assert problem_of(replay)["reason"] == "replayed"
    assert replay.headers["cache-control"] == "no-store"


def test_async_views_and_resolvers(app: Any, sign: Sign) -> None:
    body = b'{"async": true}'
    headers = sign(BASE + "/v1/async-resolver", body)
    assert post(app, "/v1/async-resolver", body, headers).json()["approved"] is True
    assert problem_of(post(app, "/v1/async-resolver", body))["reason"] == "missing_signature"


def test_an_async_resolver_on_a_sync_view_is_refused_when_declared(keys: Keys) -> None:
    async def resolver(request: Any) -> Any:
        return keys.quorum

    with pytest.raises(TypeError, match="async view"):

        @require_quorum(resolver)
        def view() -> Any:
            return {}


def test_a_resolver_may_need_no_signature(app: Any, sign: Sign) -> None:
    assert app.test_client().get("/v1/maybe").get_json()["approved"] is None
    body = b"{}"
    assert problem_of(post(app, "/v1/maybe", body))["reason"] == "missing_signature"
    assert post(app, "/v1/maybe", body, sign(BASE + "/v1/maybe", body)).status_code == 200


def test_a_resolver_that_raises_is_a_500_problem(
    app: Any, sign: Sign, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="authsig.http"):
        response = post(app, "/boom", b"{}", sign(BASE + "/boom", b"{}"))
    assert problem_of(response)["reason"] == "internal_error"
    assert "secret-ish" not in response.text
    assert "RuntimeError" in caplog.text


def test_two_checks_on_one_route_are_a_programmer_error(app: Any, sign: Sign) -> None:
    app.testing = True  # Flask re-raises the view's exception instead of answering 500
    with pytest.raises(ValueError, match="checked twice"):
        post(app, "/v1/twice", b"{}", sign(BASE + "/v1/twice", b"{}"))


def test_behind_the_wsgi_middleware_the_decorator_does_not_check_again(
    keys: Keys, sign: Sign
) -> None:
    app = Flask("both")
    app.testing = True
    AuthSig(app, public_base_url=BASE)

    @app.post("/pay")
    @require_quorum(keys.quorum)
    def pay() -> Any:
        return {}

    app.wsgi_app = AuthSigWSGIMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, quorum=keys.quorum, public_base_url=BASE
    )
    with pytest.raises(ValueError, match="checked twice"):
        post(app, "/pay", b"{}", sign(BASE + "/pay", b"{}"))


def test_the_decorator_above_the_route_is_refused(keys: Keys, sign: Sign) -> None:
    app = Flask("order")
    app.testing = True
    AuthSig(app, public_base_url=BASE)

    @require_quorum(keys.quorum)  # wraps what @app.post already registered: unprotected
    @app.post("/pay")
    def pay() -> Any:
        return {"paid": True}

    @app.get("/health")
    def health() -> Any:
        return {"ok": True}

    # The app refuses to serve anything, rather than serve /pay unsigned.
    for _ in range(2):
        with pytest.raises(ValueError, match=r"above the route decorator of \['pay'\]"):
            post(app, "/pay", b"{}")
        with pytest.raises(ValueError, match="above the route decorator"):
            app.test_client().get("/health")


def test_a_body_over_the_limit(app: Any, sign: Sign) -> None:
    big = json.dumps({"pad": "x" * LIMIT}).encode()
    assert problem_of(post(app, ECHO, big, sign(BASE + ECHO, big)))["reason"] == "body_too_large"


def test_settings_from_config_and_init_app(keys: Keys, sign: Sign) -> None:
    authsig = AuthSig(app_ids=[APP_ID])  # an application factory sets it up later
    app = Flask("factory")
    app.config["AUTHSIG"] = {"public_base_url": BASE, "app_ids": ["overridden"]}
    authsig.init_app(app)

    @app.post("/pay")
    @require_quorum(keys.quorum)
    def pay() -> Any:
        return {"approved": g.authsig.approved}

    # The keyword (app_ids=[APP_ID]) wins over the config's; the config's base URL is used.
    assert post(app, "/pay", b"{}", sign(BASE + "/pay", b"{}")).json() == {"approved": True}


def test_bad_settings_fail_at_set_up() -> None:
    with pytest.raises(ValueError, match="public_base_url"):
        AuthSig(Flask("pin"))
    app = Flask("typo")
    app.config["AUTHSIG"] = {"public_base_uri": BASE}
    with pytest.raises(ValueError, match="public_base_uri"):
        AuthSig(app)
    with pytest.raises(TypeError, match="KeyQuorum or a resolver"):
        require_quorum(42)  # type: ignore[arg-type]


def test_without_the_extension_the_route_fails_loudly(keys: Keys, sign: Sign) -> None:
    app = Flask("missing")
    app.testing = True

    @app.post("/pay")
    @require_quorum(keys.quorum)
    def pay() -> Any:
        return {}

    with pytest.raises(ValueError, match="AuthSig"):
        post(app, "/pay", b"{}", sign(BASE + "/pay", b"{}"))


def test_a_chunked_body_over_a_real_socket(keys: Keys) -> None:
    # waitress terminates the chunked input; werkzeug reads it within the limit.
    body = json.dumps({"pad": "z" * 3000}).encode()
    big = json.dumps({"pad": "z" * 5000}).encode()
    build = lambda url: flask_app(keys.quorum, public_base_url=url, max_body_bytes=LIMIT)  # noqa: E731
    with serve("wsgi", build) as url:
        auth = PrivyAuth(APP_ID, [keys.alice, keys.carol])

        def send(raw: bytes) -> httpx.Response:
            signed = next(auth.sync_auth_flow(httpx.Request("POST", url + ECHO, content=raw)))
            headers = {k: v for k, v in signed.headers.items() if k.startswith("privy-")}

            def pieces() -> Iterator[bytes]:
                for i in range(0, len(raw), 500):
                    yield raw[i : i + 500]

            response = httpx.post(url + ECHO, content=pieces(), headers=headers)
            assert response.request.headers["transfer-encoding"] == "chunked"
            return response

        accepted = send(body)
        refused = send(big)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["body"] == body.decode()
    assert problem_of(refused)["reason"] == "body_too_large"
