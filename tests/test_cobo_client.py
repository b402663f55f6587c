"""The Cobo auth classes over real sockets: redirects, bodies, options (the SDK comparison is in
test_cobo_client_interop.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
from _cobo_servers import capture_app, uvicorn_server, verify_record

from authsig.cobo import load_api_secret, verify_request
from authsig.cobo.client import CoboAuth, CoboRequestsAuth
from authsig.cobo.errors import CoboKeyError, CoboRedirectError, CoboRequestError

SECRET = "4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d"
API_KEY = load_api_secret(SECRET).api_key
NOW = 1_795_519_976_869
SIGNED = ("biz-api-key", "biz-api-nonce", "biz-api-signature")


def _redirecting(records: list[dict[str, Any]]) -> Any:
    """/redirect?to=URL answers 307 to URL; anything else is recorded."""
    inner = capture_app(records)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/redirect":
            target = scope["query_string"].decode().removeprefix("to=")
            await send(
                {
                    "type": "http.response.start",
                    "status": 307,
                    "headers": [(b"location", target.encode())],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        await inner(scope, receive, send)

    return app


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[str, str, list[dict[str, Any]], list[dict[str, Any]]]]:
    first: list[dict[str, Any]] = []
    second: list[dict[str, Any]] = []
    with uvicorn_server(_redirecting(first)) as a, uvicorn_server(capture_app(second)) as b:
        yield a, b, first, second


def _verified(record: dict[str, Any], now: int | None = NOW) -> bool:
    return bool(verify_record(record, API_KEY, now).approved)


def test_requests_strips_the_signature_from_a_cross_origin_redirect(servers: Any) -> None:
    a, b, first, second = servers
    auth = CoboRequestsAuth(SECRET, clock=lambda: NOW)
    response = requests.post(f"{a}/redirect?to={b}/v2/x", data=b'{"a":1}', auth=auth, timeout=30)
    response.raise_for_status()
    leaked = second[-1]
    assert leaked["path"] == "/v2/x"
    assert leaked["body"] == ""  # a 307 would have resent it
    assert not set(SIGNED) & set(leaked["headers"])
    # However the Location is spelled: upper-case scheme, scheme-relative.
    for target in (b.replace("http://", "HTTP://"), b.removeprefix("http:")):
        requests.get(f"{a}/redirect?to={target}/v2/z", auth=auth, timeout=30).raise_for_status()
        assert second[-1]["path"] == "/v2/z"
        assert not set(SIGNED) & set(second[-1]["headers"])
    # On the same origin the request keeps its headers (there they sign another path: refused).
    requests.post(f"{a}/redirect?to={a}/v2/y", data=b"{}", auth=auth, timeout=30)
    kept = first[-1]
    assert set(SIGNED) <= set(kept["headers"])
    assert not _verified(kept)


def test_httpx_redirect_guard(servers: Any) -> None:
    a, b, _, second = servers
    auth = CoboAuth(SECRET, clock=lambda: NOW)
    url = f"{a}/redirect?to={b}/v2/x"
    # httpx copies every header but Authorization to the new origin, and only a client-level
    # hook sees the redirect: without the hooks the request leaks, and the auth says so.
    with (
        httpx.Client(auth=auth, follow_redirects=True) as client,
        pytest.raises(CoboRedirectError, match="event_hooks"),
    ):
        client.post(url, content=b"{}")
    assert set(SIGNED) <= set(second[-1]["headers"])
    with httpx.Client(auth=auth, follow_redirects=True, event_hooks=auth.event_hooks()) as client:
        client.post(url, content=b'{"a":1}').raise_for_status()
    assert not set(SIGNED) & set(second[-1]["headers"])
    assert second[-1]["body"] == ""

    async def send() -> None:
        async with httpx.AsyncClient(
            auth=auth, follow_redirects=True, event_hooks=auth.async_event_hooks()
        ) as client:
            (await client.put(url, content=b"[1]")).raise_for_status()

    asyncio.run(send())
    assert not set(SIGNED) & set(second[-1]["headers"])
    assert second[-1]["body"] == ""
    # Within the origin nothing is stripped.
    with httpx.Client(auth=auth, follow_redirects=True, event_hooks=auth.event_hooks()) as client:
        client.post(f"{a}/redirect?to={a}/v2/y", content=b"[2]").raise_for_status()


def test_empty_object_rule_and_str_bodies(servers: Any) -> None:
    _, b, _, second = servers
    sdk_like = CoboRequestsAuth(SECRET, clock=lambda: NOW)
    as_sent = CoboRequestsAuth(SECRET, clock=lambda: NOW, sdk_empty_object=False)
    requests.post(f"{b}/v2/refresh", data="{}", auth=sdk_like, timeout=30)
    requests.post(f"{b}/v2/refresh", data="{}", auth=as_sent, timeout=30)
    sdk_record, sent_record = second[-2], second[-1]
    assert sdk_record["body"] == sent_record["body"] == "{}"
    assert sdk_record["headers"]["biz-api-signature"] != sent_record["headers"]["biz-api-signature"]
    for record in (sdk_record, sent_record):
        assert _verified(record)
    strict = verify_request(
        sdk_record["headers"],
        method="POST",
        path="/v2/refresh",
        query="",
        body="{}",
        api_keys=[API_KEY],
        now_ms=NOW,
        accept_sdk_empty_object=False,
    )
    assert strict.reason == "invalid_signature"
    # A str body is sent as the UTF-8 bytes that were signed.
    requests.post(f"{b}/v2/memo", data="héllo", auth=sdk_like, timeout=30)
    assert second[-1]["body"] == "héllo"
    assert _verified(second[-1])


def test_bad_arguments() -> None:
    with pytest.raises(CoboKeyError):
        CoboAuth("not hex")
    with pytest.raises(TypeError):
        CoboRequestsAuth(SECRET, sdk_empty_object="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        CoboAuth(SECRET, clock=5)  # type: ignore[arg-type]
    assert SECRET not in repr(CoboAuth(SECRET)) + repr(CoboRequestsAuth(SECRET))
    prepared = requests.Request("POST", "http://127.0.0.1/v2/x", data=iter([b"a"])).prepare()
    with pytest.raises(CoboRequestError):
        CoboRequestsAuth(SECRET)(prepared)
