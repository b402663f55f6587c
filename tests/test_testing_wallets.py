"""authsig.testing.PrivyStandIn's wallets: created under a stored quorum, and an RPC endpoint
that answers only when the owner quorum approves, with expiry and replay enforced. The first
test runs through the pytest fixture (a real server on 127.0.0.1); the others call handle()."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from authsig.http.request import URLSettings
from authsig.keys import generate_private_key
from authsig.privy.expiry import DEFAULT_EXPIRES_IN
from authsig.privy.quorum import KeyQuorum
from authsig.privy.signing import sign_request
from authsig.testing import PrivyStandIn, Response
from authsig.testing.privy_wallets import FAKE_SIGNATURE_MARKER

if TYPE_CHECKING:  # imported by pytest_plugins below; importing it first stops its rewrite
    from authsig.testing.pytest_plugin import RunningStandIn

pytest_plugins = ["authsig.testing.pytest_plugin"]

KEYS = [generate_private_key() for _ in range(3)]
HOST = "stand-in.test"
SIGN = {"method": "personal_sign", "params": {"message": "hello", "encoding": "utf-8"}}


def _post(
    app: PrivyStandIn, path: str, body: Any, headers: dict[str, str], method: str = "POST"
) -> Response:
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "scheme": "http",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()]
        + [(b"host", HOST.encode())],
    }
    data = b"" if body is None else json.dumps(body).encode()
    return app.handle(URLSettings().from_asgi(scope), data)


def _rpc(app: PrivyStandIn, wid: str, keys: list[Any], **sign: Any) -> Response:
    path = f"/v1/wallets/{wid}/rpc"
    headers = sign_request(method="POST", url=f"http://{HOST}{path}", body=SIGN, app_id="app",
                           keys=keys, check_url=False, **sign)  # fmt: skip
    return _post(app, path, SIGN, headers)


def _wallet_app(threshold: int = 2) -> tuple[PrivyStandIn, str, str]:
    app = PrivyStandIn(app_id="app")
    qid = app.add_quorum(
        KeyQuorum(public_keys=[k.public_key for k in KEYS], authorization_threshold=threshold)
    )
    return app, qid, app.add_wallet(qid)


def test_a_wallet_rpc_over_the_fixture_server(privy_stand_in: RunningStandIn) -> None:
    qid = privy_stand_in.add_quorum([k.public_key for k in KEYS[:2]], threshold=2)
    created = httpx.post(f"{privy_stand_in.url}/v1/wallets",
                         json={"chain_type": "ethereum", "owner_id": qid},
                         headers={"privy-app-id": privy_stand_in.app_id})  # fmt: skip
    assert created.status_code == 200, created.text
    wallet = created.json()
    assert (wallet["owner_id"], wallet["address"][:2]) == (qid, "0x")
    url = f"{privy_stand_in.url}/v1/wallets/{wallet['id']}/rpc"
    headers = sign_request(method="POST", url=url, body=SIGN, app_id=privy_stand_in.app_id,
                           keys=KEYS[:2], check_url=False)  # fmt: skip
    answer = httpx.post(url, content=json.dumps(SIGN).encode(), headers=headers)
    assert answer.status_code == 200, answer.text
    signature = bytes.fromhex(answer.json()["data"]["signature"][2:])
    assert signature.startswith(FAKE_SIGNATURE_MARKER)
    assert len(signature) == 65


def test_the_owner_quorum_must_approve() -> None:
    app, _, wid = _wallet_app()
    refused = _rpc(app, wid, KEYS[:1])
    code = "insufficient_correct_authorization_signatures"
    assert (refused.status, refused.body["code"]) == (401, code)
    stranger = _rpc(app, wid, [generate_private_key()])
    assert stranger.status == 401
    unsigned = _post(app, f"/v1/wallets/{wid}/rpc", SIGN, {"privy-app-id": "app"})
    assert unsigned.body["code"] == "missing_or_empty_authorization_header"
    assert _rpc(app, wid, KEYS[1:]).status == 200


def test_the_owner_quorum_as_it_is_now_decides() -> None:
    app, qid, wid = _wallet_app()
    app.quorums[qid] = KeyQuorum.from_privy(
        {**app.quorums[qid].to_privy(), "authorization_threshold": 3}, quorums=app.quorums
    )
    assert _rpc(app, wid, KEYS[:2]).status == 401
    assert _rpc(app, wid, KEYS).status == 200


def test_expiry_and_replay_are_enforced() -> None:
    app, _, wid = _wallet_app()
    expired = _rpc(app, wid, KEYS[:2], now_ms=1_000_000, expires_in=timedelta(minutes=1))
    assert (expired.status, expired.body["code"]) == (401, "request_expired")
    path = f"/v1/wallets/{wid}/rpc"
    headers = sign_request(method="POST", url=f"http://{HOST}{path}", body=SIGN, app_id="app",
                           keys=KEYS[:2], check_url=False)  # fmt: skip
    first = _post(app, path, SIGN, headers)
    assert first.status == 200
    again = _post(app, path, SIGN, headers)
    assert (again.status, again.body["code"]) == (409, "replayed")
    # The same RPC signed again answers the same fake signature (deterministic). Its expiry is
    # a millisecond later: signed within the millisecond of the first, with the same expiry, it
    # would be the same request, and rightly a replay (409).
    later = DEFAULT_EXPIRES_IN + timedelta(milliseconds=1)
    assert _rpc(app, wid, KEYS[:2], expires_in=later).body == first.body


def test_wallet_errors() -> None:
    app, _, wid = _wallet_app(threshold=1)
    other = _post(app, "/v1/wallets", {"owner_id": "nope"}, {"privy-app-id": "app"})
    assert (other.status, other.body["code"]) == (404, "not_found")
    no_owner = _post(app, "/v1/wallets", {"chain_type": "ethereum"}, {"privy-app-id": "app"})
    assert (no_owner.status, no_owner.body["code"]) == (400, "invalid_body")
    path = f"/v1/wallets/{wid}/rpc"
    send = {"method": "eth_sendTransaction", "params": {}}
    headers = sign_request(method="POST", url=f"http://{HOST}{path}", body=send, app_id="app",
                           keys=KEYS[:1], check_url=False)  # fmt: skip
    assert _post(app, path, send, headers).body["code"] == "unsupported_method"
    with pytest.raises(ValueError, match="no key quorum"):
        app.add_wallet("nope")


def test_a_quorum_owning_a_wallet_cannot_be_deleted() -> None:
    app, qid, _ = _wallet_app(threshold=1)
    scope_path = f"/v1/key_quorums/{qid}"
    headers = sign_request(method="DELETE", url=f"http://{HOST}{scope_path}", body=None,
                           app_id="app", keys=KEYS[:1], check_url=False)  # fmt: skip
    answer = _post(app, scope_path, None, headers, method="DELETE")
    assert (answer.status, answer.body["code"]) == (400, "quorum_in_use")
    assert qid in app.quorums


def test_the_readme_fixture_example_passes(privy_stand_in: RunningStandIn) -> None:
    # README's fixture block is a fragment (a test function); run it with the real fixture.
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Testing against a Privy stand-in", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    namespace["test_my_signing_meets_the_quorum"](privy_stand_in)
    [quorum] = privy_stand_in.app.quorums.values()
    assert quorum.display_name == "treasury"
