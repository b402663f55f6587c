"""``cobo.json``: Cobo WaaS 2.0 request signatures (``Biz-Api-*``) and event signatures."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from authsig.cobo.events import event_digest, sign_event
from authsig.cobo.signing import request_digest, sign_request, string_to_sign
from authsig.conformance import NOW_MS

from .der import ed25519_seed

DESCRIPTION = "Cobo WaaS 2.0 request (Biz-Api-*) and event (Biz-Resp-Signature) signatures."

#: (name, method, path, query string, body); the nonce is NOW_MS + the row's index.
_REQUESTS: list[tuple[str, str, str, str, str]] = [
    ("request/get-with-query", "GET", "/v2/wallets", "chain_ids=ETH,BTC&limit=10", ""),
    (
        "request/post-json",
        "POST",
        "/v2/transactions/transfer",
        "",
        '{"request_id":"r-1","source":{"source_type":"Asset","wallet_id":"w"},'
        '"token_id":"ETH","destination":{"destination_type":"Address",'
        '"account_output":{"address":"0x42","amount":"0.01"}}}',
    ),
    ("request/delete-no-body", "DELETE", "/v2/webhooks/endpoints/e1", "", ""),
    ("request/unicode-body", "PUT", "/v2/wallets/w1", "", '{"name":"钱包 ü 😀"}'),
]

#: (name, raw body); the timestamp is NOW_MS + 100 + the row's index.
_EVENTS: list[tuple[str, str]] = [
    ("event/webhook", '{"event_id":"e1","type":"wallets.transaction.succeeded","data":{}}'),
    ("event/empty-body", ""),
    ("event/unicode", '{"note":"über 😀"}'),
]


def _request_case(
    name: str, method: str, path: str, query: str, body: str, nonce: int
) -> dict[str, Any]:
    secret = ed25519_seed("cobo/api").hex()
    parts = {"method": method, "path": path, "query": query, "body": body}
    headers = sign_request(secret, nonce_ms=nonce, **parts)
    return {
        "name": name,
        "kind": "request",
        "api_secret_hex": secret,
        "api_key_hex": headers["Biz-Api-Key"],
        "request": parts,
        "nonce_ms": nonce,
        "string_to_sign": string_to_sign(nonce=nonce, **parts).decode("utf-8"),
        "digest_hex": request_digest(nonce=nonce, **parts).hex(),
        "signature_hex": headers["Biz-Api-Signature"],
        "headers": headers,
    }


def _event_case(name: str, body: str, timestamp: int) -> dict[str, Any]:
    seed = ed25519_seed("cobo/events")
    headers = sign_event(body, seed.hex(), timestamp_ms=timestamp)
    public = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key()
    return {
        "name": name,
        "kind": "event",
        "private_key_hex": seed.hex(),
        "public_key_hex": public.public_bytes_raw().hex(),
        "body": body,
        "timestamp_ms": timestamp,
        "content": f"{body}|{timestamp}",
        "digest_hex": event_digest(body, timestamp).hex(),
        "signature_hex": headers["Biz-Resp-Signature"],
        "headers": headers,
    }


def cases() -> list[dict[str, Any]]:
    out = [_request_case(*row, NOW_MS + i) for i, row in enumerate(_REQUESTS)]
    out += [_event_case(*row, NOW_MS + 100 + i) for i, row in enumerate(_EVENTS)]
    return out
