"""The RFC 9421 auth classes and redirects, over real sockets: requests follows redirects by
default, so a signed request redirected to another origin must arrive there without its
signature and body; within the origin the redirect keeps them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from servers import waitress_thread

from authsig.httpsig.client import HttpSigAuth, HttpSigRequestsAuth
from authsig.keys import generate_private_key

KEY = generate_private_key()


def echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    if environ["PATH_INFO"].startswith("/redirect"):
        target = environ["QUERY_STRING"].removeprefix("to=")
        start_response("307 Temporary Redirect", [("Location", target)])
        return [b""]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    headers = {k[5:].lower().replace("_", "-"): v for k, v in environ.items() if k[:5] == "HTTP_"}
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"headers": headers, "body": body.decode()}).encode()]


@pytest.fixture
def two_origins() -> Iterator[tuple[str, str]]:
    with waitress_thread(echo) as first, waitress_thread(echo) as second:
        yield first, second


def test_a_redirect_to_another_origin_loses_the_signature(two_origins: tuple[str, str]) -> None:
    first, second = two_origins
    auth = HttpSigRequestsAuth(("alice", KEY))
    away = requests.post(
        f"{first}/redirect?to={second}/landing", data=b'{"a":1}', auth=auth, timeout=10
    )
    assert away.status_code == 200
    seen = away.json()
    assert "signature" not in seen["headers"]
    assert "signature-input" not in seen["headers"]
    assert seen["body"] == ""
    home = requests.post(
        f"{first}/redirect?to={first}/landing", data=b'{"a":1}', auth=auth, timeout=10
    )
    kept = home.json()
    assert "signature" in kept["headers"]
    assert kept["body"] == '{"a":1}'


def test_the_auth_classes_keep_keys_out_of_their_repr() -> None:
    for auth in (HttpSigAuth(("alice", KEY)), HttpSigRequestsAuth([("alice", KEY)])):
        assert "alice" in repr(auth)
        assert KEY.to_base64() not in repr(auth)
