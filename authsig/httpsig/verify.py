"""Verify an RFC 9421 signed request: every labelled signature, the ``Content-Digest`` of the
received body, freshness under the shared :class:`~authsig.policy.Policy`, and the quorum.

The rules (strict by default, each loosening named):

- every signature considered must verify: one bad signature refuses the request, and a
  signature by a key the resolver does not know, or by a key outside the quorum, refuses it
  too unless ``policy.allow_foreign_signatures`` (then it is ignored);
- ``tag``: only signatures with this ``tag`` parameter are considered (others are for other
  verifiers and are ignored);
- a ``Content-Digest`` field is checked against the body received; a request with a body (or a
  digest) must have ``content-digest`` covered by every signature (``require_content_digest``);
- ``created`` is required, neither ahead of the clock by more than ``clock_skew`` nor older
  than ``max_lifetime``; ``expires``, when present (required with ``require_expiry``), not
  passed and not further ahead than ``max_lifetime``;
- ``require_nonce``: every signature carries the same ``nonce``, which names the request in the
  replay store; a copy, or a copy stripped to some of its signatures, has the same name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from authsig._clock import now_ms as _now_ms
from authsig.errors import AuthSigError
from authsig.httpsig.algorithms import (
    VerifyingKey,
    algorithm_of,
    fingerprint,
    load_verifying_key,
    verify_base,
)
from authsig.httpsig.components import HttpMessage, signature_base
from authsig.httpsig.decision import HttpSigDecision
from authsig.httpsig.digest import check_content_digest
from authsig.httpsig.fields import SignatureEntry, parse_signatures
from authsig.httpsig.quorum import Quorum, satisfied
from authsig.policy import DEFAULT_POLICY, Policy

__all__ = ["HttpSigChecked", "KeyResolver", "KeySource", "verify_request"]

KeySource = Mapping[str, Any] | Callable[[str], Any]
"""Keys by keyid: a mapping, or a callable returning the key (or None for an unknown keyid)."""


class KeyResolver:
    """Resolves a ``keyid`` to a verifying key (P-256 or Ed25519); a mapping's keys are loaded
    once, here, so that a bad key fails at start-up."""

    def __init__(self, keys: KeySource | KeyResolver) -> None:
        if isinstance(keys, KeyResolver):
            self._table: dict[str, VerifyingKey] | None = keys._table
            self._call: Callable[[str], Any] | None = keys._call
        elif isinstance(keys, Mapping):
            self._table = {str(k): load_verifying_key(v) for k, v in keys.items()}
            self._call = None
        elif callable(keys):
            self._table, self._call = None, keys
        else:
            raise TypeError("keys must be a mapping of keyid to key, or a callable")

    @property
    def keyids(self) -> tuple[str, ...] | None:
        """The keyids of a mapping (None for a callable resolver)."""
        return None if self._table is None else tuple(self._table)

    def __call__(self, keyid: str) -> VerifyingKey | None:
        if self._call is None:
            return (self._table or {}).get(keyid)
        found = self._call(keyid)
        return None if found is None else load_verifying_key(found)


@dataclass(frozen=True)
class HttpSigChecked:
    """The decision and, when approved, the replay claim (``replay_key`` None: nothing to
    claim; ``last_ms``: the last millisecond a copy could still be accepted)."""

    decision: HttpSigDecision
    replay_key: str | None = None
    last_ms: int = 0


class _Refused(Exception):
    def __init__(self, reason: str, message: str, label: str | None = None) -> None:
        super().__init__(message)
        self.reason, self.message, self.label = reason, message, label


@dataclass(frozen=True)
class _Valid:
    label: str
    keyid: str
    key: str
    last_ms: int
    nonce: str | None


def _time_window(entry: SignatureEntry, policy: Policy, now: int) -> int:
    """The last millisecond ``entry`` can be accepted; refuses a stale or early one."""
    label, skew, lifetime = entry.label, policy.clock_skew_ms, policy.max_lifetime_ms
    if entry.created is None:
        raise _Refused("httpsig_created_required", f"{label} has no created parameter", label)
    created = entry.created * 1000
    if created > now + skew:
        raise _Refused("httpsig_not_yet_valid", f"{label} was created in the future", label)
    last = created + lifetime + skew
    if now > last:
        raise _Refused("httpsig_too_old", f"{label} is older than {lifetime} ms", label)
    if entry.expires is None:
        if policy.require_expiry:
            raise _Refused("expiry_required", f"{label} has no expires parameter", label)
        return last
    expires = entry.expires * 1000
    if expires < created:
        raise _Refused("expired", f"{label} expires before it was created", label)
    if now > expires + skew:
        raise _Refused("expired", f"{label} expired", label)
    if expires - now > lifetime:
        raise _Refused("expiry_too_far", f"{label} expires more than {lifetime} ms ahead", label)
    return min(last, expires + skew)


def _covers_digest(entry: SignatureEntry) -> bool:
    return any(item.value == "content-digest" and not item.params for item in entry.covered)


@dataclass(frozen=True)
class _Context:
    message: HttpMessage
    keys: KeyResolver
    members: frozenset[str] | None
    policy: Policy
    now: int
    needs_digest: bool


def _check_one(entry: SignatureEntry, ctx: _Context) -> _Valid | None:
    """The verified signature, None for an ignored foreign one; refuses anything else."""
    label, keyid = entry.label, entry.keyid or ""
    key = ctx.keys(keyid) if keyid else None
    member = ctx.members is None or keyid in ctx.members
    if key is None or not member:
        if ctx.policy.allow_foreign_signatures:
            return None
        what = f"keyid {keyid!r}, which is not accepted" if keyid else "no keyid"
        raise _Refused("httpsig_unknown_key", f"{label} has {what}", label)
    if entry.alg is not None and entry.alg != algorithm_of(key):
        detail = f"{label} says alg {entry.alg!r} but key {keyid!r} is {algorithm_of(key)}"
        raise _Refused("httpsig_unsupported_algorithm", detail, label)
    last_ms = _time_window(entry, ctx.policy, ctx.now)
    if ctx.needs_digest and not _covers_digest(entry):
        raise _Refused("httpsig_digest_not_covered", f"{label} does not cover the body", label)
    try:
        base = signature_base(ctx.message, entry.covered, entry.params_text)
    except AuthSigError as exc:
        raise _Refused(exc.code, f"{label}: {exc.message}", label) from None
    if not verify_base(base, entry.signature, key):
        raise _Refused("invalid_signature", f"{label} (keyid {keyid!r}) does not verify", label)
    return _Valid(label, keyid, fingerprint(key), last_ms, entry.nonce)


def _digest_step(message: HttpMessage, body: bytes) -> bool:
    """Checks a ``Content-Digest`` against ``body``; whether the request has one."""
    lines = message.field_lines("content-digest")
    if not lines:
        return False
    try:
        result = check_content_digest(lines, body)
    except AuthSigError as exc:
        raise _Refused(exc.code, exc.message) from None
    if not result.matches:
        names = ", ".join(result.mismatched)
        raise _Refused("httpsig_digest_mismatch", f"the body does not match its {names} digest")
    return True


def _replay_key(valid: Sequence[_Valid], require_nonce: bool) -> str | None:
    nonces = {v.nonce for v in valid}
    if len(nonces) > 1:
        raise _Refused("httpsig_nonce_mismatch", "the signatures carry different nonces")
    (nonce,) = nonces
    if nonce is None:
        if require_nonce:
            raise _Refused("httpsig_nonce_required", "the signatures carry no nonce")
        return None
    return "httpsig:" + hashlib.sha256(nonce.encode()).hexdigest()


def _entries(message: HttpMessage, policy: Policy, tag: str | None) -> list[SignatureEntry]:
    inputs = message.field_lines("signature-input")
    signatures = message.field_lines("signature")
    if not inputs and not signatures:
        raise _Refused("missing_signature", "the request has no Signature-Input and Signature")
    try:
        entries = parse_signatures(inputs, signatures, policy=policy)
    except AuthSigError as exc:
        raise _Refused(exc.code, exc.message) from None
    chosen = [e for e in entries if tag is None or e.tag == tag]
    if not chosen:
        raise _Refused("missing_signature", f"no signature has tag {tag!r}")
    return chosen


def _decide(quorum: Quorum | None, valid: Sequence[_Valid]) -> HttpSigDecision:
    facts: dict[str, Any] = {
        "labels": tuple(v.label for v in valid),
        "keyids": tuple(v.keyid for v in valid),
        "valid_approvals": len({v.key for v in valid}),
        "required": quorum.threshold if quorum is not None else 1,
        "quorum": quorum.name if quorum is not None else "",
    }
    if quorum is None:
        ok = bool(valid)
    else:
        ok = satisfied(quorum, {v.keyid: v.key for v in valid}) is not None
    if not ok:
        name = facts["quorum"] or "the quorum"
        message = f"{facts['valid_approvals']} distinct key(s) approved; {name} is not satisfied"
        return HttpSigDecision.refuse("threshold_not_met", message, **facts)
    return HttpSigDecision.approve(f"approved by {', '.join(facts['keyids'])}", **facts)


def verify_request(
    message: HttpMessage,
    body: bytes,
    *,
    keys: KeySource | KeyResolver,
    quorum: Quorum | None = None,
    policy: Policy = DEFAULT_POLICY,
    now_ms: int | None = None,
    require_nonce: bool = False,
    require_content_digest: bool = True,
    tag: str | None = None,
) -> HttpSigChecked:
    """Verify ``message`` (with the ``body`` received) against ``quorum`` (None: one signature
    by any key ``keys`` resolves). Bad input is a refusal, never an exception; a key that a
    callable ``keys`` returns and that cannot be used raises :class:`HttpSigKeyError` (the
    server's mistake: the Gate answers it with a generic 500)."""
    if not isinstance(policy, Policy):
        raise TypeError(f"policy must be an authsig Policy, not {type(policy).__name__}")
    resolver = keys if isinstance(keys, KeyResolver) else KeyResolver(keys)
    now = _now_ms() if now_ms is None else now_ms
    members = frozenset(quorum.keyids()) if quorum is not None else None
    try:
        entries = _entries(message, policy, tag)
        has_digest = _digest_step(message, body)
        needs = require_content_digest and (bool(body) or has_digest)
        ctx = _Context(message, resolver, members, policy, now, needs)
        valid = [v for v in (_check_one(e, ctx) for e in entries) if v is not None]
        if not valid:
            raise _Refused("httpsig_unknown_key", "no signature is by an accepted key")
        replay_key = _replay_key(valid, require_nonce)
        decision = _decide(quorum, valid)
        if not decision.approved:
            return HttpSigChecked(decision)
    except _Refused as refused:
        facts = {"label": refused.label, "required": quorum.threshold if quorum else 1}
        return HttpSigChecked(HttpSigDecision.refuse(refused.reason, refused.message, **facts))
    return HttpSigChecked(decision, replay_key, max(v.last_ms for v in valid))
