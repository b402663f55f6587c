"""The Cobo auth classes and the UpgradeToMainGroup request send what cobo-waas2 sends.

The official SDK runs in its own venv (tests/interop/cobo/sdk_helper.py) and sends real HTTP
requests to a local server that records each request as it arrived; httpx and requests with
authsig's auth classes then send the same request to the same server. The recorded method,
raw path, raw query, body and Biz-Api-* headers must be identical, byte for byte (authsig's
clock is pinned to the nonce the SDK used, the one thing that differs between two runs).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from _cobo_servers import capture_app, uvicorn_server, verify_record
from test_cobo_interop import ED_SECRET, K1_SECRET, _sdk

from authsig.cobo import load_api_secret
from authsig.cobo.client import CoboAuth, CoboRequestsAuth
from authsig.cobo.upgrade import sign_upgrade_request, upgrade_request

pytestmark = pytest.mark.interop

SIGNED = ("biz-api-key", "biz-api-nonce", "biz-api-signature")
# URLs in the form the SDK sends them (it re-encodes the query: parse_qsl, drop empty values,
# urlencode), so that both sides send the same bytes.
CALLS: list[dict[str, Any]] = [
    {"method": "GET", "url": "/v2/wallets?wallet_type=Custodial&limit=10"},
    {"method": "GET", "url": "/v2/wallets?cursor=a+b&chain_ids=ETH%2CBTC&path=%2Fv2%2Fx"},
    {"method": "POST", "url": "/v2/transactions/transfer", "body": {"memo": "héllo 世界 🚀"}},
    {
        "method": "PUT",
        "url": "/v2/wallets/mpc/vaults/v1/key_share_holder_groups/g1",
        "body": {"update_key_share_holder_group_action": "UpgradeToMainGroup"},
    },
    {"method": "DELETE", "url": "/v2/wallets/w1"},
    {"method": "POST", "url": "/v2/wallets/w1/refresh", "body": {}},
]


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    records: list[dict[str, Any]] = []
    with uvicorn_server(capture_app(records)) as base:
        yield base, records


def _signed_parts(record: dict[str, Any]) -> dict[str, Any]:
    headers = record["headers"]
    return {
        "method": record["method"],
        "path": record["path"],
        "query": record["query"],
        "body": record["body"],
        **{name: headers.get(name) for name in SIGNED},
    }


def _sdk_records(base: str, secret: str, curve: str) -> list[dict[str, Any]]:
    ops = [{"op": "call_api", "host": base, "secret": secret, "curve": curve, **c} for c in CALLS]
    results = _sdk(ops)
    assert [r["status"] for r in results] == [200] * len(CALLS)
    return [r["data"] for r in results]


def _content(call: dict[str, Any]) -> bytes | None:
    # The SDK sends json.dumps(body) for a body that is not None.
    return json.dumps(call["body"]).encode() if "body" in call else None


@pytest.mark.parametrize(("curve", "secret"), [("ED25519", ED_SECRET), ("SECP256K1", K1_SECRET)])
def test_httpx_and_requests_send_what_the_sdk_sends(
    server: tuple[str, list[dict[str, Any]]], curve: str, secret: str
) -> None:
    base, records = server
    sdk = _sdk_records(base, secret, curve)
    for call, theirs in zip(CALLS, sdk, strict=True):
        nonce = int(theirs["headers"]["biz-api-nonce"])
        auth = CoboAuth(secret, curve=curve, clock=lambda n=nonce: n)  # type: ignore[misc, arg-type]
        content = _content(call)
        with httpx.Client(base_url=base, auth=auth) as client:
            client.request(call["method"], call["url"], content=content).raise_for_status()
        by_httpx = records[-1]
        requests_auth = CoboRequestsAuth(secret, curve=curve, clock=lambda n=nonce: n)  # type: ignore[misc, arg-type]
        requests.request(
            call["method"], base + call["url"], data=content, auth=requests_auth, timeout=30
        ).raise_for_status()
        by_requests = records[-1]
        if curve == "ED25519":  # deterministic signatures: identical bytes
            assert _signed_parts(by_httpx) == _signed_parts(theirs), call
            assert _signed_parts(by_requests) == _signed_parts(theirs), call
        else:  # the SDK's secp256k1 nonces are random: the same request, and both verify
            for ours in (by_httpx, by_requests):
                mine, sdks = _signed_parts(ours), _signed_parts(theirs)
                assert mine.pop("biz-api-signature") != sdks.pop("biz-api-signature")
                assert mine == sdks, call
        api_key = load_api_secret(secret, curve=curve).api_key  # type: ignore[arg-type]
        for record in (theirs, by_httpx, by_requests):
            decision = verify_record(record, api_key, nonce)
            assert decision.approved, (call, decision)


def test_httpx_json_and_async_client_verify(server: tuple[str, list[dict[str, Any]]]) -> None:
    import asyncio

    base, records = server
    auth = CoboAuth(ED_SECRET)
    body = {"memo": "héllo", "amount": "1.5"}
    # json= serializes differently from the SDK; the signature covers the bytes that travel.
    httpx.post(base + "/v2/transactions/transfer", json=body, auth=auth).raise_for_status()

    async def send() -> None:
        async with httpx.AsyncClient(auth=auth) as client:
            response = await client.get(base + "/v2/wallets", params={"q": "a b/c"})
            response.raise_for_status()

    asyncio.run(send())
    api_key = load_api_secret(ED_SECRET).api_key
    for record in records[-2:]:
        decision = verify_record(record, api_key)
        assert decision.approved, (record, decision)


HANDLINGS = [None, "Invalidate", "ConvertToSigningGroup"]
VAULT, GROUP = "f47ac10b-58cc-4372-a567-0e02b2c3d479", "group/with space"


@pytest.fixture(scope="module")
def sdk_upgrades(server: tuple[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    base, _ = server
    ops = [
        {
            "op": "upgrade",
            "host": base + "/v2",
            "secret": ED_SECRET,
            "vault_id": VAULT,
            "group_id": GROUP,
            "handling": handling,
        }
        for handling in HANDLINGS
    ]
    results = _sdk(ops)
    assert [r["status"] for r in results] == [200] * len(HANDLINGS)
    return [r["data"] for r in results]


@pytest.mark.parametrize("index", range(len(HANDLINGS)))
def test_upgrade_request_is_byte_identical_to_the_sdk(
    server: tuple[str, list[dict[str, Any]]], sdk_upgrades: list[dict[str, Any]], index: int
) -> None:
    base, records = server
    handling, sdk_record = HANDLINGS[index], sdk_upgrades[index]
    nonce = int(sdk_record["headers"]["biz-api-nonce"])
    request = upgrade_request(VAULT, GROUP, original_main_group_handling=handling)  # type: ignore[arg-type]
    headers = sign_upgrade_request(ED_SECRET, request, nonce_ms=nonce)
    httpx.request(
        request.method, base + request.path, content=request.body, headers=headers
    ).raise_for_status()
    ours = records[-1]
    assert _signed_parts(ours) == _signed_parts(sdk_record)
    assert ours["headers"]["content-type"] == sdk_record["headers"]["content-type"]
    assert ours["headers"]["accept"] == sdk_record["headers"]["accept"]
    assert "%2F" in ours["path"]  # the ids are encoded with no safe characters, as the SDK does
    expected = {"update_key_share_holder_group_action": "UpgradeToMainGroup"}
    if handling:
        expected["original_main_group_handling"] = handling
    assert json.loads(ours["body"]) == expected


def test_keygen_files_load_in_the_sdk(tmp_path: Path) -> None:
    from test_cli import AUTHSIG

    target = tmp_path / "cobo.secret"
    made = subprocess.run(
        [AUTHSIG, "cobo", "keygen", "--out", str(target), "--json"],
        capture_output=True,
        timeout=60,
        check=True,
    )
    (loaded,) = _sdk([{"op": "load_secret", "path": str(target)}])
    assert loaded["api_key"] == json.loads(made.stdout)["api_key"]


def test_each_auth_class_needs_only_its_library() -> None:
    # With httpx unimportable, CoboRequestsAuth still works; with requests gone, CoboAuth does.
    code = (
        "import sys; sys.modules[{blocked!r}] = None\n"
        "from authsig.cobo.client import {name}\n"
        "print({name}('{secret}'))\n"
    )
    for blocked, name in (("httpx", "CoboRequestsAuth"), ("requests", "CoboAuth")):
        script = code.format(blocked=blocked, name=name, secret=ED_SECRET)
        proc = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
        )
        assert proc.returncode == 0, proc.stderr
        assert load_api_secret(ED_SECRET).api_key in proc.stdout
        assert ED_SECRET not in proc.stdout


def test_cli_sign_and_verify_interoperate_with_the_sdk(tmp_path: Path) -> None:
    from test_cli import AUTHSIG

    secret = tmp_path / "cobo.secret"
    secret.write_text(ED_SECRET)
    cases = [
        ("GET", "/v2/wallets", [["cursor", "a b"], ["chain_ids", "ETH,BTC"]], None),
        ("POST", "/v2/transactions/transfer", None, json.dumps({"memo": "héllo 世界"})),
    ]
    ops: list[dict[str, Any]] = [
        {"op": "sign", "curve": "ED25519", "secret": ED_SECRET, "method": method, "path": path,
         "timestamp": 1_795_519_976_869 + i, "params": params, "body": body}
        for i, (method, path, params, body) in enumerate(cases)
    ]  # fmt: skip
    for op, sdk in zip(ops, _sdk(ops), strict=True):
        request = ["-X", op["method"], "--url", op["path"]]
        request += [f"--param={name}={value}" for name, value in op["params"] or []]
        request += ["--data", op["body"]] if op["body"] is not None else []
        signed = subprocess.run(
            [AUTHSIG, "cobo", "sign", "--key", str(secret), "--now", str(op["timestamp"]),
             "--json", *request],
            capture_output=True, timeout=60, check=True,
        )  # fmt: skip
        assert json.loads(signed.stdout) == {
            "Biz-Api-Key": sdk["api_key"],
            "Biz-Api-Nonce": str(op["timestamp"]),
            "Biz-Api-Signature": sdk["signature"],
        }
        # The SDK's own signature passes `authsig cobo verify`.
        checked = subprocess.run(
            [AUTHSIG, "cobo", "verify", "--api-key", sdk["api_key"], "--now", str(op["timestamp"]),
             "-H", f"Biz-Api-Key: {sdk['api_key']}", "-H", f"Biz-Api-Nonce: {op['timestamp']}",
             "-H", f"Biz-Api-Signature: {sdk['signature']}", *request],
            capture_output=True, timeout=60, check=False,
        )  # fmt: skip
        assert checked.returncode == 0, checked.stdout
