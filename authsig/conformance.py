"""Checker of the published test vectors (``vectors/``): ``authsig vectors check DIR``.

:func:`check` runs the library against every case of a vectors directory and returns a
:class:`CheckReport`. ``vectors/README.md`` describes the files. Decisions are checked through
the public API (:func:`authsig.privy.verify_request` with a :class:`~authsig.policy.Policy`),
so a pass means what a user of the library would get.

The generator of the files is not part of the package: it lives in ``tools/vectors/`` of the
source repository (``python -m tools.vectors generate vectors``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from authsig.cobo import events as cobo_events
from authsig.cobo import signing as cobo_signing
from authsig.errors import AuthSigError
from authsig.jcs import canonicalize
from authsig.keys import PublicKey, load_private_key, load_public_key
from authsig.policy import Policy
from authsig.privy import (
    KeyQuorum,
    format_signature_header,
    parse_signature_header,
    sign_request,
    signing_payload,
    verify_request,
)
from authsig.signatures import sign, verify_signature

__all__ = ["FORMAT_VERSION", "KINDS", "NOW_MS", "CheckReport", "check"]

#: Version of the vector file format (the ``format_version`` member of every file).
FORMAT_VERSION = 1
#: The fixed "current time" of the vectors: 2026-01-01T00:00:00Z in milliseconds. The signing
#: cases carry an expiry but not the clock it was computed from, so the checker needs it.
NOW_MS = 1_767_225_600_000
#: The vector files, by kind (``<kind>.json``), in the order they are checked.
KINDS: tuple[str, ...] = (
    "keys",
    "canonicalization",
    "signing",
    "verification",
    "quorum",
    "cobo",
    "dialects",
    "httpsig",
    "turnkey",
)


@dataclass(frozen=True)
class CheckReport:
    """The outcome of :func:`check`: how many cases passed and which failed (with why)."""

    passed: int
    failed: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Number of cases checked (plus file-level failures)."""
        return self.passed + len(self.failed)

    @property
    def ok(self) -> bool:
        """True when at least one case ran and none failed."""
        return not self.failed and self.passed > 0


# A case checker returns None when the case passes, else why it failed.
_Checker = Callable[[Mapping[str, Any]], "str | None"]


def _check_key_case(case: Mapping[str, Any]) -> str | None:
    expected = case["expected"]
    loader: Callable[[str], Any] = load_public_key if case["kind"] == "public" else load_private_key
    try:
        loaded = loader(case["input"])
    except AuthSigError as exc:
        if "error" in expected and exc.code == expected["error"]:
            return None
        return f"raised {exc.code}, expected {expected}"
    if "error" in expected:
        return f"loaded, expected error {expected['error']}"
    pub = loaded if isinstance(loaded, PublicKey) else loaded.public_key
    if pub.to_base64() != expected["public_key"]:
        return "public key differs"
    if pub.key_id != expected["key_id"]:
        return f"key id {pub.key_id} != {expected['key_id']}"
    return None


def _check_canon_case(case: Mapping[str, Any]) -> str | None:
    expected = case["expected"]
    try:
        out = canonicalize(json.loads(case["input"]), **case["options"])
    except AuthSigError as exc:
        if "error" not in expected:
            return f"raised {exc.code}: {exc.message}"
        if exc.code != expected["error"]:
            return f"raised {exc.code}, expected {expected['error']}"
        path = getattr(exc, "path", None)
        if path != expected["path"]:
            return f"error path {path!r}, expected {expected['path']!r}"
        return None
    if "error" in expected:
        return f"produced output, expected error {expected['error']}"
    if out.hex() != expected["hex"]:
        return f"got {out!r}"
    if out.decode("utf-8") != expected["utf8"]:
        return "utf8 and hex disagree"
    return None


def _payload(request: Mapping[str, Any]) -> bytes:
    return signing_payload(
        method=request["method"],
        url=request["url"],
        body=request["body"],
        headers=request["headers"],
    )


def _check_signer(index: int, signer: Mapping[str, Any], payload: bytes) -> str | None:
    key = load_private_key(signer["private_key"])
    if key.crypto.private_numbers().private_value != int(signer["private_scalar_hex"], 16):
        return f"signer {index}: private scalar differs"
    if key.public_key.to_base64() != signer["public_key"]:
        return f"signer {index}: public key differs"
    if key.public_key.key_id != signer["key_id"]:
        return f"signer {index}: key id differs"
    if sign(payload, key, deterministic=True) != signer["signature"]:
        return f"signer {index}: RFC 6979 signature differs"
    if not verify_signature(payload, signer["signature"], load_public_key(signer["public_key"])):
        return f"signer {index}: signature does not verify"
    return None


def _check_signing_case(case: Mapping[str, Any]) -> str | None:
    payload = _payload(case["request"])
    if payload.hex() != case["payload"]["hex"]:
        return f"payload differs: {payload!r}"
    if payload.decode("utf-8") != case["payload"]["utf8"]:
        return "payload utf8 and hex disagree"
    if hashlib.sha256(payload).hexdigest() != case["payload"]["sha256_hex"]:
        return "sha256 differs"
    for index, signer in enumerate(case["signers"]):
        problem = _check_signer(index, signer, payload)
        if problem is not None:
            return problem
    sigs = [signer["signature"] for signer in case["signers"]]
    if format_signature_header(sigs) != case["signature_header"]:
        return "signature header differs"
    if parse_signature_header(case["signature_header"]) != sigs:
        return "signature header does not parse back"
    return _check_sign_request(case, payload)


def _check_sign_request(case: Mapping[str, Any], payload: bytes) -> str | None:
    """sign_request (the recipe) must produce the same headers."""
    request = case["request"]
    lowered = {k.lower(): v for k, v in request["headers"].items()}
    expiry = lowered.get("privy-request-expiry")
    headers = sign_request(
        method=request["method"],
        url=request["url"],
        body=request["body"],
        app_id=lowered["privy-app-id"],
        keys=[load_private_key(s["private_key"]) for s in case["signers"]],
        idempotency_key=lowered.get("privy-idempotency-key"),
        expires_in=None if expiry is None else timedelta(milliseconds=int(expiry) - NOW_MS),
        now_ms=NOW_MS,
        deterministic=True,
    )
    if headers.get("privy-authorization-signature") != case["signature_header"]:
        return "sign_request produced a different signature header"
    if headers.get("privy-request-expiry") != expiry:
        return "sign_request produced a different expiry"
    if _payload({**request, "headers": headers}) != payload:
        return "sign_request headers give a different payload"
    return None


def _policy(options: Mapping[str, Any]) -> Policy:
    return Policy(
        allow_foreign_signatures=options["allow_foreign_signatures"],
        require_expiry=options["require_expiry"],
        max_lifetime=timedelta(milliseconds=options["max_lifetime_ms"]),
        clock_skew=timedelta(milliseconds=options["clock_skew_ms"]),
        empty_body=options["empty_body"],
        profile=options["profile"],
    )


def _check_decision_case(case: Mapping[str, Any]) -> str | None:
    expected = case["expected"]
    try:
        nested = {
            qid: KeyQuorum.from_privy(obj) for qid, obj in sorted(case["nested_quorums"].items())
        }
        quorum = KeyQuorum.from_privy(case["quorum"], nested)
    except AuthSigError as exc:
        if expected.get("quorum_error") == exc.code:
            return None
        return f"quorum refused ({exc.code}): {exc.message}"
    if "quorum_error" in expected:
        return f"quorum loaded, expected {expected['quorum_error']}"
    user_map = {u: list(keys) for u, keys in case["user_keys"].items()}

    def resolve(user_id: str) -> list[str]:
        return user_map.get(user_id, [])

    request = case["request"]
    decision = verify_request(
        method=request["method"],
        url=request["url"],
        body=request["body"],
        headers=request["headers"],
        quorum=quorum,
        now_ms=case["now_ms"],
        user_keys=resolve,
        policy=_policy(case["options"]),
    )
    got = (decision.approved, decision.reason, decision.http_status)
    want = (expected["approved"], expected["reason"], expected["http_status"])
    if got != want:
        return f"decision {got}, expected {want}: {decision.message}"
    return None


def _check_cobo_request(case: Mapping[str, Any]) -> str | None:
    r = case["request"]
    nonce = case["nonce_ms"]
    parts = {"method": r["method"], "path": r["path"], "query": r["query"], "body": r["body"]}
    if cobo_signing.string_to_sign(nonce=nonce, **parts).decode("utf-8") != case["string_to_sign"]:
        return "string to sign differs"
    if cobo_signing.request_digest(nonce=nonce, **parts).hex() != case["digest_hex"]:
        return "digest differs"
    headers = cobo_signing.sign_request(case["api_secret_hex"], nonce_ms=nonce, **parts)
    if headers["Biz-Api-Signature"] != case["signature_hex"]:
        return "signature differs (Ed25519 is deterministic)"
    if headers != case["headers"]:
        return f"headers differ: {headers}"
    decision = cobo_signing.verify_request(
        case["headers"], api_keys=case["api_key_hex"], now_ms=nonce, **parts
    )
    if not decision.approved:
        return f"verify_request refused: {decision.reason}"
    tampered = {**parts, "body": r["body"] + " "}
    if cobo_signing.verify_request(
        case["headers"], api_keys=case["api_key_hex"], now_ms=nonce, **tampered
    ).approved:
        return "a tampered body verified"
    return None


def _check_cobo_event(case: Mapping[str, Any]) -> str | None:
    ts = case["timestamp_ms"]
    if cobo_events.event_digest(case["body"], ts).hex() != case["digest_hex"]:
        return "event digest differs"
    headers = cobo_events.sign_event(case["body"], case["private_key_hex"], timestamp_ms=ts)
    if headers["Biz-Resp-Signature"] != case["signature_hex"]:
        return "event signature differs (Ed25519 is deterministic)"
    if headers != case["headers"]:
        return "event headers differ"
    public_key = case["public_key_hex"]
    decision = cobo_events.verify_event(
        case["body"], case["headers"], public_key=public_key, now_ms=ts
    )
    if not decision.approved:
        return f"verify_event refused: {decision.reason}"
    if cobo_events.verify_event(
        case["body"] + "x", case["headers"], public_key=public_key, now_ms=ts
    ).approved:
        return "a tampered event verified"
    return None


def _check_cobo_case(case: Mapping[str, Any]) -> str | None:
    if case["kind"] == "request":
        return _check_cobo_request(case)
    return _check_cobo_event(case)


def _check_dialect_case(case: Mapping[str, Any]) -> str | None:
    """The dialect's payload, the signature over it (sign_request reproduces it), and the
    decisions of a verifier in the dialect and of a strict one."""
    request, expected, dialect = case["request"], case["expected"], case["dialect"]
    headers = dict(request["headers"])
    signature = headers.pop("privy-authorization-signature")
    payload = signing_payload(
        method=request["method"], url=request["url"], body=request["body"], headers=headers,
        dialect=dialect,
    )  # fmt: skip
    if payload.hex() != expected["payload"]["hex"]:
        return f"payload differs: {payload!r}"
    if payload.decode("utf-8") != expected["payload"]["utf8"]:
        return "payload utf8 and hex disagree"
    problem = _check_signer(0, {**case["signer"], "signature": signature}, payload)
    if problem is not None:
        return problem
    expiry = headers.get("privy-request-expiry")
    made = sign_request(
        method=request["method"], url=request["url"], body=request["body"],
        app_id=headers["privy-app-id"], keys=load_private_key(case["signer"]["private_key"]),
        idempotency_key=headers.get("privy-idempotency-key"),
        expires_in=None if expiry is None else timedelta(milliseconds=int(expiry) - NOW_MS),
        now_ms=NOW_MS, deterministic=True, dialect=dialect,
    )  # fmt: skip
    if made != request["headers"]:
        return "sign_request in the dialect produced other headers"
    quorum = KeyQuorum.from_privy({"public_keys": [case["signer"]["public_key"]]})
    common: dict[str, Any] = {**request, "quorum": quorum, "now_ms": NOW_MS}
    if verify_request(**common, policy=Policy(dialect=dialect)).approved != expected["approved"]:
        return f"a verifier in dialect {dialect} decided otherwise"
    if verify_request(**common).approved != expected["strict_approved"]:
        return "a strict verifier decided otherwise"
    return None


def _httpsig_quorum(spec: Any) -> Any:
    from authsig.httpsig import Quorum

    members = [_httpsig_quorum(m) if isinstance(m, dict) else m for m in spec["members"]]
    return Quorum.of(spec["threshold"], members, spec.get("name", ""))


def _check_httpsig_resign(
    case: Mapping[str, Any], entries: Any, bases: dict[str, bytes]
) -> str | None:
    """An approved case's signatures reproduce (Ed25519; P-256 with RFC 6979 nonces)."""
    from authsig.httpsig.algorithms import load_signing_key, sign_base

    for entry in entries:
        key = load_signing_key(case["keys"][entry.keyid]["private_key_pem"])
        if sign_base(bases[entry.label], key, deterministic=True) != entry.signature:
            return f"{entry.label}: the signature does not reproduce"
    return None


def _check_httpsig_case(case: Mapping[str, Any]) -> str | None:
    from authsig.httpsig import HttpMessage, parse_signatures, signature_base, verify_request

    req = case["request"]
    message = HttpMessage.build(req["method"], req["url"], [tuple(h) for h in req["headers"]])
    entries = parse_signatures(
        message.field_lines("signature-input"), message.field_lines("signature")
    )
    bases = {e.label: signature_base(message, e.covered, e.params_text) for e in entries}
    if {k: v.decode("ascii") for k, v in bases.items()} != case["signature_bases"]:
        return "signature bases differ"
    quorum = _httpsig_quorum(case["quorum"]) if case["quorum"] else None
    keys = {keyid: entry["public_key_pem"] for keyid, entry in case["keys"].items()}
    decision = verify_request(
        message,
        req["body"].encode("utf-8"),
        keys=keys,
        quorum=quorum,
        now_ms=case["now_ms"],
        **case["options"],
    ).decision
    got = {"approved": decision.approved, "reason": decision.reason}
    if got != case["expected"]:
        return f"expected {case['expected']}, got {got}"
    return _check_httpsig_resign(case, entries, bases) if decision.approved else None


def _turnkey_quorum(spec: Mapping[str, Any]) -> Any:
    from authsig.turnkey import Quorum, TurnkeyPublicKey, User

    members: list[Any] = []
    for member in spec["members"]:
        if "user_id" in member:
            keys = [
                TurnkeyPublicKey.from_hex(k["public_key_hex"], k["scheme"]) for k in member["keys"]
            ]
            members.append(User(member["user_id"], keys))
        else:
            members.append(_turnkey_quorum(member))
    return Quorum(spec["threshold"], tuple(members), name=spec["name"])


def _check_turnkey_stamp(case: Mapping[str, Any]) -> str | None:
    from authsig.turnkey import TurnkeyError, TurnkeyPrivateKey, stamp, verify_stamp

    key = TurnkeyPrivateKey.from_hex(case["private_key_hex"], case["scheme"])
    if key.public_key.hex != case["public_key_hex"]:
        return "the public key differs"
    body = case["body"].encode("utf-8")
    if stamp(body, key, deterministic=True) != case["stamp"]:
        return "the stamp does not reproduce"
    parsed = verify_stamp(body, case["stamp"], keys=[key.public_key])
    if parsed.signature.hex() != case["signature_hex"]:
        return "the signature differs"
    try:
        verify_stamp(body + b" ", case["stamp"])
    except TurnkeyError:
        return None
    return "the stamp verifies over another body"


def _check_turnkey_case(case: Mapping[str, Any]) -> str | None:
    from authsig.turnkey import Approval, TurnkeyError, verify_approvals, verify_stamp

    if case["kind"] == "stamp":
        return _check_turnkey_stamp(case)
    if case["kind"] == "malformed":
        try:
            verify_stamp(case["body"].encode("utf-8"), case["stamp"])
        except TurnkeyError as exc:
            return None if exc.code == case["error_code"] else f"raised {exc.code}"
        return "the malformed stamp was accepted"
    approvals = [Approval(a["body"].encode("utf-8"), a["stamp"]) for a in case["approvals"]]
    decision = verify_approvals(
        approvals,
        _turnkey_quorum(case["quorum"]),
        fingerprint=case["fingerprint"],
        organization_id=case["organization_id"],
    )
    got = {
        "approved": decision.approved,
        "reason": decision.reason,
        "approvers": list(decision.approvers),
        "rejected": [list(row) for row in decision.rejected],
    }
    return None if got == case["expected"] else f"expected {case['expected']}, got {got}"


_CHECKERS: dict[str, _Checker] = {
    "keys": _check_key_case,
    "canonicalization": _check_canon_case,
    "signing": _check_signing_case,
    "verification": _check_decision_case,
    "quorum": _check_decision_case,
    "cobo": _check_cobo_case,
    "dialects": _check_dialect_case,
    "httpsig": _check_httpsig_case,
    "turnkey": _check_turnkey_case,
}


def _load(directory: Path, kind: str) -> tuple[list[Any], str | None]:
    """The cases of ``<kind>.json``, or why the file cannot be checked."""
    name = f"{kind}.json"
    try:
        data = json.loads((directory / name).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [], f"{name}: cannot read ({type(exc).__name__}: {exc})"
    if not isinstance(data, dict) or data.get("format") != f"authsig-vectors/{kind}":
        return [], f"{name}: not an authsig-vectors/{kind} file"
    if data.get("format_version") != FORMAT_VERSION:
        return [], f"{name}: format_version {data.get('format_version')!r} unsupported"
    return list(data.get("cases") or []), None


def check(directory: Path) -> CheckReport:
    """Run the library against every case in ``directory``.

    A failure is ``"FILE:CASE: why"``; a missing or unreadable file is one failure.
    """
    directory = Path(directory)
    passed = 0
    failed: list[str] = []
    for kind in KINDS:
        cases, unreadable = _load(directory, kind)
        if unreadable is not None:
            failed.append(unreadable)
            continue
        checker = _CHECKERS[kind]
        for index, case in enumerate(cases):
            label = case.get("name", f"#{index}") if isinstance(case, dict) else f"#{index}"
            try:
                problem = checker(case)
            except Exception as exc:  # a broken case or a library bug: report, do not stop
                problem = f"{type(exc).__name__}: {exc}"
            if problem is None:
                passed += 1
            else:
                failed.append(f"{kind}.json:{label}: {problem}")
    return CheckReport(passed=passed, failed=failed)
