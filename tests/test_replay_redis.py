"""A Redis that evicts keys reopens replays: the store refuses one, on a real redis-server.

The server here runs with ``--maxmemory 2mb --maxmemory-policy allkeys-lru``. The first test
shows the threat itself (a live replay key evicted, the copy accepted again); the others show
the store refusing such a server unless told otherwise, and warning when it cannot tell.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest
from _stores import real_now, redis_with
from servers import ServerUnavailable

from authsig.errors import ReplayStoreUnavailableError
from authsig.replay import RedisReplayStore

pytestmark = pytest.mark.redis

EVICTING = ("--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru")


@pytest.fixture(scope="module")
def evicting_url() -> Iterator[str]:
    try:
        with redis_with(*EVICTING) as url:
            yield url
    except ServerUnavailable as exc:
        pytest.skip(str(exc))


def _fill(url: str, megabytes: int) -> None:
    """Write ``megabytes`` of other keys, each read once so the replay key is the coldest."""
    import redis

    client = redis.Redis.from_url(url)
    chunk = b"x" * 10_000
    for i in range(megabytes * 100):
        client.set(f"filler:{i}", chunk)
    client.close()


def test_an_evicting_redis_accepts_a_copy_again(evicting_url: str) -> None:
    import redis

    store = RedisReplayStore(evicting_url, prefix="threat:", allow_evicting_policy=True)
    expires = real_now() + 600_000
    assert store.add_if_absent("transfer", expires) is True
    assert store.add_if_absent("transfer", expires) is False
    client = redis.Redis.from_url(evicting_url)
    for _ in range(10):  # LRU is sampled: write until the live key is gone
        _fill(evicting_url, 4)
        if not client.exists("threat:transfer"):
            break
    assert not client.exists("threat:transfer")
    client.close()
    # The request is still inside its window, and the store calls its copy fresh.
    assert store.add_if_absent("transfer", expires) is True
    store.close()


def test_an_evicting_policy_is_refused_at_start_up(evicting_url: str) -> None:
    import redis

    with pytest.raises(ValueError, match="allkeys-lru") as info:
        RedisReplayStore(evicting_url)
    assert "noeviction" in str(info.value)
    assert "allow_evicting_policy=True" in str(info.value)
    client = redis.Redis.from_url(evicting_url)
    with pytest.raises(ValueError, match="allkeys-lru"):
        RedisReplayStore(client)
    client.close()


def test_allowing_an_evicting_policy_is_logged(
    evicting_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="authsig.replay"):
        store = RedisReplayStore(evicting_url, allow_evicting_policy=True)
    assert "allkeys-lru" in caplog.text
    assert "allowed by allow_evicting_policy=True" in caplog.text
    store.close()


def test_an_async_only_client_is_checked_at_first_use(
    evicting_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    import redis.asyncio as aredis

    async def run() -> None:
        client = aredis.Redis.from_url(evicting_url)
        store = RedisReplayStore(client, prefix="async:")  # no I/O before the event loop
        try:
            for _ in range(2):  # every call fails closed, not just the first
                with pytest.raises(ReplayStoreUnavailableError, match="evicts"):
                    await store.add_if_absent_async("k", real_now() + 600_000)
            assert await client.exists("async:k") == 0
        finally:
            await client.aclose()

    with caplog.at_level(logging.ERROR, logger="authsig.replay"):
        asyncio.run(run())
    assert "allkeys-lru" in caplog.text


@pytest.fixture(scope="module")
def no_config_url() -> Iterator[str]:
    """A Redis whose CONFIG command is disabled, as some managed services do."""
    try:
        with redis_with("--rename-command", "CONFIG", "") as url:
            yield url
    except ServerUnavailable as exc:
        pytest.skip(str(exc))


def test_a_policy_that_cannot_be_read_is_a_warning(
    no_config_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="authsig.replay"):
        store = RedisReplayStore(no_config_url, prefix="noconfig:")
    assert "cannot read the Redis maxmemory-policy (ResponseError)" in caplog.text
    assert store.add_if_absent("k", real_now() + 600_000) is True  # it still works
    store.close()


def test_a_noeviction_redis_is_accepted_silently(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="authsig.replay"):
        store = RedisReplayStore(redis_url, prefix="quiet:")
    assert caplog.text == ""
    store.close()


def test_an_unreachable_redis_is_a_warning_at_start_up(caplog: pytest.LogCaptureFixture) -> None:
    from servers import free_port

    with caplog.at_level(logging.WARNING, logger="authsig.replay"):
        store = RedisReplayStore(f"redis://127.0.0.1:{free_port()}/0")
    assert "cannot read the Redis maxmemory-policy (ConnectionError)" in caplog.text
    with pytest.raises(ReplayStoreUnavailableError):
        store.add_if_absent("k", real_now() + 600_000)
