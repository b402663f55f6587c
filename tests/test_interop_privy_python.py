"""Interop with the official Privy Python SDK (``privy-client``, pinned in ``_interop``).

The SDK (``privy.lib.authorization``) builds the payload with ``canonicaljson``, not RFC 8785,
and signs it with ``cryptography`` (randomized ECDSA, DER, base64). It runs in its own venv
(it pins ``cryptography<47``) through ``tests/interop/privy_python.py``; one SDK process serves
the whole module.

Claims shown here:
- where ``canonicaljson`` and RFC 8785 agree (strings, BMP keys, integers within 2^53, null,
  booleans, non-integral floats in plain layout), the SDK's payload bytes equal our RFC 8785
  payload and its signatures verify with us;
- everywhere (integral floats, exponent forms, ``-0.0``, non-BMP key order, big integers) they
  equal our ``profile="canonicaljson"`` payload and verify against it, and a verifier using
  that profile approves SDK-signed requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from _interop import python_driver, unb64

from authsig.errors import CanonicalizationError
from authsig.keys import PrivateKey, generate_private_key, load_private_key
from authsig.policy import Policy
from authsig.privy.headers import parse_signature_header
from authsig.privy.payload import signing_payload
from authsig.privy.quorum import KeyQuorum
from authsig.privy.verifier import verify_request
from authsig.signatures import verify_signature

pytestmark = pytest.mark.interop

APP_ID = "cm4app0000000000000000000"
URL = "https://api.privy.io/v1/wallets/w1/rpc"

#: Bodies where canonicaljson and RFC 8785 give the same bytes.
AGREE: dict[str, str | None] = {
    "strings": '{"b":"text","a":"é日本😀","c":"\\u0000\\u001f\\n\\"\\\\/\\u007f\\u2028"}',
    "bmp_keys": '{"é":1,"ﬁ":2,"\\uffff":3,"a":4,"Z":5,"\\u0080":6}',
    "integers": '{"max":9007199254740991,"min":-9007199254740991,"zero":0}',
    "plain_floats": '{"half":1.5,"tenth":0.1,"neg":-2.25,"pi":3.141592653589793,"k":12345.678}',
    "exponent_1e21": '{"big":1e21,"neg":-1.5e300}',
    "literals": '{"t":true,"f":false,"n":null}',
    "nested": '{"z":[{"b":[1,{"y":null,"x":"s"}],"a":{}}],"a":[[]]}',
    "rpc": '{"method":"eth_signTransaction","params":{"transaction":{"to":"0xab","value":1}}}',
    "empty_object": "{}",
    "empty_array": "[]",
    "null": "null",
    "absent": None,
    "string_body": '"a string"',
}

#: Bodies where they differ (SPEC §1.2), with what RFC 8785 writes differently.
DIFFER: dict[str, str] = {
    "integral_float": '{"two":2.0}',
    "small_exponent": '{"tiny":1e-7}',
    "large_exponent": '{"e16":1e16}',
    "negative_zero": '{"z":-0.0}',
    "non_bmp_key_order": '{"\\ud83d\\ude00":1,"ﬁ":2}',
    "big_integer": '{"n":123456789012345678901234}',
    "mixed": '{"a":[1.0,1e-7,-0.0],"😀":{"\\ue000":2.0}}',
}

#: Bodies RFC 8785 refuses (integers beyond 2^53) but canonicaljson writes exactly.
REFUSED_BY_RFC8785 = {"big_integer"}

EXPIRY = "1795000000000"


@dataclass
class Case:
    name: str
    body_json: str | None
    agree: bool
    headers: dict[str, str]
    preserve: bool = False
    key_index: int = 0
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        return self.name.rsplit("-", 1)[0] in REFUSED_BY_RFC8785

    def ours(self, profile: str) -> bytes:
        return signing_payload(
            method="POST",
            url=URL,
            body=self.body_json,
            headers=self.headers,
            empty_body="preserve" if self.preserve else "string",
            profile=profile,  # type: ignore[arg-type]
        )


def _cases() -> list[Case]:
    cases = []
    header_sets = [
        {"privy-app-id": APP_ID},
        {"privy-app-id": APP_ID, "privy-request-expiry": EXPIRY, "privy-idempotency-key": "i-1"},
    ]
    for agree, bodies in ((True, AGREE), (False, DIFFER)):
        for i, (name, body) in enumerate(bodies.items()):
            for j, headers in enumerate(header_sets):
                cases.append(Case(f"{name}-h{j}", body, agree, headers, key_index=i % 2))
    for name in ("empty_object", "empty_array"):
        cases.append(Case(f"{name}-preserve", AGREE[name], True, header_sets[0], preserve=True))
    return cases


CASES = _cases()
IDS = [c.name for c in CASES]


@dataclass
class Run:
    keys: list[PrivateKey]
    cases: dict[str, Case]
    prepared: list[dict[str, Any]]


@pytest.fixture(scope="module")
def run() -> Run:
    driver = python_driver()
    keys = [generate_private_key() for _ in range(2)]
    cases = _cases()
    ops: list[dict[str, Any]] = []
    for case in cases:
        ops.append(
            {
                "op": "format",
                "method": "POST",
                "url": URL,
                "headers": case.headers,
                "body_json": case.body_json,
                "preserve_empty_body": case.preserve,
            }
        )
    formatted = driver.run_ok(ops)
    for case, result in zip(cases, formatted, strict=True):
        case.results["format"] = result
    sign_ops = [
        {
            "op": "sign",
            "private_key": keys[case.key_index].to_base64(),
            "payload_b64": case.results["format"]["payload_b64"],
        }
        for case in cases
    ]
    prepare_ops = [
        {
            "op": "prepare",
            "app_id": APP_ID,
            "method": "POST",
            "url": URL,
            "body_json": body,
            "private_keys": [k.to_base64() for k in keys],
            "idempotency_key": "idem-7",
            "request_expiry": int(EXPIRY),
        }
        for body in [*AGREE.values(), *DIFFER.values()]
    ]
    results = driver.run_ok(sign_ops + prepare_ops)
    for case, result in zip(cases, results[: len(cases)], strict=True):
        case.results["sign"] = result
    return Run(
        keys=keys,
        cases={c.name: c for c in cases},
        prepared=results[len(cases) :],
    )


@pytest.mark.parametrize("name", IDS)
def test_sdk_payload_equals_our_canonicaljson_profile(run: Run, name: str) -> None:
    case = run.cases[name]
    assert unb64(case.results["format"]["payload_b64"]) == case.ours("canonicaljson")


@pytest.mark.parametrize("name", IDS)
def test_sdk_payload_versus_rfc8785(run: Run, name: str) -> None:
    case = run.cases[name]
    sdk = unb64(case.results["format"]["payload_b64"])
    if case.refused:
        with pytest.raises(CanonicalizationError):
            case.ours("rfc8785")
    elif case.agree:
        assert sdk == case.ours("rfc8785")
    else:
        assert sdk != case.ours("rfc8785")


@pytest.mark.parametrize("name", IDS)
def test_sdk_signatures_verify_with_authsig(run: Run, name: str) -> None:
    case = run.cases[name]
    sig = case.results["sign"]["signature"]
    public = run.keys[case.key_index].public_key
    assert verify_signature(case.ours("canonicaljson"), sig, public)
    # RFC 8785 verification succeeds exactly where the two canonical forms agree.
    if not case.refused:
        assert verify_signature(case.ours("rfc8785"), sig, public) is case.agree
    assert not verify_signature(
        case.ours("canonicaljson"), sig, run.keys[1 - case.key_index].public_key
    )


def test_sdk_signatures_are_randomized(run: Run) -> None:
    """Unlike the Node SDK, the Python SDK signs with random nonces: two runs differ."""
    driver = python_driver()
    case = run.cases["strings-h0"]
    op = {
        "op": "sign",
        "private_key": run.keys[0].to_base64(),
        "payload_b64": case.results["format"]["payload_b64"],
    }
    first, second = driver.run_ok([op, op])
    assert first["signature"] != second["signature"]
    payload = unb64(op["payload_b64"])
    assert verify_signature(payload, first["signature"], run.keys[0].public_key)
    assert verify_signature(payload, second["signature"], run.keys[0].public_key)


def test_preserve_empty_body_matches_our_preserve_option(run: Run) -> None:
    assert b'"body":{}' in unb64(
        run.cases["empty_object-preserve"].results["format"]["payload_b64"]
    )
    assert b'"body":[]' in unb64(run.cases["empty_array-preserve"].results["format"]["payload_b64"])
    assert b'"body":""' in unb64(run.cases["empty_object-h0"].results["format"]["payload_b64"])


@pytest.mark.parametrize("index", range(len(AGREE) + len(DIFFER)))
def test_prepare_request_headers_verify_with_authsig(run: Run, index: int) -> None:
    """The SDK's whole recipe (prepare_request): every signature in its header verifies."""
    body = [*AGREE.values(), *DIFFER.values()][index]
    headers = {"privy-app-id": APP_ID, **run.prepared[index]["headers"]}
    assert headers["privy-request-expiry"] == EXPIRY
    assert headers["privy-idempotency-key"] == "idem-7"
    payload = signing_payload(
        method="POST", url=URL, body=body, headers=headers, profile="canonicaljson"
    )
    sigs = parse_signature_header(headers["privy-authorization-signature"])
    assert len(sigs) == len(run.keys)
    for sig, key in zip(sigs, run.keys, strict=True):
        assert verify_signature(payload, sig, key.public_key)


@pytest.mark.parametrize("index", range(len(AGREE) + len(DIFFER)))
def test_verifier_approves_sdk_requests(run: Run, index: int) -> None:
    """verify_request with a 2-of-2 quorum of the SDK's keys: canonicaljson profile always
    approves; the RFC 8785 default approves exactly where the two forms agree."""
    name, body = [*AGREE.items(), *DIFFER.items()][index]
    headers = {"privy-app-id": APP_ID, **run.prepared[index]["headers"]}
    quorum = KeyQuorum(public_keys=tuple(k.public_key for k in run.keys), authorization_threshold=2)
    now_ms = int(EXPIRY) - 10 * 60 * 1000
    common: dict[str, Any] = {
        "method": "POST",
        "url": URL,
        "body": body,
        "headers": headers,
        "quorum": quorum,
        "now_ms": now_ms,
    }
    compat = verify_request(**common, policy=Policy(profile="canonicaljson"))
    assert (compat.approved, compat.reason) == (True, "approved"), compat.message
    strict = verify_request(**common)
    if name in AGREE:
        assert (strict.approved, strict.reason) == (True, "approved"), strict.message
    elif name in REFUSED_BY_RFC8785:
        assert not strict.approved
    else:
        assert (strict.approved, strict.reason) == (False, "invalid_signature")


def test_sdk_does_not_strip_wallet_auth_prefix_but_we_do(run: Run) -> None:
    """privy-client 0.7.0 refuses a dashboard key with its ``wallet-auth:`` prefix; authsig
    (like the Node SDK) strips it and loads the same key."""
    driver = python_driver()
    key = run.keys[0]
    payload_b64 = run.cases["strings-h0"].results["format"]["payload_b64"]
    plain, prefixed = driver.run(
        [
            {"op": "sign", "private_key": key.to_base64(), "payload_b64": payload_b64},
            {
                "op": "sign",
                "private_key": "wallet-auth:" + key.to_base64(),
                "payload_b64": payload_b64,
            },
        ]
    )
    assert verify_signature(unb64(payload_b64), plain["signature"], key.public_key)
    assert "error" in prefixed
    assert "signature" not in prefixed
    assert load_private_key("wallet-auth:" + key.to_base64()) == key
