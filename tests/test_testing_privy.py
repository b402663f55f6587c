"""authsig.testing.PrivyStandIn: the key-quorum endpoint's answers, Privy-shaped errors, and its
ASGI face (driven through httpx's ASGI transport; the server walk is test_lifecycle_rotation)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from authsig.http.request import URLSettings
from authsig.keys import generate_private_key
from authsig.privy.lifecycle import delete_request, sign_change, update_request
from authsig.privy.quorum import KeyQuorum
from authsig.testing import PrivyStandIn, Response

KEYS = [generate_private_key() for _ in range(4)]
B64 = [k.public_key.to_base64() for k in KEYS]
BASE = "http://stand-in.test"


def _call(app: PrivyStandIn, method: str, path: str, body: Any = None, **headers: str) -> Response:
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "scheme": "http",
        "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
        + [(b"host", b"stand-in.test")],
    }
    data = b"" if body is None else json.dumps(body).encode()
    return app.handle(URLSettings().from_asgi(scope), data)


def _signed(app: PrivyStandIn, request: Any, *keys: Any) -> Response:
    headers = sign_change(request, app_id="app", keys=list(keys))
    path = request.url.removeprefix(BASE)
    return _call(app, request.method, path, request.body, **headers)


def _created(app: PrivyStandIn, body: Any) -> KeyQuorum:
    answer = _call(app, "POST", "/v1/key_quorums", body, privy_app_id="app")
    assert answer.status == 200, answer.body
    return KeyQuorum.from_privy(answer.body, quorums=app.quorums)


def test_create_get_update_delete() -> None:
    app = PrivyStandIn(app_id="app")
    quorum = _created(app, {"public_keys": B64[:3], "authorization_threshold": 2})
    assert quorum.id is not None
    assert len(quorum.id) == 24
    got = _call(app, "GET", f"/v1/key_quorums/{quorum.id}", privy_app_id="app")
    assert got.body == quorum.to_privy()
    update = update_request(quorum, {"authorization_threshold": 3}, base_url=BASE)
    assert _signed(app, update, KEYS[0], KEYS[1]).status == 200
    assert app.quorums[quorum.id].threshold == 3
    gone = delete_request(app.quorums[quorum.id], base_url=BASE)
    assert _signed(app, gone, KEYS[0], KEYS[1]).status == 401  # now 3 of 3 are needed
    assert _signed(app, gone, *KEYS[:3]).body == {"id": quorum.id, "deleted": True}
    assert quorum.id not in app.quorums


def test_errors_are_privy_shaped() -> None:
    app = PrivyStandIn(app_id="app")
    missing = _call(app, "GET", "/v1/key_quorums/nope", privy_app_id="app")
    assert (missing.status, missing.body["code"]) == (404, "not_found")
    no_app = _call(app, "GET", "/v1/key_quorums/nope")
    assert (no_app.status, no_app.body["code"]) == (401, "invalid_app_id")
    bad = _call(
        app, "POST", "/v1/key_quorums", {"public_keys": [B64[0], B64[0]]}, privy_app_id="app"
    )
    assert bad.status == 400
    assert bad.body["code"] == "quorum_key_duplicate"
    assert bad.body["error"].startswith("/public_keys/1:")
    quorum = _created(app, {"public_keys": B64[:2], "authorization_threshold": 1})
    unsigned = _call(app, "PATCH", f"/v1/key_quorums/{quorum.id}", {"display_name": "x"},
                     privy_app_id="app")  # fmt: skip
    assert (unsigned.status, unsigned.body["code"]) == (
        401,
        "missing_or_empty_authorization_header",
    )
    # A signed update whose body breaks a rule is refused after the signature check.
    wrong = update_request(quorum, {"display_name": "x"}, base_url=BASE)
    too_high = type(wrong)(wrong.method, wrong.url, {"authorization_threshold": 5}, quorum)
    refused = _signed(app, too_high, KEYS[0])
    assert (refused.status, refused.body["code"]) == (400, "quorum_threshold_out_of_range")


def test_a_nested_quorum_is_checked_and_cannot_be_deleted_while_in_use() -> None:
    app = PrivyStandIn(app_id="app")
    inner = _created(app, {"public_keys": B64[2:4], "authorization_threshold": 2})
    outer = _created(
        app, {"public_keys": B64[:2], "key_quorum_ids": [inner.id], "authorization_threshold": 2}
    )
    deeper = _call(app, "POST", "/v1/key_quorums", {"key_quorum_ids": [outer.id]},
                   privy_app_id="app")  # fmt: skip
    assert deeper.body["code"] == "quorum_nesting_too_deep"
    in_use = _signed(app, delete_request(inner, base_url=BASE), KEYS[2], KEYS[3])
    assert (in_use.status, in_use.body["code"]) == (400, "quorum_in_use")
    # The nested quorum's members sign into the same header as the outer quorum's.
    update = update_request(outer, {"display_name": "outer"}, base_url=BASE)
    assert _signed(app, update, KEYS[0], KEYS[2], KEYS[3]).status == 200


def test_the_asgi_app_answers_over_http() -> None:
    app = PrivyStandIn(app_id="app")

    async def scenario() -> tuple[int, Any, int]:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            made = await client.post(
                "/v1/key_quorums", json={"public_keys": B64[:1]}, headers={"privy-app-id": "app"}
            )
            other = await client.get("/v2/nothing", headers={"privy-app-id": "app"})
            return made.status_code, made.json(), other.status_code

    status, body, other = asyncio.run(scenario())
    assert status == 200
    assert body["authorization_keys"] == [{"public_key": B64[0], "display_name": None}]
    assert other == 404


def test_quorums_can_be_seeded() -> None:
    app = PrivyStandIn()
    qid = app.add_quorum(KeyQuorum(public_keys=tuple(k.public_key for k in KEYS[:2])))
    assert app.quorums[qid].id == qid
    assert app.add_quorum(KeyQuorum(public_keys=(KEYS[3].public_key,), id="fixed")) == "fixed"
    got = _call(app, "GET", f"/v1/key_quorums/{qid}")  # no app id configured: none required
    assert got.body["authorization_threshold"] is None
    assert len(got.body["authorization_keys"]) == 2
