"""RFC 9421 through the shared Gate over real sockets: uvicorn (ASGI) and waitress (WSGI).

A signed request is approved; the same request again (same nonce) is refused as a replay; a
body that does not match its Content-Digest is refused; a 2-of-3 quorum of labelled signatures
passes with two signers and not with one; the httpx and requests auth classes sign for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ed25519
from servers import uvicorn_thread, waitress_thread

from authsig.httpsig import Quorum, sign_request
from authsig.httpsig.client import HttpSigAuth, HttpSigRequestsAuth
from authsig.httpsig.middleware import HttpSigASGIMiddleware, HttpSigWSGIMiddleware
from authsig.httpsig.signing import sign_all
from authsig.keys import generate_private_key
from authsig.replay import MemoryReplayStore

ALICE = generate_private_key()
BOB = ed25519.Ed25519PrivateKey.generate()
CAROL = generate_private_key()
KEYS = {"alice": ALICE.public_key, "bob": BOB.public_key(), "carol": CAROL.public_key}
QUORUM = Quorum.of(2, ["alice", "bob", "carol"], name="treasury")


async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    decision = scope.get("state", {}).get("authsig")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": _answer(body, decision)})


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    start_response("200 OK", [("Content-Type", "application/json")])
    return [_answer(body, environ.get("authsig.decision"))]


def _answer(body: bytes, decision: Any) -> bytes:
    keyids = sorted(decision.keyids) if decision is not None else None
    return json.dumps({"body": body.decode(), "keyids": keyids}).encode()


@pytest.fixture(params=["asgi-uvicorn", "wsgi-waitress"])
def base(request: pytest.FixtureRequest) -> Iterator[str]:
    options: dict[str, Any] = {
        "keys": KEYS,
        "quorum": lambda info: None if info.path.startswith("/public") else QUORUM,
        "replay_store": MemoryReplayStore(),
        "trust_host_header": True,
    }
    if request.param == "asgi-uvicorn":
        with uvicorn_thread(HttpSigASGIMiddleware(asgi_app, **options)) as url:
            yield url
    else:
        with waitress_thread(HttpSigWSGIMiddleware(wsgi_app, **options)) as url:
            yield url


BODY = b'{"amount":"12.50","to":"0xabc"}'


def _signed(url: str, signers: list[tuple[str, Any]], body: bytes = BODY) -> dict[str, str]:
    return sign_all("POST", url, [("Content-Type", "application/json")], body, signers)


def test_two_of_three_labelled_signatures_pass_and_a_replay_is_refused(base: str) -> None:
    url = base + "/pay?x=1"
    headers = _signed(url, [("alice", ALICE), ("bob", BOB)])
    assert "sig1=" in headers["Signature"]
    assert "sig2=" in headers["Signature"]
    first = httpx.post(url, content=BODY, headers=headers, timeout=10)
    assert first.status_code == 200, first.text
    assert first.json() == {"body": BODY.decode(), "keyids": ["alice", "bob"]}
    again = httpx.post(url, content=BODY, headers=headers, timeout=10)
    assert (again.status_code, again.json()["reason"]) == (409, "replayed")


def test_one_signature_of_a_two_of_three_quorum_is_refused(base: str) -> None:
    url = base + "/pay"
    headers = _signed(url, [("carol", CAROL)])
    response = httpx.post(url, content=BODY, headers=headers, timeout=10)
    assert (response.status_code, response.json()["reason"]) == (403, "threshold_not_met")


def test_two_signatures_by_one_key_count_once(base: str) -> None:
    url = base + "/pay"
    headers = _signed(url, [("alice", ALICE), ("alice", ALICE)])
    response = httpx.post(url, content=BODY, headers=headers, timeout=10)
    assert (response.status_code, response.json()["reason"]) == (403, "threshold_not_met")


def test_a_tampered_body_is_refused_by_its_content_digest(base: str) -> None:
    url = base + "/pay"
    headers = _signed(url, [("alice", ALICE), ("bob", BOB)])
    tampered = BODY.replace(b"12.50", b"99.50")
    response = httpx.post(url, content=tampered, headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["reason"] == "httpsig_digest_mismatch"


def test_an_unsigned_request_is_refused_and_a_public_path_passes(base: str) -> None:
    response = httpx.post(base + "/pay", content=BODY, timeout=10)
    assert (response.status_code, response.json()["reason"]) == (401, "missing_signature")
    public = httpx.post(base + "/public/x", content=b"hi", timeout=10)
    assert public.json() == {"body": "hi", "keyids": None}


def test_a_signature_without_nonce_is_refused_with_a_replay_store(base: str) -> None:
    url = base + "/pay"
    headers = sign_request("POST", url, [], BODY, key=ALICE, keyid="alice", nonce=None)
    response = httpx.post(url, content=BODY, headers=headers, timeout=10)
    assert (response.status_code, response.json()["reason"]) == (401, "httpsig_nonce_required")


def test_the_auth_classes_sign_for_the_middleware(base: str) -> None:
    auth = HttpSigAuth([("alice", ALICE), ("carol", CAROL)])
    with httpx.Client(auth=auth, timeout=10) as client:
        response = client.post(base + "/pay", content=BODY)
    assert response.status_code == 200, response.text
    assert response.json()["keyids"] == ["alice", "carol"]
    r_auth = HttpSigRequestsAuth([("bob", BOB), ("carol", CAROL)])
    answer = requests.post(base + "/pay", data=BODY, auth=r_auth, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["keyids"] == ["bob", "carol"]
