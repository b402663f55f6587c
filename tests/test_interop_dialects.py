"""The dialect table (authsig.privy.dialects) against the official SDKs that run here.

- @privy-io/server-auth (the legacy Node SDK): its public ``formatRequestForAuthorizationSignature``
  gives the bytes of the ``privy-server-auth`` dialect; its ``generateAuthorizationSignature``
  signatures verify under that dialect (and are byte-identical to authsig's RFC 6979 ones in it);
  authsig's signatures in the dialect verify with the curve library the SDK signs with.
- @privy-io/node and privy-client: the payload their calls without a body sign (``{}`` passed
  to the formatter, with privy-client's ``preserve_empty_body`` on its DELETE calls) is the
  payload of their dialect for a request sent without a body.

Go and Rust have no toolchain here: tests/test_dialects.py tests their rules from the table.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from _interop import SdkDriver, b64, node_driver, python_driver, server_auth_driver, unb64
from servers import echo_app, uvicorn_thread

from authsig import KeyQuorum, Policy, generate_private_key, sign_request, verify_request
from authsig.asgi import AuthSigMiddleware
from authsig.privy.payload import signing_payload

pytestmark = pytest.mark.interop

APP = {"privy-app-id": "cm4app0000000000000000000"}
BASE = "https://api.privy.io"
BODIES: dict[str, str | None] = {
    "object": '{"chain_type":"ethereum","amount":2.5,"nested":{"b":[1,2],"a":null}}',
    "empty_object": "{}",
    "empty_array": "[]",
    "null": "null",
    "absent": None,
    "unicode": '{"é":"ü","😀":"x","\\ue000":1}',
}


@pytest.fixture(scope="module")
def server_auth() -> SdkDriver:
    return server_auth_driver()


def _wire(body: str | None) -> bytes | None:
    return None if body is None else body.encode()


def _request(method: str, path: str, body: str | None, **headers: str) -> dict[str, Any]:
    hs = {**APP, **{k.replace("_", "-"): v for k, v in headers.items()}}
    return {"method": method, "url": BASE + path, "headers": hs, "body_json": body}


def test_server_auth_formats_the_dialect_payload(server_auth: SdkDriver) -> None:
    cases = [
        _request(method, "/v1/wallets/w1/rpc", body, **extra)
        for method in ("POST", "PATCH", "DELETE", "post")
        for body in BODIES.values()
        for extra in ({}, {"privy_idempotency_key": "idem-1"})
    ]
    results = server_auth.run_ok([{"op": "format", **c} for c in cases])
    for case, result in zip(cases, results, strict=True):
        ours = signing_payload(
            method=case["method"], url=case["url"], body=_wire(case["body_json"]),
            headers=case["headers"], dialect="privy-server-auth",
        )  # fmt: skip
        assert unb64(result["payload_b64"]) == ours, case


def test_server_auth_never_signs_the_expiry(server_auth: SdkDriver) -> None:
    case = _request("POST", "/v1/wallets/w1/rpc", "{}", privy_request_expiry="1795000000000")
    [result] = server_auth.run_ok([{"op": "format", **case}])
    assert b"privy-request-expiry" not in unb64(result["payload_b64"])
    # So a request that sends one is refused in this dialect: nothing protects its value.
    key = generate_private_key()
    decision = verify_request(
        method="POST", url=case["url"], body=b"{}",
        headers={**case["headers"], "privy-authorization-signature": "MAYCAQECAQE="},
        quorum=KeyQuorum(public_keys=(key.public_key,)),
        policy=Policy(dialect="privy-server-auth"),
    )  # fmt: skip
    assert (decision.approved, decision.reason) == (False, "invalid_payload")
    assert "does not sign" in decision.message


@pytest.mark.parametrize("prefix", ["", "wallet-auth:"])
def test_server_auth_signatures_verify_in_its_dialect(server_auth: SdkDriver, prefix: str) -> None:
    key = generate_private_key()
    quorum = KeyQuorum(public_keys=(key.public_key,))
    cases = [_request("POST", "/v1/wallets/w1/rpc", body) for body in BODIES.values()]
    results = server_auth.run_ok(
        [{"op": "sign", "private_key": prefix + key.to_base64(), **c} for c in cases]
    )
    for case, result in zip(cases, results, strict=True):
        headers = {**case["headers"], "privy-authorization-signature": result["signature"]}
        request: dict[str, Any] = {
            "method": "POST", "url": case["url"], "body": _wire(case["body_json"]),
            "headers": headers, "quorum": quorum,
        }  # fmt: skip
        decision = verify_request(**request, policy=Policy(dialect="privy-server-auth"))
        assert decision.approved, (case["body_json"], decision.message)
        # The same signature made by authsig in the dialect: RFC 6979 on both sides.
        ours = sign_request(
            method="POST", url=case["url"], body=_wire(case["body_json"]),
            app_id=APP["privy-app-id"], keys=key, expires_in=None, deterministic=True,
            dialect="privy-server-auth",
        )  # fmt: skip
        assert ours["privy-authorization-signature"] == result["signature"]
        # The strict default refuses where the dialect differs from it ({} and [] as is).
        strict = verify_request(**request)
        assert strict.approved == (case["body_json"] not in ("{}", "[]", None))


def test_authsig_signatures_in_the_dialect_verify_with_the_sdks_curve(
    server_auth: SdkDriver,
) -> None:
    key = generate_private_key()
    cases = [_request("PATCH", "/v1/key_quorums/kq1", body) for body in BODIES.values()]
    formatted = server_auth.run_ok([{"op": "format", **c} for c in cases])
    checks = []
    for case, fmt in zip(cases, formatted, strict=True):
        headers = sign_request(
            method="PATCH", url=case["url"], body=_wire(case["body_json"]),
            app_id=APP["privy-app-id"], keys=key, expires_in=None, dialect="privy-server-auth",
        )  # fmt: skip
        checks.append(
            {
                "op": "verify",
                "public_key_raw_b64": b64(key.public_key.point),
                "signature": headers["privy-authorization-signature"],
                "payload_b64": fmt["payload_b64"],
            }
        )
    results = server_auth.run_ok(checks)
    assert all(r["noble"] is True for r in results), results


def test_node_calls_without_a_body_sign_the_node_dialect() -> None:
    node = node_driver()
    paths = ["/v1/key_quorums/kq1", "/v1/wallets/w1", "/v1/policies/p1/rules/r1"]
    cases: list[dict[str, Any]] = []
    for path in paths:
        # Its DELETE helpers pass what is left of their params ({}) as the body.
        inp: dict[str, Any] = {"version": 1, "method": "DELETE", "url": BASE + path, "headers": APP}
        cases.append({"op": "format", "input": inp, "body_json": "{}"})
    for body in ("[]", BODIES["object"]):
        inp = {"version": 1, "method": "POST", "url": BASE + "/v1/wallets", "headers": APP}
        cases.append({"op": "format", "input": inp, "body_json": body})
    results = node.run_ok(cases)
    for case, result in zip(cases, results, strict=True):
        inp = case["input"]
        wire = None if inp["method"] == "DELETE" else case["body_json"].encode()
        ours = signing_payload(
            method=inp["method"], url=inp["url"], body=wire, headers=APP, dialect="privy-node"
        )
        assert unb64(result["payload_b64"]) == ours, case


def test_privy_client_calls_without_a_body_sign_its_dialect() -> None:
    python = python_driver()
    preserved = [
        "/v1/key_quorums/kq1",
        "/v1/policies/p1",
        "/v1/policies/p1/rules/r1",
        "/v1/intents/policies/p1/rules/r1",
    ]
    # Its DELETE calls pass body={} (with preserve_empty_body=True on these four paths).
    cases: list[dict[str, Any]] = [
        {"op": "format", "method": "DELETE", "url": BASE + p, "headers": APP, "body_json": "{}",
         "preserve_empty_body": p in preserved}
        for p in [*preserved, "/v1/wallets/w1"]
    ]  # fmt: skip
    cases.append(
        {"op": "format", "method": "POST", "url": BASE + "/v1/wallets", "headers": APP,
         "body_json": '{"x":1.0,"y":1e-7,"z":[]}'}
    )  # fmt: skip
    results = python.run_ok(cases)
    for case, result in zip(cases, results, strict=True):
        wire = None if case["method"] == "DELETE" else case["body_json"].encode()
        ours = signing_payload(
            method=case["method"], url=case["url"], body=wire, headers=APP, dialect="privy-client"
        )
        assert unb64(result["payload_b64"]) == ours, case


def test_the_middleware_accepts_server_auth_requests_in_its_dialect(
    server_auth: SdkDriver, caplog: pytest.LogCaptureFixture
) -> None:
    """A request signed by @privy-io/server-auth, sent over 127.0.0.1 to the ASGI middleware:
    refused under the strict rules (the log names the SDK), accepted in its dialect."""
    key = generate_private_key()
    quorum = KeyQuorum(public_keys=(key.public_key,))
    public, path, body = "https://wallets.example", "/v1/wallets/w1/rpc", "{}"
    case = _request("POST", path, body) | {"url": public + path}
    [signed] = server_auth.run_ok([{"op": "sign", "private_key": key.to_base64(), **case}])
    headers = {**case["headers"], "privy-authorization-signature": signed["signature"]}

    def serve(policy: Policy) -> int:
        app = AuthSigMiddleware(
            echo_app, quorum=quorum, public_base_url=public, replay_store="memory",
            metrics=None, policy=policy,
        )  # fmt: skip
        with uvicorn_thread(app) as url:
            return httpx.post(url + path, content=body.encode(), headers=headers).status_code

    # server-auth sends no expiry, which the middleware requires by default.
    loose = Policy(require_expiry=False)
    with caplog.at_level("WARNING", logger="authsig.http"):
        assert serve(loose) == 401
    assert "@privy-io/server-auth" in caplog.text
    assert serve(loose.replace(dialect="privy-server-auth")) == 200


def test_server_auth_reproduces_the_published_dialect_vectors(server_auth: SdkDriver) -> None:
    """vectors/dialects.json: @privy-io/server-auth makes the payload and the (RFC 6979)
    signature of every privy-server-auth case."""
    path = Path(__file__).resolve().parent.parent / "vectors" / "dialects.json"
    cases = [
        c for c in json.loads(path.read_text())["cases"] if c["dialect"] == "privy-server-auth"
    ]
    assert cases
    runs = []
    for case in cases:
        req = case["request"]
        headers = {k: v for k, v in req["headers"].items() if k != "privy-authorization-signature"}
        common = {"method": req["method"], "url": req["url"], "headers": headers}
        runs.append({"op": "sign", "private_key": case["signer"]["private_key"],
                     "body_json": req["body"], **common})  # fmt: skip
    results = server_auth.run_ok(runs)
    for case, result in zip(cases, results, strict=True):
        assert unb64(result["payload_b64"]).hex() == case["expected"]["payload"]["hex"]
        assert result["signature"] == case["request"]["headers"]["privy-authorization-signature"]
