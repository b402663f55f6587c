"""The ten-case client script: what a client of any authsig-protected route sees.

:func:`run_ten_cases` sends ten kinds of request to one protected route over a real socket and
asserts the status and reason code of each: the same for the FastAPI, Django and Flask
integrations and for the generic middleware. The route must require a quorum that ``enough``
meets and ``too_few`` does not, and answer an approved POST with JSON holding ``approved``
(the decision) and ``body`` (the body as the application read it).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
import requests

from authsig.keys import PrivateKey
from authsig.privy.client import PrivyAuth, PrivyRequestsAuth
from authsig.privy.signing import sign_request

CASES = (
    "httpx",
    "httpx_async",
    "requests",
    "too_few_signers",
    "foreign_signer",
    "unsigned",
    "replay",
    "reformatted_body",
    "query_string",
    "expired",
)
TIMEOUT = 15.0


@dataclass(frozen=True)
class Signers:
    """How to sign for the route: the app id, keys that meet its quorum, keys that do not,
    and a key that is no member."""

    app_id: str
    enough: tuple[PrivateKey, ...]
    too_few: tuple[PrivateKey, ...]
    outsider: PrivateKey


Response = httpx.Response | requests.Response


def _approved(response: Response, sent: bytes | None = None) -> dict[str, Any]:
    assert response.status_code == 200, (response.status_code, response.text)
    answer: dict[str, Any] = response.json()
    assert answer["approved"] is True
    if sent is not None:  # the application read the bytes the client sent
        assert answer["body"] == sent.decode()
    return answer


def _refused(response: Response, status: int, reason: str) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    doc = response.json()
    assert set(doc) == {"type", "title", "status", "detail", "reason"}
    assert (doc["status"], doc["reason"]) == (status, reason)
    assert doc["type"].endswith(reason)


def _headers(url: str, body: Any, signers: Signers, **options: Any) -> dict[str, str]:
    headers = sign_request(
        method="POST",
        url=url,
        body=body,
        app_id=signers.app_id,
        keys=list(signers.enough),
        **options,
    )
    return {**headers, "content-type": "application/json"}


async def _post_async(url: str, body: Any, auth: PrivyAuth) -> httpx.Response:
    async with httpx.AsyncClient(auth=auth, timeout=TIMEOUT) as client:
        return await client.post(url, json=body)


def run_ten_cases(url: str, signers: Signers) -> tuple[str, ...]:
    """Run the ten cases against the protected route at ``url``; the names of the cases that
    passed, in order (an assertion fails at the first that does not).

    Every body is new (a counter and the time), so that a case is never a replay of an
    earlier run against the same replay store.
    """
    tag = f"{time.time_ns()}"
    app_id, enough = signers.app_id, list(signers.enough)

    def body(case: str) -> dict[str, Any]:
        return {"case": case, "tag": tag, "amount": "1.50", "to": ["0xabc", 2]}

    done: list[str] = []
    with httpx.Client(timeout=TIMEOUT) as client:
        sent = client.post(url, json=body("httpx"), auth=PrivyAuth(app_id, enough))
        _approved(sent, sent.request.content)
        done.append("httpx")

        answer = asyncio.run(_post_async(url, body("httpx_async"), PrivyAuth(app_id, enough)))
        _approved(answer, answer.request.content)
        done.append("httpx_async")

        with requests.Session() as session:
            reply = session.post(
                url,
                json=body("requests"),
                auth=PrivyRequestsAuth(app_id, enough),
                timeout=TIMEOUT,
            )
        assert isinstance(reply.request.body, bytes)
        _approved(reply, reply.request.body)
        done.append("requests")

        few = PrivyAuth(app_id, list(signers.too_few))
        _refused(client.post(url, json=body("few"), auth=few), 403, "threshold_not_met")
        done.append("too_few_signers")

        foreign = PrivyAuth(app_id, [enough[0], signers.outsider])
        _refused(client.post(url, json=body("foreign"), auth=foreign), 401, "invalid_signature")
        done.append("foreign_signer")

        _refused(client.post(url, json=body("unsigned")), 401, "missing_signature")
        done.append("unsigned")

        raw = json.dumps(body("replay")).encode()
        headers = _headers(url, raw, signers)
        _approved(client.post(url, content=raw, headers=headers), raw)
        _refused(client.post(url, content=raw, headers=headers), 409, "replayed")
        done.append("replay")

        # The signature covers the canonical JSON, so whitespace does not matter; the replay
        # store keys on the same canonical form, so the compact twin is the same request.
        value = body("reformatted")
        spaced = json.dumps(value, indent=4, sort_keys=True).encode() + b"\n"
        headers = _headers(url, value, signers)
        _approved(client.post(url, content=spaced, headers=headers), spaced)
        compact = json.dumps(value, separators=(",", ":")).encode()
        _refused(client.post(url, content=compact, headers=headers), 409, "replayed")
        done.append("reformatted_body")

        query_url = url + "?cursor=a%20b&limit=5"
        sent = client.post(query_url, json=body("query"), auth=PrivyAuth(app_id, enough))
        _approved(sent, sent.request.content)
        raw = json.dumps(body("query-changed")).encode()
        headers = _headers(query_url, raw, signers)
        changed = client.post(url + "?cursor=a%20b&limit=500", content=raw, headers=headers)
        _refused(changed, 401, "invalid_signature")
        done.append("query_string")

        raw = json.dumps(body("expired")).encode()
        twenty_minutes_ago = time.time_ns() // 1_000_000 - 20 * 60 * 1000
        headers = _headers(url, raw, signers, now_ms=twenty_minutes_ago)  # expired 5 min ago
        _refused(client.post(url, content=raw, headers=headers), 401, "expired")
        done.append("expired")
    return tuple(done)
