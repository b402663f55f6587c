"""The two "one key approves at most one member" counts agree.

RFC 9421's scheme-neutral quorum (:func:`authsig.httpsig.quorum.satisfied`) and Privy's
(:func:`authsig.privy._match.approves`) implement the same rule separately. For every quorum
both can express (keys and one level of nested quorums, no users) they must agree on whether a
set of signing keys approves, and on how many top-level members it approves: for the httpsig
side, the largest threshold that the same members would still satisfy.

A Privy member key is a keyid in the httpsig model; a key listed in several places may be named
by a different keyid in each (the httpsig side tells keys apart by their material, not by the
name a signature carries), which is the httpsig form of a Privy overlap.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_distinct_keys import _pubs, _quorum

from authsig.httpsig.quorum import Quorum, satisfied
from authsig.keys import PublicKey
from authsig.privy._match import approves
from authsig.privy.quorum import KeyQuorum

POOL = _pubs(0, 1, 2, 3)
OUTSIDER = _pubs(4)[0]


def _convert(quorum: KeyQuorum, alias: bool) -> tuple[tuple[str | Quorum, ...], dict[str, str]]:
    """The httpsig members of ``quorum``, and each keyid -> its key's id (fingerprint). With
    ``alias`` each place a key is listed gets its own keyid."""
    owner: dict[str, str] = {}

    def name(key: PublicKey) -> str:
        keyid = f"{key.key_id}#{len(owner)}" if alias else key.key_id
        owner[keyid] = key.key_id
        return keyid

    members: list[str | Quorum] = [name(k) for k in quorum.public_keys]
    for nested in quorum.key_quorums:
        keyids = [name(k) for k in nested.public_keys]
        members.append(Quorum.of(nested.threshold, keyids, name=nested.id or ""))
    return tuple(members), owner


def _httpsig(
    quorum: KeyQuorum, signed: list[PublicKey], alias: bool
) -> tuple[frozenset[str] | None, int]:
    """On the httpsig side: the keys that satisfy the quorum (None: refused), and the most
    top-level members the signers approve at once (the largest threshold still satisfied)."""
    members, names = _convert(quorum, alias)
    signed_ids = {k.key_id for k in signed}
    owner = {keyid: kid for keyid, kid in names.items() if kid in signed_ids}
    found = satisfied(Quorum.of(quorum.threshold, members), owner)
    count = 0
    for threshold in range(1, len(members) + 1):
        if satisfied(Quorum.of(threshold, members), owner) is not None:
            count = threshold
    return found, count


@st.composite
def _cases(draw: st.DrawFn) -> tuple[KeyQuorum, list[PublicKey], bool]:
    """A quorum over four keys (few, so that a key is often listed twice), signers among them
    and one outsider, and whether the httpsig side names each listing differently."""

    def keys(min_size: int) -> tuple[PublicKey, ...]:
        return tuple(
            draw(st.lists(st.sampled_from(POOL), min_size=min_size, max_size=3, unique=True))
        )

    nested = []
    for i in range(draw(st.integers(0, 3))):
        members = keys(1)
        threshold = draw(st.integers(1, len(members)))
        nested.append(_quorum(public_keys=members, authorization_threshold=threshold, id=f"n{i}"))
    direct = keys(0 if nested else 1)
    size = len(direct) + len(nested)
    args: dict[str, Any] = {"public_keys": direct, "key_quorums": tuple(nested)}
    quorum = _quorum(**args, authorization_threshold=draw(st.integers(1, size)))
    signed = draw(st.lists(st.sampled_from((*POOL, OUTSIDER)), max_size=5, unique=True))
    return quorum, signed, draw(st.booleans())


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cases())
def test_httpsig_and_privy_agree_on_approval_and_count(
    case: tuple[KeyQuorum, list[PublicKey], bool],
) -> None:
    quorum, signed, alias = case
    privy = approves(quorum, signed)
    found, count = _httpsig(quorum, signed, alias)
    assert count == privy.count
    assert (found is not None) is privy.approved
    if found is not None:  # it names keys that signed
        assert found <= {k.key_id for k in signed}


def test_a_key_listed_directly_and_nested_counts_once_on_both_sides() -> None:
    # The example both models are built for: key 0 alone, listed directly and in a nested
    # quorum of a 2-of-2, approves one member; with key 1 the nested quorum is met too.
    a, b = _pubs(0, 1)
    inner = _quorum(public_keys=(a, b), authorization_threshold=1, id="in")
    quorum = _quorum(public_keys=(a,), key_quorums=(inner,), authorization_threshold=2)
    for alias in (False, True):
        assert _httpsig(quorum, [a], alias)[1] == approves(quorum, [a]).count == 1
        assert _httpsig(quorum, [a, b], alias)[1] == approves(quorum, [a, b]).count == 2
