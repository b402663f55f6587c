"""Quorums over RFC 9421 labelled signatures, against a brute-force oracle.

The oracle tries every way of switching leaves on (a leaf is a keyid whose signature verified)
such that no key is used by two leaves, and evaluates the tree; :func:`satisfied` must agree,
and the key set it returns must itself satisfy the quorum.
"""

from __future__ import annotations

from itertools import product

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from authsig.httpsig import HttpSigQuorumError, Quorum, satisfied
from authsig.httpsig.quorum import MAX_DEPTH, MAX_LEAVES

KEYIDS = ["a", "b", "c", "d", "e", "f"]
KEYS = ["K1", "K2", "K3", "K4"]


def _leaves(member: str | Quorum) -> list[str]:
    return member.keyids() if isinstance(member, Quorum) else [member]


def _evaluate(member: str | Quorum, on: list[bool], position: list[int]) -> bool:
    if isinstance(member, str):
        value = on[position[0]]
        position[0] += 1
        return value
    count = sum(_evaluate(child, on, position) for child in member.members)
    return count >= member.threshold


def oracle(quorum: Quorum, owner: dict[str, str]) -> bool:
    leaves = quorum.keyids()
    for on in product([False, True], repeat=len(leaves)):
        used = [owner.get(k) for k, flag in zip(leaves, on, strict=True) if flag]
        if None in used or len(used) != len(set(used)):
            continue
        if _evaluate(quorum, list(on), [0]):
            return True
    return False


@st.composite
def quorums(draw: st.DrawFn, depth: int = 2) -> Quorum:
    # At most 3 members a level: 3**3 = 27 leaves at depth 2, within MAX_LEAVES (4 a level
    # could draw 64 and fail in Quorum.of instead of in the property).
    members: list[str | Quorum] = []
    for _ in range(draw(st.integers(1, 3))):
        if depth > 0 and draw(st.booleans()):
            members.append(draw(quorums(depth - 1)))
        else:
            members.append(draw(st.sampled_from(KEYIDS)))
    threshold = draw(st.integers(1, len(members)))
    return Quorum.of(threshold, members)


owners = st.dictionaries(st.sampled_from(KEYIDS), st.sampled_from(KEYS))


@settings(max_examples=400, deadline=None)
@given(quorum=quorums(), owner=owners)
def test_satisfied_agrees_with_the_brute_force_oracle(
    quorum: Quorum, owner: dict[str, str]
) -> None:
    # The oracle is exponential in leaves; larger trees are covered by smaller ones.
    assume(len(quorum.keyids()) <= 12)
    found = satisfied(quorum, owner)
    assert (found is not None) == oracle(quorum, owner)
    if found is not None:
        assert found <= set(owner.values())
        # The witness alone satisfies the quorum: keep only the keyids of its keys.
        assert oracle(quorum, {k: v for k, v in owner.items() if v in found})


def test_a_key_approves_one_member_only() -> None:
    # "a" and "b" name the same key: one holder signing under two names is one approval.
    quorum = Quorum.of(2, ["a", "b", "c"])
    assert satisfied(quorum, {"a": "K1", "b": "K1"}) is None
    assert satisfied(quorum, {"a": "K1", "c": "K2"}) == frozenset({"K1", "K2"})
    # A key in two nested quorums counts in one of them.
    nested = Quorum.of(2, [Quorum.of(1, ["a", "b"]), Quorum.of(1, ["a", "c"])])
    assert satisfied(nested, {"a": "K1"}) is None
    assert satisfied(nested, {"a": "K1", "c": "K2"}) == frozenset({"K1", "K2"})


def test_bad_quorums_are_refused() -> None:
    with pytest.raises(HttpSigQuorumError):
        Quorum.of(0, ["a"])
    with pytest.raises(HttpSigQuorumError):
        Quorum.of(3, ["a", "b"])
    with pytest.raises(HttpSigQuorumError):
        Quorum.of(1, [f"k{i}" for i in range(MAX_LEAVES + 1)])
    deep: str | Quorum = "a"
    for _ in range(MAX_DEPTH):
        deep = Quorum.of(1, [deep])
    with pytest.raises(HttpSigQuorumError):
        Quorum.of(1, [deep])
    with pytest.raises(TypeError):
        Quorum.of(1, "ab")
    with pytest.raises(TypeError):
        Quorum(True, ("a",))


def test_a_wide_flat_quorum_is_counted_quickly() -> None:
    keyids = [f"k{i}" for i in range(MAX_LEAVES)]
    quorum = Quorum.of(16, keyids)
    owner = {k: f"K{i}" for i, k in enumerate(keyids[:16])}
    found = satisfied(quorum, owner)
    assert found is not None
    assert len(found) == 16
    assert satisfied(quorum, dict(list(owner.items())[:15])) is None
