"""Interop with Turnkey's own stampers and verifier, each in its own environment.

- ``turnkey-api-key-stamper`` (PyPI) and ``@turnkey/api-key-stamper`` (npm, its Node and
  pure-JS runtimes) stamp bodies; authsig parses them strictly and verifies them, and the
  Gate middleware accepts them over a real socket.
- ``@turnkey/crypto``'s ``verifyStampSignature`` verifies authsig's stamps (high-S ones too),
  and its ``computeActivityFingerprint`` agrees with authsig's fingerprint.
- ``@turnkey/http``'s ``TurnkeyClient`` stamps a submission and its approvals as it would send
  them; authsig counts them against a quorum.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from _envs import EnvUnavailable, node_env, python_env, run_json
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from servers import uvicorn_thread

from authsig.replay import MemoryReplayStore
from authsig.signatures import parse_der_signature
from authsig.turnkey import (
    APPROVE_ACTIVITY,
    P256,
    Approval,
    Quorum,
    TurnkeyASGIMiddleware,
    TurnkeyPrivateKey,
    User,
    activity_fingerprint,
    encode_stamp,
    parse_stamp,
    stamp,
    verify_approvals,
    verify_stamp,
)
from authsig.turnkey.keys import curve_order

pytestmark = pytest.mark.interop

PYPI = "turnkey-api-key-stamper==0.1.1"
NPM = ["@turnkey/api-key-stamper@0.6.17", "@turnkey/crypto@2.13.2", "@turnkey/http@6.6.0"]
HERE = Path(__file__).parent / "interop" / "turnkey"
NOW = 1_795_519_976_869
# Fixed test keys (never used anywhere else).
PRIVATE = [
    "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0",
    "7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b",
]
BODIES = [
    "",
    "{}",
    json.dumps({"organizationId": "org-1", "timestampMs": str(NOW), "type": "ACTIVITY_TYPE_X"}),
    '{"memo":"héllo 世界 🚀","parameters":{"fingerprint":"sha256:00"}}',
    json.dumps({"memo": "héllo"}, indent=2),
]


def _keys() -> list[TurnkeyPrivateKey]:
    return [TurnkeyPrivateKey.from_hex(text, P256) for text in PRIVATE]


def _cases() -> list[dict[str, str]]:
    return [
        {"public": key.public_key.hex, "private": key.to_hex(), "body": body}
        for key in _keys()
        for body in BODIES
        for _ in range(4)  # randomised signatures: several per body, high and low S
    ]


def _pypi(cases: list[dict[str, str]]) -> list[str]:
    try:
        python = python_env("turnkey", [PYPI])
    except EnvUnavailable as exc:
        pytest.skip(f"turnkey-api-key-stamper environment unavailable: {exc}")
    result = run_json([str(python), str(HERE / "stamper_helper.py")], {"cases": cases})
    assert isinstance(result, dict)
    return list(result["stamps"])


def _node(request: dict[str, Any]) -> dict[str, Any]:
    try:
        folder = node_env("turnkey", NPM)
    except EnvUnavailable as exc:
        pytest.skip(f"@turnkey node environment unavailable: {exc}")
    result = run_json(["node", str(HERE / "stamper.cjs"), str(folder)], request)
    assert isinstance(result, dict)
    return result


def _members(header: str) -> dict[str, str]:
    value = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    assert isinstance(value, dict)
    return value


def _check_peer_stamps(cases: list[dict[str, str]], stamps: list[str]) -> int:
    """Every peer stamp verifies strictly; returns how many had a high S."""
    assert len(stamps) == len(cases)
    high = 0
    for case, header in zip(cases, stamps, strict=True):
        parsed = verify_stamp(case["body"].encode(), header)
        assert parsed.key_hex == case["public"]
        mine = _members(stamp(case["body"], TurnkeyPrivateKey.from_hex(case["private"])))
        theirs = _members(header)
        # Field by field: the same members, key and scheme as authsig writes.
        assert sorted(theirs) == sorted(mine)
        assert (theirs["publicKey"], theirs["scheme"]) == (mine["publicKey"], mine["scheme"])
        _, s = parse_der_signature(bytes.fromhex(theirs["signature"]))
        high += s > curve_order(P256) // 2
        with pytest.raises(Exception, match="does not verify"):
            verify_stamp(case["body"].encode() + b" ", header)
    return high


def test_pypi_stamper_stamps_verify_in_authsig() -> None:
    cases = _cases()
    high = _check_peer_stamps(cases, _pypi(cases))
    # The stamper does not normalise S: authsig must accept high-S by default.
    assert high > 0


@pytest.mark.parametrize("runtime", ["node", "purejs"])
def test_npm_stamper_stamps_verify_in_authsig(runtime: str) -> None:
    cases = [{**case, "runtime": runtime} for case in _cases()]
    stamps = _node({"stamp": cases})["stamps"]
    high = _check_peer_stamps(cases, stamps)
    if runtime == "node":
        assert high > 0  # node:crypto does not normalise S either


def _high_s(header: str) -> str:
    members = _members(header)
    r, s = parse_der_signature(bytes.fromhex(members["signature"]))
    if s <= curve_order(P256) // 2:
        s = curve_order(P256) - s
    der = encode_dss_signature(r, s).hex()
    return encode_stamp(members["publicKey"], members["scheme"], der)


def test_turnkey_verifier_accepts_authsig_stamps() -> None:
    verify: list[dict[str, str]] = []
    for key in _keys():
        for body in BODIES:
            for header in (stamp(body, key), _high_s(stamp(body, key))):
                signature = _members(header)["signature"]
                verify.append({"public": key.public_key.hex, "signature": signature, "body": body})
                tampered = body + "x"
                verify.append(
                    {"public": key.public_key.hex, "signature": signature, "body": tampered}
                )
    verified = _node({"verify": verify})["verified"]
    assert verified == [True, False] * (len(verify) // 2)
    # ... and authsig agrees on the high-S ones unless require_low_s is asked for.
    key = _keys()[0]
    high = _high_s(stamp("{}", key))
    verify_stamp(b"{}", high)
    with pytest.raises(Exception, match="high S"):
        parse_stamp(high, require_low_s=True)


def test_activity_fingerprint_matches_turnkey() -> None:
    fingerprints = _node({"fingerprint": BODIES})["fingerprints"]
    assert fingerprints == [activity_fingerprint(body.encode()) for body in BODIES]


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_npm_and_pypi_stamped_requests_pass_the_gate_over_a_socket() -> None:
    keys = _keys()
    body = json.dumps({"organizationId": "org-1", "timestampMs": str(NOW), "type": "X"})
    cases = [{"public": k.public_key.hex, "private": k.to_hex(), "body": body} for k in keys]
    stamps = [_pypi(cases[:1])[0], _node({"stamp": cases[1:]})["stamps"][0]]
    app = TurnkeyASGIMiddleware(
        _ok,
        keys=[k.public_key for k in keys],
        replay_store=MemoryReplayStore(clock=lambda: NOW),
        clock=lambda: NOW,
    )
    with uvicorn_thread(app) as base:
        for header in stamps:
            sent = httpx.post(base + "/", content=body, headers={"X-Stamp": header}, timeout=10)
            assert (sent.status_code, sent.text) == (200, "ok")
            again = httpx.post(base + "/", content=body, headers={"X-Stamp": header}, timeout=10)
            assert (again.status_code, again.json()["reason"]) == (409, "replayed")


def test_turnkey_client_submission_and_approvals_meet_a_quorum() -> None:
    """TurnkeyClient (``@turnkey/http``) stamps a submission and approvals of it, as it would
    send them; authsig counts them against a 2-of-2 root quorum with Turnkey's fingerprint."""
    alice, bob = _keys()
    org = "3e2c7a4b-0000-4000-8000-000000000001"
    submission = {
        "type": "ACTIVITY_TYPE_SIGN_TRANSACTION_V2",
        "timestampMs": str(NOW),
        "organizationId": org,
        "parameters": {
            "signWith": "0x0000000000000000000000000000000000000042",
            "unsignedTransaction": "02e801808080808080c0",
            "type": "TRANSACTION_TYPE_ETHEREUM",
        },
    }
    first = _node(
        {
            "client": [
                {
                    "public": alice.public_key.hex,
                    "private": alice.to_hex(),
                    "method": "stampSignTransaction",
                    "input": submission,
                }
            ]
        }
    )["signed"][0]
    fingerprint = _node({"fingerprint": [first["body"]]})["fingerprints"][0]
    approve = {
        "type": APPROVE_ACTIVITY,
        "timestampMs": str(NOW + 1000),
        "organizationId": org,
        "parameters": {"fingerprint": fingerprint},
    }
    clients = [
        {
            "public": k.public_key.hex,
            "private": k.to_hex(),
            "method": "stampApproveActivity",
            "input": approve,
        }
        for k in (alice, bob)
    ]
    votes = _node({"client": clients})["signed"]
    approvals = [Approval(v["body"].encode(), v["stamp"]) for v in [first, *votes]]
    quorum = Quorum(2, (User("alice", [alice.public_key]), User("bob", [bob.public_key])))
    decision = verify_approvals(
        approvals, quorum, fingerprint=fingerprint, organization_id=org, now_ms=NOW + 2000
    )
    assert (decision.approved, decision.approvers) == (True, ("alice", "bob"))
    # Alice's own approval repeats her submission's vote: counted once.
    assert decision.rejected == ((1, "duplicate_approval"),)
    alone = verify_approvals(approvals[:2], quorum, fingerprint=fingerprint)
    assert (alone.approved, alone.reason) == (False, "threshold_not_met")
