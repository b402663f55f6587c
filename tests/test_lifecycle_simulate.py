"""Simulation of key quorums: against the verifier, and against a brute-force oracle of the
distinct-key rule (a key approves at most one member of the whole tree; signers are assigned to
members so as to approve as many as possible).

A set of signers approves in the simulation exactly when the verifier approves a request signed
by exactly that set, on quorums whose members are disjoint and on quorums where keys and users
appear in several places.
"""

from __future__ import annotations

from itertools import combinations, product
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authsig.keys import generate_private_key
from authsig.privy.lifecycle import Simulation, plan_change
from authsig.privy.quorum import KeyQuorum
from authsig.privy.signing import sign_request
from authsig.privy.verifier import Verifier

KEYS = [generate_private_key() for _ in range(10)]
PUB = [k.public_key for k in KEYS]
BY_ID = {p.key_id: k for p, k in zip(PUB, KEYS, strict=True)}
URL = "https://api.privy.io/v1/key_quorums/q"
BODY = {"display_name": "x"}
# Overlapping quorums are built on purpose here: the warning a quorum may give about them is
# expected, not news.
pytestmark = pytest.mark.filterwarnings("ignore:.*each key approves only one member")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _approved_by_verifier(quorum: KeyQuorum, signer_ids: list[str], users: dict[str, Any]) -> bool:
    keys = [BY_ID[s] for s in signer_ids]
    headers = sign_request(method="PATCH", url=URL, body=BODY, app_id="app", keys=keys)
    decision = Verifier(quorum, user_keys=users).verify(
        method="PATCH", url=URL, body=BODY, headers=headers
    )
    return decision.approved


@st.composite
def disjoint_quorums(draw: Any) -> tuple[KeyQuorum, dict[str, list[Any]]]:
    """A quorum whose members never share a key; each user has a key of its own."""
    order = draw(st.permutations(range(len(PUB))))
    pool = iter(order)
    nested = []
    for i in range(draw(st.integers(0, 2))):
        size = draw(st.integers(1, 3))
        keys = tuple(PUB[next(pool)] for _ in range(size))
        nested.append(
            KeyQuorum(
                public_keys=keys, authorization_threshold=draw(st.integers(1, size)), id=f"n{i}"
            )
        )
    direct = tuple(PUB[next(pool)] for _ in range(draw(st.integers(0, 2))))
    users = {f"u{i}": [PUB[next(pool)]] for i in range(draw(st.integers(0, 2)))}
    members = len(direct) + len(users) + len(nested)
    if members == 0:
        direct = (PUB[next(pool)],)
        members = 1
    quorum = KeyQuorum(
        public_keys=direct,
        user_ids=tuple(users),
        key_quorums=tuple(nested),
        authorization_threshold=draw(st.integers(1, members)),
        id="q",
    )
    return quorum, users


@SETTINGS
@given(disjoint_quorums(), st.data())
def test_a_set_approves_exactly_when_the_verifier_approves_it(case: Any, data: Any) -> None:
    quorum, users = case
    sim = Simulation(quorum, user_keys=users)
    tree = [p.key_id for p in quorum.all_keys] + [users[u][0].key_id for u in users]
    chosen = data.draw(st.lists(st.sampled_from(tree), min_size=1, unique=True))
    assert sim.approves(chosen) == _approved_by_verifier(quorum, chosen, users)


# --- overlapping quorums: the brute-force oracle of the distinct-key rule ---------------------


def _oracle(quorum: KeyQuorum, signers: set[str]) -> int:
    """The most top-level members any assignment of signers to places approves."""
    slots: list[tuple[int, str]] = []  # (group, signer): group -1 direct, i nested quorum i
    for group, q in [(-1, quorum), *enumerate(quorum.key_quorums)]:
        slots += [(group, k.key_id) for k in q.public_keys]
        slots += [(group, f"user:{u}") for u in q.user_ids]
    ordered = sorted(signers)
    options = [[None] + [i for i, (_, s) in enumerate(slots) if s == signer] for signer in ordered]
    best = 0
    for pick in product(*options):
        filled = {i for i in pick if i is not None}
        count = sum(1 for i in filled if slots[i][0] < 0)
        for qi, q in enumerate(quorum.key_quorums):
            count += sum(1 for i in filled if slots[i][0] == qi) >= q.threshold
        best = max(best, count)
    return best


@st.composite
def overlapping_quorums(draw: Any) -> KeyQuorum:
    """Small quorums whose keys and users may appear in several places."""
    pool = PUB[:5]
    people = ["a", "b"]
    nested = []
    for i in range(draw(st.integers(0, 2))):
        keys = tuple(draw(st.lists(st.sampled_from(pool), max_size=3, unique=True)))
        users = tuple(draw(st.lists(st.sampled_from(people), max_size=1, unique=True)))
        if not keys and not users:
            keys = (pool[i],)
        size = len(keys) + len(users)
        t = draw(st.integers(1, size))
        nested.append(
            KeyQuorum(public_keys=keys, user_ids=users, authorization_threshold=t, id=f"n{i}")
        )
    direct = tuple(draw(st.lists(st.sampled_from(pool), max_size=3, unique=True)))
    users = tuple(draw(st.lists(st.sampled_from(people), max_size=1, unique=True)))
    members = len(direct) + len(users) + len(nested)
    if members == 0:
        direct, members = (pool[0],), 1
    return KeyQuorum(
        public_keys=direct,
        user_ids=users,
        key_quorums=tuple(nested),
        authorization_threshold=draw(st.integers(1, members)),
        id="q",
    )


@SETTINGS
@given(overlapping_quorums(), st.data())
def test_the_assignment_matches_the_brute_force_oracle(quorum: KeyQuorum, data: Any) -> None:
    sim = Simulation(quorum)
    chosen = set(data.draw(st.lists(st.sampled_from(sim.signers), unique=True)))
    approval = sim.approval(chosen)
    assert approval.count == _oracle(quorum, chosen)
    assert approval.approved == (approval.count >= quorum.threshold)
    assert len(approval.members) == approval.count


@SETTINGS
@given(overlapping_quorums())
def test_minimal_sets_are_minimal_and_cover_every_approving_set(quorum: KeyQuorum) -> None:
    sim = Simulation(quorum)
    sets, truncated = sim.minimal_sets()
    assert not truncated
    found = {frozenset(s.signers) for s in sets}
    for size in range(len(sim.signers) + 1):
        for combo in combinations(sim.signers, size):
            chosen = frozenset(combo)
            approves = _oracle(quorum, set(chosen)) >= quorum.threshold
            assert approves == any(m <= chosen for m in found)
            assert (chosen in found) == (approves and all(
                _oracle(quorum, set(chosen - {s})) < quorum.threshold for s in chosen
            ))  # fmt: skip
    lockout = sim.lockout()
    left = set(sim.signers) - set(lockout.example)
    assert _oracle(quorum, left) < quorum.threshold
    assert lockout.distance == len(lockout.example)
    # no smaller loss locks it out
    for combo in combinations(sim.signers, lockout.distance - 1) if lockout.distance else ():
        assert _oracle(quorum, set(sim.signers) - set(combo)) >= quorum.threshold


USER_KEYS = {"a": [PUB[5]], "b": [PUB[6]]}
"""The keys of the users of :func:`overlapping_quorums`, for the verifier's resolver."""


@SETTINGS
@given(overlapping_quorums(), st.data())
def test_overlapping_sets_approve_exactly_when_the_verifier_approves(
    quorum: KeyQuorum, data: Any
) -> None:
    sim = Simulation(quorum, user_keys=USER_KEYS)
    chosen = data.draw(st.lists(st.sampled_from(sim.signers), min_size=1, unique=True))
    assert sim.approves(chosen) == _approved_by_verifier(quorum, chosen, USER_KEYS)


@SETTINGS
@given(overlapping_quorums(), st.data())
def test_lints_never_pass_a_lockout(quorum: KeyQuorum, data: Any) -> None:
    keys_only = [s for s in Simulation(quorum).signers if not s.startswith("user:")]
    held = data.draw(st.lists(st.sampled_from(keys_only), unique=True)) if keys_only else []
    held += [s for s in Simulation(quorum).signers if s.startswith("user:")]
    plan = plan_change(None, quorum, held=held)
    locked = _oracle(quorum, set(held)) < quorum.threshold
    assert locked == ("lockout" in {lint.code for lint in plan.refusals})
    # What the lints pass, a request signed by exactly the held keys gets through, and what
    # they call a lockout, it does not (each user signing with its key of USER_KEYS).
    signed = [s for s in held if not s.startswith("user:")]
    signed += [USER_KEYS[u][0].key_id for u in quorum.all_user_ids]
    if signed:
        assert _approved_by_verifier(quorum, signed, USER_KEYS) == (not locked)
