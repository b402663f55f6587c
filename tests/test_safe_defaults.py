"""Attacks on the edges of a deployment, over real sockets: a reverse proxy in front of uvicorn,
stalled uploads, WebSocket handshakes, method-override shims, chatty refusals, root paths.

Each test reproduces a finding of the adversarial review against the default (or the
documented) configuration, and shows the request refused; the legitimate request next to it
still passes, so the fix is not a blanket refusal.
"""

from __future__ import annotations

import http.client
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from servers import uvicorn_thread

from authsig.asgi import AuthSigMiddleware
from authsig.errors import UserResolutionError
from authsig.keys import PrivateKey, generate_private_key
from authsig.privy.quorum import KeyQuorum
from authsig.privy.signing import sign_request
from authsig.reasons import Reason

PUBLIC_HOST = "api.example.com"
PATH = "/v1/wallets/w1/rpc"
BODY = b'{"method":"eth_signTransaction","params":{"memo":"\xc3\xa9t\xc3\xa9 \xe2\x9c\x93"}}'
APP_ID = "app-production"
PROXY_ADDRESS = "127.0.0.2"


@pytest.fixture(scope="module")
def key() -> PrivateKey:
    return generate_private_key()


@pytest.fixture(scope="module")
def quorum(key: PrivateKey) -> KeyQuorum:
    return KeyQuorum(public_keys=(key.public_key,), id="kq-secret-treasury")


async def ok_app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 1000})
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"done"})


def _signed(key: PrivateKey, url: str, *, app_id: str = APP_ID, **kw: Any) -> dict[str, str]:
    headers = sign_request(method="POST", url=url, body=BODY, app_id=app_id, keys=key, **kw)
    headers["content-type"] = "application/json"
    return headers


# --- a reverse proxy -----------------------------------------------------------------------


class _Proxy(BaseHTTPRequestHandler):
    """Forwards to the upstream the way nginx is commonly configured: ``forwarded`` appends
    its own RFC 7239 element to whatever the client sent; ``x-forwarded`` writes
    X-Forwarded-For/Proto/Host and passes every other header (Forwarded included) through."""

    upstream: tuple[str, int]
    family: str

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        host = self.headers.get("host", "")
        if self.family == "forwarded":
            # replaced by the appended header below
            drop: tuple[str, ...] = ("connection", "forwarded")
        else:
            drop = ("connection", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host")
        headers = {k: v for k, v in self.headers.items() if k.lower() not in drop}
        if self.family == "forwarded":
            element = f"for={self.client_address[0]};host={host};proto=https"
            previous = self.headers.get("forwarded")
            headers["Forwarded"] = f"{previous}, {element}" if previous else element
        else:
            headers["X-Forwarded-For"] = self.client_address[0]
            headers["X-Forwarded-Proto"] = "https"
            headers["X-Forwarded-Host"] = host
        # The proxy reaches the app from 127.0.0.2, its clients come from 127.0.0.1: only the
        # proxy's address is trusted, as in a real deployment.
        connection = http.client.HTTPConnection(
            *self.upstream, timeout=10, source_address=(PROXY_ADDRESS, 0)
        )
        connection.request("POST", self.path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        self.send_response(response.status)
        self.send_header("content-type", response.getheader("content-type", "text/plain"))
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        connection.close()


def _proxy(upstream: str, family: str) -> tuple[ThreadingHTTPServer, str]:
    host, port = upstream.removeprefix("http://").split(":")
    handler = type("Proxy", (_Proxy,), {"upstream": (host, int(port)), "family": family})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(params=["forwarded", "x-forwarded"])
def behind_proxy(request: pytest.FixtureRequest, quorum: KeyQuorum) -> Iterator[tuple[str, str]]:
    family = request.param
    app = AuthSigMiddleware(
        ok_app, quorum=quorum, trusted_proxies=[PROXY_ADDRESS], proxy_headers=family
    )
    with uvicorn_thread(app) as upstream:
        server, base = _proxy(upstream, family)
        try:
            yield base, family
        finally:
            server.shutdown()
            server.server_close()


def test_a_client_cannot_choose_the_signed_host_through_a_trusted_proxy(
    behind_proxy: tuple[str, str], key: PrivateKey
) -> None:
    base, family = behind_proxy
    public = {"host": PUBLIC_HOST}
    good = _signed(key, f"https://{PUBLIC_HOST}{PATH}")
    assert httpx.post(base + PATH, content=BODY, headers={**good, **public}).status_code == 200

    # The attacker holds a signature made for staging and wants production to accept it.
    staging = _signed(key, f"https://staging.example.com{PATH}")
    # Variant 1: a quote left open swallows the element the proxy appends.
    open_quote = {"forwarded": 'host=staging.example.com;proto=https;for="'}
    # Variant 2: a Forwarded header through a proxy that only writes X-Forwarded-*.
    plain = {"forwarded": "host=staging.example.com;proto=https"}
    for spoof in (open_quote, plain):
        response = httpx.post(base + PATH, content=BODY, headers={**staging, **public, **spoof})
        assert response.status_code in (400, 401), response.text
        if family == "forwarded" and spoof is open_quote:
            assert response.json()["reason"] == "malformed_forwarded"
        else:
            assert response.json()["reason"] == "invalid_signature"


def test_trusting_proxies_without_a_public_base_url_warns(
    quorum: KeyQuorum, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="authsig.http"):
        AuthSigMiddleware(
            ok_app, quorum=quorum, trusted_proxies=["10.0.0.0/8"], proxy_headers="x-forwarded"
        )
    assert "public_base_url" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="authsig.http"):
        AuthSigMiddleware(ok_app, quorum=quorum, public_base_url=f"https://{PUBLIC_HOST}")
    assert caplog.text == ""


# --- stalled uploads -----------------------------------------------------------------------


def _stall(
    base: str, path: str, headers: dict[str, str], sent: bytes, length: int
) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    head = f"POST {path} HTTP/1.1\r\nHost: {PUBLIC_HOST}\r\nContent-Length: {length}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items() if k != "content-length")
    sock.sendall(head.encode() + b"\r\n" + sent)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    """The whole response: until the server closes the connection (it must, after a 408)."""
    chunks = []
    while chunk := sock.recv(4096):
        chunks.append(chunk)
    sock.close()
    return b"".join(chunks)


def test_stalled_uploads_are_cut_off(key: PrivateKey, quorum: KeyQuorum) -> None:
    app = AuthSigMiddleware(
        ok_app, quorum=quorum, public_base_url=f"https://{PUBLIC_HOST}", body_timeout=0.5
    )
    headers = _signed(key, f"https://{PUBLIC_HOST}{PATH}")
    with uvicorn_thread(app) as base:
        started = time.monotonic()
        socks = [_stall(base, PATH, headers, BODY[:10], len(BODY)) for _ in range(20)]
        answers = [_read_all(sock) for sock in socks]
        elapsed = time.monotonic() - started
        # Every stalled connection got its 408 once the deadline passed, none hung.
        assert all(a.startswith(b"HTTP/1.1 408") for a in answers), answers[:1]
        assert all(b'"reason": "body_timeout"' in a for a in answers)
        assert elapsed < 8
        # A request that sends its body is unaffected.
        ok = httpx.post(base + PATH, content=BODY, headers={**headers, "host": PUBLIC_HOST})
        assert ok.status_code == 200


# --- WebSocket handshakes ------------------------------------------------------------------


def _handshake(base: str, path: str) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: {PUBLIC_HOST}\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        return sock.recv(4096)


def test_websocket_handshakes_on_protected_paths_are_refused(quorum: KeyQuorum) -> None:
    app = AuthSigMiddleware(
        ok_app,
        quorum=lambda info: None if info.path.startswith("/public") else quorum,
        public_base_url=f"https://{PUBLIC_HOST}",
    )
    with uvicorn_thread(app, ws="wsproto") as base:
        assert _handshake(base, "/v1/stream").startswith(b"HTTP/1.1 403")
        assert _handshake(base, "/public/stream").startswith(b"HTTP/1.1 101")


# --- method override, app ids, chatty refusals ---------------------------------------------


@pytest.fixture(scope="module")
def production(quorum: KeyQuorum) -> Iterator[str]:
    def users(user_id: str) -> list[Any]:
        raise UserResolutionError("vault token s.XYZ123 expired")

    app = AuthSigMiddleware(
        ok_app,
        quorum=lambda info: KeyQuorum(user_ids=("u-1",)) if info.path == "/users" else quorum,
        user_keys=users,
        public_base_url=f"https://{PUBLIC_HOST}",
        app_ids=[APP_ID],
    )
    with uvicorn_thread(app) as base:
        yield base


@pytest.mark.parametrize(
    ("where", "extra"),
    [
        ("header", {"x-http-method-override": "DELETE"}),
        ("header", {"X-HTTP-Method": "DELETE"}),
        ("header", {"x-method-override": "DELETE"}),
        ("query", {}),
    ],
)
def test_method_override_is_refused(
    production: str, key: PrivateKey, where: str, extra: dict[str, str]
) -> None:
    path = PATH + ("?_method=DELETE" if where == "query" else "")
    headers = {**_signed(key, f"https://{PUBLIC_HOST}{path}"), **extra}
    response = httpx.post(production + path, content=BODY, headers=headers)
    assert (response.status_code, response.json()["reason"]) == (400, "method_override")


def test_a_request_signed_for_another_app_is_refused(production: str, key: PrivateKey) -> None:
    url = f"https://{PUBLIC_HOST}{PATH}"
    good = httpx.post(production + PATH, content=BODY, headers=_signed(key, url))
    assert good.status_code == 200
    staging = _signed(key, url, app_id="app-staging")
    response = httpx.post(production + PATH, content=BODY, headers=staging)
    assert (response.status_code, response.json()["reason"]) == (401, "unexpected_app_id")


def test_refusals_tell_clients_only_what_they_can_act_on(
    production: str, key: PrivateKey, caplog: pytest.LogCaptureFixture
) -> None:
    from datetime import timedelta

    url = f"https://{PUBLIC_HOST}{PATH}"
    junk = {
        **_signed(key, url),
        "privy-authorization-signature": _signed(generate_private_key(), url)[
            "privy-authorization-signature"
        ],
    }
    far = _signed(key, url, expires_in=timedelta(days=2))
    user = _signed(key, f"https://{PUBLIC_HOST}/users")
    with caplog.at_level(logging.INFO, logger="authsig.http"):
        answers = {
            "invalid_signature": httpx.post(production + PATH, content=BODY, headers=junk),
            "expiry_too_far": httpx.post(production + PATH, content=BODY, headers=far),
            "user_resolution_failed": httpx.post(production + "/users", content=BODY, headers=user),
        }
    for reason, response in answers.items():
        doc = response.json()
        assert doc["reason"] == reason
        assert doc["detail"] == Reason.of(reason).client_detail
        text = response.text
        assert "kq-secret-treasury" not in text  # the quorum id
        assert "s.XYZ123" not in text  # the resolver's text
        assert "u-1" not in text  # a member's id
        assert not any(ch.isdigit() for ch in doc["detail"])  # no clock readings
    # The server log has the details.
    assert "kq-secret-treasury" in caplog.text
    assert "expiry_too_far" in caplog.text


# --- root path -----------------------------------------------------------------------------


@pytest.mark.parametrize("base_url", [f"https://{PUBLIC_HOST}", f"https://{PUBLIC_HOST}/api"])
def test_root_path_is_counted_once(base_url: str, key: PrivateKey, quorum: KeyQuorum) -> None:
    app = AuthSigMiddleware(ok_app, quorum=quorum, public_base_url=base_url)
    headers = _signed(key, f"https://{PUBLIC_HOST}/api{PATH}")
    # The proxy strips /api; uvicorn --root-path /api puts it back into the scope.
    with uvicorn_thread(app, root_path="/api") as upstream:
        response = httpx.post(upstream + PATH, content=BODY, headers=headers)
    assert response.status_code == 200, response.text


def test_the_signed_host_must_be_pinned(quorum: KeyQuorum) -> None:
    with pytest.raises(ValueError, match="public_base_url"):
        AuthSigMiddleware(ok_app, quorum=quorum)
    AuthSigMiddleware(ok_app, quorum=quorum, trust_host_header=True)  # development, said so
