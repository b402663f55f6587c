"""Stamped approvals of one Turnkey activity counted against a quorum of users, checked against
a brute-force oracle."""

from __future__ import annotations

import functools
import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authsig.turnkey import (
    APPROVE_ACTIVITY,
    P256,
    SECP256K1,
    Approval,
    Quorum,
    TurnkeyPrivateKey,
    User,
    activity_fingerprint,
    stamp,
    verify_approvals,
)

NOW = 1_795_519_976_869
ORG = "org-1"
ACTIVITY = json.dumps(
    {
        "type": "ACTIVITY_TYPE_SIGN_TRANSACTION_V2",
        "timestampMs": str(NOW),
        "organizationId": ORG,
        "parameters": {"signWith": "0xabc", "unsignedTransaction": "02ef"},
    },
    separators=(",", ":"),
).encode()
FINGERPRINT = activity_fingerprint(ACTIVITY)


@functools.cache
def _key(index: int) -> TurnkeyPrivateKey:
    # Fixed, distinct test keys; every third one on secp256k1 to mix schemes.
    scheme = SECP256K1 if index % 3 == 2 else P256
    return TurnkeyPrivateKey.from_hex(f"{index + 1:064x}", scheme)


def _approval(key: TurnkeyPrivateKey, fingerprint: str = FINGERPRINT, org: str = ORG) -> Approval:
    body = json.dumps(
        {
            "type": APPROVE_ACTIVITY,
            "timestampMs": str(NOW + 1),
            "organizationId": org,
            "parameters": {"fingerprint": fingerprint},
        }
    ).encode()
    return Approval(body, stamp(body, key))


def _users(count: int, keys_each: int = 1) -> list[User]:
    return [
        User(f"u{i}", [_key(i * 4 + j).public_key for j in range(keys_each)]) for i in range(count)
    ]


def test_two_of_three_with_the_submission_as_first_approval() -> None:
    users = _users(3)
    quorum = Quorum(2, tuple(users), name="root")
    submission = Approval(ACTIVITY, stamp(ACTIVITY, _key(0)))
    one = verify_approvals([submission], quorum, fingerprint=FINGERPRINT)
    assert (one.approved, one.reason, one.approvers) == (False, "threshold_not_met", ("u0",))
    two = verify_approvals([submission, _approval(_key(4))], quorum, fingerprint=FINGERPRINT)
    assert (two.approved, two.approvers, two.rejected) == (True, ("u0", "u1"), ())


def test_a_user_with_several_keys_counts_once() -> None:
    users = _users(3, keys_each=2)
    quorum = Quorum(2, tuple(users))
    both_keys = [_approval(_key(0)), _approval(_key(1))]
    decision = verify_approvals(both_keys, quorum, fingerprint=FINGERPRINT)
    assert (decision.approved, decision.approvers) == (False, ("u0",))
    assert decision.rejected == ((1, "duplicate_approval"),)


def test_what_is_not_counted_and_why() -> None:
    users = _users(2)
    quorum = Quorum(1, tuple(users))
    forged = _approval(_key(0))
    forged = Approval(forged.body + b" ", forged.stamp)
    approvals = [
        forged,
        _approval(_key(40)),  # no user holds it
        _approval(_key(0), fingerprint="sha256:" + "0" * 64),
        _approval(_key(0), org="org-2"),
        Approval(b"not json", stamp(b"not json", _key(0))),
    ]
    decision = verify_approvals(approvals, quorum, fingerprint=FINGERPRINT, organization_id=ORG)
    assert not decision.approved
    assert [code for _, code in decision.rejected] == [
        "turnkey_invalid_signature",
        "unknown_api_key",
        "turnkey_invalid_approval",
        "turnkey_invalid_approval",
        "turnkey_invalid_approval",
    ]


def test_quorum_definitions_are_checked_when_built() -> None:
    users = _users(2)
    with pytest.raises(ValueError, match="between 1 and 2"):
        Quorum(3, tuple(users))
    with pytest.raises(ValueError, match="appears twice"):
        Quorum(1, (users[0], Quorum(1, (users[0],))))
    with pytest.raises(ValueError, match="held by two users"):
        Quorum(1, (users[0], User("other", [_key(0).public_key])))
    with pytest.raises(ValueError, match="nest at most"):
        Quorum(1, (Quorum(1, (Quorum(1, (Quorum(1, (Quorum(1, (users[0],)),)),)),)),))
    with pytest.raises(TypeError):
        Quorum(True, tuple(users))  # type: ignore[arg-type]


# -- the oracle


def _oracle_met(quorum: Quorum, approvers: frozenset[str]) -> bool:
    """Brute force: some ``threshold``-subset of members is entirely satisfied."""
    for subset in itertools.combinations(quorum.members, quorum.threshold):
        if all(
            m.user_id in approvers if isinstance(m, User) else _oracle_met(m, approvers)
            for m in subset
        ):
            return True
    return False


@st.composite
def _scenario(draw: st.DrawFn) -> tuple[Quorum, list[tuple[int, str]], dict[int, str]]:
    user_count = draw(st.integers(1, 5))
    users = [
        User(f"u{i}", [_key(i * 4 + j).public_key for j in range(draw(st.integers(1, 2)))])
        for i in range(user_count)
    ]
    owner = {i * 4 + j: u.user_id for i, u in enumerate(users) for j in range(len(u.keys))}
    split = draw(st.integers(0, user_count))
    members: list[User | Quorum] = list(users[split:])
    if split:
        inner = users[:split]
        members.append(Quorum(draw(st.integers(1, len(inner))), tuple(inner), name="inner"))
    quorum = Quorum(draw(st.integers(1, len(members))), tuple(members), name="root")
    kinds = st.sampled_from(["valid", "valid", "forged", "other-activity"])
    key_indexes = st.sampled_from([*owner, 30])  # 30: a key no user holds
    approvals = draw(st.lists(st.tuples(key_indexes, kinds), max_size=8))
    return quorum, approvals, owner


@settings(max_examples=120, deadline=None)
@given(_scenario())
def test_counting_matches_the_brute_force_oracle(
    scenario: tuple[Quorum, list[tuple[int, str]], dict[int, str]],
) -> None:
    quorum, plan, owner = scenario
    approvals = []
    for index, kind in plan:
        made = _approval(
            _key(index), fingerprint="sha256:ff" if kind == "other-activity" else FINGERPRINT
        )
        if kind == "forged":
            made = Approval(made.body + b"\n", made.stamp)
        approvals.append(made)
    approvers = frozenset(owner[i] for i, kind in plan if kind == "valid" and i in owner)
    decision = verify_approvals(approvals, quorum, fingerprint=FINGERPRINT)
    assert decision.approvers == tuple(sorted(approvers))
    assert decision.approved == _oracle_met(quorum, approvers)
    assert len(decision.rejected) == len(plan) - len(approvers)


def test_votes_outside_the_lifetime_are_not_counted_when_a_clock_is_given() -> None:
    quorum = Quorum(1, tuple(_users(1)))
    vote = _approval(_key(0))  # timestampMs NOW + 1
    day = 24 * 3600 * 1000
    for now, counted in (
        (NOW, True),
        (NOW + 1 + day, True),
        (NOW + 2 + day, False),
        (NOW + 1 - 60_000, True),
        (NOW - 60_000, False),
    ):
        decision = verify_approvals([vote], quorum, fingerprint=FINGERPRINT, now_ms=now)
        assert decision.approved is counted, now
        if not counted:
            assert decision.rejected == ((0, "turnkey_stale_timestamp"),)
    # Without a clock, times are not looked at.
    assert verify_approvals([vote], quorum, fingerprint=FINGERPRINT).approved
