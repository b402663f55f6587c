"""A stamped request never follows a redirect to another origin with its stamp or its body.

requests follows redirects by default and copies every header but ``Authorization`` to the next
hop (and the body on a 307/308); the stamp and the body are what a replay needs. Real sockets:
the two recording waitress servers of ``test_client_redirects``, on different ports.
"""

from __future__ import annotations

import json

import pytest
import requests
from test_client import run_without
from test_client_redirects import Origins, origins  # noqa: F401  (the fixture)

from authsig.turnkey import TurnkeyPrivateKey, verify_stamp
from authsig.turnkey.client import TurnkeyRequestsAuth

BODY = {"type": "ACTIVITY_TYPE_SIGN_RAW_PAYLOAD_V2", "timestampMs": "1796000000000"}


@pytest.mark.parametrize("path", ["/v1/away", "/v1/away-308", "/v1/away-303"])
def test_requests_strips_the_stamp_and_body_off_the_origin(origins: Origins, path: str) -> None:  # noqa: F811
    key = TurnkeyPrivateKey.generate()
    auth = TurnkeyRequestsAuth(key)
    response = requests.post(origins.first + path, json=BODY, auth=auth, timeout=10)
    assert response.status_code == 200
    assert response.url == origins.second + "/v1/landed"
    [(_m, _p, first_headers, first_body)] = origins.seen_first.requests
    assert json.loads(first_body) == BODY
    verify_stamp(first_body, first_headers["x-stamp"])  # the first origin got a real stamp
    assert origins.seen_second.requests, "the redirect was not followed"
    for _method, _path, headers, body in origins.seen_second.requests:
        assert "x-stamp" not in headers
        assert body == b""


def test_a_same_origin_redirect_keeps_the_stamp(origins: Origins) -> None:  # noqa: F811
    key = TurnkeyPrivateKey.generate()
    response = requests.post(
        origins.first + "/v1/here", json=BODY, auth=TurnkeyRequestsAuth(key), timeout=10
    )
    assert response.status_code == 200
    [(_m, _p, headers, body)] = [r for r in origins.seen_first.requests if r[1] == "/v1/there"]
    verify_stamp(body, headers["x-stamp"])


# --- one HTTP library is enough ------------------------------------------------------------

_ONLY_REQUESTS = """
import requests
from authsig.turnkey import TurnkeyPrivateKey, verify_stamp
from authsig.turnkey.client import TurnkeyRequestsAuth

assert "httpx" not in sys.modules
key = TurnkeyPrivateKey.generate()
prepared = requests.Request(
    "POST", "https://api.example.com/x", json={"a": 1}, auth=TurnkeyRequestsAuth(key)
).prepare()
verify_stamp(prepared.body, prepared.headers["X-Stamp"])
try:
    from authsig.turnkey.client import TurnkeyAuth
except ModuleNotFoundError as exc:
    assert exc.name == "httpx", exc.name
else:
    raise AssertionError("TurnkeyAuth imported without httpx")
print("ok")
"""

_ONLY_HTTPX = """
import httpx
from authsig.turnkey import TurnkeyPrivateKey, verify_stamp
from authsig.turnkey.client import TurnkeyAuth

assert "requests" not in sys.modules
key = TurnkeyPrivateKey.generate()
seen = []
transport = httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200))
with httpx.Client(transport=transport, auth=TurnkeyAuth(key)) as client:
    client.post("https://api.example.com/x", json={"a": 1})
verify_stamp(seen[0].content, seen[0].headers["X-Stamp"])
try:
    from authsig.turnkey.client import TurnkeyRequestsAuth
except ModuleNotFoundError as exc:
    assert exc.name == "requests", exc.name
else:
    raise AssertionError("TurnkeyRequestsAuth imported without requests")
print("ok")
"""


@pytest.mark.parametrize(
    ("blocked", "script"), [("httpx", _ONLY_REQUESTS), ("requests", _ONLY_HTTPX)]
)
def test_the_client_module_imports_with_one_http_library(blocked: str, script: str) -> None:
    run_without(blocked, script)
