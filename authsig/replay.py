"""Replay protection: remember approved requests until they expire.

A signed request stays valid until its ``privy-request-expiry`` (plus the verifier's clock
skew). Anyone who sees it in transit can send it again inside that window, so a server that
acts on it should remember each approved request until it expires and refuse a second copy.

The :class:`ReplayStore` protocol has one operation, *add if absent*: it atomically records a
key until a given time and says whether the key was new. Two stores ship here:

* :class:`MemoryReplayStore` for a single process. It is bounded: expired entries are purged,
  and when it is full of unexpired entries it refuses new ones with
  :class:`~authsig.errors.ReplayStoreUnavailableError` (fail closed) instead of evicting an
  entry, because evicting a live entry would silently reopen a replay.
* :class:`RedisReplayStore` for several processes or hosts: ``SET key 1 NX PXAT expiry`` is one
  atomic command, so exactly one of many concurrent copies is accepted. Connection errors are
  reported as :class:`~authsig.errors.ReplayStoreUnavailableError`.

What the key is made of is decided by :func:`replay_key`: a hash of the canonical signing
payload (method, URL, body, app id, expiry, idempotency key), not of the signature header, so
that dropping, adding or reordering signatures does not make a copy look new.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from authsig._clock import now_ms as _now_ms
from authsig.errors import ReplayStoreUnavailableError

if TYPE_CHECKING:  # pragma: no cover - typing only
    import redis
    import redis.asyncio

__all__ = [
    "DEFAULT_MAX_ENTRIES",
    "DEFAULT_REDIS_PREFIX",
    "MemoryReplayStore",
    "RedisReplayStore",
    "ReplayStore",
    "replay_key",
]

DEFAULT_MAX_ENTRIES = 100_000
"""Default capacity of :class:`MemoryReplayStore`."""

DEFAULT_REDIS_PREFIX = "authsig:replay:"
"""Default key prefix of :class:`RedisReplayStore`."""

_KEY_DOMAIN = b"authsig-replay-v1\x00"


def replay_key(payload: bytes) -> str:
    """The replay key of a request: hex SHA-256 of its canonical signing payload.

    ``payload`` is what :func:`authsig.privy.payload.signing_payload` returns for the request. It
    covers the method, the URL, the parsed body and the ``privy-app-id``,
    ``privy-request-expiry`` and ``privy-idempotency-key`` headers, so two requests get the same
    key exactly when every signature on one would also verify on the other. The signature header
    itself is deliberately left out: a copy with one signature dropped, or with signatures
    reordered, is still the same request. A client that means to send the same operation twice
    gives each copy its own idempotency key (or expiry).
    """
    return hashlib.sha256(_KEY_DOMAIN + payload).hexdigest()


@runtime_checkable
class ReplayStore(Protocol):
    """Atomic *add if absent* with a per-key expiry (milliseconds since the epoch)."""

    def add_if_absent(self, key: str, expires_at_ms: int) -> bool:
        """Record ``key`` until ``expires_at_ms``.

        Returns True when the key was new (and is now stored), False when it is already
        stored and unexpired (a replay). Raises
        :class:`~authsig.errors.ReplayStoreUnavailableError` when the store is full or
        unreachable.
        """
        ...

    async def add_if_absent_async(self, key: str, expires_at_ms: int) -> bool:
        """Async form of :meth:`add_if_absent`."""
        ...


class MemoryReplayStore:
    """A bounded, thread-safe, in-process :class:`ReplayStore`.

    Entries are kept until their expiry. When ``max_entries`` unexpired entries are stored, a
    new key is refused with :class:`~authsig.errors.ReplayStoreUnavailableError` rather than
    evicting a live entry. Only suitable when one process serves all requests; use
    :class:`RedisReplayStore` otherwise.
    """

    def __init__(
        self,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        *,
        clock: Callable[[], int] | None = None,
    ) -> None:
        """Create a store for at most ``max_entries`` unexpired keys.

        ``clock`` returns the current time in milliseconds since the epoch (for tests).
        """
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ValueError("max_entries must be a positive integer")
        self._max = max_entries
        self._clock = clock if clock is not None else _now_ms
        self._entries: dict[str, int] = {}
        self._heap: list[tuple[int, str]] = []
        self._lock = threading.Lock()

    @property
    def max_entries(self) -> int:
        """The capacity of the store."""
        return self._max

    def __len__(self) -> int:
        """Number of stored keys that have not expired yet."""
        with self._lock:
            self._purge(self._clock())
            return len(self._entries)

    def __repr__(self) -> str:
        return f"MemoryReplayStore(max_entries={self._max})"

    def _purge(self, now: int) -> None:
        heap = self._heap
        entries = self._entries
        while heap and heap[0][0] <= now:
            expires, key = heapq.heappop(heap)
            if entries.get(key) == expires:
                del entries[key]

    def add_if_absent(self, key: str, expires_at_ms: int) -> bool:
        """See :meth:`ReplayStore.add_if_absent`."""
        now = self._clock()
        with self._lock:
            self._purge(now)
            if key in self._entries:
                return False
            if expires_at_ms <= now:
                # Already expired: nothing to remember, and nothing a copy could reuse.
                return True
            if len(self._entries) >= self._max:
                raise ReplayStoreUnavailableError(
                    f"replay store is full ({self._max} unexpired entries); refusing the request"
                )
            self._entries[key] = expires_at_ms
            heapq.heappush(self._heap, (expires_at_ms, key))
            return True

    async def add_if_absent_async(self, key: str, expires_at_ms: int) -> bool:
        """See :meth:`ReplayStore.add_if_absent_async` (no I/O: runs inline)."""
        return self.add_if_absent(key, expires_at_ms)


def _is_async_client(client: Any) -> bool:
    try:
        import redis.asyncio as aredis
    except ImportError:  # pragma: no cover - redis is required to get here
        return False
    return isinstance(client, aredis.Redis)


class RedisReplayStore:
    """A :class:`ReplayStore` backed by Redis (``SET key 1 NX PXAT expires_at_ms``).

    ``client_or_url`` is a ``redis://`` URL, a ``redis.Redis`` client or a
    ``redis.asyncio.Redis`` client. With a URL both a sync and an async client are created
    lazily. ``async_client`` supplies the async client when ``client_or_url`` is a sync one;
    without an async client :meth:`add_if_absent_async` runs the sync call in a worker thread, and
    without a sync client :meth:`add_if_absent` is refused.

    Needs Redis 6.2 or later (``PXAT``). Keys are ``prefix`` + :func:`replay_key`.
    """

    def __init__(
        self,
        client_or_url: str | redis.Redis | redis.asyncio.Redis,
        *,
        prefix: str = DEFAULT_REDIS_PREFIX,
        async_client: redis.asyncio.Redis | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        """Create the store; see the class docstring for the accepted clients."""
        self._prefix = prefix
        self._clock = clock if clock is not None else _now_ms
        self._url: str | None = None
        self._sync: Any = None
        self._async: Any = async_client
        self._loop_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        if isinstance(client_or_url, str):
            self._url = client_or_url
        elif _is_async_client(client_or_url):
            self._async = client_or_url
        else:
            self._sync = client_or_url

    def __repr__(self) -> str:
        return f"RedisReplayStore(prefix={self._prefix!r})"

    def _sync_client(self) -> Any:
        if self._sync is None:
            if self._url is None:
                raise ReplayStoreUnavailableError(
                    "RedisReplayStore has only an async client; use add_if_absent_async"
                )
            import redis

            with self._lock:
                if self._sync is None:
                    self._sync = redis.Redis.from_url(self._url)
        return self._sync

    def _async_client(self) -> Any:
        if self._async is not None or self._url is None:
            return self._async
        # An asyncio Redis client belongs to the event loop it was first used in: keep one per
        # running loop (a server has one; tests and scripts may run several in turn).
        import redis.asyncio as aredis

        loop = asyncio.get_running_loop()
        client = self._loop_clients.get(loop)
        if client is None:
            client = aredis.Redis.from_url(self._url)
            self._loop_clients[loop] = client
        return client

    def _expiry(self, expires_at_ms: int) -> int:
        # PXAT in the past would store nothing; keep the key for at least a second so that a
        # copy racing the first one is still refused.
        return max(int(expires_at_ms), self._clock() + 1000)

    def add_if_absent(self, key: str, expires_at_ms: int) -> bool:
        """See :meth:`ReplayStore.add_if_absent`."""
        import redis

        client = self._sync_client()
        try:
            result = client.set(self._prefix + key, b"1", nx=True, pxat=self._expiry(expires_at_ms))
        except (redis.RedisError, OSError) as exc:
            raise ReplayStoreUnavailableError(
                f"replay store unreachable ({type(exc).__name__})"
            ) from None
        return bool(result)

    async def add_if_absent_async(self, key: str, expires_at_ms: int) -> bool:
        """See :meth:`ReplayStore.add_if_absent_async`."""
        import redis

        client = self._async_client()
        if client is None:
            return await asyncio.to_thread(self.add_if_absent, key, expires_at_ms)
        try:
            result = await client.set(
                self._prefix + key, b"1", nx=True, pxat=self._expiry(expires_at_ms)
            )
        except (redis.RedisError, OSError) as exc:
            raise ReplayStoreUnavailableError(
                f"replay store unreachable ({type(exc).__name__})"
            ) from None
        return bool(result)

    def close(self) -> None:
        """Close the sync client if this store created it."""
        if self._url is not None and self._sync is not None:
            self._sync.close()

    async def aclose(self) -> None:
        """Close the clients this store created (the async one of the running loop)."""
        if self._url is not None:
            client = self._loop_clients.pop(asyncio.get_running_loop(), None)
            if client is not None:
                await client.aclose()
        self.close()
