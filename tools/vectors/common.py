"""What several vector files share: the fixed clock, the app, requests, payloads, signatures."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from authsig.conformance import NOW_MS
from authsig.privy import format_signature_header, signing_payload
from authsig.signatures import der_to_raw, raw_to_der, sign

from .der import P256_ORDER, p256

#: ``now + 15 minutes``: the expiry the SDKs would send.
EXPIRY_MS = NOW_MS + 15 * 60 * 1000

APP_ID = "cm4vectorsapp00000000000"
BASE_URL = "https://api.privy.io/v1"
#: The body of the wallet RPC request the decision cases sign.
RPC_BODY = '{"method":"eth_signTransaction","params":{"transaction":{"to":"0x42","value":1}}}'


def request(
    method: str,
    path: str,
    body: str | None,
    *,
    expiry: bool = True,
    idempotency: str | None = None,
) -> dict[str, Any]:
    """A request to the Privy API as a client sends it (signature header not included)."""
    headers: dict[str, str] = {"privy-app-id": APP_ID}
    if idempotency is not None:
        headers["privy-idempotency-key"] = idempotency
    if expiry:
        headers["privy-request-expiry"] = str(EXPIRY_MS)
    return {"method": method, "url": BASE_URL + path, "body": body, "headers": headers}


def payload(req: Mapping[str, Any], options: Mapping[str, Any] | None = None) -> bytes:
    """The signing payload of ``req`` under the verification ``options`` that shape it."""
    opts = dict(options or {})
    return signing_payload(
        method=req["method"],
        url=req["url"],
        body=req["body"],
        headers=req["headers"],
        empty_body=opts.get("empty_body", "string"),
        profile=opts.get("profile", "rfc8785"),
    )


def signatures(
    req: Mapping[str, Any], labels: list[str], options: Mapping[str, Any] | None = None
) -> list[str]:
    """Deterministic (RFC 6979) signatures of ``req`` by the P-256 keys of ``labels``."""
    data = payload(req, options)
    return [sign(data, p256(label), deterministic=True) for label in labels]


def header(
    req: Mapping[str, Any], labels: list[str], options: Mapping[str, Any] | None = None
) -> str:
    """The ``privy-authorization-signature`` header of ``req`` signed by ``labels``."""
    return format_signature_header(signatures(req, labels, options))


def twin(signature: str) -> str:
    """The malleated twin (r, n - s) of a base64 DER signature."""
    raw = der_to_raw(base64.b64decode(signature))
    r, s = raw[:32], int.from_bytes(raw[32:], "big")
    return base64.b64encode(raw_to_der(r + (P256_ORDER - s).to_bytes(32, "big"))).decode()


def s_is_high(signature: str) -> bool:
    raw = der_to_raw(base64.b64decode(signature))
    return int.from_bytes(raw[32:], "big") > P256_ORDER // 2
