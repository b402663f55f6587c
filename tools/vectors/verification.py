"""``verification.json``: a verifier's decision on signed, tampered and malformed requests.

Each case has exactly one fault. A case names its quorum, the request sent, the signature
header and the options from the tables below; the requests and headers are built once by
:func:`_requests` and :func:`_headers`.
"""

from __future__ import annotations

import base64
from typing import Any, NamedTuple

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from authsig.conformance import NOW_MS
from authsig.privy import format_signature_header

from .common import (
    APP_ID,
    EXPIRY_MS,
    RPC_BODY,
    header,
    payload,
    request,
    s_is_high,
    signatures,
    twin,
)
from .decisions import decision_case, quorum_of
from .der import secp256k1, spki_b64

DESCRIPTION = "Verifier decisions on signed, tampered and malformed requests."

_RESERIALIZED = (
    '{\n  "params": { "transaction": { "value": 1, "to": "0x42" } },\n'
    '  "method": "eth_signTransaction"\n}\n'
)

_OPTIONS: dict[str, dict[str, Any]] = {
    "empty-body-preserve": {"empty_body": "preserve"},
    "canonicaljson": {"profile": "canonicaljson"},
    "allow-foreign": {"allow_foreign_signatures": True},
    "require-expiry": {"require_expiry": True},
}


class _Row(NamedTuple):
    """One case. ``sent`` names an entry of :func:`_requests`; ``header`` an entry of
    :func:`_headers` ("sent": the owner signed the request as sent, under the case's
    options; None: no signature header); ``options`` an entry of :data:`_OPTIONS`."""

    name: str
    expected: str
    quorum: str
    sent: str
    header: str | None
    description: str
    options: str | None = None


_V = _Row
_CASES: list[_Row] = [
    _V("valid/one-signer", "approved", "1-of-1", "rpc", "owner", "1-of-1, valid signature"),
    _V("valid/two-signers", "approved", "2-of-2", "rpc", "owner+cosigner", "2-of-2, both sign"),
    _V(
        "valid/order-does-not-matter",
        "approved",
        "2-of-2",
        "rpc",
        "cosigner+owner",
        "the header's order carries no meaning",
    ),
    _V(
        "valid/spaces-after-commas",
        "approved",
        "2-of-2",
        "rpc",
        "spaces-after-commas",
        "spaces after commas are tolerated",
    ),
    _V(
        "valid/no-expiry",
        "approved",
        "1-of-1",
        "no-expiry",
        "sent",
        "expiry is optional by default",
    ),
    _V(
        "valid/body-reserialized",
        "approved",
        "1-of-1",
        "body-reserialized",
        "owner",
        "the body is compared after canonicalization: whitespace and order as sent differ",
    ),
    _V(
        "valid/empty-object-body",
        "approved",
        "1-of-1",
        "empty-object",
        "sent",
        "{} signed as the empty string",
    ),
    _V(
        "valid/empty-body-preserve",
        "approved",
        "1-of-1",
        "empty-object",
        "sent",
        "signed and verified with empty_body=preserve (Rust SDK convention)",
        "empty-body-preserve",
    ),
    _V(
        "tampered/empty-body-convention",
        "invalid_signature",
        "1-of-1",
        "empty-object",
        "empty-object-preserved",
        "signed with {} preserved, verified with the default (empty string)",
    ),
    _V(
        "valid/canonicaljson-profile",
        "approved",
        "1-of-1",
        "floats",
        "sent",
        "signed by the Python SDK's canonicaljson form, verified with that profile",
        "canonicaljson",
    ),
    _V(
        "tampered/canonicaljson-vs-rfc8785",
        "invalid_signature",
        "1-of-1",
        "floats",
        "floats-canonicaljson",
        "a canonicaljson signature over integral floats does not match RFC 8785 bytes",
    ),
    _V(
        "valid/lower-case-method",
        "approved",
        "1-of-1",
        "lower-case-method",
        "upper-case-method",
        "the method is compared upper-cased",
    ),
    _V(
        "valid/high-s",
        "approved",
        "1-of-1",
        "rpc",
        "high-s",
        "high-S signatures are valid (SDKs do not normalize)",
    ),
    _V("valid/low-s", "approved", "1-of-1", "rpc", "low-s", "the low-S twin is valid too"),
    _V(
        "twin/counted-once",
        "threshold_not_met",
        "2-of-2",
        "rpc",
        "owner+twin",
        "a signature and its malleated twin (r, n-s) are one key's approval: 2-of-2 fails",
    ),
    _V(
        "duplicate/same-signature-twice",
        "duplicate_signature",
        "2-of-2",
        "rpc",
        "owner+owner",
        "the same signature twice in the header",
    ),
    _V(
        "tampered/method",
        "invalid_signature",
        "1-of-1",
        "method-put",
        "owner",
        "signed as POST, sent as PUT",
    ),
    _V(
        "tampered/url-trailing-slash",
        "invalid_signature",
        "1-of-1",
        "url-trailing-slash",
        "owner",
        "the URL gained a trailing slash",
    ),
    _V("tampered/url-host", "invalid_signature", "1-of-1", "url-host", "owner", "another host"),
    _V(
        "tampered/body-value",
        "invalid_signature",
        "1-of-1",
        "body-value",
        "owner",
        "one value of the body changed",
    ),
    _V(
        "tampered/idempotency-key",
        "invalid_signature",
        "1-of-1",
        "idempotency-key-changed",
        "owner",
        "privy-idempotency-key changed",
    ),
    _V(
        "tampered/idempotency-key-removed",
        "invalid_signature",
        "1-of-1",
        "idempotency-key-removed",
        "owner",
        "signed with an idempotency key, sent without",
    ),
    _V(
        "tampered/expiry",
        "invalid_signature",
        "1-of-1",
        "expiry-changed",
        "owner",
        "privy-request-expiry changed (still a valid time)",
    ),
    _V(
        "tampered/app-id",
        "invalid_signature",
        "1-of-1",
        "app-id-changed",
        "owner",
        "privy-app-id changed",
    ),
    _V(
        "wrong-key/non-member",
        "invalid_signature",
        "1-of-1",
        "rpc",
        "stranger",
        "signed by a key that is not a member",
    ),
    _V(
        "foreign/strict",
        "invalid_signature",
        "1-of-1",
        "rpc",
        "owner+stranger",
        "enough member signatures plus a foreign one: refused by default",
    ),
    _V(
        "foreign/allowed",
        "approved",
        "1-of-1",
        "rpc",
        "owner+stranger",
        "the same with allow_foreign_signatures",
        "allow-foreign",
    ),
    _V(
        "foreign/allowed-but-not-enough",
        "threshold_not_met",
        "1-of-1",
        "rpc",
        "stranger",
        "foreign signatures ignored, but the member's is missing",
        "allow-foreign",
    ),
    _V(
        "wrong-curve/secp256k1-signature",
        "invalid_signature",
        "1-of-1",
        "rpc",
        "secp256k1",
        "an ECDSA signature by a secp256k1 key matches no P-256 member",
    ),
    _V(
        "expiry/expired",
        "expired",
        "1-of-1",
        "expiry-61s-ago",
        "sent",
        "61 s in the past (skew 60 s)",
    ),
    _V(
        "expiry/within-skew",
        "approved",
        "1-of-1",
        "expiry-30s-ago",
        "sent",
        "30 s in the past, inside the 60 s skew",
    ),
    _V(
        "expiry/too-far",
        "expiry_too_far",
        "1-of-1",
        "expiry-beyond-limit",
        "sent",
        "1 h + 60 s + 1 ms ahead",
    ),
    _V(
        "expiry/at-limit",
        "approved",
        "1-of-1",
        "expiry-at-limit",
        "sent",
        "exactly 1 h + 60 s ahead",
    ),
    _V(
        "expiry/seconds",
        "expiry_in_seconds",
        "1-of-1",
        "expiry-in-seconds",
        "sent",
        "an expiry in seconds",
    ),
    _V(
        "expiry/malformed",
        "malformed_expiry",
        "1-of-1",
        "expiry-not-digits",
        "sent",
        "not decimal digits",
    ),
    _V(
        "expiry/required",
        "expiry_required",
        "1-of-1",
        "no-expiry",
        "sent",
        "require_expiry and no privy-request-expiry",
        "require-expiry",
    ),
    _V("header/missing", "missing_signature", "1-of-1", "rpc", None, "no signature header"),
    _V(
        "header/empty-entry",
        "empty_signature_entry",
        "2-of-2",
        "rpc",
        "double-comma",
        "two commas in a row",
    ),
    _V(
        "header/trailing-comma",
        "empty_signature_entry",
        "1-of-1",
        "rpc",
        "trailing-comma",
        "a trailing comma",
    ),
    _V(
        "header/not-base64",
        "malformed_signature_header",
        "1-of-1",
        "rpc",
        "not-base64",
        "an entry that is not base64",
    ),
    _V(
        "header/base64-url-alphabet",
        "malformed_signature_header",
        "1-of-1",
        "rpc",
        "base64url",
        "base64url instead of standard base64",
    ),
    _V(
        "header/not-der",
        "malformed_signature",
        "1-of-1",
        "rpc",
        "not-der",
        "base64 of something that is not a DER signature",
    ),
    _V(
        "header/too-many",
        "signature_header_too_large",
        "1-of-1",
        "rpc",
        "65-entries",
        "65 entries (limit 64)",
    ),
    _V(
        "request/missing-app-id",
        "missing_header",
        "1-of-1",
        "app-id-missing",
        "owner",
        "privy-app-id missing",
    ),
    _V(
        "request/invalid-body",
        "invalid_body",
        "1-of-1",
        "body-not-json",
        "owner",
        "the body is not JSON",
    ),
]


def _changed(rpc: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """``rpc`` with some members replaced (the request signed, then altered)."""
    return {**rpc, "headers": dict(rpc["headers"]), **changes}


def _with_expiry(value: str) -> dict[str, Any]:
    req = request("POST", "/wallets/w1abc/rpc", RPC_BODY, expiry=False)
    req["headers"]["privy-request-expiry"] = value
    return req


def _requests() -> dict[str, dict[str, Any]]:
    """Every request a case sends, by name; "rpc" is the one the shared headers sign."""
    rpc = request("POST", "/wallets/w1abc/rpc", RPC_BODY, idempotency="idem-42")
    sent = rpc["headers"]
    return {
        "rpc": rpc,
        "no-expiry": request("POST", "/wallets/w1abc/rpc", RPC_BODY, expiry=False),
        "empty-object": request("POST", "/wallets/w1abc/export", "{}"),
        "floats": request("POST", "/wallets/w1abc/rpc", '{"amount":2.0,"fee":1e-7}'),
        "lower-case-method": request("post", "/wallets/w1abc/rpc", RPC_BODY),
        "body-reserialized": _changed(rpc, body=_RESERIALIZED),
        "method-put": _changed(rpc, method="PUT"),
        "url-trailing-slash": _changed(rpc, url=rpc["url"] + "/"),
        "url-host": _changed(rpc, url=rpc["url"].replace("api.privy.io", "auth.privy.io")),
        "body-value": _changed(rpc, body=RPC_BODY.replace('"value":1', '"value":2')),
        "idempotency-key-changed": _changed(
            rpc, headers={**sent, "privy-idempotency-key": "idem-43"}
        ),
        "idempotency-key-removed": _changed(
            rpc, headers={k: v for k, v in sent.items() if k != "privy-idempotency-key"}
        ),
        "expiry-changed": _changed(
            rpc, headers={**sent, "privy-request-expiry": str(EXPIRY_MS + 1)}
        ),
        "app-id-changed": _changed(rpc, headers={**sent, "privy-app-id": APP_ID + "x"}),
        "app-id-missing": _changed(
            rpc, headers={k: v for k, v in sent.items() if k != "privy-app-id"}
        ),
        "body-not-json": _changed(rpc, body='{"method": eth_sign}'),
        "expiry-61s-ago": _with_expiry(str(NOW_MS - 61_000)),
        "expiry-30s-ago": _with_expiry(str(NOW_MS - 30_000)),
        "expiry-beyond-limit": _with_expiry(str(NOW_MS + 3_600_000 + 60_001)),
        "expiry-at-limit": _with_expiry(str(NOW_MS + 3_600_000 + 60_000)),
        "expiry-in-seconds": _with_expiry(str(EXPIRY_MS // 1000)),
        "expiry-not-digits": _with_expiry("17672256O0000"),
    }


def _secp256k1_signature(rpc: dict[str, Any]) -> str:
    der = secp256k1("keys/secp256k1").sign(
        payload(rpc), ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
    )
    return base64.b64encode(der).decode()


def _headers(requests: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Every signature header a case sends but "sent", by name; most sign "rpc"."""
    rpc = requests["rpc"]
    owner, cosigner = signatures(rpc, ["owner", "cosigner"])
    owner_twin = twin(owner)
    high, low = (owner_twin, owner) if s_is_high(owner_twin) else (owner, owner_twin)
    stranger = signatures(rpc, ["stranger"])[0]
    fillers = signatures(rpc, [f"filler-{i}" for i in range(64)])
    return {
        "owner": owner,
        "owner+cosigner": format_signature_header([owner, cosigner]),
        "cosigner+owner": format_signature_header([cosigner, owner]),
        "spaces-after-commas": f"{owner}, {cosigner}",
        "high-s": high,
        "low-s": low,
        "owner+twin": format_signature_header([owner, owner_twin]),
        "owner+owner": f"{owner},{owner}",
        "stranger": stranger,
        "owner+stranger": format_signature_header([owner, stranger]),
        "secp256k1": _secp256k1_signature(rpc),
        "double-comma": f"{owner},,{cosigner}",
        "trailing-comma": owner + ",",
        "not-base64": owner + ",not*base64!",
        "base64url": owner + ",MEUCIQC-_w",
        "not-der": base64.b64encode(b"\x30\x06\x02\x01\x01\x02\x01").decode(),
        "65-entries": format_signature_header([owner, *fillers]),
        "empty-object-preserved": header(
            requests["empty-object"], ["owner"], _OPTIONS["empty-body-preserve"]
        ),
        "floats-canonicaljson": header(requests["floats"], ["owner"], _OPTIONS["canonicaljson"]),
        # Signed as a client sends it (the method upper-cased), received lower-case.
        "upper-case-method": header({**requests["lower-case-method"], "method": "POST"}, ["owner"]),
    }


def _quorums() -> dict[str, dict[str, Any]]:
    return {
        "1-of-1": quorum_of(["owner"], threshold=1),
        "2-of-2": quorum_of(["owner", "cosigner"], threshold=2),
    }


def _wrong_curve_member(requests: dict[str, dict[str, Any]], owner: str) -> dict[str, Any]:
    """A quorum with a member key on secp256k1: refused when the quorum is loaded."""
    bad = quorum_of(["owner"], threshold=1)
    k1_public = spki_b64(secp256k1("keys/secp256k1").public_key())
    bad["authorization_keys"].append({"public_key": k1_public, "display_name": "secp256k1 key"})
    case = decision_case(
        "wrong-curve/member-key",
        "a quorum member key on secp256k1 is refused when the quorum is loaded",
        "approved",
        bad,
        requests["rpc"],
        owner,
    )
    case["expected"] = {"quorum_error": "invalid_quorum"}
    return case


def cases() -> list[dict[str, Any]]:
    requests, quorums = _requests(), _quorums()
    headers = _headers(requests)
    out = []
    for row in _CASES:
        sent = requests[row.sent]
        options = _OPTIONS[row.options] if row.options else None
        if row.header == "sent":
            signature_header: str | None = header(sent, ["owner"], options)
        else:
            signature_header = None if row.header is None else headers[row.header]
        out.append(
            decision_case(
                row.name,
                row.description,
                row.expected,
                quorums[row.quorum],
                sent,
                signature_header,
                options=options,
            )
        )
    out.append(_wrong_curve_member(requests, headers["owner"]))
    return out
