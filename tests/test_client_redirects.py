"""Signed requests never follow a redirect to another origin: httpx and requests, real sockets.

Two waitress servers on 127.0.0.1 listen on different ports, so they are different origins.
The first answers a signed POST with a redirect to the second; the second records what it
received. It must never see a ``privy-*`` header, ``Authorization`` or the signed body.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import requests
from servers import waitress_thread

from authsig.keys import PrivateKey, generate_private_key
from authsig.privy.client import CrossOriginRedirectError, PrivyAuth, PrivyRequestsAuth
from authsig.privy.signing import sign_request
from authsig.signatures import verify_signature

APP = "app-redirect"
SECRET = "app-secret-value-123"
BODY = {"method": "eth_sendTransaction", "params": {"to": "0xabc", "value": "0x10"}}


@dataclass
class Seen:
    """What a server received: one (method, path, headers, body) per request."""

    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def headers(self) -> list[dict[str, str]]:
        return [h for _, _, h, _ in self.requests]


def _recording_app(seen: Seen, redirects: dict[str, tuple[str, str]]) -> Callable[..., Any]:
    """A WSGI app recording each request; ``redirects`` maps a path to (status, location)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        path = environ["PATH_INFO"]
        with seen.lock:
            seen.requests.append((environ["REQUEST_METHOD"], path, headers, body))
        if path in redirects:
            status, location = redirects[path]
            start_response(status, [("Location", location), ("Content-Length", "0")])
            return [b""]
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
        return [b"{}"]

    return app


@dataclass
class Origins:
    first: str
    second: str
    seen_first: Seen
    seen_second: Seen


@pytest.fixture
def origins() -> Iterator[Origins]:
    """Origin 1 redirects /away (307), /away-308 and /away-303 to origin 2, and /here to its
    own /there (307); origin 2 answers everything with 200."""
    seen_first, seen_second = Seen(), Seen()
    with contextlib.ExitStack() as stack:
        second = stack.enter_context(waitress_thread(_recording_app(seen_second, {})))
        redirects = {
            "/v1/away": ("307 Temporary Redirect", second + "/v1/landed"),
            "/v1/away-308": ("308 Permanent Redirect", second + "/v1/landed"),
            "/v1/away-303": ("303 See Other", second + "/v1/landed"),
            "/v1/here": ("307 Temporary Redirect", "/v1/there"),
        }
        first = stack.enter_context(waitress_thread(_recording_app(seen_first, redirects)))
        yield Origins(first, second, seen_first, seen_second)


@pytest.fixture(scope="module")
def key() -> PrivateKey:
    return generate_private_key()


def _assert_nothing_signed_reached(seen: Seen) -> None:
    assert seen.requests, "the redirect was not followed"
    for _method, _path, headers, body in seen.requests:
        assert not [name for name in headers if name.startswith("privy-")], headers
        assert "authorization" not in headers
        assert body == b""


def _assert_signed(seen: Seen, path: str) -> None:
    [(_m, _p, headers, body)] = [r for r in seen.requests if r[1] == path]
    assert headers["privy-app-id"] == APP
    assert "privy-authorization-signature" in headers
    assert body


def test_the_servers_see_a_leak_when_nothing_guards_the_redirect(
    origins: Origins, key: PrivateKey
) -> None:
    """The control: signed headers set by hand are copied to the other origin by httpx."""
    url = origins.first + "/v1/away"
    headers = sign_request(method="POST", url=url, body=b"{}", app_id=APP, keys=key)
    httpx.post(url, content=b"{}", headers=headers, follow_redirects=True)
    [(_m, _p, seen, body)] = origins.seen_second.requests
    assert seen["privy-authorization-signature"] == headers["privy-authorization-signature"]
    assert body == b"{}"


@pytest.mark.parametrize("path", ["/v1/away", "/v1/away-308", "/v1/away-303"])
def test_httpx_strips_the_signature_and_body_off_the_origin(
    origins: Origins, key: PrivateKey, path: str
) -> None:
    auth = PrivyAuth(APP, key, app_secret=SECRET)
    with httpx.Client(auth=auth, event_hooks=auth.event_hooks(), follow_redirects=True) as c:
        response = c.post(origins.first + path, json=BODY)
    assert response.status_code == 200
    assert str(response.url) == origins.second + "/v1/landed"
    _assert_signed(origins.seen_first, path)
    _assert_nothing_signed_reached(origins.seen_second)


def test_httpx_async_client_strips_too(origins: Origins, key: PrivateKey) -> None:
    auth = PrivyAuth(APP, key, app_secret=SECRET)

    async def run() -> httpx.Response:
        async with httpx.AsyncClient(
            auth=auth, event_hooks=auth.async_event_hooks(), follow_redirects=True
        ) as client:
            return await client.post(origins.first + "/v1/away", json=BODY)

    assert asyncio.run(run()).status_code == 200
    _assert_nothing_signed_reached(origins.seen_second)


def test_httpx_without_the_hook_fails_loudly(origins: Origins, key: PrivateKey) -> None:
    # httpx gives an auth no say over redirects it follows itself; without the client hook
    # the request has left, and the auth raises rather than hand back a normal response.
    with (
        httpx.Client(auth=PrivyAuth(APP, key), follow_redirects=True) as client,
        pytest.raises(CrossOriginRedirectError, match="event_hooks"),
    ):
        client.post(origins.first + "/v1/away", json=BODY)


@pytest.mark.parametrize("path", ["/v1/away", "/v1/away-308", "/v1/away-303"])
def test_requests_strips_the_signature_and_body_off_the_origin(
    origins: Origins, key: PrivateKey, path: str
) -> None:
    auth = PrivyRequestsAuth(APP, key, app_secret=SECRET)
    response = requests.post(origins.first + path, json=BODY, auth=auth, timeout=10)
    assert response.status_code == 200
    assert response.url == origins.second + "/v1/landed"
    _assert_signed(origins.seen_first, path)
    _assert_nothing_signed_reached(origins.seen_second)


def test_refuse_sends_nothing_to_the_other_origin(origins: Origins, key: PrivateKey) -> None:
    url = origins.first + "/v1/away"
    auth = PrivyAuth(APP, key, on_cross_origin_redirect="refuse")
    with (
        httpx.Client(auth=auth, event_hooks=auth.event_hooks(), follow_redirects=True) as c,
        pytest.raises(CrossOriginRedirectError) as info,
    ):
        c.post(url, json=BODY)
    assert info.value.code == "cross_origin_redirect"
    with pytest.raises(CrossOriginRedirectError):
        requests.post(
            url,
            json=BODY,
            auth=PrivyRequestsAuth(APP, key, on_cross_origin_redirect="refuse"),
            timeout=10,
        )
    assert origins.seen_second.requests == []
    assert len(origins.seen_first.requests) == 2


def test_same_origin_redirects_keep_the_signed_request(origins: Origins, key: PrivateKey) -> None:
    url = origins.first + "/v1/here"
    auth = PrivyAuth(APP, key, app_secret=SECRET)
    with httpx.Client(auth=auth, event_hooks=auth.event_hooks(), follow_redirects=True) as c:
        assert c.post(url, json=BODY).status_code == 200
    requests.post(url, json=BODY, auth=PrivyRequestsAuth(APP, key, app_secret=SECRET), timeout=10)
    there = [r for r in origins.seen_first.requests if r[1] == "/v1/there"]
    assert len(there) == 2
    for _method, _path, headers, body in there:
        assert headers["privy-app-id"] == APP
        assert "privy-authorization-signature" in headers
        assert headers["authorization"] == "Basic " + base64.b64encode(
            f"{APP}:{SECRET}".encode()
        ).decode("ascii")
        assert body
    assert origins.seen_second.requests == []


def test_the_signature_the_first_origin_saw_verifies(origins: Origins, key: PrivateKey) -> None:
    from authsig.privy.payload import signing_payload

    auth = PrivyRequestsAuth(APP, key)
    requests.post(origins.first + "/v1/away", json=BODY, auth=auth, timeout=10)
    [(method, path, headers, body)] = origins.seen_first.requests
    payload = signing_payload(method=method, url=origins.first + path, body=body, headers=headers)
    assert verify_signature(payload, headers["privy-authorization-signature"], key.public_key)


def test_requests_without_following_returns_the_redirect(origins: Origins, key: PrivateKey) -> None:
    auth = PrivyRequestsAuth(APP, key)
    response = requests.post(
        origins.first + "/v1/away", json=BODY, auth=auth, allow_redirects=False, timeout=10
    )
    assert response.status_code == 307
    assert origins.seen_second.requests == []
    # what requests would send next (Response.next) carries nothing signed
    following = response.next
    assert following is not None
    assert not [name for name in following.headers if name.lower().startswith("privy-")]
    assert following.body is None
