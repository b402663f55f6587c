"""Deeply nested bodies are bad input, never a crash: a 400 on every supported Python.

The review found a body of about 980 nested arrays around ``1.0,"\\ud800"`` escaping
canonicalization's error handling (a RecursionError, hence a 500 with a traceback on Python
3.12). The recursion limit differs between Pythons and between threads, so each case runs under
a lowered limit as well as the default.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest

from authsig.errors import AuthSigError
from authsig.jcs import canonicalize
from authsig.keys import generate_private_key
from authsig.privy import KeyQuorum, sign_request, verify_request
from authsig.privy.middleware import AuthSigMiddleware

URL = "https://api.example.com/v1/x"
KEY = generate_private_key()
QUORUM = KeyQuorum(public_keys=(KEY.public_key,))


@pytest.fixture(params=[None, 250], ids=["default-limit", "low-limit"])
def limit(request: pytest.FixtureRequest) -> Iterator[None]:
    old = sys.getrecursionlimit()
    if request.param is not None:
        sys.setrecursionlimit(request.param)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def _nested(depth: int, core: str = '1.0,"\\ud800"') -> bytes:
    return ("[" * depth + core + "]" * depth).encode()


@pytest.mark.parametrize("depth", [200, 980, 5000, 100_000])
def test_verifier_refuses_deep_bodies_as_invalid_body(limit: None, depth: int) -> None:
    headers = sign_request(method="POST", url=URL, body=b"{}", app_id="a", keys=KEY)
    decision = verify_request(
        method="POST", url=URL, body=_nested(depth), headers=headers, quorum=QUORUM
    )
    assert (decision.reason, decision.http_status) == ("invalid_body", 400)


@pytest.mark.parametrize("depth", [980, 5000])
def test_canonicalize_raises_a_typed_error_for_deep_values(limit: None, depth: int) -> None:
    value: Any = [1.0, "\ud800"]
    for _ in range(depth):
        value = [value]
    with pytest.raises(AuthSigError):
        canonicalize(value)


def test_the_middleware_answers_400_not_500(limit: None) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover
        raise AssertionError("must not be reached")

    body = _nested(980)  # no client can sign it (sign_request refuses it too): send it anyway
    headers = sign_request(method="POST", url=URL, body=b"{}", app_id="a", keys=KEY)
    scope = {
        "type": "http",
        "method": "POST",
        "scheme": "https",
        "path": "/v1/x",
        "raw_path": b"/v1/x",
        "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1),
    }
    sent: list[MutableMapping[str, Any]] = []
    messages = iter([{"type": "http.request", "body": body, "more_body": False}])

    async def receive() -> dict[str, Any]:
        return next(messages, {"type": "http.disconnect"})

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    middleware = AuthSigMiddleware(
        app, quorum=QUORUM, public_base_url="https://api.example.com", replay_store=None
    )
    asyncio.run(middleware(scope, receive, send))
    assert sent[0]["status"] == 400
    assert json.loads(sent[1]["body"])["reason"] == "invalid_body"
