"""Interop with the official cobo-waas2 Python SDK, installed in its own venv.

The SDK runs in a subprocess (tests/interop/cobo/sdk_helper.py); its own code signs, verifies,
generates keys and - through ApiClient.call_api - sends real HTTP requests to a uvicorn server
whose handler verifies them with authsig.cobo.verify_request.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _cobo_servers import uvicorn_server
from _envs import EnvUnavailable, python_env, run_json
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from authsig.cobo import (
    COBO_EVENT_PUBLIC_KEYS,
    encode_query,
    load_api_key,
    load_api_secret,
    request_digest,
    sign_event,
    sign_request,
    verify_request,
)
from authsig.cobo.keys import SECP256K1_ORDER

pytestmark = pytest.mark.interop

SDK = "cobo-waas2==1.46.0"
HELPER = Path(__file__).parent / "interop" / "cobo" / "sdk_helper.py"
NOW = 1_795_519_976_869
# Fixed test keys (never used anywhere else).
ED_SECRET = "4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d"
K1_SECRET = "e331b6d69882b4cb4ea581d88e0b604039a3de5967688d3dcffdd2270c0fd109"

QUERIES: list[list[list[str]] | None] = [
    None,
    [["wallet_type", "Custodial"], ["limit", "10"]],
    [["cursor", "a b c"], ["chain_ids", "ETH,BTC,SOL"], ["path", "/v2/x/y"]],
    [["memo", "héllo wörld"], ["emoji", "🚀"], ["q", "a+b=c&d"]],
]
BODIES: list[str | None] = [
    None,
    "",
    "{}",
    '{"request_id":"r-1","amount":"1.5"}',
    '{"memo":"héllo 世界 🚀","note":"naïve"}',
    json.dumps({"memo": "héllo 世界"}),  # ASCII with \\u escapes, as the SDK's json.dumps sends
]


def _sdk_python() -> Path:
    try:
        return python_env("cobo", [SDK])
    except EnvUnavailable as exc:
        pytest.skip(f"cobo-waas2 SDK environment unavailable: {exc}")


def _sdk(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    result = run_json([str(_sdk_python()), str(HELPER)], {"ops": ops})
    assert isinstance(result, dict)
    results = result["results"]
    assert isinstance(results, list)
    return results


def _sign_cases(curve: str, secret: str) -> list[dict[str, Any]]:
    cases = []
    for i, (query, body) in enumerate((q, b) for q in QUERIES for b in BODIES):
        method = ["GET", "post", "PUT", "DELETE"][i % 4]
        cases.append(
            {
                "op": "sign",
                "curve": curve,
                "secret": secret,
                "method": method,
                "path": "/v2/wallets/mpc/vaults/f47ac10b/key_share_holder_groups",
                "timestamp": NOW + i,
                "params": query,
                "body": body,
            }
        )
    return cases


@pytest.fixture(scope="module")
def ed25519_cases() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    cases = _sign_cases("ED25519", ED_SECRET)
    return list(zip(cases, _sdk(cases), strict=True))


def test_builtin_event_keys_are_the_sdk_keys() -> None:
    (keys,) = _sdk([{"op": "resp_pubkeys"}])
    assert keys == COBO_EVENT_PUBLIC_KEYS


@pytest.mark.parametrize("curve", ["ED25519", "SECP256K1"])
def test_sdk_generated_keys_load(curve: str) -> None:
    pairs = _sdk([{"op": "keypair", "curve": curve}, {"op": "keypair", "curve": curve}])
    for pair in pairs:
        key = load_api_secret(pair["secret"], curve=curve)  # type: ignore[arg-type]
        assert key.api_key == pair["api_key"]
        assert load_api_key(pair["api_key"]).curve == curve


def test_ed25519_signatures_identical_to_sdk(
    ed25519_cases: list[tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    assert len(ed25519_cases) == len(QUERIES) * len(BODIES)
    for case, sdk in ed25519_cases:
        pairs = [tuple(p) for p in case["params"] or []]
        # The SDK's own query string (what it sends) and ours from the same pairs agree.
        assert encode_query(pairs) == sdk["query"]
        ours = sign_request(
            ED_SECRET,
            method=case["method"],
            path=case["path"],
            query=sdk["query"],
            body=case["body"],
            nonce_ms=case["timestamp"],
        )
        assert ours == {
            "Biz-Api-Key": sdk["api_key"],
            "Biz-Api-Nonce": str(case["timestamp"]),
            "Biz-Api-Signature": sdk["signature"],
        }, case
        digest = request_digest(
            method=case["method"],
            path=case["path"],
            nonce=case["timestamp"],
            query=pairs,
            body=case["body"],
        )
        assert digest.hex() == sdk["digest"]


def test_sdk_signatures_verify_with_us(
    ed25519_cases: list[tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    for case, sdk in ed25519_cases:
        headers = {
            "biz-api-key": sdk["api_key"],
            "biz-api-nonce": str(case["timestamp"]),
            "biz-api-signature": sdk["signature"],
        }
        body = (case["body"] or "").encode("utf-8")
        common: dict[str, Any] = {
            "method": case["method"],
            "path": case["path"],
            "api_keys": [sdk["api_key"]],
            "now_ms": NOW,
        }
        decision = verify_request(headers, query=sdk["query"], body=body, **common)
        assert decision.approved, (case, decision)
        # One changed byte anywhere in what travels makes it fail.
        tampered = verify_request(headers, query=sdk["query"] + "&x=1", body=body, **common)
        assert tampered.reason == "invalid_signature"
        moved = verify_request(
            headers, query=sdk["query"], body=body, **{**common, "path": case["path"] + "/"}
        )
        assert moved.reason == "invalid_signature"


def test_secp256k1_signatures_interoperate() -> None:
    key = load_api_secret(K1_SECRET, curve="SECP256K1")
    cases = _sign_cases("SECP256K1", K1_SECRET)[::5]
    sdk_results = _sdk(cases)
    verify_ops = []
    for case, sdk in zip(cases, sdk_results, strict=True):
        assert sdk["api_key"] == key.api_key
        # The SDK's (randomized, low-S DER) signature verifies with us.
        headers = {
            "Biz-Api-Key": sdk["api_key"],
            "Biz-Api-Nonce": str(case["timestamp"]),
            "Biz-Api-Signature": sdk["signature"],
        }
        body = case["body"]
        decision = verify_request(
            headers,
            method=case["method"],
            path=case["path"],
            query=sdk["query"],
            body=body,
            api_keys=[sdk["api_key"]],
            now_ms=NOW,
        )
        assert decision.approved, decision
        ours = sign_request(
            key,
            method=case["method"],
            path=case["path"],
            query=sdk["query"],
            body=body,
            nonce_ms=case["timestamp"],
        )
        _, s = decode_dss_signature(bytes.fromhex(ours["Biz-Api-Signature"]))
        assert s <= SECP256K1_ORDER // 2
        verify_ops.append(
            {
                "op": "verify_secp256k1",
                "secret": K1_SECRET,
                "signature": ours["Biz-Api-Signature"],
                "digest": sdk["digest"],
            }
        )
    verify_ops.append({**verify_ops[0], "digest": "00" * 32})
    verdicts = [r["valid"] for r in _sdk(verify_ops)]
    assert verdicts == [True] * (len(verify_ops) - 1) + [False]


def test_sdk_accepts_our_signed_events() -> None:
    bodies = [
        "",
        "{}",
        '{"event_id":"e-1","type":"wallets.transaction.succeeded","data":{"amount":"1.5"}}',
        '{"memo":"héllo 世界 🚀"}',
    ]
    ops = []
    expected = []
    public = load_api_secret(ED_SECRET).api_key
    for i, body in enumerate(bodies):
        headers = sign_event(body.encode("utf-8"), ED_SECRET, timestamp_ms=NOW + i)
        ts, sig = headers["Biz-Timestamp"], headers["Biz-Resp-Signature"]
        ops.append(
            {
                "op": "verify_ed25519",
                "public_key": public,
                "signature": sig,
                "content": f"{body}|{ts}",
            }
        )
        expected.append(True)
        ops.append(
            {
                "op": "verify_ed25519",
                "public_key": public,
                "signature": sig,
                "content": f"{body} |{ts}",
            }
        )
        expected.append(False)
    assert [r["valid"] for r in _sdk(ops)] == expected


# --- the SDK's real HTTP requests against our verifier ------------------------------------


def _verifying_app(api_keys: list[str], state: dict[str, Any]) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        path = scope.get("raw_path") or scope["path"].encode()
        decision = verify_request(
            headers,
            method=scope["method"],
            path=path.decode("latin-1"),
            query=scope["query_string"].decode("latin-1"),
            body=body,
            api_keys=api_keys,
            accept_sdk_empty_object=state["accept_sdk_empty_object"],
        )
        payload = json.dumps(
            {
                "decision": decision.to_dict(),
                "query": scope["query_string"].decode("latin-1"),
                "body": body.decode("utf-8"),
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    return app


@pytest.mark.parametrize(("curve", "secret"), [("ED25519", ED_SECRET), ("SECP256K1", K1_SECRET)])
def test_sdk_http_requests_verify(curve: str, secret: str) -> None:
    api_key = load_api_secret(secret, curve=curve).api_key  # type: ignore[arg-type]
    state = {"accept_sdk_empty_object": True}
    calls: list[dict[str, Any]] = [
        {"method": "GET", "url": "/v2/wallets?wallet_type=Custodial&limit=10"},
        {"method": "GET", "url": "/v2/wallets?cursor=a%20b&chain_ids=ETH%2CBTC&path=%2Fv2%2Fx"},
        {"method": "POST", "url": "/v2/transactions/transfer", "body": {"memo": "héllo 世界 🚀"}},
        {
            "method": "PUT",
            "url": "/v2/wallets/mpc/vaults/v1/key_share_holder_groups/g1",
            "body": {"update_key_share_holder_group_action": "UpgradeToMainGroup"},
        },
        {"method": "DELETE", "url": "/v2/wallets/w1"},
        {"method": "POST", "url": "/v2/wallets/w1/refresh", "body": {}},
    ]
    with uvicorn_server(_verifying_app([api_key], state)) as base:
        ops = [
            {"op": "call_api", "host": base, "secret": secret, "curve": curve, **c} for c in calls
        ]
        results = _sdk(ops)
        for call, result in zip(calls, results, strict=True):
            assert result["status"] == 200
            assert result["data"]["decision"]["approved"], (call, result)
        # Spaces travel as '+', commas and slashes percent-encoded, non-ASCII as \\u escapes.
        assert results[1]["data"]["query"] == "cursor=a+b&chain_ids=ETH%2CBTC&path=%2Fv2%2Fx"
        assert results[2]["data"]["body"] == json.dumps({"memo": "héllo 世界 🚀"})
        # The SDK sends "{}" for an empty object but signs the empty string.
        assert results[5]["data"]["body"] == "{}"
        state["accept_sdk_empty_object"] = False
        (strict,) = _sdk(ops[5:6])
        assert strict["data"]["decision"]["reason"] == "invalid_signature"
