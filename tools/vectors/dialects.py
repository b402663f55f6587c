"""``dialects.json``: the payload each official Privy SDK signs for the same requests.

One group of cases per dialect of ``authsig.privy.dialects``: an empty object body, a DELETE
sent without a body (on a path where privy-client keeps the empty body), and a body with a
float of integral value (where canonicaljson and RFC 8785 differ). Each case carries the
dialect's payload, an RFC 6979 signature over it, and whether a verifier in the dialect and a
strict one (no dialect) approve the request.
"""

from __future__ import annotations

from typing import Any

from authsig.conformance import NOW_MS
from authsig.policy import Policy
from authsig.privy import KeyQuorum, signing_payload, verify_request
from authsig.privy.dialects import DIALECTS, Dialect
from authsig.signatures import sign

from .common import EXPIRY_MS, request
from .der import key_entry, p256

DESCRIPTION = (
    "Privy SDK dialects: the payload each official SDK signs (authsig.privy.dialects), "
    "signed, and whether a verifier in the dialect and a strict one approve."
)

#: (name suffix, description, method, path, body as sent)
_REQUESTS: list[tuple[str, str, str, str, str | None]] = [
    ("empty-object", "an empty object body", "POST", "/wallets/w1abc/rpc", "{}"),
    ("no-body-delete", "a DELETE sent without a body", "DELETE", "/key_quorums/kq1", None),
    ("integral-float", "a float of integral value", "POST", "/wallets", '{"amount":2.0}'),
]


def _case(dialect: Dialect, row: tuple[str, str, str, str, str | None]) -> dict[str, Any]:
    suffix, description, method, path, body = row
    signs_expiry = dialect.signs_header("privy-request-expiry")
    req = request(method, path, body, expiry=signs_expiry, idempotency="idem-0001")
    data = signing_payload(
        method=method, url=req["url"], body=body, headers=req["headers"], dialect=dialect.name
    )
    key = p256("signer-a")
    signature = sign(data, key, deterministic=True)
    headers = {**req["headers"], "privy-authorization-signature": signature}
    quorum = KeyQuorum(public_keys=(key.public_key,))
    common: dict[str, Any] = {
        "method": method, "url": req["url"], "body": body, "headers": headers,
        "quorum": quorum, "now_ms": NOW_MS,
    }  # fmt: skip
    in_dialect = verify_request(**common, policy=Policy(dialect=dialect.name))
    strict = verify_request(**common)
    return {
        "name": f"{dialect.name}/{suffix}",
        "description": f"{dialect.sdk} {dialect.checked}: {description}",
        "dialect": dialect.name,
        "request": {**req, "headers": headers},
        "signer": key_entry(key),
        "expected": {
            "payload": {"utf8": data.decode("utf-8"), "hex": data.hex()},
            "approved": in_dialect.approved,
            "strict_approved": strict.approved,
        },
    }


def cases() -> list[dict[str, Any]]:
    assert EXPIRY_MS > NOW_MS  # the cases with an expiry are fresh at the vectors' clock
    return [_case(dialect, row) for dialect in DIALECTS.values() for row in _REQUESTS]
