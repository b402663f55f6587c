"""The ten-case client script (``_ten_cases.py``) against every way of protecting a route, each
under a real server on 127.0.0.1: the FastAPI dependency (uvicorn), the Flask decorator
(waitress), Django's decorator and middleware (gunicorn with two workers, and uvicorn running
Django's ASGI handler for async views), and the generic ASGI and WSGI middleware.

Every app pins its own URL as ``public_base_url`` and uses the default replay store, moved to a
temporary file with ``AUTHSIG_REPLAY_DB`` (the file is checked to exist afterwards).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _framework_apps import (
    ECHO,
    fastapi_app,
    flask_app,
    gunicorn_process,
    serve,
)
from _ten_cases import CASES, Signers, run_ten_cases
from conftest import APP_ID, Keys
from servers import RPC, starlette_app
from servers import flask_app as flask_middleware_app

pytestmark = pytest.mark.slow


@pytest.fixture
def replay_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the default replay store lives for this test (and its servers)."""
    path = tmp_path / "replay.sqlite3"
    monkeypatch.setenv("AUTHSIG_REPLAY_DB", str(path))
    return path


@pytest.fixture(scope="module")
def signers(keys: Keys) -> Signers:
    return Signers(APP_ID, (keys.alice, keys.bob), (keys.carol,), keys.mallory)


def _settings(url: str) -> dict[str, Any]:
    return {"public_base_url": url, "app_ids": [APP_ID]}


def test_fastapi_under_uvicorn(keys: Keys, signers: Signers, replay_db: Path) -> None:
    with serve("asgi", lambda url: fastapi_app(keys.quorum, **_settings(url))) as url:
        assert run_ten_cases(url + ECHO, signers) == CASES
        assert run_ten_cases(url + "/v1/async-resolver", signers) == CASES
    assert replay_db.is_file()


def test_flask_under_waitress(keys: Keys, signers: Signers, replay_db: Path) -> None:
    with serve("wsgi", lambda url: flask_app(keys.quorum, **_settings(url))) as url:
        assert run_ten_cases(url + ECHO, signers) == CASES
        assert run_ten_cases(url + "/v1/async-resolver", signers) == CASES  # an async view
    assert replay_db.is_file()


@pytest.mark.parametrize("path", ["/v1/echo", "/v1/cbv", "/v1/mapped", "/v1/api/rpc"])
def test_django_under_gunicorn(
    path: str, keys: Keys, signers: Signers, replay_db: Path, tmp_path: Path
) -> None:
    # Two workers share the default store: a replay reaching the other worker is refused too.
    env = {
        "AUTHSIG_TEST_KEYS": ",".join(k.to_base64() for k in keys.quorum.public_keys),
        "AUTHSIG_TEST_APP_ID": APP_ID,
    }
    with gunicorn_process("_django_site:wsgi()", env, tmp_path / "gunicorn.log") as url:
        assert run_ten_cases(url + path, signers) == CASES
    assert replay_db.is_file()


@pytest.fixture(scope="module")
def django_site(keys: Keys) -> Any:
    import _django_site

    _django_site.configure(keys.quorum, {"public_base_url": "http://testserver"})
    return _django_site


@pytest.mark.parametrize("path", ["/v1/echo-async", "/v1/cbv-async", "/v1/echo", "/v1/mapped"])
def test_django_asgi_under_uvicorn(
    path: str, django_site: Any, signers: Signers, replay_db: Path
) -> None:
    from django.core.asgi import get_asgi_application
    from django.test import override_settings

    def build(url: str) -> Any:
        settings = {**_settings(url), "quorums": {"mapped": django_site.quorum_for}}
        override = override_settings(AUTHSIG=settings)
        override.enable()
        overrides.append(override)
        return get_asgi_application()

    overrides: list[Any] = []
    try:
        with serve("asgi", build) as url:
            assert run_ten_cases(url + path, signers) == CASES
    finally:
        for override in overrides:
            override.disable()
    assert replay_db.is_file()


@pytest.mark.parametrize("interface", ["asgi", "wsgi"])
def test_the_generic_middleware(
    interface: str, keys: Keys, signers: Signers, replay_db: Path
) -> None:
    def build(url: str) -> Any:
        options = {**_settings(url), "quorum": keys.quorum}
        return starlette_app(**options) if interface == "asgi" else flask_middleware_app(**options)

    with serve(interface, build) as url:
        assert run_ten_cases(url + RPC, signers) == CASES
    assert replay_db.is_file()
