"""The Gate's replay step, for every scheme and every store.

1. The last millisecond. With a frozen clock, at every ``now`` around the end of a request's
   acceptance window, a copy of an accepted request is refused while the verifier would still
   accept it: no store calls it fresh one millisecond too early. "The verifier would accept it"
   is asked of the same scheme behind a Gate without a store, at the same ``now``.
2. One tenant's share. A signer that fills its share of the store gets 429
   ``replay_quota_exceeded``; other signers (another quorum, another API key) are not affected.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from _stores import STORE_KINDS, Clock, make_store, real_now
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from authsig.cobo import load_api_secret
from authsig.cobo import sign_event as cobo_sign_event
from authsig.cobo import sign_request as cobo_sign_request
from authsig.cobo.scheme import CoboEventScheme, CoboRequestScheme
from authsig.http import Gate, RequestInfo
from authsig.keys import generate_private_key
from authsig.privy.middleware import privy_gate
from authsig.privy.quorum import KeyQuorum
from authsig.privy.signing import sign_request as privy_sign_request
from authsig.replay import MemoryReplayStore

SECRET = "4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d"
OTHER_SECRET = "1f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d"
# Hours ahead of the real time (read once, at import; a loaded machine can take more than half
# an hour to reach these tests): a real Redis, which expires keys on its own clock, then still
# holds every key while the frozen clock walks over the end of its window.
BASE = real_now() + 6 * 3_600_000
K = 4  # the boundary is walked from end - K to end + K
BASE_URL = "https://api.example.com"
URL = BASE_URL + "/hook?a=1"
_serial = itertools.count()


def _info(headers: dict[str, str]) -> RequestInfo:
    return RequestInfo(
        method="POST",
        url=URL,
        path="/hook",
        query_string="a=1",
        headers={k.lower(): v for k, v in headers.items()},
        peer="127.0.0.1",
        raw={},
        header_items=tuple(headers.items()),
        raw_path="/hook",
    )


def _expiring_at(expiry: int) -> dict[str, Any]:
    """``sign_request`` arguments giving the request the expiry ``expiry``."""
    return {"now_ms": expiry - 1_000, "expires_in": timedelta(seconds=1)}


@dataclass
class Case:
    """A scheme on a Gate with ``store`` and on a Gate without one (the verifier's verdict)."""

    gate: Gate
    bare: Gate
    target: Any
    end: int  # the last millisecond at which the scheme accepts the requests of ``sign``
    sign: Any  # () -> (headers, body) of a new request

    def check(self, gate: Gate, request: tuple[dict[str, str], bytes], use_async: bool) -> Any:
        headers, body = request
        if use_async:
            return asyncio.run(gate.check_async(_info(headers), body, self.target))
        return gate.check(_info(headers), body, self.target)


def _privy(store: Any, clock: Clock) -> Case:
    key = generate_private_key()
    quorum = KeyQuorum(public_keys=(key.public_key,), id="boundary")
    expiry = BASE

    def sign() -> tuple[dict[str, str], bytes]:
        body = json.dumps({"n": next(_serial)}).encode()
        headers = privy_sign_request(
            method="POST", url=URL, body=body, app_id="app", keys=key, **_expiring_at(expiry)
        )
        return dict(headers), body

    gate = privy_gate(quorum, replay_store=store, clock=clock, public_base_url=BASE_URL)
    policy = gate.scheme.policy  # type: ignore[attr-defined]  # the Privy scheme has one
    bare = privy_gate(
        quorum, replay_store=None, clock=clock, policy=policy, public_base_url=BASE_URL
    )
    end = expiry + policy.clock_skew_ms
    return Case(gate, bare, quorum, end, sign)


def _cobo(store: Any, clock: Clock, kind: str) -> Case:
    api_key = load_api_secret(SECRET).api_key
    scheme: Any
    if kind == "event":
        scheme = CoboEventScheme(public_key=api_key)
        end = BASE + scheme.tolerance_ms

        def sign() -> tuple[dict[str, str], bytes]:
            body = json.dumps({"n": next(_serial)}).encode()
            return cobo_sign_event(body, SECRET, timestamp_ms=BASE), body

    else:
        scheme = CoboRequestScheme(api_keys=[api_key])
        end = BASE + scheme.window_ms

        def sign() -> tuple[dict[str, str], bytes]:
            body = json.dumps({"n": next(_serial)}).encode()
            headers = cobo_sign_request(
                SECRET, method="POST", path="/hook", query="a=1", body=body, nonce_ms=BASE
            )
            return headers, body

    gate = Gate(scheme, replay_store=store, clock=clock)
    return Case(gate, Gate(scheme, replay_store=None, clock=clock), True, end, sign)


SCHEMES = ("privy", "cobo-event", "cobo-request")


def _case(scheme: str, store: Any, clock: Clock) -> Case:
    if scheme == "privy":
        return _privy(store, clock)
    return _cobo(store, clock, scheme.removeprefix("cobo-"))


@pytest.fixture(params=[(s, k) for s in SCHEMES for k in STORE_KINDS], ids="-".join)
def case(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Case, Clock, Any]:
    scheme, kind = request.param
    url = request.getfixturevalue("redis_url") if kind == "redis" else None
    clock = Clock(BASE)
    store = make_store(kind, clock, tmp_path, url)
    return _case(scheme, store, clock), clock, store


def test_the_window_end_is_the_schemes_last_accepting_millisecond(
    case: tuple[Case, Clock, Any],
) -> None:
    c, clock, _store = case
    request = c.sign()
    clock.now = c.end
    assert c.check(c.bare, request, use_async=False).passed
    clock.now = c.end + 1
    assert not c.check(c.bare, request, use_async=False).passed


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    first=st.integers(-K, K),
    later=st.integers(0, 2 * K),
    use_async=st.booleans(),
)
@example(first=0, later=0, use_async=False)  # the copy in the very last millisecond
@example(first=-1, later=1, use_async=True)
@example(first=0, later=1, use_async=False)  # the first millisecond after the window
def test_a_copy_is_refused_while_the_verifier_would_accept_it(
    case: tuple[Case, Clock, Any], first: int, later: int, use_async: bool
) -> None:
    c, clock, _store = case
    request = c.sign()
    clock.now = c.end + first
    accepted = c.check(c.gate, request, use_async).passed
    assert accepted == (first <= 0)  # the first copy passes exactly inside the window
    if not accepted:
        return
    clock.now = c.end + first + later
    copy = c.check(c.gate, request, use_async)
    assert not copy.passed
    if c.check(c.bare, request, use_async).passed:
        assert copy.problem.reason == "replayed"


@pytest.mark.redis
def test_redis_keeps_the_key_past_the_window_on_its_own_clock(redis_url: str) -> None:
    import redis

    from authsig.replay import RedisReplayStore

    clock = Clock(BASE)
    store = RedisReplayStore(redis_url, prefix="boundary-ttl:", clock=clock)
    client = redis.Redis.from_url(redis_url)
    for scheme in SCHEMES:
        c = _case(scheme, store, clock)
        headers, body = c.sign()
        checked = c.gate.scheme.verify(_info(headers), body, c.target, BASE)
        assert checked.keep_until_ms == c.end
        assert c.check(c.gate, (headers, body), use_async=False).passed
        # Redis deletes a key once its clock passes the expiry: kept at least until end + 1.
        assert client.pexpiretime(f"boundary-ttl:{checked.replay_key}") == c.end + 1
    client.close()


# --- one tenant's share, through the Gate --------------------------------------------------


def _privy_request(key: Any, n: int) -> tuple[dict[str, str], bytes]:
    body = json.dumps({"n": n}).encode()
    headers = privy_sign_request(
        method="POST", url=URL, body=body, app_id="app", keys=key, **_expiring_at(BASE)
    )
    return dict(headers), body


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_a_privy_quorum_that_fills_its_share_gets_429(use_async: bool) -> None:
    clock = Clock(BASE)
    store = MemoryReplayStore(max_entries=100, max_per_tenant=2, clock=clock)
    greedy_key, other_key = generate_private_key(), generate_private_key()
    greedy = KeyQuorum(public_keys=(greedy_key.public_key,))  # no id: a digest of its members
    other = KeyQuorum(public_keys=(other_key.public_key,), id="q-other")
    gates = {
        q: privy_gate(q, replay_store=store, clock=clock, public_base_url=BASE_URL)
        for q in (greedy, other)
    }

    def send(quorum: KeyQuorum, request: tuple[dict[str, str], bytes]) -> Any:
        case = Case(gates[quorum], gates[quorum], quorum, 0, None)
        return case.check(gates[quorum], request, use_async)

    first = [_privy_request(greedy_key, n) for n in range(3)]
    assert send(greedy, first[0]).passed
    assert send(greedy, first[1]).passed
    refused = send(greedy, first[2]).problem
    assert (refused.status, refused.reason) == (429, "replay_quota_exceeded")
    assert send(greedy, first[0]).problem.reason == "replayed"  # a copy is still a replay
    assert send(other, _privy_request(other_key, 100)).passed
    assert send(other, _privy_request(other_key, 101)).passed
    # The share is per quorum even for a quorum object rebuilt per request (a resolver).
    rebuilt = KeyQuorum(public_keys=(greedy_key.public_key,))
    gates[rebuilt] = gates[greedy]
    assert send(rebuilt, _privy_request(greedy_key, 9)).problem.reason == "replay_quota_exceeded"


def test_a_cobo_api_key_that_fills_its_share_gets_429(tmp_path: Path) -> None:
    clock = Clock(BASE)
    store = make_store("sqlite", clock, tmp_path, None, max_entries=100, max_per_tenant=1)
    keys = [load_api_secret(s).api_key for s in (SECRET, OTHER_SECRET)]
    gate = Gate(
        CoboRequestScheme(api_keys=keys), replay_store=store, clock=clock, detailed_problems=True
    )

    def send(secret: str, n: int) -> Any:
        body = json.dumps({"n": n}).encode()
        headers = cobo_sign_request(
            secret, method="POST", path="/hook", query="a=1", body=body, nonce_ms=BASE
        )
        return gate.check(_info(headers), body, True)

    assert send(SECRET, 0).passed
    problem = send(SECRET, 1).problem
    assert (problem.status, problem.reason) == (429, "replay_quota_exceeded")
    assert problem.to_dict()["detail"].startswith("this signer already has 1 signed request")
    assert send(OTHER_SECRET, 100).passed
