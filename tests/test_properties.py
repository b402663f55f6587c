"""Cross-module property tests (hypothesis), beyond the per-module ones.

- canonicalize agrees with the ``rfc8785`` package on its whole domain (full Unicode keys and
  strings, every finite double including subnormals, integers up to +-(2**53 - 1)), refuses
  exactly what the package refuses, and orders members by UTF-16 code units at every depth;
- keys: any load -> dump -> load chain across every format gives the same key; the public
  key of a loaded private key equals the loaded public key in every format; quorums survive
  the Privy JSON round trip;
- any single mutation of a signed request (method, URL, any body value at any depth, any
  participating header) is refused, while non-participating headers and body formatting do
  not matter;
- quorum evaluation with user members (keys from a resolver) matches an independent count,
  is monotonic in the signer set, and is exact at the threshold.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from authsig.errors import CanonicalizationError
from authsig.jcs import canonicalize
from authsig.keys import PrivateKey, PublicKey, load_private_key, load_public_key
from authsig.privy.headers import format_signature_header
from authsig.privy.payload import signing_payload
from authsig.privy.quorum import KeyQuorum
from authsig.privy.signing import sign_request
from authsig.privy.verifier import verify_request
from authsig.signatures import sign

SLOW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FAST = settings(max_examples=300, deadline=None)

# --- canonicalization ---------------------------------------------------------------------

SAFE = 2**53 - 1
_text = st.text(st.characters(codec="utf-8"), max_size=12)  # any scalar value
_finite = st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=True)
_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(-SAFE, SAFE), _finite, _text, st.sampled_from([-0.0])
)
_json = st.recursive(
    _leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(_text, inner, max_size=5)),
    max_leaves=25,
)


def _pairs_in_order(text: str) -> list[list[str]]:
    """Member names of every object in the JSON text, in document order."""
    found: list[list[str]] = []

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        found.append([k for k, _ in pairs])
        return dict(pairs)

    json.loads(text, object_pairs_hook=hook)
    return found


def _utf16(key: str) -> bytes:
    return key.encode("utf-16-be")


@FAST
@given(_json)
def test_canonicalize_equals_rfc8785_package_on_its_domain(value: Any) -> None:
    assert canonicalize(value) == rfc8785.dumps(value)


@FAST
@given(st.dictionaries(_text, st.dictionaries(_text, st.integers(0, 9), max_size=6), max_size=6))
def test_members_ordered_by_utf16_code_units_at_every_depth(value: dict[str, Any]) -> None:
    text = canonicalize(value).decode("utf-8")
    for names in _pairs_in_order(text):
        assert names == sorted(names, key=_utf16)
        assert len(set(names)) == len(names)


@FAST
@given(
    st.one_of(
        st.integers(min_value=SAFE + 1),
        st.integers(max_value=-SAFE - 1),
        st.sampled_from([math.nan, math.inf, -math.inf]),
        st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3),
    ),
    st.lists(st.sampled_from(["a", 0]), max_size=3),
)
def test_refuses_exactly_what_the_package_refuses(bad: Any, path: list[Any]) -> None:
    value: Any = bad
    for step in path:  # bury the bad value at some depth
        value = {"a": value} if step == "a" else [value]
    with pytest.raises(CanonicalizationError):
        canonicalize(value)
    with pytest.raises(Exception):  # noqa: B017 - the package has several error types
        rfc8785.dumps(value)


# --- keys ---------------------------------------------------------------------------------

N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_scalars = st.one_of(st.integers(1, N - 1), st.sampled_from([1, 2, 3, N - 2, N - 1]))

_PUBLIC_DUMPS: dict[str, Callable[[Any], Any]] = {
    "base64": lambda k: k.to_base64(),
    "base64-wrapped": lambda k: "\n".join(
        k.to_base64()[i : i + 64] for i in range(0, len(k.to_base64()), 64)
    ),
    "pem": lambda k: k.to_pem(),
    "jwk": lambda k: k.to_jwk(),
    "jwk-text": lambda k: json.dumps(k.to_jwk()),
    "der": lambda k: k.spki_der,
    "point": lambda k: k.point,
}
_PRIVATE_DUMPS: dict[str, Callable[[Any], Any]] = {
    "base64": lambda k: k.to_base64(),
    "prefixed": lambda k: "wallet-auth:" + k.to_base64(),
    "pem": lambda k: k.to_pem(),
    "jwk": lambda k: k.to_jwk(),
    "jwk-text": lambda k: json.dumps(k.to_jwk()),
    "der": lambda k: base64.b64decode(k.to_base64()),
}


@SLOW
@given(
    _scalars,
    st.lists(st.sampled_from(sorted(_PUBLIC_DUMPS)), min_size=1, max_size=5),
)
def test_public_key_survives_any_chain_of_formats(scalar: int, chain: list[str]) -> None:
    original = PrivateKey(ec.derive_private_key(scalar, ec.SECP256R1())).public_key
    key: PublicKey = original
    for form in chain:
        key = load_public_key(_PUBLIC_DUMPS[form](key))
    assert key == original
    assert key.key_id == original.key_id
    assert key.to_jwk() == original.to_jwk()


@SLOW
@given(
    _scalars,
    st.lists(st.sampled_from(sorted(_PRIVATE_DUMPS)), min_size=1, max_size=4),
    st.sampled_from(sorted(_PUBLIC_DUMPS)),
)
def test_private_key_chain_and_its_public_key(scalar: int, chain: list[str], pub: str) -> None:
    original = PrivateKey(ec.derive_private_key(scalar, ec.SECP256R1()))
    key = original
    for form in chain:
        key = load_private_key(_PRIVATE_DUMPS[form](key))
    assert key == original
    assert key.key_id == original.key_id == original.public_key.key_id
    assert load_public_key(_PUBLIC_DUMPS[pub](key.public_key)) == original.public_key


@SLOW
@given(st.lists(_scalars, min_size=1, max_size=5, unique=True), st.data())
def test_quorum_survives_privy_json(scalars: list[int], data: st.DataObject) -> None:
    keys = [PrivateKey(ec.derive_private_key(s, ec.SECP256R1())).public_key for s in scalars]
    assume(len(set(keys)) == len(keys))
    names = data.draw(st.lists(st.one_of(st.none(), _text), min_size=len(keys), max_size=len(keys)))
    quorum = KeyQuorum(
        public_keys=tuple(keys),
        key_display_names=tuple(names),
        authorization_threshold=data.draw(st.integers(1, len(keys))),
        id="kq-1",
    )
    wire = json.loads(json.dumps(quorum.to_privy()))
    again = KeyQuorum.from_privy(wire)
    assert again == quorum
    assert again.key_display_names == quorum.key_display_names


# --- mutations of a signed request ----------------------------------------------------------

URL = "https://api.privy.io/v1/wallets/w1/rpc"


@cache
def _signer() -> PrivateKey:
    return PrivateKey(ec.derive_private_key(0x5EED, ec.SECP256R1()))


@cache
def _quorum() -> KeyQuorum:
    return KeyQuorum(public_keys=(_signer().public_key,), authorization_threshold=1)


_body_leaf = st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), _text)
_bodies = st.dictionaries(
    st.text("abcdef", min_size=1, max_size=4),
    st.recursive(
        _body_leaf,
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=3),
            st.dictionaries(st.text("xyz", min_size=1, max_size=3), inner, min_size=1, max_size=3),
        ),
        max_leaves=8,
    ),
    min_size=1,
    max_size=4,
)


def _leaf_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaf_paths(v, (*prefix, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaf_paths(v, (*prefix, i))]
    return [prefix]


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replace(value[path[0]], path[1:], new)
    return copy


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


NOW_MS = 1_760_000_000_000


def _signed(body: Any) -> dict[str, str]:
    return sign_request(
        method="POST",
        url=URL,
        body=json.dumps(body),
        app_id="app-m",
        keys=_signer(),
        idempotency_key="idem-1",
        now_ms=NOW_MS,
    )


def _check(method: str, url: str, body: Any, headers: dict[str, str]) -> bool:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return verify_request(
        method=method, url=url, body=raw, headers=headers, quorum=_quorum(), now_ms=NOW_MS
    ).approved


@SLOW
@given(_bodies, st.data())
def test_any_mutation_of_a_signed_request_is_refused(
    body: dict[str, Any], data: st.DataObject
) -> None:
    headers = _signed(body)
    assert _check("POST", URL, body, headers)
    what = data.draw(st.sampled_from(["method", "url", "body", "header"]))
    method, url, new_body, new_headers = "POST", URL, body, dict(headers)
    if what == "method":
        method = data.draw(st.sampled_from(["GET", "PUT", "PATCH", "DELETE", "POSTX"]))
    elif what == "url":
        pos = data.draw(st.integers(0, len(URL)))
        extra = data.draw(st.text("/?a=%1.", min_size=1, max_size=3))
        url = URL[:pos] + extra + URL[pos:]
    elif what == "body":
        path = data.draw(st.sampled_from(_leaf_paths(body)))
        new = data.draw(
            _body_leaf.filter(
                lambda v: v != _get(body, path) or type(v) is not type(_get(body, path))
            )
        )
        assume(canonicalize(_replace(body, path, new)) != canonicalize(body))
        new_body = _replace(body, path, new)
    else:
        name = data.draw(
            st.sampled_from(["privy-app-id", "privy-idempotency-key", "privy-request-expiry"])
        )
        old = new_headers[name]
        if name == "privy-request-expiry":
            new_value = str(int(old) + data.draw(st.sampled_from([-1, 1, 1000])))
        else:
            new_value = data.draw(st.text(min_size=1, max_size=8).filter(lambda v: v != old))
        new_headers[name] = new_value
    assert not _check(method, url, new_body, new_headers)


@SLOW
@given(_bodies, st.data())
def test_what_is_not_signed_does_not_matter(body: dict[str, Any], data: st.DataObject) -> None:
    headers = _signed(body)
    extra = data.draw(st.text("abcdefgh-", min_size=1, max_size=10))
    assume(extra.lower() not in {"privy-app-id", "privy-idempotency-key", "privy-request-expiry"})
    assume(extra.lower() != "privy-authorization-signature")
    headers = {**headers, extra: data.draw(st.text(max_size=10))}
    indent = data.draw(st.sampled_from([None, 1, 4]))
    raw = json.dumps(body, indent=indent, ensure_ascii=data.draw(st.booleans())).encode()
    assert _check("post", URL, raw, headers)
    # header names are case-insensitive too
    upper = {k.upper(): v for k, v in headers.items()}
    assert _check("POST", URL, raw, upper)


# --- quorums with user members ---------------------------------------------------------------

BODY = {"policy_ids": ["p"]}
HEADERS = {"privy-app-id": "app-u"}


@cache
def _pool() -> tuple[PrivateKey, ...]:
    return tuple(PrivateKey(ec.derive_private_key(1000 + i, ec.SECP256R1())) for i in range(7))


@cache
def _sigs() -> tuple[str, ...]:
    payload = signing_payload(method="PATCH", url=URL, body=BODY, headers=HEADERS)
    return tuple(sign(payload, k) for k in _pool())


@st.composite
def _user_quorums(draw: st.DrawFn) -> tuple[KeyQuorum, dict[str, list[int]]]:
    """Keys 0..6 split between direct members and users (each user 1-2 keys)."""
    order = draw(st.permutations(range(7)))
    n_direct = draw(st.integers(0, 3))
    direct, rest = list(order[:n_direct]), list(order[n_direct:])
    users: dict[str, list[int]] = {}
    while rest and len(users) < 3:
        size = draw(st.integers(1, 2))
        users[f"did:privy:u{len(users)}"], rest = rest[:size], rest[size:]
    count = len(direct) + len(users)
    quorum = KeyQuorum(
        public_keys=tuple(_pool()[i].public_key for i in direct),
        user_ids=tuple(users),
        authorization_threshold=draw(st.integers(1, count)),
    )
    return quorum, users


def _approved(quorum: KeyQuorum, users: dict[str, list[int]], signers: list[int]) -> bool:
    headers = dict(HEADERS)
    if signers:
        headers["privy-authorization-signature"] = format_signature_header(
            [_sigs()[i] for i in signers]
        )
    return verify_request(
        method="PATCH",
        url=URL,
        body=BODY,
        headers=headers,
        quorum=quorum,
        user_keys=lambda uid: [_pool()[i].public_key for i in users[uid]],
    ).approved


def _count(quorum: KeyQuorum, users: dict[str, list[int]], signers: set[int]) -> int:
    keys = {_pool()[i].public_key for i in signers}
    direct = sum(k in keys for k in quorum.public_keys)
    return direct + sum(any(i in signers for i in ks) for ks in users.values())


@SLOW
@given(_user_quorums(), st.data())
def test_user_member_quorums_match_a_count_and_are_monotonic(
    qu: tuple[KeyQuorum, dict[str, list[int]]], data: st.DataObject
) -> None:
    quorum, users = qu
    members = [i for i in range(7) if _pool()[i].public_key in set(quorum.public_keys)] + [
        i for ks in users.values() for i in ks
    ]
    signers = data.draw(st.lists(st.sampled_from(members), unique=True, max_size=len(members)))
    ok = _approved(quorum, users, signers)
    assert ok == (_count(quorum, users, set(signers)) >= quorum.threshold)
    if ok:  # monotonic: one more member signature never refuses
        more = [i for i in members if i not in signers]
        if more:
            assert _approved(quorum, users, [*signers, more[0]])
    elif signers:  # removing one never approves
        assert not _approved(quorum, users, signers[:-1])


@SLOW
@given(_user_quorums())
def test_user_member_threshold_is_exact(qu: tuple[KeyQuorum, dict[str, list[int]]]) -> None:
    quorum, users = qu
    # one signature per member (a user's first key): exactly t members approve, t-1 do not
    per_member = [i for i in range(7) if _pool()[i].public_key in set(quorum.public_keys)] + [
        ks[0] for ks in users.values()
    ]
    t = quorum.threshold
    assert _approved(quorum, users, per_member[:t])
    assert not _approved(quorum, users, per_member[: t - 1])
