"""The cost of a request with junk signatures is bounded (issue 13, item 10).

In strict mode (the default: foreign signatures refused) matching stops at the first signature
that matches no member, and the user-key resolver is asked only when a signature needs the
users' keys. A counting resolver and a counting key matcher (``MemberKeys.signer``, through
which every signature meets the keys) show the work done per request.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import pytest

from authsig.keys import PrivateKey, PublicKey, generate_private_key
from authsig.policy import Policy
from authsig.privy._match import MemberKeys
from authsig.privy.headers import format_signature_header
from authsig.privy.payload import signing_payload
from authsig.privy.quorum import KeyQuorum
from authsig.privy.verifier import Decision, Verifier
from authsig.signatures import sign

NOW = 1_800_000_000_000
URL = "https://api.privy.io/v1/wallets/w1"
BODY = {"policy_ids": ["p1"]}
HEADERS = {"privy-app-id": "app-1", "privy-request-expiry": str(NOW + 60_000)}
USERS = tuple(f"user-{i}" for i in range(20))


@cache
def _keys() -> tuple[PrivateKey, ...]:
    """0-4: direct members; 5-24: one per user; 25: an outsider."""
    return tuple(generate_private_key() for _ in range(26))


@cache
def _payload() -> bytes:
    return signing_payload(method="POST", url=URL, body=BODY, headers=HEADERS)


def _user_key(uid: str) -> PublicKey:
    return _keys()[5 + USERS.index(uid)].public_key


def _headers(signatures: Sequence[str]) -> dict[str, str]:
    return {**HEADERS, "privy-authorization-signature": format_signature_header(signatures)}


def _junk(count: int) -> list[str]:
    """``count`` distinct signatures over the payload by a key outside the quorum."""
    return [sign(_payload(), _keys()[25]) for _ in range(count)]


def _by(*indexes: int) -> list[str]:
    return [sign(_payload(), _keys()[i]) for i in indexes]


class Counting:
    """A resolver that counts its calls per user (each of USERS has one key, unless
    ``keys`` says otherwise)."""

    def __init__(self, keys: Mapping[str, list[PublicKey]] | None = None) -> None:
        self.calls: Counter[str] = Counter()
        self.keys = keys

    def __call__(self, uid: str) -> list[PublicKey]:
        self.calls[uid] += 1
        return [_user_key(uid)] if self.keys is None else self.keys[uid]

    async def coro(self, uid: str) -> list[PublicKey]:
        return self(uid)


@pytest.fixture
def matched(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each call of ``MemberKeys.signer`` (one signature matched against the keys known then)
    appends the number of keys it was matched against."""
    calls: list[int] = []
    original = MemberKeys.signer

    def counting(self: MemberKeys, *args: Any, **kwargs: Any) -> PublicKey | None:
        calls.append(len(self.keys))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(MemberKeys, "signer", counting)
    return calls


def _quorum(threshold: int = 1, users: Sequence[str] = USERS) -> KeyQuorum:
    keys = tuple(k.public_key for k in _keys()[:5])
    return KeyQuorum(public_keys=keys, user_ids=tuple(users), authorization_threshold=threshold)


def _verify(quorum: KeyQuorum, signatures: Sequence[str], resolver: Any, **policy: Any) -> Decision:
    verifier = Verifier(quorum, user_keys=resolver, policy=Policy(**policy))
    return verifier.verify(
        method="POST", url=URL, body=BODY, headers=_headers(signatures), now_ms=NOW
    )


def test_64_junk_signatures_cost_one_match_without_users(matched: list[int]) -> None:
    resolver = Counting()
    d = _verify(_quorum(users=()), _junk(64), resolver)
    assert d.reason == "invalid_signature"
    assert "signature #1 of 64 " in d.message
    assert matched == [5]  # the first signature only
    assert not resolver.calls
    assert len(d.signatures) == 1  # the others were not verified


def test_64_junk_signatures_ask_each_user_once(matched: list[int]) -> None:
    resolver = Counting()
    d = _verify(_quorum(), _junk(64), resolver)
    assert d.reason == "invalid_signature"
    assert matched == [5, 25]  # the listed keys, then the listed and the users' keys
    assert resolver.calls == Counter(USERS)  # each user once, whatever the signature count


def test_a_junk_signature_after_valid_ones_stops_there(matched: list[int]) -> None:
    resolver = Counting()
    d = _verify(_quorum(threshold=2), [*_by(0, 1), *_junk(30)], resolver)
    assert d.reason == "invalid_signature"
    assert "signature #3 of 32 " in d.message
    assert len(matched) == 4  # two listed keys, the junk one, the junk one with the users'
    assert [s.status for s in d.signatures] == ["matched", "matched", "no_match"]


def test_listed_keys_that_meet_the_threshold_never_ask_for_users(matched: list[int]) -> None:
    resolver = Counting()
    d = _verify(_quorum(threshold=2), _by(3, 0), resolver)
    assert d.approved, d.message
    assert not resolver.calls
    assert matched == [5, 5]


def test_a_user_signature_asks_for_the_users_then_approves(matched: list[int]) -> None:
    resolver = Counting()
    d = _verify(_quorum(threshold=2), _by(0, 5 + 7), resolver)
    assert d.approved, d.message
    assert resolver.calls == Counter(USERS)
    assert ("user", "user-7") in {(m.kind, m.id) for m in d.approved_members}


def test_foreign_signatures_allowed_are_all_matched(matched: list[int]) -> None:
    """Allowing foreign signatures means every entry is matched (bounded by max_signatures)."""
    resolver = Counting()
    d = _verify(_quorum(), [*_junk(10), *_by(2)], resolver, allow_foreign_signatures=True)
    assert d.approved, d.message
    assert len(matched) == 1 + 11  # one before the users were asked, then every entry
    assert resolver.calls == Counter(USERS)


def test_listed_keys_short_of_the_threshold_ask_for_users() -> None:
    """A key listed in a nested quorum it cannot satisfy alone, and also a user's key: asking
    for the users' keys seats it as the user, and the request is approved (lazy resolution
    never refuses what the resolved keys approve)."""
    k = _keys()[0].public_key
    nested = KeyQuorum(public_keys=(k, _keys()[1].public_key), authorization_threshold=2, id="n")
    quorum = KeyQuorum(user_ids=("u",), key_quorums=(nested,), authorization_threshold=1)
    resolver = Counting({"u": [k]})
    d = _verify(quorum, _by(0), resolver)
    assert d.approved, d.message
    assert resolver.calls == Counter({"u": 1})


def test_the_async_twin_has_the_same_bounds(matched: list[int]) -> None:
    resolver = Counting()
    verifier = Verifier(_quorum(), user_keys=resolver.coro)
    d = asyncio.run(
        verifier.verify_async(
            method="POST", url=URL, body=BODY, headers=_headers(_junk(64)), now_ms=NOW
        )
    )
    assert d.reason == "invalid_signature"
    assert matched == [5, 25]
    assert resolver.calls == Counter(USERS)
