"""``quorum.json``: thresholds with keys, users and nested quorums."""

from __future__ import annotations

from typing import Any, NamedTuple

from .common import RPC_BODY, header, request
from .decisions import decision_case, quorum_of

DESCRIPTION = "Key quorum thresholds with keys, users and nested quorums."


class _Quorum(NamedTuple):
    """A quorum with the nested quorums and the users its cases resolve."""

    quorum: dict[str, Any]
    nested: dict[str, dict[str, Any]]
    users: list[str]


def _quorums() -> dict[str, _Quorum]:
    inner = quorum_of(["n1", "n2"], threshold=2, qid="q-inner")
    mixed = {
        "q-a": quorum_of(["m1"], threshold=1, users=["user-bob"], qid="q-a"),
        "q-b": quorum_of(["m2", "m3"], threshold=2, qid="q-b"),
    }
    alice_bob = ["user-alice", "user-bob"]
    return {
        "1-of-1": _Quorum(quorum_of(["k1"], threshold=1), {}, []),
        "2-of-3": _Quorum(quorum_of(["k1", "k2", "k3"], threshold=2), {}, []),
        "all-of-3": _Quorum(quorum_of(["k1", "k2", "k3"], threshold=None), {}, []),
        "key+users": _Quorum(quorum_of(["k1"], threshold=2, users=alice_bob), {}, alice_bob),
        "key+carol": _Quorum(
            quorum_of(["k1"], threshold=2, users=["user-carol"]), {}, ["user-carol"]
        ),
        "key+nested": _Quorum(
            quorum_of(["k1"], threshold=2, nested=["q-inner"]), {"q-inner": inner}, []
        ),
        # alice directly, bob through q-a.
        "mixed": _Quorum(
            quorum_of(["k1"], threshold=3, users=["user-alice"], nested=["q-a", "q-b"]),
            mixed,
            alice_bob,
        ),
    }


#: (name, expected reason, quorum (an entry of _quorums()), signer labels, description)
_CASES: list[tuple[str, str, str, tuple[str, ...], str]] = [
    ("threshold/1-of-1", "approved", "1-of-1", ("k1",), ""),
    ("threshold/2-of-3-one", "threshold_not_met", "2-of-3", ("k2",), "one of two needed"),
    ("threshold/2-of-3-two", "approved", "2-of-3", ("k1", "k3"), ""),
    ("threshold/2-of-3-three", "approved", "2-of-3", ("k3", "k2", "k1"), "more than needed"),
    (
        "threshold/all-two-of-three",
        "threshold_not_met",
        "all-of-3",
        ("k1", "k2"),
        "threshold null = all members",
    ),
    ("threshold/all-three", "approved", "all-of-3", ("k1", "k2", "k3"), ""),
    (
        "threshold/none-signed-by-members",
        "threshold_not_met",
        "2-of-3",
        ("stranger",),
        "header present, no member signed",
    ),
    (
        "users/key-and-user",
        "approved",
        "key+users",
        ("k1", "alice-laptop"),
        "a key member and one of alice's keys",
    ),
    (
        "users/one-user-two-keys",
        "threshold_not_met",
        "key+users",
        ("alice-phone", "alice-laptop"),
        "two keys of the same user count once",
    ),
    ("users/two-users", "approved", "key+users", ("alice-phone", "bob-1"), ""),
    (
        "users/user-without-keys",
        "threshold_not_met",
        "key+carol",
        ("k1",),
        "a user whose resolver gives no keys cannot approve",
    ),
    (
        "nested/inner-not-met",
        "threshold_not_met",
        "key+nested",
        ("k1", "n1"),
        "the nested quorum needs both its keys",
    ),
    (
        "nested/inner-met",
        "approved",
        "key+nested",
        ("k1", "n1", "n2"),
        "k1 + the nested quorum (n1, n2)",
    ),
    (
        "nested/counts-as-one",
        "threshold_not_met",
        "key+nested",
        ("n1", "n2"),
        "a met nested quorum is one member of its parent",
    ),
    (
        "mixed/all-kinds",
        "approved",
        "mixed",
        ("alice-phone", "bob-1", "m2", "m3"),
        "alice + q-a (through bob) + q-b (m2, m3)",
    ),
    (
        "mixed/key-user-nested",
        "approved",
        "mixed",
        ("k1", "alice-laptop", "m1"),
        "k1 + alice + q-a (m1)",
    ),
    ("mixed/two-members", "threshold_not_met", "mixed", ("k1", "m2", "m3"), "k1 + q-b: 2 of 3"),
    (
        "mixed/partial-nested",
        "threshold_not_met",
        "mixed",
        ("k1", "alice-phone", "m2"),
        "k1 + alice + one of q-b's two",
    ),
]

# The only case whose signer is not a member: foreign signatures are ignored, so what it
# checks is the threshold, not the foreign-signature rule.
_OPTIONS = {"threshold/none-signed-by-members": {"allow_foreign_signatures": True}}


def cases() -> list[dict[str, Any]]:
    rpc = request("POST", "/wallets/w1abc/rpc", RPC_BODY)
    quorums = _quorums()
    out = []
    for name, expected, quorum_name, labels, description in _CASES:
        q = quorums[quorum_name]
        out.append(
            decision_case(
                name,
                description,
                expected,
                q.quorum,
                rpc,
                header(rpc, list(labels)),
                nested=q.nested,
                users=q.users,
                options=_OPTIONS.get(name),
            )
        )
    return out
