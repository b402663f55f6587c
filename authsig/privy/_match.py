"""Which member key made a signature: the one place where signatures meet keys.

:meth:`MemberKeys.signer` answers it. With few keys it verifies the signature with each key in
turn. With more keys, ECDSA public-key recovery (:mod:`authsig._recover`) computes the (at most
four) keys that could have made the signature and looks them up by point, so the cost does not
grow with the number of keys. Either way the answer rests on ``cryptography``'s own
verification of that signature with that key. For honest signatures both ways give the same
key (``tests/test_verifier_properties.py`` checks it).
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations, pairwise
from typing import Literal, NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from authsig._recover import recover_points
from authsig.keys import PublicKey
from authsig.privy.quorum import KeyQuorum

__all__ = ["DIRECT_MATCH_LIMIT", "Approval", "MemberKeys", "Seat", "approves"]

DIRECT_MATCH_LIMIT = 3
"""Up to this many member keys, a signature is tried against each key; above it, public-key
recovery selects the key (recovery costs about three verifications)."""

_ECDSA = ec.ECDSA(hashes.SHA256())
_ECDSA_PREHASHED = ec.ECDSA(Prehashed(hashes.SHA256()))


class MemberKeys:
    """The keys a signature may come from: in member order, and by uncompressed point."""

    __slots__ = ("by_point", "keys")

    def __init__(self, keys: Sequence[PublicKey], by_point: Mapping[bytes, PublicKey]) -> None:
        self.keys = tuple(keys)
        self.by_point = by_point

    @classmethod
    def of(cls, quorum: KeyQuorum, users: Mapping[str, Sequence[PublicKey]]) -> MemberKeys:
        """The keys of ``quorum`` (its nested quorums included), then the users' keys."""
        by_point = quorum.key_index
        extra = {k.point: k for ks in users.values() for k in ks if k.point not in by_point}
        if not extra:
            return cls(quorum.all_keys, by_point)
        return cls(quorum.all_keys + tuple(extra.values()), {**by_point, **extra})

    def signer(
        self, payload: bytes, der: bytes, r: int, s: int, signed: Collection[PublicKey] = ()
    ) -> PublicKey | None:
        """The member key with which ``der`` (whose scalars are ``r``, ``s``) verifies over
        ``payload``, or None. ``signed`` holds keys that already made another signature of the
        request: they are tried last."""
        if len(self.keys) > DIRECT_MATCH_LIMIT:
            return self._by_recovery(payload, der, r, s, signed)
        return self._directly(payload, der, signed)

    def _directly(
        self, payload: bytes, der: bytes, signed: Collection[PublicKey]
    ) -> PublicKey | None:
        keys = self.keys
        if signed:
            keys = tuple(k for k in keys if k not in signed) + tuple(k for k in keys if k in signed)
        for key in keys:
            try:
                key.crypto.verify(der, payload, _ECDSA)
            except InvalidSignature:
                continue
            return key
        return None

    def _by_recovery(
        self, payload: bytes, der: bytes, r: int, s: int, signed: Collection[PublicKey]
    ) -> PublicKey | None:
        digest = hashlib.sha256(payload).digest()
        points = recover_points(int.from_bytes(digest, "big"), r, s)
        if points is None:  # a degenerate signature: recovery cannot tell
            return self._directly(payload, der, signed)
        for point in points:
            key = self.by_point.get(point)
            if key is None:
                continue
            try:  # the digest is already there: verify without hashing the payload again
                key.crypto.verify(der, digest, _ECDSA_PREHASHED)
            except InvalidSignature:
                continue
            return key
        return None


# --- which member each key approves ----------------------------------------------------------


class Seat(NamedTuple):
    """A place where a key can approve: a key member or a user member of the top-level quorum
    (``quorum`` -1) or of nested quorum ``key_quorums[quorum]``; ``position`` indexes that
    quorum's ``public_keys`` (``kind`` "key") or ``user_ids`` (``kind`` "user")."""

    quorum: int
    kind: Literal["key", "user"]
    position: int


@dataclass(frozen=True)
class Approval:
    """What a set of keys approves under the distinct-key rule (see :func:`approves`).

    ``count`` is the number of top-level members approved under the best assignment of keys
    to seats, ``threshold`` the quorum's. ``assignment`` maps each key that approves a member
    to its seat (a key approves at most one seat of the whole tree), ``satisfied`` lists the
    nested quorums (indexes of ``key_quorums``) whose own threshold that assignment meets, and
    ``shared`` maps each key that could sit in more than one seat to those seats.
    ``uncapped`` is what the count would be if a key approved every member it stands for: when
    it is larger than ``count``, an overlap capped the count (``capped``).
    """

    approved: bool
    count: int
    threshold: int
    uncapped: int
    assignment: Mapping[PublicKey, Seat]
    satisfied: tuple[int, ...]
    shared: Mapping[PublicKey, tuple[Seat, ...]]

    @property
    def capped(self) -> int:
        """How many approvals the overlap withheld (0 when none)."""
        return self.uncapped - self.count


def approves(
    quorum: KeyQuorum,
    signers: Iterable[PublicKey | str],
    users: Mapping[str, Iterable[PublicKey]] | None = None,
) -> Approval:
    """Whether the keys ``signers`` (PublicKey objects or RFC 7638 key ids) approve ``quorum``.

    The rule: a key approves at most one member of the whole quorum tree (a key member, a user
    member through one of the user's keys in ``users``, or a member of a nested quorum; a nested
    quorum counts as one member of its parent once its own threshold is met). Where a key stands
    for several members, keys are assigned to members so that as many top-level members as
    possible are approved: overlap never counts one key twice, and never refuses what distinct
    signers satisfy. Keys that stand for no member are ignored. A pure function: the verifier
    decides with it, and so may anything that simulates a quorum (tests compare it with the
    enumeration of every assignment).

    Nested quorums go one level deep (as :class:`KeyQuorum` enforces): the best assignment is
    found by trying each set of nested quorums to satisfy (at most ``2**5``, and only when a key
    is shared) with a maximum flow from those quorums and the top-level seats to the keys.
    """
    users = {uid: tuple(keys) for uid, keys in (users or {}).items()}
    signed = _signed_keys(quorum, signers, users)
    seats = _seats(quorum, signed, users)
    uncapped = _uncapped_count(quorum, seats)
    shared: dict[PublicKey, list[Seat]] = {}
    for seat, keys in seats.items():
        for key in keys:
            shared.setdefault(key, []).append(seat)
    shared_seats = {k: tuple(v) for k, v in shared.items() if len(v) > 1}
    if shared_seats:
        count, satisfied, assignment = _best_assignment(quorum, seats, uncapped)
    else:  # every key stands for one member at most: each approves it
        assignment = {keys[0]: seat for seat, keys in seats.items()}
        count, satisfied = uncapped, _satisfied(quorum, assignment.values())
    return Approval(
        approved=count >= quorum.threshold,
        count=count,
        threshold=quorum.threshold,
        uncapped=uncapped,
        assignment=assignment,
        satisfied=satisfied,
        shared=shared_seats,
    )


def _signed_keys(
    quorum: KeyQuorum, signers: Iterable[PublicKey | str], users: Mapping[str, Iterable[PublicKey]]
) -> dict[PublicKey, None]:
    """The keys of ``signers`` in order, each once; key ids name member or user keys."""
    by_id: dict[str, PublicKey] | None = None
    out: dict[PublicKey, None] = {}
    for signer in signers:
        if isinstance(signer, PublicKey):
            out[signer] = None
        elif isinstance(signer, str):
            if by_id is None:
                by_id = {k.key_id: k for k in quorum.all_keys}
                by_id.update({k.key_id: k for ks in users.values() for k in ks})
            key = by_id.get(signer)
            if key is not None:
                out[key] = None
        else:
            kind = type(signer).__name__
            raise TypeError(f"signers must be PublicKey objects or key ids, not {kind}")
    return out


def _seats(
    quorum: KeyQuorum, signed: Mapping[PublicKey, None], users: Mapping[str, Iterable[PublicKey]]
) -> dict[Seat, tuple[PublicKey, ...]]:
    """Each seat that a signed key can take, with those keys (in signing order). The key seats
    come from the quorum's index, so the work grows with the keys that signed."""
    seats: dict[Seat, tuple[PublicKey, ...]] = {}
    for key in signed:
        for qi, ki in quorum.key_positions.get(key, ()):
            seats[Seat(qi, "key", ki)] = (key,)
    if not users:
        return seats
    for qi, q in [(-1, quorum), *enumerate(quorum.key_quorums)]:
        for ui, uid in enumerate(q.user_ids):
            theirs = set(users.get(uid, ()))
            keys = tuple(k for k in signed if k in theirs)
            if keys:
                seats[Seat(qi, "user", ui)] = keys
    return seats


def _satisfied(quorum: KeyQuorum, taken: Iterable[Seat]) -> tuple[int, ...]:
    """The nested quorums whose threshold the seats ``taken`` meet."""
    counts = [0] * len(quorum.key_quorums)
    for seat in taken:
        if seat.quorum >= 0:
            counts[seat.quorum] += 1
    return tuple(i for i, q in enumerate(quorum.key_quorums) if counts[i] >= q.threshold)


def _uncapped_count(quorum: KeyQuorum, seats: Mapping[Seat, object]) -> int:
    """The count if a key approved every member it stands for (an upper bound of the count)."""
    top = sum(1 for seat in seats if seat.quorum < 0)
    return top + len(_satisfied(quorum, seats))


def _best_assignment(
    quorum: KeyQuorum, seats: Mapping[Seat, tuple[PublicKey, ...]], bound: int
) -> tuple[int, tuple[int, ...], dict[PublicKey, Seat]]:
    """The largest count over the sets of nested quorums to satisfy, its nested quorums and
    its assignment. ``bound`` (the uncapped count) stops the search once reached."""
    nested = quorum.key_quorums
    offered = [sum(1 for s in seats if s.quorum == i) for i in range(len(nested))]
    reachable = [i for i, q in enumerate(nested) if offered[i] >= q.threshold]
    top_seats = sum(1 for s in seats if s.quorum < 0)
    best: tuple[int, tuple[int, ...], _Flow] | None = None
    for size in range(len(reachable), -1, -1):
        if best is not None and size + top_seats <= best[0]:
            break  # no smaller set can do better
        for chosen in combinations(reachable, size):
            flow = _Flow(seats)
            need = {i: nested[i].threshold for i in chosen}
            if flow.fill(need) < sum(need.values()):
                continue  # these nested quorums cannot all be met by distinct keys
            count = size + flow.fill({-1: top_seats})
            if best is None or count > best[0]:
                best = (count, chosen, flow)
            if count >= bound:
                break
        if best is not None and best[0] >= bound:
            break
    assert best is not None  # the empty set is always feasible
    count, chosen, flow = best
    # Seat the remaining keys where they count for nothing more (the report shows them).
    flow.fill({i: offered[i] for i in range(len(nested))})
    return count, chosen, flow.assignment()


_Node = int | Seat | PublicKey
"""A node of :class:`_Flow`'s graph: a group (int), a seat or a key."""


class _Flow:
    """A maximum flow from groups of seats (a nested quorum, or -1 for the top-level seats)
    through the seats to the keys, each key carrying one unit, grown by augmenting paths. An
    augmenting path starts at the group being filled and never lowers the flow out of another
    group (it may hand a group's approval from one of its seats to another), so groups filled
    first stay filled while others are added."""

    def __init__(self, seats: Mapping[Seat, tuple[PublicKey, ...]]) -> None:
        self.seats = seats
        self.groups: dict[int, list[Seat]] = {}
        for seat in seats:
            self.groups.setdefault(seat.quorum, []).append(seat)
        self.seat_of: dict[PublicKey, Seat] = {}  # key -> the seat it approves
        self.key_at: dict[Seat, PublicKey] = {}  # seat -> the key that approves it

    def fill(self, wanted: Mapping[int, int]) -> int:
        """Take up to ``wanted[group]`` more seats of each group; return how many were taken."""
        taken = 0
        for group, want in wanted.items():
            for _ in range(want):
                if not self._augment(group):
                    break
                taken += 1
        return taken

    def _augment(self, group: int) -> bool:
        """One more seat for ``group`` along a shortest augmenting path, if there is one.
        Nodes: a group is its int, a seat its :class:`Seat`, a key its PublicKey."""
        parent: dict[_Node, _Node | None] = {group: None}
        queue: deque[_Node] = deque([group])
        while queue:
            node = queue.popleft()
            for nxt in self._next(node):
                if nxt in parent:
                    continue
                parent[nxt] = node
                if isinstance(nxt, PublicKey) and nxt not in self.seat_of:
                    self._apply(nxt, parent)
                    return True
                queue.append(nxt)
        return False

    def _next(self, node: _Node) -> Iterator[_Node]:
        """The residual graph: group -> its free seats; seat -> its other keys (and, when the
        seat is taken, back to its group); taken key -> the seat that holds it."""
        if isinstance(node, PublicKey):
            yield self.seat_of[node]
        elif isinstance(node, Seat):
            held = self.key_at.get(node)
            yield from (key for key in self.seats[node] if key != held)
            if held is not None:
                yield node.quorum
        else:
            yield from (seat for seat in self.groups.get(node, ()) if seat not in self.key_at)

    def _apply(self, end: PublicKey, parent: Mapping[_Node, _Node | None]) -> None:
        """Move the keys along the path that ends at the free key ``end``."""
        path: list[_Node] = [end]
        while (prev := parent[path[-1]]) is not None:
            path.append(prev)
        path.reverse()
        for a, b in pairwise(path):
            if isinstance(a, Seat) and isinstance(b, PublicKey):  # the seat takes the key
                self.key_at[a] = b
                self.seat_of[b] = a
            elif isinstance(a, PublicKey) and isinstance(b, Seat) and self.key_at.get(b) == a:
                del self.key_at[b]  # the seat gives the key up (it takes another next)

    def assignment(self) -> dict[PublicKey, Seat]:
        """Key -> the seat it approves."""
        return dict(self.seat_of)
