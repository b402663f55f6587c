"""What a quorum approves, without signing anything: for audits and before a change.

The rule is the distinct-key rule: **a key approves at most one member of the whole quorum
tree**, and signatures are assigned to members so that as many top-level members as possible
are approved. A key listed directly and inside a nested quorum, in two nested quorums, or as a
key and as a user's key, therefore never counts twice.

A *signer* is a key (named by its key id, RFC 7638) or a user member (named ``user:ID``; when
the user's keys are given, its keys are the signers instead). A *slot* is a place a signer can
fill: a direct key or user member, or a key or user member of a nested quorum. A nested quorum
is approved when at least its threshold of its slots are filled.

The assignment is the verifier's own (:func:`authsig.privy._match.approves`), so a set of
signers approves here exactly when the verifier approves a request signed by that set. A user
whose keys are not given is modelled as one key of its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from authsig.keys import PublicKey, load_public_key
from authsig.privy._match import Seat, approves
from authsig.privy.lifecycle.errors import SimulationTooLargeError
from authsig.privy.quorum import KeyQuorum
from authsig.signatures import P256_N

__all__ = [
    "DEFAULT_BUDGET",
    "Approval",
    "ApprovingSet",
    "Lockout",
    "Simulation",
    "signer_token",
]

DEFAULT_BUDGET = 200_000
"""Most approval checks one enumeration may make before it gives up."""


def signer_token(value: PublicKey | str) -> str:
    """A signer's name: a key's id for a :class:`PublicKey`; text is taken as a key id or a
    ``user:ID`` token as it is."""
    if isinstance(value, PublicKey):
        return value.key_id
    if isinstance(value, str) and value:
        return value
    raise TypeError(f"a signer is a PublicKey, a key id or 'user:ID', not {value!r}")


@dataclass(frozen=True)
class _Slot:
    label: str  # "key <id>" or "user <id>", with " in quorum <name>" for a nested member
    group: int  # -1: a direct member of the top-level quorum; i: of key_quorums[i]
    signers: frozenset[str]


@dataclass(frozen=True)
class Approval:
    """The outcome of a set of signers: ``approved``, the number of top-level members approved
    (``count``, against ``threshold``) and which ones (``members``)."""

    approved: bool
    count: int
    threshold: int
    members: tuple[str, ...]

    def __bool__(self) -> bool:
        return self.approved


@dataclass(frozen=True)
class ApprovingSet:
    """A minimal approving set: its ``signers`` and the top-level ``members`` they approve."""

    signers: tuple[str, ...]
    members: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {"signers": list(self.signers), "members": list(self.members)}


@dataclass(frozen=True)
class Lockout:
    """The smallest number of held signers whose loss locks the quorum out (``distance``; 0 when
    the held signers cannot approve already), and one such set (``example``)."""

    distance: int
    example: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {"distance": self.distance, "example": list(self.example)}


def _user_stand_in(user_id: str) -> PublicKey:
    # A user whose keys are not given signs as one key of its own: a point derived from its id,
    # never a real key and never used to verify, so that the matching sees one key per user
    # (the same user in two places is then one signer, as the distinct-key rule wants).
    digest = hashlib.sha256(b"authsig simulation user\x00" + user_id.encode()).digest()
    scalar = int.from_bytes(digest, "big") % (P256_N - 1) + 1
    point = ec.derive_private_key(scalar, ec.SECP256R1()).public_key()
    return load_public_key(point.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))


def _name(q: KeyQuorum, index: int) -> str:
    return q.id or q.display_name or f"#{index + 1}"


class Simulation:
    """The approvals of one quorum under the distinct-key rule.

    ``user_keys`` (optional) maps a user id to its keys: those keys are then the user's signers
    instead of the ``user:ID`` token.
    """

    def __init__(
        self, quorum: KeyQuorum, *, user_keys: Mapping[str, Iterable[PublicKey | str]] | None = None
    ) -> None:
        if not isinstance(quorum, KeyQuorum):
            raise TypeError(f"quorum must be a KeyQuorum, not {type(quorum).__name__}")
        self.quorum = quorum
        given = {u: tuple(load_public_key(k) for k in ks) for u, ks in (user_keys or {}).items()}
        # signer -> its key, and each user member's keys, as the matching takes them
        self._keys: dict[str, PublicKey] = {k.key_id: k for k in quorum.all_keys}
        self._users: dict[str, tuple[PublicKey, ...]] = {}
        for uid in quorum.all_user_ids:
            keys = given[uid] if uid in given else (_user_stand_in(uid),)
            self._users[uid] = keys
            if uid not in given:
                self._keys[f"user:{uid}"] = keys[0]
            for key in keys:
                self._keys.setdefault(key.key_id, key)
        users = {u: frozenset(k.key_id for k in ks) for u, ks in given.items()}
        slots: list[_Slot] = []
        groups = [(-1, quorum, "")] + [
            (i, q, f" in quorum {_name(q, i)}") for i, q in enumerate(quorum.key_quorums)
        ]
        for group, q, where in groups:
            for key in q.public_keys:
                slots.append(_Slot(f"key {key.key_id}{where}", group, frozenset({key.key_id})))
            for uid in q.user_ids:
                # A user whose keys are given signs with them (none: it cannot sign).
                signers = users[uid] if uid in users else frozenset({f"user:{uid}"})
                slots.append(_Slot(f"user {uid}{where}", group, signers))
        self._slots = tuple(slots)
        self.quorum_names = tuple(_name(q, i) for i, q in enumerate(quorum.key_quorums))
        self.signers: tuple[str, ...] = tuple(
            dict.fromkeys(s for slot in slots for s in slot.signers)
        )
        """Every signer of the tree, each once, in member order."""
        counts: dict[str, int] = {}
        for slot in slots:
            for s in slot.signers:
                counts[s] = counts.get(s, 0) + 1
        self._shared = frozenset(s for s, n in counts.items() if n > 1)

    # --- overlaps ---------------------------------------------------------------------------

    def overlaps(self) -> dict[str, tuple[str, ...]]:
        """Signer -> the slots it could fill, for every signer that could fill more than one
        (under the distinct-key rule it fills only one of them)."""
        return {
            s: tuple(slot.label for slot in self._slots if s in slot.signers)
            for s in self.signers
            if s in self._shared
        }

    # --- one set of signers -----------------------------------------------------------------

    def approval(self, signers: Iterable[PublicKey | str]) -> Approval:
        """Which top-level members ``signers`` approve at best, and whether that meets the
        threshold (the verifier's own matching, :func:`authsig.privy._match.approves`)."""
        keys = [
            self._keys[t]
            for t in dict.fromkeys(signer_token(s) for s in signers)
            if t in self._keys
        ]
        result = approves(self.quorum, keys, self._users)
        members = [self._label(seat) for seat in result.assignment.values() if seat.quorum < 0]
        members += [f"quorum {self.quorum_names[i]}" for i in result.satisfied]
        return Approval(result.approved, result.count, result.threshold, tuple(members))

    def approves(self, signers: Iterable[PublicKey | str]) -> bool:
        """Whether ``signers`` approve a request (see :meth:`approval`)."""
        return self.approval(signers).approved

    def _label(self, seat: Seat) -> str:
        q = self.quorum
        if seat.kind == "key":
            return f"key {q.public_keys[seat.position].key_id}"
        return f"user {q.user_ids[seat.position]}"

    # --- enumerations -----------------------------------------------------------------------

    def _size_bound(self) -> int:
        # A minimal set approves exactly `threshold` members, each needing one signer (a direct
        # member) or its own threshold of them (a nested quorum).
        per_member = max([1] + [q.threshold for q in self.quorum.key_quorums])
        return min(len(self.signers), self.quorum.threshold * per_member)

    def minimal_sets(
        self, *, limit: int = 100, budget: int = DEFAULT_BUDGET
    ) -> tuple[tuple[ApprovingSet, ...], bool]:
        """The minimal approving sets of signers (no proper subset approves), smallest first,
        and whether the list was cut at ``limit``. Raises
        :class:`~authsig.privy.lifecycle.errors.SimulationTooLargeError` past ``budget``
        approval checks."""
        found: list[ApprovingSet] = []
        spent = 0
        for size in range(1, self._size_bound() + 1):
            for combo in combinations(self.signers, size):
                chosen = frozenset(combo)
                if any(chosen.issuperset(f.signers) for f in found):
                    continue
                spent += 1
                if spent > budget:
                    raise SimulationTooLargeError(
                        f"{self.quorum.label} has {len(self.signers)} signers: listing its "
                        f"approving sets takes more than {budget} checks"
                    )
                result = self.approval(chosen)
                if result.approved:
                    found.append(ApprovingSet(combo, result.members))
                    if len(found) >= limit:
                        return tuple(found), True
        return tuple(found), False

    def lockout(
        self, held: Iterable[PublicKey | str] | None = None, *, budget: int = DEFAULT_BUDGET
    ) -> Lockout:
        """How many of the ``held`` signers (default: all of them) must be lost before the rest
        can no longer approve."""
        have = self.signers if held is None else tuple(dict.fromkeys(signer_token(s) for s in held))
        if not self.approves(have):
            return Lockout(0, ())
        spent = 0
        for size in range(1, len(have) + 1):
            for lost in combinations(have, size):
                spent += 1
                if spent > budget:
                    raise SimulationTooLargeError(
                        f"{self.quorum.label}: the lockout distance takes more than {budget} checks"
                    )
                if not self.approves(set(have) - set(lost)):
                    return Lockout(size, lost)
        return Lockout(len(have), have)  # pragma: no cover - losing every signer locks it out
