"""``MemoryReplayStore``: a bounded store inside one process (tests, single-process apps)."""

from __future__ import annotations

import heapq
import logging
import threading
from collections.abc import Callable

from authsig._clock import now_ms as _now_ms
from authsig.replay._common import Bounded, quota_exceeded, store_full
from authsig.replay._workers import several_workers

__all__ = ["DEFAULT_MAX_ENTRIES", "MemoryReplayStore"]

logger = logging.getLogger("authsig.replay")

DEFAULT_MAX_ENTRIES = 100_000
"""Default capacity of :class:`MemoryReplayStore`."""


class MemoryReplayStore(Bounded):
    """A bounded, thread-safe, in-process :class:`~authsig.replay.ReplayStore`.

    Entries are kept until their expiry. When ``max_entries`` unexpired entries are stored, a
    new key is refused with :class:`~authsig.errors.ReplayStoreUnavailableError` rather than
    evicting a live entry; when one tenant holds ``max_per_tenant`` of them, that tenant's new
    keys are refused with :class:`~authsig.errors.ReplayQuotaExceededError`, and the others
    keep their room. The empty tenant (callers that name none) has only the global bound.

    Only suitable when one process serves all requests: building one inside a uvicorn or
    gunicorn server with several workers logs a warning (see :mod:`authsig.replay._workers`
    for what is detected). Use :class:`~authsig.replay.SQLiteReplayStore` (the middleware's
    default) for several processes on one host, :class:`~authsig.replay.RedisReplayStore` for
    several hosts.
    """

    failure_hint = (
        "the store is full: raise max_entries, shorten the requests' lifetimes, or use a "
        "SQLiteReplayStore or RedisReplayStore"
    )

    def __init__(
        self,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        *,
        max_per_tenant: int | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        """Create a store for at most ``max_entries`` unexpired keys, at most
        ``max_per_tenant`` (default: a tenth of ``max_entries``) of them for one tenant.

        ``clock`` returns the current time in milliseconds since the epoch (for tests).
        """
        self._bound(max_entries, max_per_tenant)
        self._clock = clock if clock is not None else _now_ms
        self._entries: dict[str, tuple[int, str]] = {}
        self._tenants: dict[str, int] = {}
        self._heap: list[tuple[int, str]] = []
        self._lock = threading.Lock()
        workers = several_workers()
        if workers is not None:
            server, count = workers
            logger.warning(
                "authsig: MemoryReplayStore in one of %d %s workers: each worker remembers only "
                "its own requests, so a copy sent to another worker is accepted again; use the "
                "default SQLite store or a RedisReplayStore",
                count,
                server,
            )

    def __len__(self) -> int:
        """Number of stored keys that have not expired yet."""
        with self._lock:
            self._purge(self._clock())
            return len(self._entries)

    def __repr__(self) -> str:
        return f"MemoryReplayStore(max_entries={self._max}, max_per_tenant={self._per_tenant})"

    def _purge(self, now: int) -> None:
        heap = self._heap
        entries = self._entries
        while heap and heap[0][0] <= now:
            expires, key = heapq.heappop(heap)
            entry = entries.get(key)
            if entry is not None and entry[0] == expires:
                del entries[key]
                self._forget(entry[1])

    def _forget(self, tenant: str) -> None:
        left = self._tenants[tenant] - 1
        if left:
            self._tenants[tenant] = left
        else:
            del self._tenants[tenant]

    def add_if_absent(self, key: str, expires_at_ms: int, *, tenant: str = "") -> bool:
        """See :meth:`ReplayStore.add_if_absent <authsig.replay.ReplayStore.add_if_absent>`."""
        now = self._clock()
        with self._lock:
            self._purge(now)
            if key in self._entries:
                return False
            if expires_at_ms <= now:
                # Already expired: nothing to remember, and nothing a copy could reuse.
                return True
            held = self._tenants.get(tenant, 0)
            if tenant and held >= self._per_tenant:
                raise quota_exceeded(self._per_tenant)
            if len(self._entries) >= self._max:
                raise store_full(self._max)
            self._entries[key] = (expires_at_ms, tenant)
            self._tenants[tenant] = held + 1
            heapq.heappush(self._heap, (expires_at_ms, key))
            return True

    async def add_if_absent_async(self, key: str, expires_at_ms: int, *, tenant: str = "") -> bool:
        """As :meth:`add_if_absent` (no I/O: runs inline)."""
        return self.add_if_absent(key, expires_at_ms, tenant=tenant)
