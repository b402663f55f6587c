"""Verify a signed request against the key quorum that owns the resource.

:func:`verify_request` (and :func:`verify_request_async`) never raise because a request is bad:
they return a :class:`Decision` whose ``reason`` is one of the reason codes of
``docs/architecture.md`` and whose ``message`` is a sentence a person can act on. They raise
only for programmer errors (a wrong argument type: :class:`TypeError`) and for an invalid quorum
(:class:`~authsig.errors.QuorumError`, raised when the quorum is built).

Rules (SPEC §1):

- every signature in the header must verify with a member key (a direct key, a key of a nested
  quorum, or a current key of a user member), else the request is refused with
  ``invalid_signature``; ``allow_foreign_signatures=True`` ignores such signatures instead;
- a key counts once however many signatures it made, including the malleated twin
  ``(r, n - s)`` of its own signature (signatures are de-duplicated on ``(r, min(s, n - s))``
  and approvals are counted per key, not per signature);
- a member counts once: a key member when its key signed, a user member when any of its
  current keys signed, a nested quorum when its own threshold is met;
- a key listed both directly and inside a nested quorum (or both as a key and as a user's key)
  counts toward every member it belongs to;
- a signature is attributed to one key only (the first member key, in quorum order, with which
  ``cryptography`` verifies it);
- the request expiry is checked when present; ``require_expiry=True`` refuses requests without.

Speed: the payload is canonicalized and hashed once. With few keys, each signature is tried
against the keys directly (not-yet-matched keys first). With more keys, ECDSA public-key
recovery (:mod:`authsig._recover`) selects the candidate keys through a dict lookup, so the cost
does not grow with the number of keys. Either way the decision rests on ``cryptography``'s own
verification of that signature with that key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

from authsig._recover import P256_N, recover_points
from authsig.errors import (
    AuthSigError,
    CanonicalizationError,
    ExpiryError,
    ExpiryRequiredError,
    PayloadError,
    SignatureFormatError,
    SignatureHeaderError,
    UserResolutionError,
)
from authsig.keys import PublicKey
from authsig.policy import DEFAULT_POLICY, Policy
from authsig.privy.expiry import check_expiry
from authsig.privy.headers import (
    EXPIRY_HEADER,
    SIGNATURE_HEADER,
    _parse_with_der,
)
from authsig.privy.payload import PARTICIPATING_HEADERS, _signing_payload
from authsig.privy.quorum import (
    AnyUserKeyResolver,
    KeyQuorum,
    UserKeyResolver,
    aload_user_keys,
    load_user_keys,
)
from authsig.reasons import Reason
from authsig.signatures import decode_signature

__all__ = [
    "DIRECT_MATCH_LIMIT",
    "REASON_STATUS",
    "Decision",
    "Member",
    "SignatureOutcome",
    "Verifier",
    "verify_request",
    "verify_request_async",
]

REASON_STATUS: Mapping[str, int] = Reason.statuses()
"""Reason code -> HTTP status: a view of the one table, :class:`~authsig.reasons.Reason`."""

DIRECT_MATCH_LIMIT = 3
"""Up to this many candidate keys, signatures are tried against keys directly; above it,
public-key recovery selects the key (recovery costs about three direct verifications)."""

_N = P256_N
_HALF_N = P256_N // 2
_MAX_DER_LEN = 72
_ECDSA = ec.ECDSA(hashes.SHA256())
_ECDSA_PREHASHED = ec.ECDSA(Prehashed(hashes.SHA256()))

MemberKind = Literal["key", "user", "quorum"]
SignatureStatus = Literal["matched", "duplicate", "no_match"]


@dataclass(frozen=True)
class Member:
    """A member of a quorum that approved (or that a signature's key stands for).

    ``id`` is the key id (RFC 7638 thumbprint) for a key, the user id for a user, and the
    quorum's id (or display name, or ``#index``) for a nested quorum. ``quorum_id`` names the
    nested quorum the member belongs to; ``None`` means the top-level quorum.
    """

    kind: MemberKind
    id: str
    display_name: str | None = None
    quorum_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {
            "kind": self.kind,
            "id": self.id,
            "display_name": self.display_name,
            "quorum_id": self.quorum_id,
        }

    def __str__(self) -> str:
        where = "" if self.quorum_id is None else f" of nested quorum {self.quorum_id!r}"
        name = f" ({self.display_name})" if self.display_name else ""
        return f"{self.kind} {self.id}{name}{where}"


@dataclass(frozen=True)
class SignatureOutcome:
    """What became of one entry of the signature header.

    ``status``: ``matched`` (verified with ``key_id``), ``duplicate`` (the same signature as
    entry ``duplicate_of``, possibly in its malleated form ``(r, n - s)``; not counted again)
    or ``no_match`` (verifies with no member key: foreign signer or changed request).
    ``index`` is the 0-based position in the header.
    """

    index: int
    status: SignatureStatus
    key_id: str | None = None
    members: tuple[Member, ...] = ()
    duplicate_of: int | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {
            "index": self.index,
            "status": self.status,
            "key_id": self.key_id,
            "members": [m.to_dict() for m in self.members],
            "duplicate_of": self.duplicate_of,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Decision:
    """The verdict on one request.

    ``approved`` is True only when the threshold is met (and, unless foreign signatures are
    allowed, every signature verified with a member key). ``reason`` is a reason code,
    ``http_status`` its status, ``message`` one sentence saying what to do. ``approved_members``
    lists the members that approved (top-level ones first, then members of nested quorums with
    their ``quorum_id``), ``missing`` how many more top-level approvals are needed, and
    ``signatures`` the outcome of each header entry (empty when the request was refused before
    the signatures were matched). ``bool(decision)`` is ``decision.approved``. ``payload`` is
    the canonical signing payload the signatures were checked against (None when the request
    was refused before it was built); the replay store keys on it.
    """

    approved: bool
    reason: str
    message: str
    http_status: int
    approved_members: tuple[Member, ...] = ()
    missing: int = 0
    threshold: int = 0
    signatures: tuple[SignatureOutcome, ...] = ()
    payload: bytes | None = field(default=None, repr=False, compare=False)

    def __bool__(self) -> bool:
        return self.approved

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (for logs, problem documents and the CLI)."""
        return {
            "approved": self.approved,
            "reason": self.reason,
            "message": self.message,
            "http_status": self.http_status,
            "threshold": self.threshold,
            "missing": self.missing,
            "approved_members": [m.to_dict() for m in self.approved_members],
            "signatures": [s.to_dict() for s in self.signatures],
        }


_new = object.__new__
_NO_MATCH_DETAIL = "verifies with no member key (changed request or a signer outside the quorum)"


def _member(kind: MemberKind, id: str, display_name: str | None, quorum_id: str | None) -> Member:
    """``Member(...)`` without the frozen dataclass ``__init__`` (hot path)."""
    o = _new(Member)
    d = o.__dict__
    d["kind"] = kind
    d["id"] = id
    d["display_name"] = display_name
    d["quorum_id"] = quorum_id
    return o


def _outcome(
    index: int,
    status: SignatureStatus,
    key_id: str | None,
    members: tuple[Member, ...],
    duplicate_of: int | None,
    detail: str,
) -> SignatureOutcome:
    """``SignatureOutcome(...)`` without the frozen dataclass ``__init__`` (hot path)."""
    o = _new(SignatureOutcome)
    d = o.__dict__
    d["index"] = index
    d["status"] = status
    d["key_id"] = key_id
    d["members"] = members
    d["duplicate_of"] = duplicate_of
    d["detail"] = detail
    return o


def _decision(
    approved: bool,
    reason: str,
    message: str,
    http_status: int,
    approved_members: tuple[Member, ...],
    missing: int,
    threshold: int,
    signatures: tuple[SignatureOutcome, ...],
) -> Decision:
    """``Decision(...)`` without the frozen dataclass ``__init__`` (hot path)."""
    o = _new(Decision)
    d = o.__dict__
    d["approved"] = approved
    d["reason"] = reason
    d["message"] = message
    d["http_status"] = http_status
    d["approved_members"] = approved_members
    d["missing"] = missing
    d["threshold"] = threshold
    d["signatures"] = signatures
    return o


def _with_payload(decision: Decision, prep: _Prepared) -> Decision:
    """Attach the payload the decision was made over (callers key replay stores on it)."""
    decision.__dict__["payload"] = prep.payload
    return decision


def _refuse(reason: str, message: str, *, threshold: int = 0, missing: int = 0) -> Decision:
    return Decision(
        approved=False,
        reason=reason,
        message=message,
        http_status=REASON_STATUS.get(reason, 400),
        threshold=threshold,
        missing=missing,
    )


def _from_error(exc: AuthSigError, quorum: KeyQuorum, prefix: str = "") -> Decision:
    reason = exc.code
    if isinstance(exc, CanonicalizationError):
        reason = "invalid_body"
    elif reason not in REASON_STATUS:
        reason = "invalid_payload" if isinstance(exc, PayloadError) else reason
    text = exc.message.rstrip(".")
    return _refuse(
        reason,
        f"Refused: {prefix}{text}.",
        threshold=quorum.threshold,
        missing=quorum.threshold,
    )


def _quorum_name(q: KeyQuorum, index: int) -> str:
    return q.id or q.display_name or f"#{index + 1}"


class _Prepared:
    """The request, ready for key matching (internal; a plain class for speed)."""

    __slots__ = ("allow_foreign", "ders", "entries", "payload", "quorum", "scalars")

    def __init__(
        self,
        quorum: KeyQuorum,
        payload: bytes,
        entries: list[str],
        ders: list[bytes],
        scalars: list[tuple[int, int]],
        allow_foreign: bool,
    ) -> None:
        self.quorum = quorum
        self.payload = payload
        self.entries = entries
        self.ders = ders
        self.scalars = scalars
        self.allow_foreign = allow_foreign


def _header_values(
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
) -> tuple[str | None, str | None]:
    """(signature header, expiry header), case-insensitive; a repeated one is an error."""
    pairs: Iterable[Any] = headers.items() if isinstance(headers, Mapping) else headers
    sig: str | None = None
    exp: str | None = None
    try:
        for name, value in pairs:
            if not isinstance(name, str):
                continue
            lowered = name.lower()
            if lowered == SIGNATURE_HEADER:
                if sig is not None:
                    raise SignatureHeaderError(
                        f"the {SIGNATURE_HEADER} header is sent more than once; send one header "
                        "with the signatures separated by commas"
                    )
                sig = value if isinstance(value, str) else None
                if sig is None:
                    raise SignatureHeaderError(f"the {SIGNATURE_HEADER} header must be text")
            elif lowered == EXPIRY_HEADER:
                if exp is not None:
                    raise PayloadError(f"the {EXPIRY_HEADER} header is sent more than once")
                exp = value
    except (TypeError, ValueError):
        raise TypeError("headers must be a mapping or an iterable of (name, value) pairs") from None
    return sig, exp


def _scan_headers(
    headers: dict[str, str],
) -> tuple[str | None, str | None, dict[str, str]] | None:
    """One pass over a plain dict of headers: (signature header, expiry header, participating
    headers as :func:`authsig.privy.payload._collect_headers` returns them), or None when anything
    is unusual (a non-text name or value, a repeated header, no app id): the general path then
    gives the same result or the precise error."""
    sig: str | None = None
    found: dict[str, str] = {}
    for name, value in headers.items():
        if type(name) is not str:
            return None
        lowered = name.lower()
        if lowered == SIGNATURE_HEADER:
            if sig is not None or type(value) is not str:
                return None
            sig = value
        elif lowered in _PARTICIPATING:
            if lowered in found or type(value) is not str:
                return None
            found[lowered] = value
    if _APP_ID not in found:
        return None
    if len(found) > 1:
        found = {name: found[name] for name in PARTICIPATING_HEADERS if name in found}
    return sig, found.get(EXPIRY_HEADER), found


_PARTICIPATING = frozenset(PARTICIPATING_HEADERS)
_APP_ID = PARTICIPATING_HEADERS[0]


def _check_arguments(quorum: object, now_ms: object) -> None:
    if not isinstance(quorum, KeyQuorum):
        raise TypeError(f"quorum must be an authsig KeyQuorum, not {type(quorum).__name__}")
    if now_ms is not None and (isinstance(now_ms, bool) or not isinstance(now_ms, int)):
        raise TypeError("now_ms must be an int (milliseconds since the epoch) or None")


def _prepare(
    method: str,
    url: str,
    body: Any,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    quorum: KeyQuorum,
    now_ms: int | None,
    policy: Policy,
    replay_protected: bool,
) -> _Prepared | Decision:
    _check_arguments(quorum, now_ms)
    t = quorum.threshold
    scanned = _scan_headers(headers) if type(headers) is dict else None
    collected: dict[str, str] | None = None
    if scanned is not None:
        sig_value, expiry_value, collected = scanned
    else:
        try:
            sig_value, expiry_value = _header_values(headers)
        except AuthSigError as exc:
            return _from_error(exc, quorum)
    if sig_value is None:
        return _refuse(
            "missing_signature",
            f"Refused: the request has no {SIGNATURE_HEADER} header; sign it with "
            f"{t} member key(s) of {quorum.label}.",
            threshold=t,
            missing=t,
        )
    try:
        entries, raws = _parse_with_der(
            sig_value, max_signatures=policy.max_signatures, max_length=policy.max_header_length
        )
        payload = _signing_payload(
            method, url, body, headers, collected, policy.empty_body, policy.profile
        )
        if expiry_value is not None:
            check_expiry(
                expiry_value,
                now_ms=now_ms,
                max_lifetime=policy.max_lifetime,
                clock_skew=policy.clock_skew,
            )
        elif policy.expiry_required(replay_protected=replay_protected):
            raise ExpiryRequiredError(
                f"the request has no {EXPIRY_HEADER} header and this endpoint requires one; "
                "sign the request with an expiry (milliseconds since the epoch)"
            )
    except ExpiryError as exc:
        return _from_error(exc, quorum, "")
    except AuthSigError as exc:
        return _from_error(exc, quorum)
    scalars: list[tuple[int, int]] = []
    for i, der in enumerate(raws):
        # The header parser has checked canonical base64 (and decoded it); cryptography's strict
        # DER parser checks the structure, and the range check completes what decode_signature
        # does.
        try:
            if len(der) > _MAX_DER_LEN:
                raise ValueError
            r, s = decode_dss_signature(der)
        except ValueError:
            try:
                decode_signature(entries[i])  # for its precise message
            except SignatureFormatError as exc:
                return _from_error(exc, quorum, f"signature #{i + 1} is malformed: ")
            raise  # pragma: no cover - both parsers refuse the same inputs
        if not (0 < r < _N and 0 < s < _N):
            bad = SignatureFormatError("r or s is out of range for P-256")
            return _from_error(bad, quorum, f"signature #{i + 1} is malformed: ")
        scalars.append((r, s))
    return _Prepared(quorum, payload, entries, raws, scalars, policy.allow_foreign_signatures)


def _user_members(quorum: KeyQuorum) -> list[str]:
    return list(quorum.all_user_ids)


def _resolve_sync(
    quorum: KeyQuorum, user_keys: UserKeyResolver | None
) -> dict[str, tuple[PublicKey, ...]]:
    if user_keys is None:
        return {}
    return {uid: load_user_keys(user_keys, uid) for uid in _user_members(quorum)}


async def _resolve_async(
    quorum: KeyQuorum, user_keys: AnyUserKeyResolver | None
) -> dict[str, tuple[PublicKey, ...]]:
    if user_keys is None:
        return {}
    return {uid: await aload_user_keys(user_keys, uid) for uid in _user_members(quorum)}


def _verifies(payload: bytes, der: bytes, key: PublicKey) -> bool:
    """``cryptography``'s own ECDSA P-256/SHA-256 verification (high-S accepted)."""
    try:
        key.crypto.verify(der, payload, _ECDSA)
    except InvalidSignature:
        return False
    return True


def _verifies_digest(digest: bytes, der: bytes, key: PublicKey) -> bool:
    """:func:`_verifies` for the SHA-256 ``digest`` of the payload, already computed for key
    recovery (``cryptography``'s own verification, without hashing the payload again)."""
    try:
        key.crypto.verify(der, digest, _ECDSA_PREHASHED)
    except InvalidSignature:
        return False
    return True


def _match_direct(
    payload: bytes, der: bytes, keys: Sequence[PublicKey], matched: set[PublicKey]
) -> PublicKey | None:
    if matched:  # try the keys that have not signed yet first
        keys = [k for k in keys if k not in matched] + [k for k in keys if k in matched]
    for key in keys:
        if _verifies(payload, der, key):
            return key
    return None


_KEYS_ONLY_FAST = True
"""Use :func:`_conclude_keys_only` when it applies (the tests compare it with the general path)."""


def _conclude_keys_only(
    prep: _Prepared,
    per_sig: list[tuple[SignatureStatus, PublicKey | None, int | None]],
    matched_keys_in_order: list[PublicKey],
    have_resolver: bool,
) -> Decision:
    """The end of :func:`_decide` for a quorum whose members are its keys only (no nested
    quorums, no users): the same members, outcomes and messages with less bookkeeping."""
    quorum = prep.quorum
    names = quorum.key_display_names
    positions = quorum.key_positions
    approved: list[Member] = []
    key_members: dict[PublicKey, tuple[Member, ...]] = {}
    for k in matched_keys_in_order:
        ms = tuple(_member("key", k.key_id, names[ki], None) for _, ki in positions.get(k, ()))
        approved.extend(ms)
        key_members[k] = ms
    total = len(approved)
    outcomes, foreign = _outcomes(per_sig, key_members)
    return _verdict(prep, tuple(approved), total, outcomes, foreign, have_resolver)


def _outcomes(
    per_sig: list[tuple[SignatureStatus, PublicKey | None, int | None]],
    key_members: Mapping[PublicKey, Sequence[Member]],
) -> tuple[list[SignatureOutcome], list[int]]:
    """One outcome per signature, and the indexes of the foreign ones (matched no member key);
    serves both :func:`_decide` and :func:`_conclude_keys_only`."""
    outcomes: list[SignatureOutcome] = []
    foreign: list[int] = []
    for i, (status, key, dup) in enumerate(per_sig):
        if status == "no_match":
            outcomes.append(_outcome(i, status, None, (), None, _NO_MATCH_DETAIL))
            foreign.append(i)
            continue
        if status == "duplicate":
            detail = f"repeats signature #{(dup or 0) + 1} (same r, s or n - s); counted once"
        else:
            detail = f"made by key {key.key_id if key is not None else None}"
        if key is None:  # a repeat of a signature that matched no key
            outcomes.append(_outcome(i, status, None, (), dup, detail))
        else:
            members = tuple(key_members.get(key, ()))
            outcomes.append(_outcome(i, status, key.key_id, members, dup, detail))
    return outcomes, foreign


def _verdict(
    prep: _Prepared,
    all_members: tuple[Member, ...],
    total: int,
    outcomes: list[SignatureOutcome],
    foreign: list[int],
    have_resolver: bool,
) -> Decision:
    """The Decision once members are counted: refused for foreign signatures (unless allowed),
    approved at the threshold, else threshold_not_met."""
    quorum = prep.quorum
    threshold = quorum.threshold
    missing = max(0, threshold - total)
    if foreign and not prep.allow_foreign:
        which = ", ".join(f"#{i + 1}" for i in foreign)
        noun, verb = ("signature", "verifies") if len(foreign) == 1 else ("signatures", "verify")
        hint = ""
        if quorum.all_user_ids and not have_resolver:
            hint = " (no user_keys resolver was given, so user members' keys are unknown)"
        message = (
            f"Refused: {noun} {which} of {len(outcomes)} {verb} with no member key of "
            f"{quorum.label}{hint}; the request was changed after signing or signed by a "
            "non-member: run authsig.privy.explain.explain(...) with the same arguments to find "
            "what differs."
        )
        return _decision(
            False,
            "invalid_signature",
            message,
            REASON_STATUS["invalid_signature"],
            all_members,
            missing,
            threshold,
            tuple(outcomes),
        )
    if missing == 0:
        message = (
            f"Approved: {total} of the {threshold} required member approval(s) of "
            f"{quorum.label} are present."
        )
        return _decision(True, "approved", message, 200, all_members, 0, threshold, tuple(outcomes))
    ignored = f" ({len(foreign)} foreign signature(s) ignored)" if foreign else ""
    message = (
        f"Refused: {total} of the {threshold} required member approval(s) of {quorum.label} "
        f"are present{ignored}; {missing} more member(s) must sign this exact request."
    )
    return _decision(
        False,
        "threshold_not_met",
        message,
        REASON_STATUS["threshold_not_met"],
        all_members,
        missing,
        threshold,
        tuple(outcomes),
    )


def _decide(
    prep: _Prepared, users: dict[str, tuple[PublicKey, ...]], have_resolver: bool
) -> Decision:
    quorum = prep.quorum
    payload = prep.payload
    index: Mapping[bytes, PublicKey] = quorum.key_index
    keys: tuple[PublicKey, ...] = quorum.all_keys
    if users:
        extra = {k.point: k for ks in users.values() for k in ks if k.point not in index}
        if extra:
            index = {**index, **extra}
            keys = keys + tuple(extra.values())
    use_recovery = len(keys) > DIRECT_MATCH_LIMIT
    digest = hashlib.sha256(payload).digest() if use_recovery else b""
    z = int.from_bytes(digest, "big")

    matched_keys: set[PublicKey] = set()
    matched_keys_in_order: list[PublicKey] = []
    seen: dict[tuple[int, int], int] = {}
    per_sig: list[tuple[SignatureStatus, PublicKey | None, int | None]] = []
    if not use_recovery and len(prep.ders) == 1:  # one signature, few keys: no bookkeeping
        der = prep.ders[0]
        for cand in keys:
            if _verifies(payload, der, cand):
                matched_keys.add(cand)
                matched_keys_in_order.append(cand)
                per_sig.append(("matched", cand, None))
                break
        else:
            per_sig.append(("no_match", None, None))
    for i, der in enumerate(prep.ders if not per_sig else ()):
        r, s = prep.scalars[i]
        norm = (r, s if s <= _HALF_N else _N - s)
        first = seen.get(norm)
        if first is not None:
            per_sig.append(("duplicate", per_sig[first][1], first))
            continue
        seen[norm] = i
        found: PublicKey | None = None
        if use_recovery:
            points = recover_points(z, r, s)
            if points is None:
                found = _match_direct(payload, der, keys, matched_keys)
            else:
                for point in points:
                    key = index.get(point)
                    if key is not None and _verifies_digest(digest, der, key):
                        found = key
                        break
        else:
            found = _match_direct(payload, der, keys, matched_keys)
        if found is None:
            per_sig.append(("no_match", None, None))
        else:
            if found not in matched_keys:
                matched_keys.add(found)
                matched_keys_in_order.append(found)
            per_sig.append(("matched", found, None))

    # Count members: work proportional to the matched keys, not to the quorum size.
    nested = quorum.key_quorums
    if _KEYS_ONLY_FAST and not nested and not users:
        return _conclude_keys_only(prep, per_sig, matched_keys_in_order, have_resolver)
    names = [_quorum_name(q, i) for i, q in enumerate(nested)] if nested else []
    positions = quorum.key_positions
    key_members: dict[PublicKey, list[Member]] = {}
    approved: list[Member] = []
    nested_approved: list[Member] = []
    counts = [0] * len(nested)
    total = 0
    for k in matched_keys_in_order:
        for qi, ki in positions.get(k, ()):
            if qi < 0:
                m = _member("key", k.key_id, quorum.key_display_names[ki], None)
                approved.append(m)
                total += 1
            else:
                m = Member("key", k.key_id, nested[qi].key_display_names[ki], names[qi])
                nested_approved.append(m)
                counts[qi] += 1
            key_members.setdefault(k, []).append(m)
    if users:
        for qi, q in [(-1, quorum), *enumerate(nested)]:
            for uid in q.user_ids:
                m = Member("user", uid, None, None if qi < 0 else names[qi])
                hit = False
                for k in users.get(uid, ()):
                    if k in matched_keys:
                        key_members.setdefault(k, []).append(m)
                        hit = True
                if hit:
                    if qi < 0:
                        approved.append(m)
                        total += 1
                    else:
                        nested_approved.append(m)
                        counts[qi] += 1
    for qi, q in enumerate(nested):
        if counts[qi] >= q.threshold:
            approved.append(Member("quorum", names[qi], q.display_name, None))
            total += 1

    outcomes, foreign = _outcomes(per_sig, key_members)
    all_members = tuple(approved + nested_approved) if nested_approved else tuple(approved)
    return _verdict(prep, all_members, total, outcomes, foreign, have_resolver)


def _check_policy(policy: object) -> Policy:
    if policy is None:
        return DEFAULT_POLICY
    if not isinstance(policy, Policy):
        raise TypeError(f"policy must be an authsig Policy, not {type(policy).__name__}")
    return policy


class Verifier:
    """Verifies requests against one key quorum under one :class:`~authsig.policy.Policy`.

    ``user_keys`` resolves a user id to its current public keys (sync; an async resolver works
    with :meth:`verify_async` only). ``replay_protected`` tells the verifier that the caller
    records approved requests in a replay store: a policy whose ``require_expiry`` is None then
    requires an expiry (the middleware sets it).
    """

    __slots__ = ("policy", "quorum", "replay_protected", "user_keys")

    def __init__(
        self,
        quorum: KeyQuorum,
        *,
        user_keys: AnyUserKeyResolver | None = None,
        policy: Policy | None = None,
        replay_protected: bool = False,
    ) -> None:
        _check_arguments(quorum, None)
        if user_keys is not None and not callable(user_keys) and not isinstance(user_keys, Mapping):
            raise TypeError("user_keys must be a callable, a mapping or None")
        self.quorum = quorum
        self.user_keys = user_keys
        self.policy = _check_policy(policy)
        self.replay_protected = bool(replay_protected)

    def __repr__(self) -> str:
        return f"Verifier(quorum={self.quorum.label!r}, policy={self.policy!r})"

    def _prepare(
        self, method: str, url: str, body: Any, headers: Any, now_ms: int | None
    ) -> _Prepared | Decision:
        return _prepare(
            method, url, body, headers, self.quorum, now_ms, self.policy, self.replay_protected
        )

    def verify(
        self,
        *,
        method: str,
        url: str,
        body: Any,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        now_ms: int | None = None,
    ) -> Decision:
        """Decide whether a signed request is approved (see :func:`verify_request`)."""
        prep = self._prepare(method, url, body, headers, now_ms)
        if isinstance(prep, Decision):
            return prep
        quorum = self.quorum
        try:
            users = _resolve_sync(quorum, self.user_keys) if quorum.all_user_ids else {}  # type: ignore[arg-type]
        except UserResolutionError as exc:
            return _from_error(exc, quorum)
        return _with_payload(_decide(prep, users, self.user_keys is not None), prep)

    async def verify_async(
        self,
        *,
        method: str,
        url: str,
        body: Any,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        now_ms: int | None = None,
    ) -> Decision:
        """The async twin of :meth:`verify`: an async ``user_keys`` resolver is awaited."""
        prep = self._prepare(method, url, body, headers, now_ms)
        if isinstance(prep, Decision):
            return prep
        quorum = self.quorum
        try:
            users = await _resolve_async(quorum, self.user_keys) if quorum.all_user_ids else {}
        except UserResolutionError as exc:
            return _from_error(exc, quorum)
        return _with_payload(_decide(prep, users, self.user_keys is not None), prep)


def verify_request(
    *,
    method: str,
    url: str,
    body: Any,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    quorum: KeyQuorum,
    user_keys: UserKeyResolver | None = None,
    policy: Policy | None = None,
    now_ms: int | None = None,
) -> Decision:
    """Decide whether a signed request is approved by ``quorum``.

    ``method``, ``url`` (the public URL the client signed), ``body`` (raw bytes/str as
    received, or an already parsed value) and ``headers`` (mapping or (name, value) pairs,
    case-insensitive) describe the request. ``user_keys`` resolves a user id to its current
    public keys (synchronous here; see :func:`verify_request_async`). ``policy`` holds the
    options (:class:`~authsig.policy.Policy`; strict defaults when None). ``now_ms`` fixes the
    clock for the expiry check. A convenience for ``Verifier(quorum, ...).verify(...)``.
    """
    verifier = Verifier(quorum, user_keys=user_keys, policy=policy)
    return verifier.verify(method=method, url=url, body=body, headers=headers, now_ms=now_ms)


async def verify_request_async(
    *,
    method: str,
    url: str,
    body: Any,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    quorum: KeyQuorum,
    user_keys: AnyUserKeyResolver | None = None,
    policy: Policy | None = None,
    now_ms: int | None = None,
) -> Decision:
    """The async twin of :func:`verify_request`: ``user_keys`` may be sync or async (awaited)."""
    verifier = Verifier(quorum, user_keys=user_keys, policy=policy)
    return await verifier.verify_async(
        method=method, url=url, body=body, headers=headers, now_ms=now_ms
    )
