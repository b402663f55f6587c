"""A threshold means distinct keys: a key approves at most one member of the whole quorum tree.

The four overlaps of the issue (a key directly and inside a nested quorum, in two nested
quorums, as two users, as a key and as a user's key) are checked through the verifier with real
signatures, and :func:`authsig.privy._match.approves` is checked against the enumeration of
every assignment of keys to members.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authsig.keys import PrivateKey, PublicKey, generate_private_key
from authsig.privy._match import approves
from authsig.privy.explain import explain
from authsig.privy.quorum import KeyQuorum, QuorumOverlapWarning
from authsig.privy.signing import sign_request
from authsig.privy.verifier import Decision, verify_request

NOW = 1_800_000_000_000
URL = "https://api.privy.io/v1/wallets/w1"
BODY = {"policy_ids": ["p1"]}


@cache
def _keys() -> tuple[PrivateKey, ...]:
    return tuple(generate_private_key() for _ in range(6))


def _pubs(*indexes: int) -> tuple[PublicKey, ...]:
    return tuple(_keys()[i].public_key for i in indexes)


def _quorum(**kw: Any) -> KeyQuorum:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuorumOverlapWarning)
        return KeyQuorum(**kw)


def _verify(quorum: KeyQuorum, signers: Sequence[int], users: Any = None) -> Decision:
    headers = sign_request(
        method="PATCH",
        url=URL,
        body=BODY,
        app_id="app-1",
        keys=[_keys()[i] for i in signers],
        now_ms=NOW,
    )
    return verify_request(
        method="PATCH",
        url=URL,
        body=BODY,
        headers=headers,
        quorum=quorum,
        user_keys=users,
        now_ms=NOW,
    )


# --- the four overlaps, through the verifier -------------------------------------------------


def _direct_and_nested() -> tuple[KeyQuorum, dict[str, list[PublicKey]]]:
    inner = _quorum(public_keys=_pubs(0, 1), authorization_threshold=1, id="in")
    return _quorum(public_keys=_pubs(0), key_quorums=(inner,)), {}


def _two_nested() -> tuple[KeyQuorum, dict[str, list[PublicKey]]]:
    a = _quorum(public_keys=_pubs(0, 1), authorization_threshold=1, id="a")
    b = _quorum(public_keys=_pubs(0, 2), authorization_threshold=1, id="b")
    return _quorum(key_quorums=(a, b)), {}


def _two_users() -> tuple[KeyQuorum, dict[str, list[PublicKey]]]:
    users = {"alice": list(_pubs(0, 1)), "bob": list(_pubs(0, 2))}
    return _quorum(user_ids=("alice", "bob")), users


def _key_and_user_key() -> tuple[KeyQuorum, dict[str, list[PublicKey]]]:
    users = {"alice": list(_pubs(0, 1))}
    return _quorum(public_keys=_pubs(0), user_ids=("alice",)), users


OVERLAPS = {
    "directly and inside a nested quorum": _direct_and_nested,
    "in two nested quorums": _two_nested,
    "as two users": _two_users,
    "as a key and as a user's key": _key_and_user_key,
}


@pytest.mark.parametrize("case", OVERLAPS)
def test_one_key_listed_twice_does_not_approve_a_two_member_quorum(case: str) -> None:
    quorum, users = OVERLAPS[case]()
    assert quorum.threshold == 2
    alone = _verify(quorum, [0], users)
    assert not alone.approved, alone.message
    assert alone.reason == "threshold_not_met"
    assert alone.missing == 1
    assert alone.overlap_capped == 1
    assert "approves only one of them" in alone.message
    assert len(alone.signatures[0].members) == 1  # the key stands for one member


# Which second key, with key 0, satisfies each case (key 2 belongs to no member in the first
# and the last case).
SECOND_KEYS_THAT_FIT = {
    "directly and inside a nested quorum": {1},
    "in two nested quorums": {1, 2},
    "as two users": {1, 2},
    "as a key and as a user's key": {1},
}


@pytest.mark.parametrize("case", OVERLAPS)
def test_distinct_signers_satisfy_the_overlapping_quorum(case: str) -> None:
    """Key 0 could sit in either place; the other key fits one place only. The verifier must
    seat key 0 where the other key does not fit, whatever order they signed in."""
    quorum, users = OVERLAPS[case]()
    for second in (1, 2):
        fits = second in SECOND_KEYS_THAT_FIT[case]
        for signers in ([0, second], [second, 0]):
            d = _verify(quorum, signers, users)
            assert d.approved is fits, (case, signers, d.message)
            if fits:
                assert d.overlap_capped == 0
                members = [m for s in d.signatures for m in s.members]
                assert len(members) == 2
                assert set(members) <= set(d.approved_members)


def test_explain_says_the_overlap_capped_the_count() -> None:
    quorum, _ = _direct_and_nested()
    headers = sign_request(
        method="PATCH", url=URL, body=BODY, app_id="app-1", keys=[_keys()[0]], now_ms=NOW
    )
    report = explain(method="PATCH", url=URL, body=BODY, headers=headers, quorum=quorum, now_ms=NOW)
    assert report.overlap is not None
    assert _keys()[0].public_key.key_id in report.overlap
    assert report.overlap in str(report)
    assert report.to_dict()["overlap"] == report.overlap
    plain = _quorum(public_keys=_pubs(0, 1))
    clean = explain(method="PATCH", url=URL, body=BODY, headers=headers, quorum=plain, now_ms=NOW)
    assert clean.overlap is None
    assert "overlap" not in str(clean)


# --- KeyQuorum reports overlaps when it is built -----------------------------------------------


def test_overlaps_are_listed_and_warned_when_the_quorum_is_built() -> None:
    a = _quorum(public_keys=_pubs(0, 1), authorization_threshold=1, id="a")
    b = _quorum(public_keys=_pubs(0, 2), authorization_threshold=1, id="b")
    with pytest.warns(QuorumOverlapWarning, match=_keys()[0].public_key.key_id) as caught:
        outer = KeyQuorum(public_keys=_pubs(0, 3), key_quorums=(a, b))
    assert "directly, in nested quorum 'a', in nested quorum 'b'" in str(caught[0].message)
    assert caught[0].filename == __file__  # points at the code that built the quorum
    assert dict(outer.overlaps) == {_keys()[0].public_key: ((-1, 0), (0, 0), (1, 0))}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flat = KeyQuorum(public_keys=_pubs(0, 1), key_quorums=(b.__class__(public_keys=_pubs(2)),))
    assert flat.overlaps == {}


# --- approves() against every assignment ---------------------------------------------------------

USERS = ("u0", "u1", "u2")


def _seats(quorum: KeyQuorum, users: Mapping[str, Sequence[PublicKey]]) -> list[tuple[int, Any]]:
    """Every member that one key can approve on its own: (group, what), group -1 the top."""
    seats: list[tuple[int, Any]] = []
    for g, q in [(-1, quorum), *enumerate(quorum.key_quorums)]:
        seats += [(g, ("key", k)) for k in q.public_keys]
        seats += [(g, ("user", u)) for u in q.user_ids]
    return seats


def _fits(seat: tuple[int, Any], key: PublicKey, users: Mapping[str, Sequence[PublicKey]]) -> bool:
    kind, what = seat[1]
    return bool(what == key) if kind == "key" else key in users.get(what, ())


def _oracle(
    quorum: KeyQuorum, signers: Sequence[PublicKey], users: Mapping[str, Sequence[PublicKey]]
) -> int:
    """The best count over every assignment of each key to one member it fits, or to none."""
    seats = _seats(quorum, users)
    options = [[None, *(i for i, s in enumerate(seats) if _fits(s, k, users))] for k in signers]
    best = 0
    for choice in itertools.product(*options):
        taken = {seats[i] for i in choice if i is not None}
        count = sum(1 for g, _ in taken if g < 0)
        for g, q in enumerate(quorum.key_quorums):
            count += sum(1 for h, _ in taken if h == g) >= q.threshold
        best = max(best, count)
    return best


@st.composite
def _cases(draw: st.DrawFn) -> tuple[KeyQuorum, list[PublicKey], dict[str, list[PublicKey]]]:
    """A quorum over keys 0..3 and users u0..u2 (few, so that overlaps are common), the users'
    keys, and signers among keys 0..4 (key 4 belongs to no member)."""
    pool = _pubs(0, 1, 2, 3)
    users = {u: draw(st.lists(st.sampled_from(pool), max_size=2, unique=True)) for u in USERS}

    def members(min_size: int) -> dict[str, Any]:
        keys = draw(st.lists(st.sampled_from(pool), max_size=3, unique=True))
        uids = draw(st.lists(st.sampled_from(USERS), max_size=2, unique=True))
        if len(keys) + len(uids) < min_size:
            keys = [draw(st.sampled_from(pool))]
        return {"public_keys": tuple(keys), "user_ids": tuple(uids)}

    nested = []
    for i in range(draw(st.integers(0, 3))):
        m = members(1)
        size = len(m["public_keys"]) + len(m["user_ids"])
        nested.append(_quorum(**m, authorization_threshold=draw(st.integers(1, size)), id=f"n{i}"))
    top = members(0 if nested else 1)
    size = len(top["public_keys"]) + len(top["user_ids"]) + len(nested)
    threshold = draw(st.integers(1, size))
    quorum = _quorum(**top, key_quorums=tuple(nested), authorization_threshold=threshold)
    signers = draw(
        st.lists(st.sampled_from(_pubs(0, 1, 2, 3, 4)), min_size=2, max_size=4, unique=True)
    )
    return quorum, signers, users


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cases())
def test_approves_finds_the_best_assignment(
    case: tuple[KeyQuorum, list[PublicKey], dict[str, list[PublicKey]]],
) -> None:
    quorum, signers, users = case
    result = approves(quorum, signers, users)
    assert result.count == _oracle(quorum, signers, users)
    assert result.approved is (result.count >= quorum.threshold)
    # The assignment it reports is a real one: each key in a seat it fits, each seat once, and
    # it reaches the count.
    seats = list(result.assignment.values())
    assert len(set(seats)) == len(seats)
    for key, seat in result.assignment.items():
        q = quorum if seat.quorum < 0 else quorum.key_quorums[seat.quorum]
        if seat.kind == "key":
            assert q.public_keys[seat.position] == key
        else:
            assert key in users[q.user_ids[seat.position]]
    top = sum(1 for s in seats if s.quorum < 0)
    assert top + len(result.satisfied) == result.count
    for g in result.satisfied:
        met = sum(1 for s in seats if s.quorum == g)
        assert met >= quorum.key_quorums[g].threshold
    assert result.uncapped >= result.count
    # Key ids name the same keys.
    assert approves(quorum, [k.key_id for k in signers], users).count == result.count


def test_approves_ignores_strangers_and_checks_its_arguments() -> None:
    quorum = _quorum(public_keys=_pubs(0, 1), authorization_threshold=1)
    assert not approves(quorum, _pubs(5)).approved
    assert not approves(quorum, ["not-a-key-id"]).approved
    assert approves(quorum, _pubs(5, 1)).approved
    with pytest.raises(TypeError):
        approves(quorum, [b"bytes"])  # type: ignore[list-item]
