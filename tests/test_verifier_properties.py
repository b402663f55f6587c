"""Property tests: monotonicity of approval, the exact threshold boundary, and key matching."""

from __future__ import annotations

import base64
from functools import cache

from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authsig.keys import PrivateKey, generate_private_key
from authsig.policy import Policy
from authsig.privy._match import MemberKeys
from authsig.privy.headers import format_signature_header
from authsig.privy.payload import signing_payload
from authsig.privy.quorum import KeyQuorum
from authsig.privy.verifier import Decision, verify_request
from authsig.signatures import P256_N, parse_der_signature, sign

URL = "https://api.privy.io/v1/wallets/w9"
BODY = {"policy_ids": ["p1"]}
HEADERS = {"privy-app-id": "app-p"}
POOL = 9  # keys 0..7 may be members, key 8 is always an outsider


@cache
def _keys() -> tuple[PrivateKey, ...]:
    return tuple(generate_private_key() for _ in range(POOL))


@cache
def _signatures() -> tuple[str, ...]:
    payload = signing_payload(method="PATCH", url=URL, body=BODY, headers=HEADERS)
    return tuple(sign(payload, k) for k in _keys())


def _verify(quorum: KeyQuorum, signers: list[int], **kw: object) -> Decision:
    headers = dict(HEADERS)
    if signers:
        headers["privy-authorization-signature"] = format_signature_header(
            [_signatures()[i] for i in signers]
        )
    return verify_request(
        method="PATCH",
        url=URL,
        body=BODY,
        headers=headers,
        quorum=quorum,
        policy=Policy(**kw),  # type: ignore[arg-type]
    )


@st.composite
def quorums(draw: st.DrawFn) -> KeyQuorum:
    """A flat or nested quorum over keys 0..7 (disjoint member sets)."""
    order = draw(st.permutations(range(8)))
    n_direct = draw(st.integers(0, 4))
    direct = order[:n_direct]
    nested: list[KeyQuorum] = []
    rest = list(order[n_direct:])
    for qi in range(draw(st.integers(0, 2))):
        size = draw(st.integers(1, 2))
        members, rest = rest[:size], rest[size:]
        if not members:
            break
        t = draw(st.integers(1, len(members)))
        nested.append(
            KeyQuorum(
                public_keys=tuple(_keys()[i].public_key for i in members),
                authorization_threshold=t,
                id=f"n{qi}",
            )
        )
    if not direct and not nested:
        direct = order[:1]
    count = len(direct) + len(nested)
    threshold = draw(st.integers(1, count))
    return KeyQuorum(
        public_keys=tuple(_keys()[i].public_key for i in direct),
        key_quorums=tuple(nested),
        authorization_threshold=threshold,
    )


def _model(quorum: KeyQuorum, signers: set[int]) -> bool:
    """Independent count of approvals: members whose key is among the signers."""
    signed = {_keys()[i].public_key for i in signers}
    total = sum(k in signed for k in quorum.public_keys)
    for q in quorum.key_quorums:
        total += sum(k in signed for k in q.public_keys) >= q.threshold
    return total >= quorum.threshold


def _members_of(quorum: KeyQuorum) -> list[int]:
    keys = set(quorum.all_keys)
    return [i for i in range(8) if _keys()[i].public_key in keys]


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(quorums(), st.data())
def test_adding_a_member_signature_never_refuses(quorum: KeyQuorum, data: st.DataObject) -> None:
    members = _members_of(quorum)
    signers = data.draw(st.lists(st.sampled_from(members), unique=True))
    extra = data.draw(st.sampled_from(members))
    before = _verify(quorum, signers)
    assert before.approved == _model(quorum, set(signers))
    if extra not in signers:
        after = _verify(quorum, [*signers, extra])
        if before.approved:
            assert after.approved
        assert after.missing <= before.missing


@SETTINGS
@given(quorums(), st.data())
def test_removing_a_signature_never_approves(quorum: KeyQuorum, data: st.DataObject) -> None:
    members = _members_of(quorum)
    signers = data.draw(st.lists(st.sampled_from([*members, 8]), unique=True, min_size=1))
    before = _verify(quorum, signers, allow_foreign_signatures=True)
    assert before.approved == _model(quorum, set(signers) - {8})
    drop = data.draw(st.sampled_from(signers))
    after = _verify(quorum, [i for i in signers if i != drop], allow_foreign_signatures=True)
    if not before.approved:
        assert not after.approved
    assert after.missing >= before.missing


@SETTINGS
@given(st.integers(1, 8), st.data())
def test_threshold_boundary_is_exact(n: int, data: st.DataObject) -> None:
    t = data.draw(st.integers(1, n))
    chosen = data.draw(st.permutations(range(8)))[:n]
    quorum = KeyQuorum(
        public_keys=tuple(_keys()[i].public_key for i in chosen), authorization_threshold=t
    )
    signers = list(data.draw(st.permutations(chosen)))
    below = _verify(quorum, signers[: t - 1])
    assert not below.approved
    assert below.missing == 1
    at = _verify(quorum, signers[:t])
    assert at.approved
    assert at.missing == 0
    assert len(at.approved_members) == t


# --- key matching: recovery and direct verification find the same key -------------------


@cache
def _payloads() -> tuple[bytes, ...]:
    return tuple(f"payload {i}".encode() for i in range(3))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(0, POOL - 1), min_size=1, max_size=POOL, unique=True),
    st.integers(0, POOL - 1),
    st.integers(0, 2),
    st.integers(0, 2),
    st.booleans(),
    st.lists(st.integers(0, POOL - 1), max_size=3),
)
def test_recovery_finds_the_key_that_direct_verification_finds(
    members: list[int],
    signer: int,
    signed_over: int,
    checked_over: int,
    twin: bool,
    already: list[int],
) -> None:
    """``MemberKeys.signer`` takes key recovery for large key sets: for any member keys, any
    signer (member or not), the signature or its malleated twin, checked over the signed
    payload or another one, both ways give the same key (or None)."""
    keys = [_keys()[i].public_key for i in members]
    member_keys = MemberKeys(keys, {k.point: k for k in keys})
    der = base64.b64decode(sign(_payloads()[signed_over], _keys()[signer]))
    r, s = parse_der_signature(der)
    if twin:
        s = P256_N - s
        der = encode_dss_signature(r, s)
    payload = _payloads()[checked_over]
    signed = {_keys()[i].public_key for i in already}
    direct = member_keys._directly(payload, der, signed)
    recovered = member_keys._by_recovery(payload, der, r, s, signed)
    assert direct == recovered
    if signed_over == checked_over and signer in members:
        assert direct == _keys()[signer].public_key
    else:
        assert direct is None
