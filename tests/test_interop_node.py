"""Interop with the official Privy Node SDK (``@privy-io/node``, pinned in ``_interop``).

What the SDK offers (read from its package, ``lib/authorization.js``):
``formatRequestForAuthorizationSignature(input)`` canonicalizes ``{version, method, url, body,
headers}`` with the ``canonicalize`` npm package (RFC 8785) after replacing an empty object or
array body by ``""``; ``generateAuthorizationSignature({authorizationPrivateKey, input})`` takes a
base64 PKCS#8 key (it strips ``wallet-auth:``/``wallet-api:``) and signs sha256(payload) with
``@noble/curves`` p256: RFC 6979 deterministic nonces, no low-S normalization, DER, base64.
The SDK ships no verifier, so the helper verifies our signatures with ``node:crypto`` (OpenSSL,
SPKI DER key, DER signature) and with ``@noble/curves`` ``p256.verify`` (the SDK's own curve
library, ``lowS: false``).

All cases of this module run in ONE node process (module-scoped fixture).
"""

from __future__ import annotations

import json
import math
import random
import struct
from dataclasses import dataclass, field
from typing import Any

import pytest
from _interop import b64, node_driver, unb64

from authsig.errors import CanonicalizationError
from authsig.jcs import canonicalize
from authsig.keys import PrivateKey, generate_private_key, load_private_key, load_public_key
from authsig.privy.headers import parse_signature_header
from authsig.privy.payload import signing_payload
from authsig.privy.quorum import KeyQuorum
from authsig.privy.signing import sign_request
from authsig.privy.verifier import verify_request
from authsig.signatures import sign, verify_signature

pytestmark = pytest.mark.interop

APP_ID = "cm4app0000000000000000000"
BASE = "https://api.privy.io/v1"
EXPIRY = "1795000000000"

_DEEP = "[" * 40 + '{"k":' * 40 + '"bottom"' + "}" * 40 + "]" * 40

#: name -> raw JSON body text as sent (None: no body at all).
BODIES: dict[str, str | None] = {
    "floats": '{"half":1.5,"big":1e21,"tiny":1e-7,"negzero":-0,"negzero_f":-0.0,"two":2.0,'
    '"tenth":0.1,"near_big":1.2345678901234568e20,"denorm":5e-324,'
    '"max":1.7976931348623157e308,"micro":0.000001,"e20":1e20,"neg":-1.5e-10,"e16":1e16}',
    "unicode": '{"é":"ü","日本":"語","😀":"non-bmp value 😀","ﬁ":"U+FB01","\\uff01":"fullwidth",'
    '"\\ud83d\\ude00x":1,"€":"euro","a":"plain","Ω":"\\u03a9"}',
    "non_bmp_key_order": '{"\\ue000":1,"\\ud800\\udc00":2,"\\uffff":3,"\\udbff\\udfff":4,"z":5}',
    "control_chars": '{"s":"\\u0000\\u0001\\u001f\\b\\f\\n\\r\\t\\"\\\\/\\u007f\\u0080'
    '\\u2028\\u2029\\ufeff","k\\n":"\\t"}',
    "deep_nesting": _DEEP,
    "empty_object": "{}",
    "empty_array": "[]",
    "null": "null",
    "absent": None,
    "empty_text": "",
    "nested_empties": '{"a":{},"b":[],"c":"","d":null}',
    "string_body": '"just a string"',
    "number_body": "42",
    "false_body": "false",
    "array_body": '[3,1,2,{"b":1,"a":2},[],{}]',
    "integers": '{"max":9007199254740991,"min":-9007199254740991,"zero":0,"neg":-1}',
    "whitespace_as_sent": ' { "b" : [ 1 , 2 ] ,\n\t"a" : { "y" : true , "x" : false } } ',
    "rpc": '{"method":"eth_sendTransaction","caip2":"eip155:8453","chain_type":"ethereum",'
    '"params":{"transaction":{"to":"0x742d35Cc6634C0532925a3b844Bc454e4438f44e",'
    '"value":"0x2386f26fc10000","chain_id":8453,"data":"0x"}},"sponsor":true}',
}

#: name -> (method, path, extra participating headers).
REQUESTS: dict[str, tuple[str, str, dict[str, str]]] = {
    "app_id_only": ("POST", "/wallets", {}),
    "idempotency": ("POST", "/wallets/w1/rpc", {"privy-idempotency-key": "idem-9f1c-ключ"}),
    "expiry": ("PATCH", "/wallets/w1", {"privy-request-expiry": EXPIRY}),
    "both": (
        "PUT",
        "/key_quorums/q1?x=1&y=%20",
        {"privy-request-expiry": EXPIRY, "privy-idempotency-key": "k"},
    ),
    "delete": ("DELETE", "/policies/p1/rules/r1", {}),
}


@dataclass
class Case:
    """One request, signed by us and by the SDK."""

    name: str
    method: str
    url: str
    body_json: str | None
    headers: dict[str, str]
    ours: bytes = b""
    key_index: int = 0
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def node_input(self) -> dict[str, Any]:
        return {"version": 1, "method": self.method, "url": self.url, "headers": self.headers}

    @property
    def node_body(self) -> str | None:
        # An empty text body is "no body" for us; a Node app would hold undefined -> null.
        return self.body_json if self.body_json and self.body_json.strip() else None


def _cases() -> list[Case]:
    cases = []
    for i, (body_name, body) in enumerate(BODIES.items()):
        for req_name, (method, path, extra) in REQUESTS.items():
            headers = {"privy-app-id": APP_ID, **extra}
            cases.append(
                Case(
                    f"{body_name}-{req_name}",
                    method,
                    BASE + path,
                    body,
                    headers,
                    key_index=i % 3,
                )
            )
    return cases


def _random_float(rng: random.Random) -> float:
    while True:
        kind = rng.random()
        if kind < 0.5:
            x: float = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        elif kind < 0.75:
            x = rng.choice([1.0, -1.0]) * rng.randint(0, 10**6) * 10.0 ** rng.randint(-30, 30)
        else:
            x = float(rng.randint(-(2**60), 2**60)) / rng.choice([1, 3, 7, 1024, 10**9])
        if math.isfinite(x):
            return x


def _random_string(rng: random.Random) -> str:
    chars = []
    for _ in range(rng.randint(0, 6)):
        pick = rng.random()
        if pick < 0.3:
            cp = rng.randint(0x20, 0x7E)
        elif pick < 0.45:
            cp = rng.randint(0, 0x1F)
        elif pick < 0.7:
            cp = rng.randint(0x80, 0xD7FF)
        elif pick < 0.85:
            cp = rng.randint(0xE000, 0xFFFF)
        else:
            cp = rng.randint(0x10000, 0x10FFFF)
        chars.append(chr(cp))
    return "".join(chars)


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    pick = rng.random()
    if depth < 4 and pick < 0.2:
        return {
            _random_string(rng): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))
        }
    if depth < 4 and pick < 0.35:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    if pick < 0.65:
        return _random_float(rng)
    if pick < 0.75:
        return rng.randint(-(2**53) + 1, 2**53 - 1)
    if pick < 0.9:
        return _random_string(rng)
    return rng.choice([None, True, False])


def _random_documents(count: int) -> list[str]:
    rng = random.Random(8785)
    docs = [json.dumps(_random_value(rng)) for _ in range(count)]
    # Homogeneous float arrays, alone and inside objects (encoders often special-case them).
    for _ in range(count // 5):
        floats = [_random_float(rng) for _ in range(rng.randint(1, 24))]
        docs.append(json.dumps(floats))
        docs.append(json.dumps({"k": floats, "n": [floats[:3], {"x": floats[-1]}]}))
    return docs


RANDOM_DOCS = _random_documents(1500)
# Integers beyond 2^53: a Node app's JSON.parse rounds them to doubles.
BIG_INT_DOCS = [
    "[9007199254740993]",
    "[12345678901234567890]",
    '{"n":-123456789012345678901234567890}',
    "[18446744073709551615, 9007199254740992]",
]


@dataclass
class Run:
    keys: list[PrivateKey]
    cases: list[Case]
    header_case: dict[str, Any]
    random_docs: list[dict[str, Any]]
    big_docs: list[dict[str, Any]]
    key_results: list[dict[str, Any]]
    prefixed: dict[str, Any]
    lone_surrogate: dict[str, Any]


@pytest.fixture(scope="module")
def run() -> Run:
    driver = node_driver()
    keys = [generate_private_key() for _ in range(3)]
    cases = _cases()
    ops: list[dict[str, Any]] = []
    slots: list[tuple[Case | None, str]] = []

    def add(case: Case | None, tag: str, op: dict[str, Any]) -> None:
        ops.append(op)
        slots.append((case, tag))

    for case in cases:
        key = keys[case.key_index]
        case.ours = signing_payload(
            method=case.method, url=case.url, body=case.body_json, headers=case.headers
        )
        ours_b64 = b64(case.ours)
        base = {"input": case.node_input, "body_json": case.node_body}
        add(case, "format", {"op": "format", **base})
        add(case, "sign", {"op": "sign", "private_key": key.to_base64(), "payload_b64": ours_b64})
        add(case, "sign_input", {"op": "sign_input", "private_key": key.to_base64(), **base})
        add(
            case,
            "verify",
            {
                "op": "verify",
                "public_key": key.public_key.to_base64(),
                "signature": sign(case.ours, key),
                "payload_b64": ours_b64,
            },
        )
        # Control: the same kind of signature over a one-byte-different payload must fail.
        tampered = case.ours[:-1] + bytes([case.ours[-1] ^ 1])
        add(
            case,
            "verify_tampered",
            {
                "op": "verify",
                "public_key": key.public_key.to_base64(),
                "signature": sign(tampered, key),
                "payload_b64": ours_b64,
            },
        )

    # sign_request end to end: headers -> the SDK formats the same request and verifies.
    header_body = BODIES["rpc"]
    assert header_body is not None
    headers = sign_request(
        method="POST",
        url=BASE + "/wallets/w1/rpc",
        body=header_body,
        app_id=APP_ID,
        keys=keys,
        idempotency_key="idem-1",
    )
    sdk_headers = {
        name: headers[name]
        for name in ("privy-app-id", "privy-idempotency-key", "privy-request-expiry")
        if name in headers
    }
    first = len(ops)
    add(
        None,
        "header_format",
        {
            "op": "format",
            "input": {"version": 1, "method": "POST", "url": BASE + "/wallets/w1/rpc"}
            | {"headers": sdk_headers},
            "body_json": header_body,
        },
    )
    sigs = parse_signature_header(headers["privy-authorization-signature"])
    # The signatures are matched to keys by position (sign_request keeps the key order).
    sdk_payload_placeholder = "__payload__"
    for key, sig in zip(keys, sigs, strict=True):
        add(
            None,
            "header_verify",
            {
                "op": "verify",
                "public_key": key.public_key.to_base64(),
                "signature": sig,
                "payload_b64": sdk_payload_placeholder,
            },
        )

    doc_first = len(ops)
    for doc in RANDOM_DOCS:
        add(None, "canon", {"op": "canonicalize", "json": doc})
    big_first = len(ops)
    for doc in BIG_INT_DOCS:
        add(None, "canon", {"op": "canonicalize", "json": doc})
    key_first = len(ops)
    for key in keys:
        add(None, "pub", {"op": "public_key", "private_key": key.to_base64()})
    prefixed_index = len(ops)
    add(
        None,
        "prefixed",
        {
            "op": "sign",
            "private_key": "wallet-auth:" + keys[0].to_base64(),
            "payload_b64": b64(cases[0].ours),
        },
    )
    lone_index = len(ops)
    add(None, "lone", {"op": "canonicalize", "json": '{"a":"\\ud800"}'})

    # The header case needs the SDK's payload first: two phases, still two node starts total.
    phase1 = driver.run(ops[: first + 1])
    sdk_payload = phase1[first]["payload_b64"]
    for op in ops[first + 1 : doc_first]:
        op["payload_b64"] = sdk_payload
    phase2 = driver.run(ops[first + 1 :])
    results = phase1 + phase2

    for (slot, tag), result in zip(slots, results, strict=True):
        if slot is not None:
            slot.results[tag] = result
    return Run(
        keys=keys,
        cases=cases,
        header_case={
            "ours": signing_payload(
                method="POST",
                url=BASE + "/wallets/w1/rpc",
                body=header_body,
                headers=headers,
            ),
            "sdk_payload": unb64(sdk_payload),
            "verify": results[first + 1 : doc_first],
            "count": len(sigs),
        },
        random_docs=results[doc_first:big_first],
        big_docs=results[big_first:key_first],
        key_results=results[key_first:prefixed_index],
        prefixed=results[prefixed_index],
        lone_surrogate=results[lone_index],
    )


CASE_IDS = [c.name for c in _cases()]


def _case(run: Run, name: str) -> Case:
    return next(c for c in run.cases if c.name == name)


def _ok(result: dict[str, Any]) -> dict[str, Any]:
    assert "error" not in result, result["error"]
    return result


@pytest.mark.parametrize("name", CASE_IDS)
def test_sdk_payload_bytes_equal_ours(run: Run, name: str) -> None:
    case = _case(run, name)
    sdk = unb64(_ok(case.results["format"])["payload_b64"])
    assert sdk == case.ours
    # and the SDK's one-call path (format + sign) formats the same bytes
    assert unb64(_ok(case.results["sign_input"])["payload_b64"]) == case.ours


@pytest.mark.parametrize("name", CASE_IDS)
def test_sdk_signatures_verify_with_authsig(run: Run, name: str) -> None:
    case = _case(run, name)
    public = run.keys[case.key_index].public_key
    for tag in ("sign", "sign_input"):
        sig = _ok(case.results[tag])["signature"]
        assert verify_signature(case.ours, sig, public), tag
        assert not verify_signature(case.ours + b" ", sig, public), tag
        other = run.keys[(case.key_index + 1) % 3].public_key
        assert not verify_signature(case.ours, sig, other), tag


@pytest.mark.parametrize("name", CASE_IDS)
def test_sdk_signatures_equal_our_rfc6979_signatures(run: Run, name: str) -> None:
    """The SDK's noble p256.sign is RFC 6979 without low-S: byte-identical to ours."""
    case = _case(run, name)
    key = run.keys[case.key_index]
    ours = sign(case.ours, key, deterministic=True)
    assert _ok(case.results["sign"])["signature"] == ours
    assert _ok(case.results["sign_input"])["signature"] == ours


@pytest.mark.parametrize("name", CASE_IDS)
def test_authsig_signatures_verify_with_node(run: Run, name: str) -> None:
    case = _case(run, name)
    assert _ok(case.results["verify"]) == {"node_crypto": True, "noble": True}
    assert _ok(case.results["verify_tampered"]) == {"node_crypto": False, "noble": False}


def test_empty_bodies_become_empty_string_and_null(run: Run) -> None:
    for name in ("empty_object", "empty_array"):
        assert b'"body":""' in _case(run, f"{name}-app_id_only").ours
    for name in ("null", "absent", "empty_text"):
        assert b'"body":null' in _case(run, f"{name}-app_id_only").ours
    assert b'"body":{"a":{},"b":[],"c":"","d":null}' in _case(run, "nested_empties-delete").ours


def test_sign_request_headers_verify_with_node(run: Run) -> None:
    hc = run.header_case
    assert hc["sdk_payload"] == hc["ours"]
    assert hc["count"] == len(run.keys)
    assert hc["verify"] == [{"node_crypto": True, "noble": True}] * len(run.keys)


def test_canonicalize_agrees_with_sdk_canonicalize_on_random_documents(run: Run) -> None:
    mismatches = []
    for doc, result in zip(RANDOM_DOCS, run.random_docs, strict=True):
        theirs = unb64(_ok(result)["canonical_b64"])
        ours = canonicalize(json.loads(doc))
        if ours != theirs:
            mismatches.append((doc, ours, theirs))
    assert not mismatches, mismatches[:3]


def test_large_integers_javascript_option_matches_node(run: Run) -> None:
    for doc, result in zip(BIG_INT_DOCS, run.big_docs, strict=True):
        theirs = unb64(_ok(result)["canonical_b64"])
        value = json.loads(doc)
        assert canonicalize(value, large_integers="javascript") == theirs
        with pytest.raises(CanonicalizationError):
            canonicalize(value)


def test_public_keys_derived_by_node_equal_ours(run: Run) -> None:
    for key, result in zip(run.keys, run.key_results, strict=True):
        node_spki = _ok(result)["public_key"]
        assert node_spki == key.public_key.to_base64()
        assert load_public_key(node_spki) == key.public_key


def test_wallet_auth_prefix_is_stripped_by_both(run: Run) -> None:
    key = run.keys[0]
    sig = _ok(run.prefixed)["signature"]
    assert sig == sign(run.cases[0].ours, key, deterministic=True)
    assert load_private_key("wallet-auth:" + key.to_base64()) == key


def test_lone_surrogate_divergence(run: Run) -> None:
    """Node's canonicalize writes a lone surrogate; RFC 8785 (and authsig) refuse it."""
    assert "canonical_b64" in run.lone_surrogate
    with pytest.raises(CanonicalizationError):
        canonicalize({"a": "\ud800"})


@pytest.mark.parametrize("name", CASE_IDS)
def test_verifier_approves_sdk_signed_requests(run: Run, name: str) -> None:
    """The SDK's signature in a real header, through verify_request with a 1-of-1 quorum."""
    case = _case(run, name)
    key = run.keys[case.key_index]
    sig = _ok(case.results["sign_input"])["signature"]
    other = run.keys[(case.key_index + 1) % 3].public_key
    now_ms = int(EXPIRY) - 10 * 60 * 1000
    common: dict[str, Any] = {
        "method": case.method,
        "url": case.url,
        "body": case.body_json,
        "headers": {**case.headers, "privy-authorization-signature": sig},
        "now_ms": now_ms,
    }
    approved = verify_request(**common, quorum=KeyQuorum(public_keys=(key.public_key,)))
    assert (approved.approved, approved.reason) == (True, "approved"), approved.message
    refused = verify_request(**common, quorum=KeyQuorum(public_keys=(other,)))
    assert (refused.approved, refused.reason) == (False, "invalid_signature")
