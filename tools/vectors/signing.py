"""``signing.json``: request -> canonical payload -> SHA-256 -> RFC 6979 signatures -> header."""

from __future__ import annotations

import hashlib
from typing import Any

from authsig.privy import format_signature_header
from authsig.signatures import sign

from .common import APP_ID, BASE_URL, EXPIRY_MS, payload, request
from .der import key_entry, p256

DESCRIPTION = "Privy authorization signatures: request -> payload -> RFC 6979 signatures."

#: (name, description, request, signer labels)
_REQUESTS: list[tuple[str, str, dict[str, Any], list[str]]] = [
    (
        "rpc/single-signer",
        "eth_sendTransaction through wallet RPC, one key, with expiry",
        request(
            "POST",
            "/wallets/w1abc/rpc",
            '{"method":"eth_sendTransaction","caip2":"eip155:8453","params":{"transaction":'
            '{"to":"0x742d35Cc6634C0532925a3b844Bc454e4438f44e","value":"0x2386f26fc10000",'
            '"chain_id":8453}}}',
        ),
        ["signer-a"],
    ),
    (
        "rpc/two-signers-idempotency",
        "two keys of a quorum, idempotency key and expiry",
        request(
            "POST",
            "/wallets/w1abc/rpc",
            '{"method":"personal_sign","params":{"message":"hello","encoding":"utf-8"}}',
            idempotency="idem-0001",
        ),
        ["signer-a", "signer-b"],
    ),
    (
        "headers/filtered-and-case-insensitive",
        "only privy-app-id, privy-idempotency-key and privy-request-expiry take part, "
        "whatever the case of their names",
        {
            "method": "PATCH",
            "url": BASE_URL + "/wallets/w1abc",
            "body": '{"owner":{"public_key":"MFkw..."}}',
            "headers": {
                "Privy-App-Id": APP_ID,
                "PRIVY-REQUEST-EXPIRY": str(EXPIRY_MS),
                "Content-Type": "application/json",
                "privy-client": "node:0.35.0",
                "Authorization": "Basic dGVzdDp0ZXN0",
            },
        },
        ["signer-a"],
    ),
    (
        "method/lower-case",
        "the method is upper-cased in the payload",
        request("delete", "/policies/p1/rules/r1", None),
        ["signer-b"],
    ),
    (
        "url/query-string",
        "the URL is signed exactly as requested, query included",
        request("PUT", "/key_quorums/q1?include=keys&x=%20y", '{"authorization_threshold":2}'),
        ["signer-c"],
    ),
    (
        "body/floats",
        "numbers in ECMAScript form: 2.0 -> 2, 1e21 -> 1e+21, 1e-7 stays, -0 -> 0",
        request(
            "POST",
            "/wallets/w1abc/rpc",
            '{"a":1.5,"b":2.0,"c":1e21,"d":1e-7,"e":-0,"f":0.000001,"g":1e20,"h":0.1}',
        ),
        ["signer-a"],
    ),
    (
        "body/unicode-keys",
        "keys sorted by UTF-16 code units, non-BMP included; strings as raw UTF-8",
        request(
            "POST",
            "/wallets/w1abc/rpc",
            '{"\\ue000":"private use","😀":"grinning","ﬁ":"ligature","é":"é","z":"日本語"}',
        ),
        ["signer-b"],
    ),
    (
        "body/control-characters",
        "control characters escaped as in RFC 8785",
        request("POST", "/wallets/w1abc/rpc", '{"s":"a\\u0000b\\u001fc\\n\\t\\"\\\\/\\u007f"}'),
        ["signer-c"],
    ),
    (
        "body/nested",
        "members sorted at every level; arrays keep their order",
        request(
            "POST",
            "/policies",
            '{"rules":[{"name":"r","conditions":[{"value":"1","field":"to"}],"action":"ALLOW"}],'
            '"version":"1.0","chain_type":"ethereum","name":"policy"}',
        ),
        ["signer-a"],
    ),
    (
        "body/whitespace-as-sent",
        "the body is parsed; whitespace and member order as sent do not matter",
        request("POST", "/wallets", ' {\n  "chain_type" : "solana",\n  "owner_id" : null\n} '),
        ["signer-a"],
    ),
    (
        "body/empty-object",
        "an empty object body is signed as the empty string",
        request("POST", "/wallets/w1abc/export", "{}"),
        ["signer-b"],
    ),
    (
        "body/empty-array",
        "an empty array body is signed as the empty string",
        request("POST", "/wallets/w1abc/export", "[]"),
        ["signer-b"],
    ),
    (
        "body/none",
        "no body at all is signed as null",
        request("DELETE", "/wallets/w1abc", None, expiry=False),
        ["signer-c"],
    ),
    (
        "body/json-null",
        "a JSON null body is signed as null",
        request("POST", "/wallets/w1abc/export", "null"),
        ["signer-c"],
    ),
    (
        "body/nested-empties-kept",
        "only a top-level empty body becomes the empty string",
        request("POST", "/wallets/w1abc/rpc", '{"a":{},"b":[],"c":""}'),
        ["signer-a"],
    ),
    (
        "expiry/absent",
        "no privy-request-expiry header: H holds privy-app-id only",
        request("POST", "/wallets/w1abc/rpc", '{"method":"eth_signTypedData_v4"}', expiry=False),
        ["signer-a", "signer-b", "signer-c"],
    ),
]


def _case(name: str, description: str, req: dict[str, Any], labels: list[str]) -> dict[str, Any]:
    data = payload(req)
    signers = [
        {**key_entry(p256(label)), "signature": sign(data, p256(label), deterministic=True)}
        for label in labels
    ]
    return {
        "name": name,
        "description": description,
        "request": req,
        "payload": {
            "utf8": data.decode("utf-8"),
            "hex": data.hex(),
            "sha256_hex": hashlib.sha256(data).hexdigest(),
        },
        "signers": signers,
        "signature_header": format_signature_header(s["signature"] for s in signers),
    }


def cases() -> list[dict[str, Any]]:
    return [_case(*row) for row in _REQUESTS]
