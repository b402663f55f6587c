"""What a quorum approves, without signing anything: for audits and before a change.

The rule is the distinct-key rule: **a key approves at most one member of the whole quorum
tree**, and signatures are assigned to members so that as many top-level members as possible
are approved. A key listed directly and inside a nested quorum, in two nested quorums, or as a
key and as a user's key, therefore never counts twice.

A *signer* is a key (named by its key id, RFC 7638) or a user member (named ``user:ID``; when
the user's keys are given, its keys are the signers instead). A *slot* is a place a signer can
fill: a direct key or user member, or a key or user member of a nested quorum. A nested quorum
is approved when at least its threshold of its slots are filled.

Finding the best assignment is a small flow problem: for each choice of nested quorums to
approve (at most 5, so at most 32 choices), fill their thresholds first, then augment with the
direct members (augmenting paths that end at the sink never unfill a nested quorum's slots).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from authsig.keys import PublicKey, load_public_key
from authsig.privy.lifecycle.errors import SimulationTooLargeError
from authsig.privy.quorum import KeyQuorum

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


class _Flow:
    """Residual capacities of a small flow network, augmented by breadth-first search."""

    def __init__(self) -> None:
        self.cap: dict[Any, dict[Any, int]] = {}

    def edge(self, a: Any, b: Any, capacity: int) -> None:
        self.cap.setdefault(a, {})[b] = self.cap.get(a, {}).get(b, 0) + capacity
        self.cap.setdefault(b, {}).setdefault(a, 0)

    def augment(self) -> int:
        """Push flow from "s" to "t" until no augmenting path is left; the flow added."""
        total = 0
        while True:
            parent: dict[Any, Any] = {"s": None}
            queue = deque(["s"])
            while queue and "t" not in parent:
                node = queue.popleft()
                for nxt, c in self.cap.get(node, {}).items():
                    if c > 0 and nxt not in parent:
                        parent[nxt] = node
                        queue.append(nxt)
            if "t" not in parent:
                return total
            node = "t"
            while parent[node] is not None:  # one unit per path: every capacity is a whole number
                prev = parent[node]
                self.cap[prev][node] -= 1
                self.cap[node][prev] += 1
                node = prev
            total += 1


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
        users = {
            u: frozenset(load_public_key(k).key_id for k in ks)
            for u, ks in (user_keys or {}).items()
        }
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
        threshold."""
        present = frozenset(signer_token(s) for s in signers)
        if present.isdisjoint(self._shared):
            members = self._count_disjoint(present)
        else:
            members = self._count_shared(present)
        t = self.quorum.threshold
        return Approval(len(members) >= t, len(members), t, members)

    def approves(self, signers: Iterable[PublicKey | str]) -> bool:
        """Whether ``signers`` approve a request (see :meth:`approval`)."""
        return self.approval(signers).approved

    def _count_disjoint(self, present: frozenset[str]) -> tuple[str, ...]:
        # No signer can fill two slots: every slot it can fill is filled.
        filled = [slot for slot in self._slots if not present.isdisjoint(slot.signers)]
        members = [slot.label for slot in filled if slot.group < 0]
        for i, q in enumerate(self.quorum.key_quorums):
            if sum(1 for slot in filled if slot.group == i) >= q.threshold:
                members.append(f"quorum {self.quorum_names[i]}")
        return tuple(members)

    def _count_shared(self, present: frozenset[str]) -> tuple[str, ...]:
        nested = self.quorum.key_quorums
        best: tuple[str, ...] = ()
        for size in range(len(nested), -1, -1):
            if size + self._direct_bound(present) <= len(best):
                break  # no choice of this size can beat what was found
            for chosen in combinations(range(len(nested)), size):
                members = self._assign(present, chosen)
                if members is not None and len(members) > len(best):
                    best = members
        return best

    def _direct_bound(self, present: frozenset[str]) -> int:
        return sum(
            1 for slot in self._slots if slot.group < 0 and not present.isdisjoint(slot.signers)
        )

    def _assign(self, present: frozenset[str], chosen: Sequence[int]) -> tuple[str, ...] | None:
        """The members approved when exactly the nested quorums ``chosen`` are filled first,
        or None when they cannot all be filled."""
        flow = _Flow()
        for s in present:
            flow.edge("s", ("g", s), 1)
        for index, slot in enumerate(self._slots):
            if slot.group >= 0 and slot.group not in chosen:
                continue
            for s in slot.signers & present:
                flow.edge(("g", s), ("m", index), 1)
            if slot.group >= 0:
                flow.edge(("m", index), ("q", slot.group), 1)
        need = 0
        for qi in chosen:
            t = self.quorum.key_quorums[qi].threshold
            flow.edge(("q", qi), "t", t)
            need += t
        if flow.augment() < need:
            return None
        direct = [i for i, slot in enumerate(self._slots) if slot.group < 0]
        for index in direct:
            flow.edge(("m", index), "t", 1)
        flow.augment()
        members = [self._slots[i].label for i in direct if flow.cap["t"].get(("m", i), 0) > 0]
        members += [f"quorum {self.quorum_names[qi]}" for qi in chosen]
        return tuple(members)

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
