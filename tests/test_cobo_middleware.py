"""Cobo event middleware served by real servers: uvicorn (ASGI) and waitress (WSGI) on 127.0.0.1.

Requests go over TCP with httpx; the handler counts its calls, so a refused event is shown not
to have reached it, and echoes the body it got, so an accepted one is shown to arrive intact.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from _cobo_servers import uvicorn_server, waitress_server

from authsig.cobo import CoboEventASGIMiddleware, CoboEventWSGIMiddleware, sign_event
from authsig.cobo.errors import CoboRequestError
from authsig.cobo.keys import load_api_secret

SECRET = "4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d"
OTHER_SECRET = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
NOW = 1_795_519_976_869
LIMIT = 512 * 1024
_ts = itertools.count(NOW - 1000)


class Store:
    def __init__(self) -> None:
        self.keys: dict[str, int] = {}

    def add_if_absent(self, key: str, expires_at_ms: int) -> bool:
        if key in self.keys:
            return False
        self.keys[key] = expires_at_ms
        return True


def _options(store: Store) -> dict[str, Any]:
    return {
        "public_key": load_api_secret(SECRET).api_key,
        "paths": ["/webhook", "/callback"],
        "max_body_bytes": LIMIT,
        "clock": lambda: NOW,
        "replay_store": store,
    }


def _asgi_app(calls: list[str]) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        calls.append(scope["path"])
        decision = scope.get("state", {}).get("authsig")
        reason = decision.reason if decision is not None else "unchecked"
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"x-reason", reason.encode()),
                    (b"content-type", b"application/octet-stream"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


def _wsgi_app(calls: list[str]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        calls.append(environ["PATH_INFO"])
        decision = environ.get("authsig.decision")
        reason = decision.reason if decision is not None else "unchecked"
        start_response(
            "200 OK", [("X-Reason", reason), ("Content-Type", "application/octet-stream")]
        )
        return [body]

    return app


@pytest.fixture(scope="module", params=["asgi-uvicorn", "wsgi-waitress"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, list[str]]]:
    calls: list[str] = []
    store = Store()
    if request.param == "asgi-uvicorn":
        app: Any = CoboEventASGIMiddleware(_asgi_app(calls), **_options(store))
        with uvicorn_server(app) as base:
            yield base, calls
    else:
        app = CoboEventWSGIMiddleware(_wsgi_app(calls), **_options(store))
        with waitress_server(app) as base:
            yield base, calls


def _post(base: str, path: str, body: bytes, headers: dict[str, str], **kw: Any) -> httpx.Response:
    return httpx.post(base + path, content=body, headers=headers, timeout=30, **kw)


def _signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return sign_event(body, secret, timestamp_ms=next(_ts))


def _assert_problem(response: httpx.Response, status: int, reason: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    doc = response.json()
    assert doc["status"] == status
    assert doc["reason"] == reason
    assert doc["type"] == f"urn:authsig:problem:{reason}"
    assert response.headers["cache-control"] == "no-store"
    assert doc["detail"]


def test_signed_event_reaches_handler_intact(server: tuple[str, list[str]]) -> None:
    base, calls = server
    body = ('{"memo":"héllo 世界 🚀","pad":"' + "x" * 300_000 + '"}').encode()
    before = len(calls)
    response = _post(base, "/webhook", body, _signed(body))
    assert response.status_code == 200
    assert response.headers["x-reason"] == "approved"
    assert hashlib.sha256(response.content).digest() == hashlib.sha256(body).digest()
    assert calls[before:] == ["/webhook"]


def test_chunked_body_is_read_once_and_passed_on(server: tuple[str, list[str]]) -> None:
    base, _calls = server
    body = b'{"event":"chunked","data":"' + b"y" * 70_000 + b'"}'
    headers = _signed(body)

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(body), 8192):
            yield body[i : i + 8192]

    response = httpx.post(base + "/callback", content=chunks(), headers=headers, timeout=30)
    assert response.status_code == 200
    assert response.content == body


@pytest.mark.parametrize(
    ("make_headers", "status", "reason"),
    [
        (lambda body: {}, 401, "missing_signature"),
        (lambda body: {"Biz-Timestamp": str(NOW)}, 401, "missing_signature"),
        (lambda body: _signed(body, OTHER_SECRET), 401, "invalid_signature"),
        (lambda body: _signed(body + b" "), 401, "invalid_signature"),
        (lambda body: sign_event(body, SECRET, timestamp_ms=NOW - 600_000), 401, "stale_nonce"),
        (
            lambda body: {**_signed(body), "Biz-Resp-Signature": "not hex"},
            401,
            "malformed_signature",
        ),
    ],
)
def test_refused_events_never_reach_handler(
    server: tuple[str, list[str]], make_headers: Any, status: int, reason: str
) -> None:
    base, calls = server
    body = b'{"event":"forged"}'
    before = len(calls)
    response = _post(base, "/webhook", body, make_headers(body))
    _assert_problem(response, status, reason)
    assert len(calls) == before


def test_replayed_event_refused(server: tuple[str, list[str]]) -> None:
    base, calls = server
    body = b'{"event":"once"}'
    headers = _signed(body)
    assert _post(base, "/webhook", body, headers).status_code == 200
    before = len(calls)
    _assert_problem(_post(base, "/webhook", body, headers), 409, "replayed")
    assert len(calls) == before


def test_too_large_refused(server: tuple[str, list[str]]) -> None:
    base, calls = server
    body = b"z" * (LIMIT + 1)
    before = len(calls)
    _assert_problem(_post(base, "/webhook", body, _signed(body)), 413, "body_too_large")
    assert len(calls) == before


def test_other_paths_pass_through(server: tuple[str, list[str]]) -> None:
    base, calls = server
    response = _post(base, "/health", b"hi", {})
    assert response.status_code == 200
    assert response.content == b"hi"
    assert response.headers["x-reason"] == "unchecked"
    assert calls[-1] == "/health"


def test_configuration_errors_fail_at_start() -> None:
    with pytest.raises(ValueError, match="max_body_bytes"):
        CoboEventASGIMiddleware(_asgi_app([]), max_body_bytes=-1)
    with pytest.raises(CoboRequestError, match="tolerance_ms"):
        CoboEventASGIMiddleware(_asgi_app([]), tolerance_ms=-1)
    from authsig.cobo.errors import CoboKeyError

    with pytest.raises(CoboKeyError):
        CoboEventWSGIMiddleware(_wsgi_app([]), environment="qa")  # type: ignore[arg-type]
