"""The Privy middleware under WSGI only: a synchronous interface refuses async resolvers, and
the body is read from ``wsgi.input`` as PEP 3333 allows and handed on as a fresh input. Served
by waitress on 127.0.0.1 (or driven directly where waitress cannot produce the environ);
everything both interfaces share is in ``test_middleware.py``.
"""

from __future__ import annotations

import io
import json
from typing import Any

import requests
from conftest import APP_ID, Keys, Sign, post_chunks, problem_of
from servers import LIMIT, RPC, MiddlewareServer, waitress_thread

from authsig.http import RequestInfo
from authsig.privy.client import PrivyAuth
from authsig.privy.quorum import KeyQuorum
from authsig.wsgi import AuthSigWSGIMiddleware


def test_wsgi_async_resolver_is_refused(keys: Keys) -> None:
    async def resolver(info: RequestInfo) -> KeyQuorum:
        return keys.quorum

    def app(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b"unreachable"]

    with waitress_thread(
        AuthSigWSGIMiddleware(app, quorum=resolver, trust_host_header=True)
    ) as url:
        response = requests.post(url + RPC, json={}, timeout=10)
    assert response.status_code == 500
    assert problem_of(response)["reason"] == "internal_error"


def test_wsgi_async_user_keys_are_refused(keys: Keys) -> None:
    async def user_keys(user_id: str) -> list[Any]:
        return [keys.carol.public_key]

    wsgi = MiddlewareServer("wsgi", keys.quorum)
    quorum = KeyQuorum(user_ids=("user-1",))
    response = wsgi.post_once(PrivyAuth(APP_ID, keys.carol), {}, quorum=quorum, user_keys=user_keys)
    assert response.status_code == 503
    assert problem_of(response)["reason"] == "user_resolution_failed"


def test_wsgi_app_reads_the_checked_body_from_a_fresh_input(keys: Keys, sign: Sign) -> None:
    # The middleware consumed wsgi.input; a plain app that reads CONTENT_LENGTH bytes, as
    # PEP 3333 asks, gets the checked bytes and nothing more. (The upload is chunked; waitress
    # de-chunks it and declares the length itself.)
    seen: dict[str, Any] = {}

    def app(environ: Any, start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        seen["length"] = length
        seen["body"] = environ["wsgi.input"].read(length)
        seen["rest"] = environ["wsgi.input"].read()
        start_response("204 No Content", [])
        return []

    raw = json.dumps({"data": "w" * 900}).encode()
    with waitress_thread(
        AuthSigWSGIMiddleware(app, quorum=keys.quorum, trust_host_header=True)
    ) as url:
        response = post_chunks("requests", url + RPC, raw, 300, sign(url + RPC, raw))
    assert response.status_code == 204, response.text
    assert seen == {"length": len(raw), "body": raw, "rest": b""}


def _environ(headers: dict[str, str], body: bytes, terminated: bool) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": RPC,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "HTTP_HOST": "testserver",
    }
    if terminated:
        environ["wsgi.input_terminated"] = True
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else "HTTP_" + key] = value
    return environ


def test_wsgi_body_without_a_length_is_read_only_from_a_terminated_input(
    keys: Keys, sign: Sign
) -> None:
    # PEP 3333: without CONTENT_LENGTH an app may read wsgi.input to its end only when the
    # server sets wsgi.input_terminated. waitress always declares a length, so the middleware
    # is driven here with the environ such a server (or one that does not terminate) gives.
    seen: list[bytes] = []

    def app(environ: Any, start_response: Any) -> list[bytes]:
        seen.append(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
        start_response("204 No Content", [])
        return []

    def call(environ: dict[str, Any]) -> tuple[str, bytes]:
        status: list[str] = []
        middleware = AuthSigWSGIMiddleware(
            app, quorum=keys.quorum, max_body_bytes=LIMIT, trust_host_header=True
        )
        body = b"".join(middleware(environ, lambda line, headers: status.append(line)))
        return status[0], body

    raw = b'{"terminated":true}'
    url = "http://testserver" + RPC
    status, _ = call(_environ(sign(url, raw), raw, terminated=True))
    assert status.startswith("204")
    assert seen == [raw]
    # Not terminated: the input is not read (it could block), so the signed body is missing.
    status, body = call(_environ(sign(url, raw, idempotency_key="2"), raw, terminated=False))
    assert status.startswith("401")
    assert json.loads(body)["reason"] == "invalid_signature"
    # Terminated but longer than the limit: refused once the limit is passed.
    big = json.dumps({"data": "t" * LIMIT}).encode()
    status, body = call(_environ(sign(url, big), big, terminated=True))
    assert status.startswith("413")
    assert json.loads(body)["reason"] == "body_too_large"
    assert seen == [raw]
