"""Client auth for httpx and requests: what is signed is what is sent.

Every signature is checked independently of the signing code: the payload is rebuilt from the
request as it left the client (method, URL, body bytes, headers) and each signature is
verified against the signer's public key.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from authsig.errors import AuthSigError, SignerError
from authsig.keys import PrivateKey, generate_private_key
from authsig.privy.client import PrivyAuth, PrivyRequestsAuth
from authsig.privy.expiry import current_time_ms
from authsig.privy.headers import parse_signature_header
from authsig.privy.payload import payload_object, signing_payload
from authsig.privy.signing import RequestURLError
from authsig.signatures import decode_signature, sign, verify_signature

APP = "app-123"
URL = "https://api.example.com/v1/wallets/w1/rpc?x=1"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def keys() -> list[PrivateKey]:
    return [generate_private_key() for _ in range(3)]


def _signed_by(
    method: str, url: str, body: bytes, headers: Any, keys: list[PrivateKey]
) -> list[bool]:
    """For each key: does some signature in the header verify over the rebuilt payload?"""
    payload = signing_payload(method=method, url=url, body=body, headers=headers)
    signatures = parse_signature_header(headers["privy-authorization-signature"])
    return [any(verify_signature(payload, s, k.public_key) for s in signatures) for k in keys]


def _capture() -> tuple[list[httpx.Request], httpx.MockTransport]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    return seen, httpx.MockTransport(handler)


# --- httpx --------------------------------------------------------------------------------


def test_httpx_signs_post_with_every_key(keys: list[PrivateKey]) -> None:
    seen, transport = _capture()
    auth = PrivyAuth(app_id=APP, keys=keys[:2])
    with httpx.Client(transport=transport, auth=auth) as client:
        client.post(URL, json={"method": "eth_sign", "params": {"n": 1}})
    (request,) = seen
    assert request.headers["privy-app-id"] == APP
    expiry = int(request.headers["privy-request-expiry"])
    now = current_time_ms()
    assert now + 14 * 60_000 < expiry <= now + 15 * 60_000  # default: 15 minutes
    assert len(parse_signature_header(request.headers["privy-authorization-signature"])) == 2
    assert _signed_by("POST", str(request.url), request.content, request.headers, keys) == [
        True,
        True,
        False,
    ]


def test_httpx_signature_covers_url_and_body(keys: list[PrivateKey]) -> None:
    seen, transport = _capture()
    with httpx.Client(transport=transport, auth=PrivyAuth(APP, keys[0])) as client:
        client.put(URL, content=b'{"a": [1, 2]}', headers={"content-type": "application/json"})
    (request,) = seen
    h = request.headers
    assert _signed_by("PUT", URL, b'{"a":[1,2]}', h, keys[:1]) == [True]  # same JSON value
    assert _signed_by("PUT", URL, b'{"a":[1,3]}', h, keys[:1]) == [False]
    assert _signed_by("PUT", URL.replace("x=1", "x=2"), request.content, h, keys[:1]) == [False]
    assert _signed_by("POST", URL, request.content, h, keys[:1]) == [False]


def test_httpx_empty_body_signs_null(keys: list[PrivateKey]) -> None:
    seen, transport = _capture()
    with httpx.Client(transport=transport, auth=PrivyAuth(APP, keys[0])) as client:
        client.delete(URL)
    (request,) = seen
    assert request.content == b""
    assert (
        payload_object(method="DELETE", url=URL, body=b"", headers=request.headers)["body"] is None
    )
    assert _signed_by("DELETE", URL, b"", request.headers, keys[:1]) == [True]
    assert _signed_by("DELETE", URL, b'""', request.headers, keys[:1]) == [False]


def test_httpx_get_is_not_signed_by_default(keys: list[PrivateKey]) -> None:
    seen, transport = _capture()
    with httpx.Client(transport=transport, auth=PrivyAuth(APP, keys[0])) as client:
        client.get(URL)
    with httpx.Client(
        transport=transport, auth=PrivyAuth(APP, keys[0], sign_all_methods=True)
    ) as client:
        client.get(URL)
    with httpx.Client(transport=transport, auth=PrivyAuth(APP, keys[0], methods=["GET"])) as client:
        client.get(URL)
        client.post(URL, json={})
    assert "privy-authorization-signature" not in seen[0].headers
    assert _signed_by("GET", URL, b"", seen[1].headers, keys[:1]) == [True]
    assert _signed_by("GET", URL, b"", seen[2].headers, keys[:1]) == [True]
    assert "privy-authorization-signature" not in seen[3].headers


def test_httpx_idempotency_keys(keys: list[PrivateKey]) -> None:
    seen, transport = _capture()
    fresh = PrivyAuth(APP, keys[0], idempotency_key=lambda: str(uuid.uuid4()))
    fixed = PrivyAuth(APP, keys[0], idempotency_key="fixed-1")
    with httpx.Client(transport=transport) as client:
        client.post(URL, json={"a": 1}, auth=fresh)
        client.post(URL, json={"a": 1}, auth=fresh)
        client.post(URL, json={"a": 1}, auth=fixed)
        client.post(URL, json={"a": 1}, auth=fixed, headers={"privy-idempotency-key": "mine"})
    keys_sent = [r.headers["privy-idempotency-key"] for r in seen]
    assert keys_sent[0] != keys_sent[1]
    uuid.UUID(keys_sent[0])
    assert keys_sent[2:] == ["fixed-1", "mine"]
    for request in seen:  # the idempotency key is part of what is signed
        assert _signed_by("POST", URL, request.content, request.headers, keys[:1]) == [True]
        other = dict(request.headers)
        other["privy-idempotency-key"] = "changed"
        assert _signed_by("POST", URL, request.content, other, keys[:1]) == [False]


def test_httpx_without_expiry(keys: list[PrivateKey]) -> None:
    seen, transport = _capture()
    with httpx.Client(transport=transport, auth=PrivyAuth(APP, keys[0], expires_in=None)) as c:
        c.post(URL, json={"a": 1})
    assert "privy-request-expiry" not in seen[0].headers
    assert _signed_by("POST", URL, seen[0].content, seen[0].headers, keys[:1]) == [True]


def test_httpx_signer_callables(keys: list[PrivateKey]) -> None:
    calls: list[bytes] = []

    def kms(payload: bytes) -> bytes:  # a remote signer returning DER bytes
        calls.append(payload)
        return decode_signature(sign(payload, keys[1]))

    seen, transport = _capture()
    with httpx.Client(transport=transport, auth=PrivyAuth(APP, [keys[0], kms])) as client:
        client.post(URL, json={"v": "1"})
    (request,) = seen
    assert calls == [
        signing_payload(method="POST", url=URL, body=request.content, headers=request.headers)
    ]
    assert _signed_by("POST", URL, request.content, request.headers, keys) == [True, True, False]


def test_httpx_async_client_with_async_signer(keys: list[PrivateKey]) -> None:
    async def remote(payload: bytes) -> str:
        await asyncio.sleep(0)
        return sign(payload, keys[2])

    seen, transport = _capture()

    async def run() -> None:
        auth = PrivyAuth(APP, [keys[0], remote])
        async with httpx.AsyncClient(transport=transport, auth=auth) as client:
            await client.patch(URL, json={"name": "ü"})

    asyncio.run(run())
    (request,) = seen
    assert _signed_by("PATCH", URL, request.content, request.headers, keys) == [True, False, True]


def test_httpx_sync_client_refuses_async_signer(keys: list[PrivateKey]) -> None:
    async def remote(payload: bytes) -> str:
        return sign(payload, keys[2])

    seen, transport = _capture()
    client = httpx.Client(transport=transport, auth=PrivyAuth(APP, remote))
    with client, pytest.raises(SignerError):
        client.post(URL, json={})
    assert seen == []  # nothing unsigned went out


def test_httpx_non_json_body_is_refused(keys: list[PrivateKey]) -> None:
    seen, transport = _capture()
    client = httpx.Client(transport=transport, auth=PrivyAuth(APP, keys[0]))
    with client, pytest.raises(AuthSigError) as info:
        client.post(URL, content=b"not json")
    assert info.value.code == "invalid_body"
    assert seen == []


def test_auth_repr_hides_keys(keys: list[PrivateKey]) -> None:
    text = repr(PrivyAuth(APP, keys[0])) + repr(PrivyRequestsAuth(APP, keys[0]))
    assert APP in text
    assert keys[0].to_base64() not in text
    assert "PRIVATE" not in text


def test_app_id_required(keys: list[PrivateKey]) -> None:
    with pytest.raises(ValueError):
        PrivyAuth("", keys[0])
    with pytest.raises(TypeError):
        PrivyRequestsAuth(5, keys[0])  # type: ignore[arg-type]


# --- requests -----------------------------------------------------------------------------


def test_requests_signs_json_body(keys: list[PrivateKey]) -> None:
    auth = PrivyRequestsAuth(APP, keys[:3], idempotency_key="idem-7")
    prepared = requests.Request("POST", URL, json={"b": [1, {"c": None}]}, auth=auth).prepare()
    body = prepared.body
    assert isinstance(body, bytes)
    assert prepared.headers["privy-idempotency-key"] == "idem-7"
    assert _signed_by("POST", prepared.url or "", body, prepared.headers, keys) == [True] * 3
    assert _signed_by("POST", URL, b'{"b":[1,{"c":0}]}', prepared.headers, keys) == [False] * 3


def test_requests_get_unsigned_and_str_body_sent_as_signed(keys: list[PrivateKey]) -> None:
    auth = PrivyRequestsAuth(APP, keys[0])
    prepared = requests.Request("GET", URL, auth=auth).prepare()
    assert "privy-authorization-signature" not in prepared.headers
    text = json.dumps({"name": "Zoë"}, ensure_ascii=False)
    prepared = requests.Request("POST", URL, data=text, auth=auth).prepare()
    assert prepared.body == text.encode("utf-8")
    assert prepared.headers["Content-Length"] == str(len(text.encode("utf-8")))
    assert _signed_by("POST", URL, text.encode("utf-8"), prepared.headers, keys[:1]) == [True]


def test_requests_empty_body_and_stream(keys: list[PrivateKey]) -> None:
    auth = PrivyRequestsAuth(APP, keys[0])
    prepared = requests.Request("DELETE", URL, auth=auth).prepare()
    assert _signed_by("DELETE", URL, b"", prepared.headers, keys[:1]) == [True]
    with pytest.raises(AuthSigError):
        requests.Request("POST", URL, data=iter([b"{}"]), auth=auth).prepare()


# --- the app secret, the URL check ----------------------------------------------------------


def _basic(app_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{app_id}:{secret}".encode()).decode("ascii")


def test_app_secret_is_sent_as_basic_auth_on_every_request(keys: list[PrivateKey]) -> None:
    secret = "privy-app-secret-xyz"
    seen, transport = _capture()
    auth = PrivyAuth(APP, keys[0], app_secret=secret)
    with httpx.Client(transport=transport, auth=auth) as client:
        client.post(URL, json={"a": 1})
        client.get(URL)  # not signed, but the API wants the app secret on every call
    assert [r.headers["authorization"] for r in seen] == [_basic(APP, secret)] * 2
    assert _signed_by("POST", URL, seen[0].content, seen[0].headers, keys[:1]) == [True]
    r_auth = PrivyRequestsAuth(APP, keys[0], app_secret=secret)
    for method in ("POST", "GET"):
        prepared = requests.Request(method, URL, json={"a": 1}, auth=r_auth).prepare()
        assert prepared.headers["Authorization"] == _basic(APP, secret)
    assert secret not in repr(auth) + repr(r_auth)
    assert "app_secret=<set>" in repr(auth)
    with pytest.raises(TypeError):
        PrivyAuth(APP, keys[0], app_secret="")


def test_auth_classes_check_the_url(keys: list[PrivateKey]) -> None:
    seen, transport = _capture()
    with httpx.Client(transport=transport, auth=PrivyAuth(APP, keys[0])) as client:
        with pytest.raises(RequestURLError) as info:
            client.post("https://api.example.com/v1/wallets/", json={})
        assert info.value.problem == "trailing_slash"
    assert seen == []
    with pytest.raises(RequestURLError):
        requests.Request(
            "POST",
            "https://api.example.com/v1/wallets/",
            json={},
            auth=PrivyRequestsAuth(APP, keys[0]),
        ).prepare()
    loose = PrivyAuth(APP, keys[0], check_url=False)
    with httpx.Client(transport=transport, auth=loose) as client:
        client.post("https://api.example.com/v1/wallets/", json={})
    url = "https://api.example.com/v1/wallets/"
    assert _signed_by("POST", url, seen[0].content, seen[0].headers, keys[:1]) == [True]
    with pytest.raises(ValueError):
        PrivyRequestsAuth(APP, keys[0], on_cross_origin_redirect="resign")  # type: ignore[arg-type]


# --- one HTTP library is enough ---------------------------------------------------------------

_BLOCKER = """
import sys

class Block:
    def find_spec(self, name, path=None, target=None):
        if name == BLOCKED or name.startswith(BLOCKED + "."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Block())
"""

_ONLY_REQUESTS = """
import authsig.privy.client as client
import requests
from authsig.keys import generate_private_key
from authsig.privy.payload import signing_payload
from authsig.signatures import verify_signature

assert "httpx" not in sys.modules
key = generate_private_key()
url = "https://api.example.com/v1/x"
auth = client.PrivyRequestsAuth("app", key)
prepared = requests.Request("POST", url, json={"a": 1}, auth=auth).prepare()
payload = signing_payload(method="POST", url=url, body=prepared.body, headers=prepared.headers)
assert verify_signature(payload, prepared.headers["privy-authorization-signature"], key.public_key)
try:
    from authsig.privy.client import PrivyAuth
except ModuleNotFoundError as exc:
    assert exc.name == "httpx", exc.name
else:
    raise AssertionError("PrivyAuth imported without httpx")
print("ok")
"""

_ONLY_HTTPX = """
import authsig.privy.client as client
import httpx
from authsig.keys import generate_private_key
from authsig.privy.payload import signing_payload
from authsig.signatures import verify_signature

assert "requests" not in sys.modules
key = generate_private_key()
url = "https://api.example.com/v1/x"
seen = []
transport = httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200))
with httpx.Client(transport=transport, auth=client.PrivyAuth("app", key)) as c:
    c.post(url, json={"a": 1})
payload = signing_payload(method="POST", url=url, body=seen[0].content, headers=seen[0].headers)
assert verify_signature(payload, seen[0].headers["privy-authorization-signature"], key.public_key)
try:
    from authsig.privy.client import PrivyRequestsAuth
except ModuleNotFoundError as exc:
    assert exc.name == "requests", exc.name
else:
    raise AssertionError("PrivyRequestsAuth imported without requests")
print("ok")
"""


@pytest.mark.parametrize(
    ("blocked", "script"), [("httpx", _ONLY_REQUESTS), ("requests", _ONLY_HTTPX)]
)
def test_the_client_module_imports_with_one_http_library(blocked: str, script: str) -> None:
    run_without(blocked, script)


def run_without(blocked: str, script: str) -> None:
    """Run ``script`` in a fresh interpreter in which ``blocked`` cannot be imported; it must
    print ``ok``."""
    code = f"BLOCKED = {blocked!r}\n{_BLOCKER}\n{script}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


# --- dialects ------------------------------------------------------------------------------


def test_the_auth_classes_sign_in_a_dialect() -> None:
    from authsig.policy import Policy
    from authsig.privy.quorum import KeyQuorum
    from authsig.privy.verifier import verify_request

    key = generate_private_key()
    url = "https://api.example.com/v1/wallets"
    auth = PrivyRequestsAuth("app", key, dialect="privy-server-auth", expires_in=None)
    prepared = requests.Request("POST", url, data=b"{}", auth=auth).prepare()
    assert "privy-request-expiry" not in prepared.headers
    quorum = KeyQuorum(public_keys=[key.public_key], authorization_threshold=1)

    def decide(policy: Policy | None) -> str:
        decision = verify_request(
            method="POST",
            url=url,
            body=prepared.body,
            headers=prepared.headers,
            quorum=quorum,
            policy=policy,
        )
        return "approved" if decision.approved else decision.reason

    # server-auth signs the {} body as it is: its dialect approves, the strict rules do not.
    assert decide(Policy(dialect="privy-server-auth", require_expiry=False)) == "approved"
    assert decide(Policy(require_expiry=False)) != "approved"


@pytest.mark.parametrize("cls", [PrivyAuth, PrivyRequestsAuth])
def test_a_dialect_that_never_signs_the_expiry_needs_expires_in_none(cls: Any) -> None:
    key = generate_private_key()
    with pytest.raises(ValueError, match="expires_in=None"):
        cls("app", key, dialect="privy-server-auth")
    with pytest.raises(ValueError):
        cls("app", key, dialect="no-such-sdk")
