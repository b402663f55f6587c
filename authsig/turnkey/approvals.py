"""A root quorum of Turnkey users, and a set of stamped approvals of one activity counted
against it.

A :class:`User` holds one or more API keys; a :class:`Quorum` needs ``threshold`` of its
members, each a user or a nested quorum. Counting is by *user*, never by stamp or key:

- a key belongs to at most one user in the whole tree (checked when the quorum is built), so
  one key can never approve for two members;
- a user with several keys counts once, however many of them stamped an approval;
- a stamp that does not verify, names a key no user holds, or approves another activity is
  not counted (the decision lists it with its reason code).

The activity is named by its fingerprint (see :mod:`authsig.turnkey.activity`): a stamped body
counts for it when it *is* the activity (its own fingerprint matches: the submitter's first
approval) or approves it (``ACTIVITY_TYPE_APPROVE_ACTIVITY`` naming the fingerprint).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from authsig.errors import AuthSigError
from authsig.turnkey.activity import (
    activity_fingerprint,
    approved_fingerprint,
    body_object,
    body_timestamp_ms,
)
from authsig.turnkey.errors import (
    TurnkeyApprovalError,
    TurnkeyTimestampError,
    TurnkeyUnknownKeyError,
)
from authsig.turnkey.keys import P256, TurnkeyPublicKey
from authsig.turnkey.stamp import verify_stamp

__all__ = ["Approval", "ApprovalDecision", "Quorum", "User", "verify_approvals"]

MAX_DEPTH = 4
"""Deepest nesting of quorums accepted (a root quorum and three levels below it)."""

VOTE_LIFETIME_MS = 24 * 3600 * 1000
"""How long Turnkey keeps a vote (24 hours) when consensus is not reached."""
VOTE_SKEW_MS = 60_000
"""How far ahead of the verifier's clock a vote's ``timestampMs`` may lie."""


def _public_key(key: str | TurnkeyPublicKey) -> TurnkeyPublicKey:
    if isinstance(key, TurnkeyPublicKey):
        return key
    if isinstance(key, str):
        return TurnkeyPublicKey.from_hex(key, P256)
    raise TypeError("a user's key must be a TurnkeyPublicKey or P-256 hex text")


@dataclass(frozen=True)
class User:
    """A Turnkey user: ``user_id`` and the API keys it stamps with (hex is read as P-256)."""

    user_id: str
    keys: tuple[TurnkeyPublicKey, ...]

    def __init__(self, user_id: str, keys: Iterable[str | TurnkeyPublicKey]) -> None:
        if not isinstance(user_id, str) or not user_id:
            raise TypeError("user_id must be a non-empty str")
        if isinstance(keys, str | TurnkeyPublicKey):
            raise TypeError("keys must be an iterable of keys, not one key")
        loaded = tuple(_public_key(k) for k in keys)
        if not loaded:
            raise ValueError(f"user {user_id!r} has no key")
        if len(set(loaded)) != len(loaded):
            raise ValueError(f"user {user_id!r} lists a key twice")
        object.__setattr__(self, "user_id", user_id)
        object.__setattr__(self, "keys", loaded)


@dataclass(frozen=True)
class Quorum:
    """``threshold`` of ``members`` (users or nested quorums) must approve."""

    threshold: int
    members: tuple[User | Quorum, ...]
    name: str = ""
    _owners: dict[TurnkeyPublicKey, str] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        members = tuple(self.members)
        object.__setattr__(self, "members", members)
        threshold = self.threshold
        if isinstance(threshold, bool) or not isinstance(threshold, int):
            raise TypeError("threshold must be an int")
        if not 1 <= threshold <= len(members):
            raise ValueError(f"threshold must be between 1 and {len(members)} (the members)")
        if any(not isinstance(m, User | Quorum) for m in members):
            raise TypeError("members must be User or Quorum values")
        self._owners.update(_index(self, 1, set()))

    @property
    def owners(self) -> dict[TurnkeyPublicKey, str]:
        """Which user holds each key of the tree."""
        return dict(self._owners)

    def satisfied(self, approvers: frozenset[str]) -> bool:
        """Whether the users in ``approvers`` meet this quorum (nested quorums recursively)."""
        met = sum(1 for member in self.members if _member_met(member, approvers))
        return met >= self.threshold


def _member_met(member: User | Quorum, approvers: frozenset[str]) -> bool:
    if isinstance(member, User):
        return member.user_id in approvers
    return member.satisfied(approvers)


def _index(quorum: Quorum, depth: int, users: set[str]) -> dict[TurnkeyPublicKey, str]:
    """Key -> user over the tree; ValueError for a user or key listed twice, or too deep."""
    if depth > MAX_DEPTH:
        raise ValueError(f"quorums nest at most {MAX_DEPTH} deep")
    owners: dict[TurnkeyPublicKey, str] = {}
    for member in quorum.members:
        if isinstance(member, Quorum):
            found = _index(member, depth + 1, users)
        else:
            if member.user_id in users:
                raise ValueError(f"user {member.user_id!r} appears twice in the quorum")
            users.add(member.user_id)
            found = {key: member.user_id for key in member.keys}
        clash = owners.keys() & found.keys()
        if clash:
            raise ValueError("a key is held by two users of the quorum")
        owners.update(found)
    return owners


@dataclass(frozen=True)
class Approval:
    """One stamped request: the ``body`` exactly as sent and its ``X-Stamp`` value."""

    body: bytes
    stamp: str


@dataclass(frozen=True)
class ApprovalDecision:
    """Whether the approvals meet the quorum, and why.

    ``approvers`` are the users counted (sorted), ``rejected`` the index of each approval not
    counted with its reason code (``unknown_api_key``, ``duplicate_approval``, or a Turnkey
    error code).
    """

    approved: bool
    reason: str
    message: str
    fingerprint: str
    approvers: tuple[str, ...]
    rejected: tuple[tuple[int, str], ...]


def _counted_user(
    approval: Approval,
    fingerprint: str,
    owners: dict[TurnkeyPublicKey, str],
    organization_id: str | None,
    require_low_s: bool,
    window: tuple[int, int] | None,
) -> str:
    """The user an approval counts for; raises an AuthSigError when it does not count."""
    if not isinstance(approval, Approval):
        raise TypeError("approvals must be Approval values")
    stamp = verify_stamp(approval.body, approval.stamp, require_low_s=require_low_s)
    value = body_object(approval.body)
    own = activity_fingerprint(approval.body)
    if own != fingerprint and approved_fingerprint(value) != fingerprint:
        raise TurnkeyApprovalError("the stamped body neither is nor approves the activity")
    if organization_id is not None and value.get("organizationId") != organization_id:
        raise TurnkeyApprovalError("the stamped body is for another organization")
    if window is not None:
        timestamp = body_timestamp_ms(value)
        if not window[0] <= timestamp <= window[1]:
            raise TurnkeyTimestampError("the vote's timestampMs is outside the vote lifetime")
    user = owners.get(stamp.public_key)
    if user is None:
        raise TurnkeyUnknownKeyError("the stamp's key belongs to no user of the quorum")
    return user


def verify_approvals(
    approvals: Iterable[Approval],
    quorum: Quorum,
    *,
    fingerprint: str,
    organization_id: str | None = None,
    require_low_s: bool = False,
    now_ms: int | None = None,
    vote_lifetime_ms: int = VOTE_LIFETIME_MS,
) -> ApprovalDecision:
    """Count the stamped ``approvals`` of the activity ``fingerprint`` against ``quorum``.

    ``organization_id``, when given, must be the ``organizationId`` of every counted body.
    ``now_ms``, when given, counts only votes whose ``timestampMs`` lies within
    ``vote_lifetime_ms`` before it (Turnkey keeps votes 24 hours) and at most
    :data:`VOTE_SKEW_MS` after it; without it, times are not looked at.
    Refusals are decisions (``threshold_not_met``), never exceptions; only programmer
    mistakes raise (``TypeError``).
    """
    if not isinstance(quorum, Quorum):
        raise TypeError("quorum must be an authsig.turnkey.Quorum")
    if not isinstance(fingerprint, str) or not fingerprint:
        raise TypeError("fingerprint must be a non-empty str")
    window = None
    if now_ms is not None:
        window = (now_ms - vote_lifetime_ms, now_ms + VOTE_SKEW_MS)
    owners = quorum.owners
    approvers: set[str] = set()
    rejected: list[tuple[int, str]] = []
    for index, approval in enumerate(approvals):
        try:
            user = _counted_user(
                approval, fingerprint, owners, organization_id, require_low_s, window
            )
        except AuthSigError as exc:
            rejected.append((index, exc.code))
            continue
        if user in approvers:
            rejected.append((index, "duplicate_approval"))
            continue
        approvers.add(user)
    met = quorum.satisfied(frozenset(approvers))
    counted = tuple(sorted(approvers))
    name = quorum.name or "the quorum"
    if met:
        message = f"{len(counted)} users approved; {name} is met"
        return ApprovalDecision(True, "approved", message, fingerprint, counted, tuple(rejected))
    message = f"{len(counted)} users approved; {name} needs {quorum.threshold} of its members"
    return ApprovalDecision(
        False, "threshold_not_met", message, fingerprint, counted, tuple(rejected)
    )
