"""The Django integration with Django's own test clients (``Client`` and ``AsyncClient``): the
decorator on function and class-based views, sync and async; the middleware's quorums by URL
name (namespaced too); settings read from ``settings.AUTHSIG`` and refused when wrong; the
decision on ``request.authsig``; refusals as problem documents.

The project is ``_django_site``. Over a real socket: ``test_integrations_ten_cases.py`` (gunicorn
with two workers, and uvicorn running Django's ASGI handler).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _framework_apps import as_httpx
from conftest import APP_ID, Keys, Sign, problem_of

BASE = "http://testserver"
LIMIT = 4096


@pytest.fixture(scope="module")
def site(keys: Keys) -> Any:
    import _django_site

    _django_site.configure(keys.quorum, {"public_base_url": BASE})
    return _django_site


@pytest.fixture
def authsig(site: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """``settings.AUTHSIG`` for one test (tests may change it before the first request); the
    default replay store in a file of the test's own."""
    from django.test import override_settings

    monkeypatch.setenv("AUTHSIG_REPLAY_DB", str(tmp_path / "replay.sqlite3"))
    settings: dict[str, Any] = {
        "public_base_url": BASE,
        "app_ids": [APP_ID],
        "max_body_bytes": LIMIT,
        "quorums": {"mapped": site.quorum_for, "api:rpc": "_django_site.quorum_for"},
    }
    with override_settings(AUTHSIG=settings):
        yield settings


def post(path: str, body: bytes, headers: dict[str, str] | None = None) -> Any:
    """POST with Django's test client; the response as an httpx one."""
    from django.test import Client

    response = Client().post(path, data=body, content_type="application/json", headers=headers)
    return as_httpx(response)


def post_async(path: str, body: bytes, headers: dict[str, str] | None = None) -> Any:
    """POST with Django's async test client (the async handler); the response as httpx's."""
    from django.test import AsyncClient

    async def send() -> Any:
        return await AsyncClient().post(
            path, data=body, content_type="application/json", headers=headers
        )

    return as_httpx(asyncio.run(send()))


VIEWS = ["/v1/echo", "/v1/echo-async", "/v1/cbv", "/v1/cbv-async", "/v1/mapped", "/v1/api/rpc"]


@pytest.mark.parametrize("send", [post, post_async], ids=["wsgi-client", "asgi-client"])
@pytest.mark.parametrize("path", VIEWS)
def test_every_protected_view(
    path: str, send: Any, authsig: dict[str, Any], keys: Keys, sign: Sign
) -> None:
    body = json.dumps({"path": path, "to": "0xabc"}).encode()
    headers = sign(BASE + path + "?page=3", body)
    response = send(path + "?page=3", body, headers)
    assert response.status_code == 200, response.text
    # The view read the body after the check and found the decision on request.authsig.
    assert response.json() == {
        "approved": True,
        "members": 2,
        "body": body.decode(),
        "query": "page=3",
    }
    assert problem_of(send(path + "?page=3", body, headers))["reason"] == "replayed"
    few = sign(BASE + path, body, signers=[keys.carol])
    assert problem_of(send(path, body, few))["reason"] == "threshold_not_met"
    foreign = sign(BASE + path, body, signers=[keys.alice, keys.mallory])
    assert problem_of(send(path, body, foreign))["reason"] == "invalid_signature"
    unsigned = send(path, body)
    assert problem_of(unsigned)["reason"] == "missing_signature"
    assert unsigned.headers["cache-control"] == "no-store"


def test_the_middleware_takes_async_resolvers_under_the_async_handler(
    authsig: dict[str, Any], site: Any, sign: Sign, caplog: pytest.LogCaptureFixture
) -> None:
    authsig["quorums"]["mapped"] = "_django_site.quorum_for_async"
    body = b'{"async": 1}'
    response = post_async("/v1/mapped", body, sign(BASE + "/v1/mapped", body))
    assert response.json()["approved"] is True
    # Under the sync (WSGI) handler it cannot be awaited: a 500 problem, the cause in the log.
    with caplog.at_level(logging.ERROR, logger="authsig.http"):
        response = post("/v1/mapped", body, sign(BASE + "/v1/mapped", body))
    assert problem_of(response)["reason"] == "internal_error"
    assert "the quorum resolver is async" in caplog.text


def test_unprotected_views_see_no_decision(authsig: dict[str, Any], sign: Sign) -> None:
    from django.test import Client

    # Behind the middleware every view finds request.authsig, None where nothing was needed.
    assert Client().get("/open").json() == {"authsig": "None"}
    assert Client().get("/v1/maybe").json()["approved"] is None
    assert problem_of(post("/v1/maybe", b"{}"))["reason"] == "missing_signature"
    assert post("/v1/maybe", b"{}", sign(BASE + "/v1/maybe", b"{}")).json()["approved"] is True


def test_the_gate_checks_before_the_body(authsig: dict[str, Any], sign: Sign) -> None:
    body = b'{"e": 5}'
    other_app = sign(BASE + "/v1/echo", body) | {"privy-app-id": "staging"}
    assert problem_of(post("/v1/echo", body, other_app))["reason"] == "unexpected_app_id"
    big = json.dumps({"pad": "x" * LIMIT}).encode()
    assert problem_of(post("/v1/echo", big, sign(BASE + "/v1/echo", big)))["reason"] == (
        "body_too_large"
    )


def test_djangos_own_body_limit_is_a_413_too(authsig: dict[str, Any], sign: Sign) -> None:
    from django.test import override_settings

    body = json.dumps({"pad": "x" * 200}).encode()
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100):  # lower than max_body_bytes
        response = post("/v1/echo", body, sign(BASE + "/v1/echo", body))
    assert problem_of(response)["reason"] == "body_too_large"


def test_a_resolver_that_raises_is_a_500_problem(
    authsig: dict[str, Any], sign: Sign, site: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(request: Any) -> Any:
        raise RuntimeError("resolver exploded: secret-ish detail")

    authsig["quorums"]["mapped"] = boom
    with caplog.at_level(logging.ERROR, logger="authsig.http"):
        response = post("/v1/mapped", b"{}", sign(BASE + "/v1/mapped", b"{}"))
    assert problem_of(response)["reason"] == "internal_error"
    assert "secret-ish" not in response.text
    assert "RuntimeError" in caplog.text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"quorums": {"mapd": None}}, r"URLconf does not have: \['mapd'\]"),
        ({"quorums": {"other:rpc": None}}, "URLconf does not have"),
        ({"quorums": {"echo": None}}, "protect it once"),  # decorated and named
        ({"public_base_uri": BASE}, "unknown setting"),
        ({"public_base_url": None}, "public_base_url"),  # the signed host must be pinned
        ({"quorums": {"mapped": 42}}, "KeyQuorum or a resolver"),
    ],
)
def test_wrong_settings_are_improperly_configured(
    change: dict[str, Any], message: str, authsig: dict[str, Any], site: Any
) -> None:
    from django.core.exceptions import ImproperlyConfigured
    from django.test import Client

    for name, value in change.items():
        if name == "quorums":
            authsig["quorums"] = {k: v or site.quorum_for for k, v in value.items()}
        else:
            authsig[name] = value
    with pytest.raises(ImproperlyConfigured, match=message):
        Client().post("/v1/echo", data=b"{}", content_type="application/json")


def test_no_authsig_setting_is_improperly_configured(site: Any) -> None:
    from django.core.exceptions import ImproperlyConfigured
    from django.test import Client, override_settings

    with override_settings(AUTHSIG=None), pytest.raises(ImproperlyConfigured, match="AUTHSIG"):
        Client().get("/open")


def test_decorator_arguments_are_checked_when_declared(keys: Keys) -> None:
    from authsig.integrations.django import require_quorum

    async def resolver(request: Any) -> Any:
        return keys.quorum

    with pytest.raises(TypeError, match="async view"):

        @require_quorum(resolver)
        def view(request: Any) -> Any:
            return None

    with pytest.raises(TypeError, match="KeyQuorum or a resolver"):
        require_quorum("treasury")  # type: ignore[arg-type]
