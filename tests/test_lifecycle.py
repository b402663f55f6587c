"""Key-quorum lifecycle: bodies checked before signing, plans and lints, intents, rotation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from authsig.errors import AuthSigError
from authsig.keys import PrivateKey, generate_private_key
from authsig.policy import DEFAULT_POLICY, INTENT_LIFETIME, INTENT_POLICY, Policy
from authsig.privy.lifecycle import (
    DEFAULT_BASE_URL,
    DisplayNameTooLongError,
    DuplicateKeyError,
    DuplicateUserError,
    EmptyQuorumError,
    LintRefusedError,
    NestingTooDeepError,
    QuorumBodyError,
    QuorumKeyError,
    ThresholdRangeError,
    TooManyNestedQuorumsError,
    UnknownQuorumError,
    UpdateNotApprovedError,
    create_request,
    delete_request,
    plan_change,
    rotate_key,
    sign_change,
    update_payload,
    update_request,
    validate_body,
    verify_update,
)
from authsig.privy.lifecycle import errors as lifecycle_errors
from authsig.privy.quorum import KeyQuorum
from authsig.privy.verifier import Verifier

KEYS = [generate_private_key() for _ in range(8)]
PUB = [k.public_key for k in KEYS]
B64 = [p.to_base64() for p in PUB]
NOW = 1_800_000_000_000
THRESHOLD = "/authorization_threshold"
NAME = "/display_name"


def _quorum(n: int, t: int, qid: str = "q1", **extra: Any) -> KeyQuorum:
    return KeyQuorum(public_keys=tuple(PUB[:n]), authorization_threshold=t, id=qid, **extra)


# --- the documented rules, each a typed error with its field path ----------------------------


def _refusal(body: Any, kind: str = "create", **kw: Any) -> QuorumBodyError:
    with pytest.raises(QuorumBodyError) as caught:
        validate_body(body, kind=kind, **kw)  # type: ignore[arg-type]
    return caught.value


@pytest.mark.parametrize(
    ("body", "error", "path"),
    [
        ({"public_keys": [B64[0], "not a key"]}, QuorumKeyError, "/public_keys/1"),
        ({"public_keys": [PUB[0].to_pem()]}, QuorumKeyError, "/public_keys/0"),
        ({"public_keys": [B64[0], B64[1], B64[0]]}, DuplicateKeyError, "/public_keys/2"),
        ({"public_keys": [B64[0]], "authorization_threshold": 0}, ThresholdRangeError, THRESHOLD),
        ({"public_keys": [B64[0]], "user_ids": ["u"], "authorization_threshold": 3},
         ThresholdRangeError, THRESHOLD),
        ({"public_keys": [B64[0]], "display_name": "x" * 51}, DisplayNameTooLongError, NAME),
        ({"user_ids": ["u1", "u2", "u1"]}, DuplicateUserError, "/user_ids/2"),
        ({"key_quorum_ids": list("abcdef")}, TooManyNestedQuorumsError, "/key_quorum_ids"),
        ({"key_quorum_ids": ["nowhere"]}, UnknownQuorumError, "/key_quorum_ids/0"),
        ({"key_quorum_ids": ["outer"]}, NestingTooDeepError, "/key_quorum_ids/0"),
        ({}, EmptyQuorumError, ""),
        ({"public_keys": [B64[0]], "owner": "me"}, QuorumBodyError, "/owner"),
        ({"public_keys": B64[0]}, QuorumBodyError, "/public_keys"),
        ([B64[0]], QuorumBodyError, ""),
    ],
)  # fmt: skip
def test_each_documented_rule_is_a_typed_error_with_the_field_path(
    body: Any, error: type[QuorumBodyError], path: str
) -> None:
    inner = KeyQuorum(public_keys=(PUB[5],), id="inner")
    outer = KeyQuorum(public_keys=(PUB[6],), key_quorums=(inner,), id="outer")
    found = _refusal(body, quorums={"inner": inner, "outer": outer})
    assert type(found) is error
    assert found.path == path
    assert found.message.startswith(path or "(body)")
    assert "BEGIN" not in found.message  # no key text in messages


def test_the_error_codes_are_stable_and_distinct() -> None:
    classes = [
        c
        for c in vars(lifecycle_errors).values()
        if isinstance(c, type)
        and issubclass(c, AuthSigError)
        and c.__module__ == lifecycle_errors.__name__
    ]
    codes = [c.code for c in classes]
    assert len(classes) == len(lifecycle_errors.__all__)
    assert len(set(codes)) == len(codes)
    import authsig.errors

    base = {
        c.code
        for c in vars(authsig.errors).values()
        if isinstance(c, type) and issubclass(c, AuthSigError)
    }
    assert not base & set(codes)


def test_an_update_is_checked_against_the_quorum_it_will_be() -> None:
    current = _quorum(3, 3)
    # Removing a key while keeping the threshold of 3 leaves it above the member count.
    found = _refusal({"public_keys": B64[:2]}, "update", current=current)
    assert type(found) is ThresholdRangeError
    assert found.path == "/authorization_threshold"
    after = validate_body(
        {"public_keys": B64[:2], "authorization_threshold": 2}, kind="update", current=current
    )
    assert after.threshold == 2
    assert after.id == "q1"
    assert validate_body(
        {"display_name": "ops"}, kind="update", current=current
    ).public_keys == tuple(PUB[:3])
    assert type(_refusal({}, "update", current=current)) is QuorumBodyError


def test_nesting_stays_one_level_deep_for_an_update() -> None:
    inner = KeyQuorum(public_keys=(PUB[5],), id="inner")
    current = _quorum(2, 1, qid="member")
    outer = KeyQuorum(public_keys=(PUB[6],), key_quorums=(current,), id="outer")
    known = {"inner": inner, "outer": outer, "member": current}
    # "member" is nested in "outer": it may not gain quorums of its own, nor nest itself.
    found = _refusal({"key_quorum_ids": ["inner"]}, "update", current=current, quorums=known)
    assert type(found) is NestingTooDeepError
    assert found.path == "/key_quorum_ids"
    found = _refusal({"key_quorum_ids": ["member"]}, "update", current=current, quorums=known)
    assert type(found) is NestingTooDeepError
    assert found.path == "/key_quorum_ids/0"


def test_requests_name_the_endpoint_and_keep_the_body_as_given() -> None:
    body = {"public_keys": B64[:3], "authorization_threshold": 2, "display_name": "ops"}
    create = create_request(body)
    assert (create.method, create.url) == ("POST", f"{DEFAULT_BASE_URL}/v1/key_quorums")
    assert create.body == body
    assert create.before is None
    assert create.after is not None
    current = _quorum(3, 2)
    update = update_request(current, {"authorization_threshold": 3}, base_url="http://h:1/")
    assert (update.method, update.url) == ("PATCH", "http://h:1/v1/key_quorums/q1")
    delete = delete_request(current)
    assert (delete.method, delete.body, delete.after) == ("DELETE", None, None)
    with pytest.raises(Exception, match="not a Privy key quorum id"):
        update_request(_quorum(3, 2, qid="a/../b"), {"authorization_threshold": 1})


# --- rotation, signing against the current quorum, intents ----------------------------------


def test_rotation_replaces_one_key_in_place_and_needs_the_current_quorum() -> None:
    current = _quorum(3, 2)
    request = rotate_key(current, PUB[0].key_id, PUB[3])
    assert request.body == {"public_keys": [B64[3], B64[1], B64[2]]}
    assert request.after is not None
    assert request.after.threshold == 2
    headers = sign_change(request, app_id="app", keys=[KEYS[1], KEYS[2]], now_ms=NOW)
    assert verify_update(request, headers, now_ms=NOW).approved
    # The keys of the quorum after the change do not approve it: KEYS[3] is not a member yet.
    with pytest.raises(UpdateNotApprovedError) as caught:
        verify_update(
            request,
            sign_change(request, app_id="app", keys=[KEYS[3], KEYS[1]], now_ms=NOW),
            now_ms=NOW,
        )
    assert caught.value.decision.reason == "invalid_signature"
    with pytest.raises(QuorumBodyError, match="not a direct key"):
        rotate_key(current, PUB[7].key_id, PUB[3])
    with pytest.raises(QuorumBodyError, match="already a key"):
        rotate_key(current, PUB[0], PUB[1])


def test_intents_need_asking_on_both_sides() -> None:
    request = rotate_key(_quorum(3, 2), PUB[0], PUB[3])
    with pytest.raises(ValueError, match="intent=True"):
        update_payload(request, app_id="app", expires_in=timedelta(hours=72), now_ms=NOW)
    with pytest.raises(ValueError):
        update_payload(request, app_id="app", expires_in=timedelta(hours=73), intent=True)
    headers = sign_change(request, app_id="app", keys=KEYS[1:3], intent=True, now_ms=NOW)
    assert int(headers["privy-request-expiry"]) == NOW + 72 * 3600 * 1000
    later = NOW + 1000
    with pytest.raises(UpdateNotApprovedError) as caught:  # the default policy: one hour
        verify_update(request, headers, now_ms=later)
    assert caught.value.decision.reason == "expiry_too_far"
    assert verify_update(request, headers, intent=True, now_ms=later).approved
    assert INTENT_POLICY.max_lifetime == INTENT_LIFETIME == timedelta(hours=72)
    assert DEFAULT_POLICY.for_intents() == INTENT_POLICY
    assert Policy(profile="canonicaljson").for_intents().profile == "canonicaljson"
    verifier = Verifier(request.before, policy=INTENT_POLICY)  # type: ignore[arg-type]
    assert verifier.verify(
        method=request.method, url=request.url, body=request.body, headers=headers, now_ms=later
    ).approved


# --- plans and lints ------------------------------------------------------------------------


def test_a_plan_shows_the_diff_and_who_approves_before_and_after() -> None:
    names = ("alice", "bob", "carol")
    current = KeyQuorum(
        public_keys=tuple(PUB[:3]), authorization_threshold=2, id="q1", key_display_names=names
    )
    request = rotate_key(current, PUB[0], PUB[3])
    assert request.after is not None
    plan = plan_change(current, request.after)
    assert [(k.key_id, k.display_name) for k in plan.keys_removed] == [(PUB[0].key_id, "alice")]
    assert [k.key_id for k in plan.keys_added] == [PUB[3].key_id]
    assert (plan.threshold_before, plan.threshold_after) == (2, 2)
    this = {frozenset(s.signers) for s in plan.approve_this}
    after = {frozenset(s.signers) for s in plan.approve_after}
    ids = [p.key_id for p in PUB]
    assert this == {frozenset(p) for p in ((ids[0], ids[1]), (ids[0], ids[2]), (ids[1], ids[2]))}
    assert after == {frozenset(p) for p in ((ids[3], ids[1]), (ids[3], ids[2]), (ids[1], ids[2]))}
    assert plan.lints == ()
    assert plan.lockout_after.distance == 2
    text = plan.render()
    assert f"- key {ids[0]} (alice)" in text
    assert "threshold: 2 -> 2 of 3" in text
    assert plan.to_dict()["refused"] is False


OVERLAP_BUILT_ON_PURPOSE = pytest.mark.filterwarnings("ignore:.*each key approves only one member")


@OVERLAP_BUILT_ON_PURPOSE
def test_the_lints() -> None:
    current = _quorum(3, 2)
    # Lockout: the team holds only one key of a 2-of-3.
    plan = plan_change(current, current, held=[PUB[0]])
    assert [lint.code for lint in plan.refusals] == ["lockout"]
    with pytest.raises(LintRefusedError) as caught:
        plan.check()
    assert caught.value.lints == plan.refusals
    plan.check(force=True)
    # One person holds two keys of a 2-of-3.
    owners = {PUB[0].key_id: "alice", PUB[1].key_id: "alice", PUB[2].key_id: "bob"}
    assert "single_person" in {
        lint.code for lint in plan_change(None, current, owners=owners).refusals
    }
    # Overlap: a key directly and in a nested quorum; it fills one place only.
    inner = KeyQuorum(public_keys=(PUB[0], PUB[4]), authorization_threshold=1, id="inner")
    overlap = KeyQuorum(
        public_keys=(PUB[0], PUB[1]), key_quorums=(inner,), authorization_threshold=2, id="o"
    )
    assert {lint.code for lint in plan_change(None, overlap).refusals} == {"overlap"}
    # No spare: warning only.
    tight = plan_change(None, _quorum(3, 3))
    assert [(lint.code, lint.severity) for lint in tight.lints] == [("no_spare", "warning")]
    tight.check()


@OVERLAP_BUILT_ON_PURPOSE
def test_overlap_can_lock_a_quorum_out_even_with_every_key() -> None:
    inner = KeyQuorum(public_keys=(PUB[0],), id="inner")
    locked = KeyQuorum(
        public_keys=(PUB[0],), key_quorums=(inner,), authorization_threshold=2, id="x"
    )
    plan = plan_change(None, locked)
    assert {"lockout", "overlap"} <= {lint.code for lint in plan.refusals}
    assert plan.approve_after == ()
    assert plan.lockout_after.distance == 0


def _holders(keys: list[PrivateKey]) -> list[str]:
    return [k.public_key.key_id for k in keys]


def test_users_count_as_signers_of_their_own() -> None:
    q = KeyQuorum(public_keys=(PUB[0],), user_ids=("u1", "u2"), authorization_threshold=2, id="u")
    plan = plan_change(None, q, held=[*_holders([KEYS[0]]), "user:u1"])
    assert plan.lints == ()
    assert len(plan.approve_after) == 3


def test_a_user_whose_keys_are_given_signs_with_them() -> None:
    from authsig.privy.lifecycle import Simulation

    q = KeyQuorum(public_keys=(PUB[0],), user_ids=("u1", "u2"), authorization_threshold=2, id="u")
    sim = Simulation(q, user_keys={"u1": [PUB[1]], "u2": []})
    assert sim.signers == (PUB[0].key_id, PUB[1].key_id)
    assert sim.approves([PUB[0], PUB[1]])
    assert not sim.approves([PUB[1], "user:u2"])
