"""The verdict on a request (:class:`Decision`) and how it follows from the matched signatures.

:func:`decide` counts members: a key member when its key signed, a user member when any of its
current keys signed, a nested quorum when its own threshold is met. A key approves at most one
member of the whole quorum tree: where a key is listed in several places, the keys are assigned
to members so that as many members as possible approve (:func:`authsig.privy._match.approves`).
It then refuses foreign signatures (unless they are allowed), or approves at the threshold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from authsig.errors import AuthSigError, CanonicalizationError, PayloadError
from authsig.keys import PublicKey
from authsig.privy._match import Approval, Seat, approves
from authsig.privy.codes import privy_code
from authsig.privy.quorum import KeyQuorum
from authsig.reasons import Reason

__all__ = [
    "REASON_STATUS",
    "Decision",
    "Match",
    "Member",
    "SignatureOutcome",
    "decide",
    "refuse",
    "refuse_for",
    "seat_member",
]

REASON_STATUS: Mapping[str, int] = Reason.statuses()
"""Reason code -> HTTP status: a view of the one table, :class:`~authsig.reasons.Reason`."""

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
    the signatures were matched; in strict mode it ends at the first entry that matched no
    member, since the others were not verified). ``bool(decision)`` is ``decision.approved``.
    ``payload`` is the canonical signing payload the signatures were checked against (None when
    the request was refused before it was built); the replay store keys on it.
    ``overlap_capped`` is how
    many more top-level approvals there would be if a key listed as several members approved
    each of them (it approves one: see :func:`authsig.privy._match.approves`); 0 when no
    overlap changed the count.
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
    overlap_capped: int = 0

    def __bool__(self) -> bool:
        return self.approved

    @property
    def privy_code(self) -> str | None:
        """The code Privy's API would answer for this refusal (``zero_correct_...``,
        ``request_expired``, ...), or None: approved, or no Privy code for the reason."""
        return privy_code(self)

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (for logs, problem documents and the CLI)."""
        return {
            "approved": self.approved,
            "reason": self.reason,
            "privy_code": self.privy_code,
            "message": self.message,
            "http_status": self.http_status,
            "threshold": self.threshold,
            "missing": self.missing,
            "approved_members": [m.to_dict() for m in self.approved_members],
            "signatures": [s.to_dict() for s in self.signatures],
            "overlap_capped": self.overlap_capped,
        }


def refuse(reason: str, message: str, quorum: KeyQuorum) -> Decision:
    """A refusal before any signature was matched: every approval is still missing."""
    threshold = quorum.threshold
    return Decision(
        approved=False,
        reason=reason,
        message=message,
        http_status=REASON_STATUS.get(reason, 400),
        threshold=threshold,
        missing=threshold,
    )


def refuse_for(exc: AuthSigError, quorum: KeyQuorum, prefix: str = "") -> Decision:
    """The refusal for an error found in the request (its code is the reason)."""
    reason = exc.code
    if isinstance(exc, CanonicalizationError):
        reason = "invalid_body"
    elif reason not in REASON_STATUS and isinstance(exc, PayloadError):
        reason = "invalid_payload"
    return refuse(reason, f"Refused: {prefix}{exc.message.rstrip('.')}.", quorum)


Match = tuple[SignatureStatus, PublicKey | None, int | None]
"""What one signature matched: (status, the key that made it, the entry it repeats)."""

_NO_MATCH_DETAIL = "verifies with no member key (changed request or a signer outside the quorum)"


def decide(
    quorum: KeyQuorum,
    matches: Sequence[Match],
    users: Mapping[str, Sequence[PublicKey]],
    *,
    payload: bytes,
    allow_foreign: bool,
    have_resolver: bool,
    entries: int | None = None,
) -> Decision:
    """The Decision once the signatures of the request over ``payload`` are matched.

    ``users`` maps each user member to its current keys (those asked for). ``entries`` is the
    number of signatures in the header when matching stopped early, at the first foreign one
    (``matches`` then covers the entries up to it).
    """
    signed: dict[PublicKey, None] = {}  # the keys that made a signature, in order
    foreign: list[int] = []
    for i, (status, key, _) in enumerate(matches):
        if key is not None:
            signed[key] = None
        elif status == "no_match":
            foreign.append(i)
    approval = approves(quorum, signed, users)
    top, inner, key_members = _approvals(quorum, approval)
    outcomes = tuple([_outcome(i, match, key_members) for i, match in enumerate(matches)])
    total = approval.count
    threshold = quorum.threshold
    missing = max(0, threshold - total)
    if foreign and not allow_foreign:
        reason = "invalid_signature"
        count = len(outcomes) if entries is None else entries
        message = _foreign_message(quorum, foreign, count, have_resolver)
    elif missing == 0:
        reason = "approved"
        message = (
            f"Approved: {total} of the {threshold} required member approval(s) of "
            f"{quorum.label} are present."
        )
    else:
        reason = "threshold_not_met"
        ignored = f" ({len(foreign)} foreign signature(s) ignored)" if foreign else ""
        message = (
            f"Refused: {total} of the {threshold} required member approval(s) of "
            f"{quorum.label} are present{ignored}{_capped_clause(approval)}; {missing} more "
            "member(s) must sign this exact request."
        )
    return Decision(
        approved=reason == "approved",
        reason=reason,
        message=message,
        http_status=REASON_STATUS[reason],
        approved_members=tuple(top + inner),
        missing=0 if reason == "approved" else missing,
        threshold=threshold,
        signatures=outcomes,
        payload=payload,
        overlap_capped=approval.capped,
    )


def _capped_clause(approval: Approval) -> str:
    if not approval.capped:
        return ""
    return (
        f" (a key listed as several members approves only one of them: {approval.capped} "
        "more would count if each listing counted; distinct signers must sign)"
    )


def _foreign_message(quorum: KeyQuorum, foreign: list[int], count: int, resolver: bool) -> str:
    which = ", ".join(f"#{i + 1}" for i in foreign)
    noun, verb = ("signature", "verifies") if len(foreign) == 1 else ("signatures", "verify")
    hint = ""
    if quorum.all_user_ids and not resolver:
        hint = " (no user_keys resolver was given, so user members' keys are unknown)"
    return (
        f"Refused: {noun} {which} of {count} {verb} with no member key of "
        f"{quorum.label}{hint}; the request was changed after signing or signed by a "
        "non-member: check that exactly the method, URL, body and headers that were sent "
        "were signed, with a member's key."
    )


def _quorum_name(q: KeyQuorum, index: int) -> str:
    return q.id or q.display_name or f"#{index + 1}"


def seat_member(quorum: KeyQuorum, seat: Seat) -> Member:
    """The :class:`Member` that sits at ``seat`` of ``quorum``."""
    q = quorum if seat.quorum < 0 else quorum.key_quorums[seat.quorum]
    where = None if seat.quorum < 0 else _quorum_name(q, seat.quorum)
    if seat.kind == "user":
        return Member("user", q.user_ids[seat.position], None, where)
    key = q.public_keys[seat.position]
    return Member("key", key.key_id, q.key_display_names[seat.position], where)


def _approvals(
    quorum: KeyQuorum, approval: Approval
) -> tuple[list[Member], list[Member], dict[PublicKey, Member]]:
    """The members that approved: those of the top-level quorum (which count toward its
    threshold), then those of nested quorums, and the member each key approves. The work
    grows with the keys that signed, not with the size of the quorum."""
    top: list[Member] = []
    inner: list[Member] = []
    key_members: dict[PublicKey, Member] = {}
    for key, seat in sorted(approval.assignment.items(), key=lambda item: item[1]):
        member = key_members[key] = seat_member(quorum, seat)
        (top if seat.quorum < 0 else inner).append(member)
    nested = quorum.key_quorums
    for qi in approval.satisfied:
        top.append(Member("quorum", _quorum_name(nested[qi], qi), nested[qi].display_name))
    return top, inner, key_members


def _outcome(index: int, match: Match, key_members: Mapping[PublicKey, Member]) -> SignatureOutcome:
    status, key, duplicate_of = match
    if status == "no_match":
        return SignatureOutcome(index, status, detail=_NO_MATCH_DETAIL)
    if status == "duplicate":
        detail = f"repeats signature #{(duplicate_of or 0) + 1} (same r, s or n - s); counted once"
    else:
        detail = f"made by key {key.key_id if key is not None else None}"
    if key is None:  # a repeat of a signature that matched no key
        return SignatureOutcome(index, status, None, (), duplicate_of, detail)
    member = key_members.get(key)
    members = () if member is None else (member,)
    return SignatureOutcome(index, status, key.key_id, members, duplicate_of, detail)
