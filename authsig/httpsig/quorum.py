"""Labelled signatures counted against a threshold: m of n keyids, quorums nested in quorums.

RFC 9421 lets one request carry many signatures but says nothing of counting them; this module
does, scheme-neutrally. A quorum's members are keyids or quorums; a member keyid is satisfied
when a signature by the key it names verified; a quorum is satisfied when ``threshold`` of its
members are. One key approves at most one member: keys are told apart by their material (two
keyids naming one key are one approver), so one holder cannot count twice by signing under two
names or for a member of two nested quorums. Whether such an assignment exists is a matching
problem; :func:`satisfied` searches it over the minimal key sets of each member (quorums are
small: at most :data:`MAX_LEAVES` keyids and :data:`MAX_DEPTH` levels).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Union

from authsig.httpsig.errors import HttpSigQuorumError

__all__ = ["MAX_DEPTH", "MAX_LEAVES", "Quorum", "satisfied"]

MAX_LEAVES = 32
"""Most keyids one quorum (with its nested quorums) may name."""
MAX_DEPTH = 4
"""Most levels of nesting."""

Member = Union[str, "Quorum"]


@dataclass(frozen=True)
class Quorum:
    """``threshold`` of ``members`` (keyids or quorums) must approve; ``name`` is for logs."""

    threshold: int
    members: tuple[Member, ...]
    name: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int):
            raise TypeError("threshold must be an integer")
        if not isinstance(self.members, tuple):
            raise TypeError("members must be a tuple of keyids and quorums")
        for member in self.members:
            if not isinstance(member, str | Quorum):
                raise TypeError("a member is a keyid (str) or a Quorum")
        if not 1 <= self.threshold <= len(self.members):
            raise HttpSigQuorumError(
                f"threshold {self.threshold} must be between 1 and {len(self.members)}"
            )
        if self.depth() > MAX_DEPTH or len(self.keyids()) > MAX_LEAVES:
            raise HttpSigQuorumError(
                f"a quorum names at most {MAX_LEAVES} keyids in {MAX_DEPTH} levels"
            )

    @classmethod
    def of(cls, threshold: int, members: Iterable[Member], name: str = "") -> Quorum:
        """A quorum from any iterable of members."""
        if isinstance(members, str):
            raise TypeError("members must be an iterable of keyids, not one string")
        return cls(threshold, tuple(members), name)

    def depth(self) -> int:
        """Levels of nesting (1 for a flat quorum)."""
        return 1 + max((m.depth() for m in self.members if isinstance(m, Quorum)), default=0)

    def keyids(self) -> list[str]:
        """Every keyid named, nested ones included (with repeats)."""
        out: list[str] = []
        for member in self.members:
            out.extend(member.keyids() if isinstance(member, Quorum) else [member])
        return out


WAYS_KEPT = 64
"""Most key sets kept per nested member while searching: beyond it the search may miss an
assignment that exists and refuse (fail closed); only quorums that give one key to many
members reach it."""


def _minimal(sets: Iterable[frozenset[str]]) -> list[frozenset[str]]:
    """The sets no other set is a proper subset of (an antichain), deduplicated."""
    unique = sorted(set(sets), key=lambda s: (len(s), sorted(s)))
    kept: list[frozenset[str]] = []
    for candidate in unique:
        if not any(k <= candidate for k in kept):
            kept.append(candidate)
    return kept


def _ways(member: Member, owner: Mapping[str, str], limit: int) -> list[frozenset[str]]:
    """Up to ``limit`` minimal sets of approving keys that satisfy ``member`` (``owner``: the
    keyid of each verified signature -> its key's fingerprint)."""
    if isinstance(member, str):
        key = owner.get(member)
        return [frozenset({key})] if key is not None else []
    if all(isinstance(m, str) for m in member.members):
        # Flat: any threshold of the distinct approving keys.
        keys = sorted({owner[m] for m in member.members if isinstance(m, str) and m in owner})
        picks = combinations(keys, member.threshold)
        return [frozenset(pick) for _, pick in zip(range(limit), picks, strict=False)]
    options = [ways for ways in (_ways(m, owner, WAYS_KEPT) for m in member.members) if ways]
    found: list[frozenset[str]] = []
    for chosen in combinations(options, member.threshold):
        found.extend(_disjoint_unions(chosen))
        if len(found) >= limit:
            break
    return _minimal(found)[:limit]


def _disjoint_unions(chosen: tuple[list[frozenset[str]], ...]) -> list[frozenset[str]]:
    """Unions of one set from each list, keeping only pairwise disjoint picks."""
    partial: list[frozenset[str]] = [frozenset()]
    for ways in chosen:
        partial = _minimal(p | w for p in partial for w in ways if not p & w)[:WAYS_KEPT]
        if not partial:
            return []
    return partial


def satisfied(quorum: Quorum, owner: Mapping[str, str]) -> frozenset[str] | None:
    """A set of keys that satisfies ``quorum``, each key counted for one member only, or None.
    ``owner`` maps the keyid of each verified signature to its key's fingerprint."""
    ways = _ways(quorum, owner, 1)
    return ways[0] if ways else None
