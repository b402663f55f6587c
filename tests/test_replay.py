"""Replay keys, and what is particular to the memory and Redis stores (the contract all stores
share is in ``test_replay_stores.py``; Redis eviction in ``test_replay_redis.py``)."""

from __future__ import annotations

import asyncio

import pytest
from _stores import Clock

from authsig.errors import ReplayStoreUnavailableError
from authsig.replay import (
    MemoryReplayStore,
    RedisReplayStore,
    ReplayStore,
    replay_key,
)

# --- replay_key ---------------------------------------------------------------------------


def test_replay_key_is_a_hash_of_the_payload() -> None:
    a = replay_key(b'{"body":null}')
    assert a == replay_key(b'{"body":null}')
    assert a != replay_key(b'{"body":1}')
    assert len(a) == 64
    int(a, 16)


def test_replay_key_follows_the_signing_payload() -> None:
    from authsig.privy.payload import signing_payload

    def key(**changes: object) -> str:
        parts: dict[str, object] = {
            "method": "POST",
            "url": "https://api.example.com/v1/wallets",
            "body": b'{"a": 1}',
            "headers": {"privy-app-id": "app", "privy-request-expiry": "1700000000000"},
        }
        parts.update(changes)
        return replay_key(signing_payload(**parts))  # type: ignore[arg-type]

    base = key()
    # Reformatting the JSON body does not make a copy look new.
    assert key(body=b'{ "a" : 1 }') == base
    # Anything that is signed does.
    assert key(body=b'{"a": 2}') != base
    assert key(method="PUT") != base
    assert key(url="https://api.example.com/v1/wallets?x=1") != base
    assert key(headers={"privy-app-id": "app", "privy-request-expiry": "1700000000001"}) != base
    assert (
        key(
            headers={
                "privy-app-id": "app",
                "privy-request-expiry": "1700000000000",
                "privy-idempotency-key": "k1",
            }
        )
        != base
    )


# --- MemoryReplayStore --------------------------------------------------------------------


def test_memory_store_is_a_replay_store() -> None:
    assert isinstance(MemoryReplayStore(), ReplayStore)


def test_memory_store_purges_expired_entries() -> None:
    clock = Clock(0)
    store = MemoryReplayStore(max_entries=10, clock=clock)
    for i in range(10):
        assert store.add_if_absent(f"k{i}", 100 + i)
    assert len(store) == 10
    clock.now = 105
    assert len(store) == 4  # k6..k9 are still live


def test_memory_store_does_not_record_already_expired_keys() -> None:
    clock = Clock(10_000)
    store = MemoryReplayStore(max_entries=1, clock=clock)
    assert store.add_if_absent("old", 5_000) is True
    assert len(store) == 0
    assert store.add_if_absent("new", 20_000) is True


# --- RedisReplayStore ---------------------------------------------------------------------


@pytest.mark.redis
def test_redis_store_add_if_absent(redis_url: str) -> None:
    import redis

    from authsig.privy.expiry import current_time_ms

    store = RedisReplayStore(redis_url, prefix="t1:")
    assert isinstance(store, ReplayStore)
    expires = current_time_ms() + 60_000
    assert store.add_if_absent("k", expires) is True
    assert store.add_if_absent("k", expires) is False
    assert store.add_if_absent("k2", expires) is True
    client = redis.Redis.from_url(redis_url)
    # The key is kept until the request's expiry (PXAT), not forever.
    assert abs(client.pexpiretime("t1:k") - expires) <= 1
    client.close()
    store.close()


@pytest.mark.redis
def test_redis_store_key_expires(redis_url: str) -> None:
    import time

    from authsig.privy.expiry import current_time_ms

    store = RedisReplayStore(redis_url, prefix="t2:")
    expires = current_time_ms() + 1_100
    assert store.add_if_absent("k", expires) is True
    assert store.add_if_absent("k", expires) is False
    time.sleep(1.3)
    assert store.add_if_absent("k", current_time_ms() + 60_000) is True
    store.close()


@pytest.mark.redis
def test_redis_store_with_given_clients(redis_url: str) -> None:
    import redis
    import redis.asyncio as aredis

    from authsig.privy.expiry import current_time_ms

    expires = current_time_ms() + 60_000
    sync_client = redis.Redis.from_url(redis_url)
    store = RedisReplayStore(sync_client, prefix="t3:")
    assert store.add_if_absent("k", expires) is True

    async def run() -> list[bool]:
        # A sync-only store still works from async code (worker thread).
        first = await store.add_if_absent_async("k", expires)
        client = aredis.Redis.from_url(redis_url)
        astore = RedisReplayStore(client, prefix="t3:")
        try:
            return [
                first,
                await astore.add_if_absent_async("k", expires),
                await astore.add_if_absent_async("n", expires),
            ]
        finally:
            await client.aclose()

    assert asyncio.run(run()) == [False, False, True]
    sync_client.close()


def test_redis_store_unreachable_fails_closed() -> None:
    from servers import free_port

    port = free_port()  # nothing listens there
    store = RedisReplayStore(f"redis://127.0.0.1:{port}/0")
    with pytest.raises(ReplayStoreUnavailableError) as info:
        store.add_if_absent("k", 2**40)
    assert "redis://" not in str(info.value)  # the URL (maybe with a password) is not echoed

    async def run() -> None:
        with pytest.raises(ReplayStoreUnavailableError):
            await store.add_if_absent_async("k", 2**40)
        await store.aclose()

    asyncio.run(run())


@pytest.mark.redis
def test_redis_store_from_url_works_across_event_loops(redis_url: str) -> None:
    from authsig.privy.expiry import current_time_ms

    store = RedisReplayStore(redis_url, prefix="t5:")
    expires = current_time_ms() + 60_000

    async def once(key: str) -> bool:
        return await store.add_if_absent_async(key, expires)

    # Each asyncio.run is a new loop; the store keeps an async client per loop.
    assert asyncio.run(once("a")) is True
    assert asyncio.run(once("a")) is False
    assert asyncio.run(once("b")) is True
    store.close()
