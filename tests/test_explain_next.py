"""``explain`` on too few approvals: which further members would complete the approval."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations

from test_distinct_keys import BODY, NOW, URL, _keys, _quorum

from authsig.keys import PublicKey
from authsig.privy._next import completion, completion_note
from authsig.privy.explain import Explanation, explain
from authsig.privy.lifecycle.simulate import Simulation
from authsig.privy.quorum import KeyQuorum
from authsig.privy.signing import sign_request


def _pub(i: int) -> PublicKey:
    return _keys()[i].public_key


def _id(i: int) -> str:
    return _pub(i).key_id


def _explain(
    quorum: KeyQuorum,
    signers: Sequence[int],
    users: Mapping[str, Sequence[PublicKey]] | None = None,
) -> Explanation:
    given = users or {}
    keys = [_keys()[i] for i in signers]
    headers = sign_request(
        method="PATCH", url=URL, body=BODY, app_id="app-1", keys=keys, now_ms=NOW
    )
    return explain(
        method="PATCH",
        url=URL,
        body=BODY,
        headers=headers,
        quorum=quorum,
        user_keys=lambda uid: list(given.get(uid, ())),
        now_ms=NOW,
    )


def test_one_of_two_names_each_member_that_would_complete_it() -> None:
    quorum = _quorum(
        public_keys=(_pub(0), _pub(1), _pub(2)),
        key_display_names=("alice", "bob", "carol"),
        authorization_threshold=2,
    )
    report = _explain(quorum, [0])
    assert report.decision.reason == "threshold_not_met"
    assert report.completion == (
        f"1 of 2 approvals; any one of: key {_id(1)} (bob), key {_id(2)} (carol) would complete it"
    )
    assert "to complete: " + report.completion in str(report)
    assert report.to_dict()["completion"] == report.completion
    # approved: nothing to complete, and the report does not pretend otherwise
    done = _explain(quorum, [0, 2])
    assert done.decision.approved
    assert done.completion is None
    assert "to complete" not in str(done)
    assert done.to_dict()["completion"] is None


def test_a_nested_quorum_needs_a_set_of_its_members() -> None:
    inner = _quorum(public_keys=(_pub(1), _pub(2), _pub(3)), authorization_threshold=2, id="ops")
    quorum = _quorum(public_keys=(_pub(0),), key_quorums=(inner,), authorization_threshold=2)
    report = _explain(quorum, [0])
    pairs = [f"key {_id(a)} + key {_id(b)}" for a, b in ((1, 2), (1, 3), (2, 3))]
    assert report.completion == (
        "1 of 2 approvals; any one of these sets would complete it: " + "; ".join(pairs)
    )
    # one member of the nested quorum signed: any one of the other two completes it
    assert completion(quorum, [_id(0), _id(1)]) == completion(quorum, [_pub(0), _pub(1)])
    found = completion(quorum, [_id(0), _id(1)])
    assert found is not None
    assert (found.count, found.threshold, found.sets) == (1, 2, ((_id(2),), (_id(3),)))


def test_a_key_already_counted_is_never_offered_and_overlap_can_leave_nothing() -> None:
    # Key 0 is a direct member and a member of the nested quorum: having signed once, it
    # approves one of the two, so the other must come from key 1.
    inner = _quorum(public_keys=(_pub(0), _pub(1)), authorization_threshold=1, id="in")
    quorum = _quorum(public_keys=(_pub(0),), key_quorums=(inner,))
    report = _explain(quorum, [0])
    assert report.completion == f"1 of 2 approvals; any one of: key {_id(1)} would complete it"
    # with only key 0 in the whole tree no further signer exists
    alone = _quorum(
        public_keys=(_pub(0),),
        key_quorums=(_quorum(public_keys=(_pub(0),), authorization_threshold=1, id="in"),),
    )
    assert completion_note(alone, [_id(0)]) == (
        "1 of 2 approvals; no further member key can complete it (a key approves one member only)"
    )


def test_users_are_named_by_id_or_by_their_keys() -> None:
    quorum = _quorum(public_keys=(_pub(0),), user_ids=("u1",), authorization_threshold=2)
    # the user's keys are unknown to the verifier: the user itself is the missing signer
    report = _explain(quorum, [0])
    assert report.completion == "1 of 2 approvals; any one of: user u1 would complete it"
    # the user's keys are known: each of them completes it
    known = _explain(quorum, [0], {"u1": [_pub(3), _pub(4)]})
    assert known.completion == (
        f"1 of 2 approvals; any one of: key {_id(3)} (user u1), key {_id(4)} (user u1) "
        "would complete it"
    )


def test_every_completion_is_minimal_and_completes_per_the_simulation() -> None:
    inner = _quorum(public_keys=(_pub(2), _pub(3), _pub(4)), authorization_threshold=2, id="x")
    quorum = _quorum(
        public_keys=(_pub(0), _pub(1)), key_quorums=(inner,), authorization_threshold=3
    )
    sim = Simulation(quorum)
    for signed in ([_id(0)], [_id(2)], [_id(0), _id(3)], []):
        found = completion(quorum, signed, limit=100)
        assert found is not None
        assert found.sets
        assert not found.more
        sizes = {len(s) for s in found.sets}
        assert len(sizes) == 1
        for extra in found.sets:
            assert not set(extra) & set(signed)
            assert sim.approves([*signed, *extra])
            for smaller in range(len(extra)):  # no subset of a smaller size completes
                assert not sim.approves([*signed, *extra[:smaller]])
        # and no other set of that size completes it: every one was listed
        rest = [s for s in sim.signers if s not in signed]
        every = [c for c in combinations(rest, sizes.pop()) if sim.approves([*signed, *c])]
        assert sorted(every) == sorted(found.sets)


def test_the_list_is_cut_and_the_search_is_bounded() -> None:
    quorum = _quorum(public_keys=tuple(_pub(i) for i in range(5)), authorization_threshold=2)
    cut = completion(quorum, [_id(0)], limit=2)
    assert cut is not None
    assert cut.more
    assert len(cut.sets) == 2
    assert completion(quorum, [], budget=3) is None  # needs 5 tries of one key, then pairs
    assert completion_note(quorum, [_id(0)]) is not None
