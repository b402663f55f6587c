"""Helpers of the replay-store tests: a settable clock, each store kind built the same way, and a
redis-server started with chosen settings (an evicting policy, CONFIG disabled)."""

from __future__ import annotations

import contextlib
import itertools
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from servers import HOST, ServerUnavailable, _stop_process, free_port, wait_for_port

from authsig.replay import MemoryReplayStore, RedisReplayStore, SQLiteReplayStore

STORE_KINDS = ("memory", "sqlite", "redis")

_unique = itertools.count()


class Clock:
    """Milliseconds since the epoch, set by the test."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def real_now() -> int:
    return time.time_ns() // 1_000_000


def make_store(
    kind: str, clock: Clock, folder: Path, redis_url: str | None, **caps: int | None
) -> Any:
    """A fresh store of ``kind`` reading ``clock``; ``caps``: max_entries, max_per_tenant.

    A Redis store has no ``max_entries`` (Redis's memory is the bound) and expires keys on the
    server's own clock: tests give it expiries in the future of the real time.
    """
    n = next(_unique)
    options: dict[str, Any] = {"clock": clock, **caps}
    if kind == "memory":
        return MemoryReplayStore(**options)
    if kind == "sqlite":
        return SQLiteReplayStore(folder / f"store-{n}.sqlite3", **options)
    assert kind == "redis"
    assert redis_url is not None
    options.pop("max_entries", None)
    return RedisReplayStore(redis_url, prefix=f"test-stores-{n}-{real_now()}:", **options)


@contextlib.contextmanager
def redis_with(*settings: str) -> Iterator[str]:
    """A throw-away ``redis-server`` on a free port with extra command-line ``settings``;
    yields its URL. Raises :class:`ServerUnavailable` without the binary."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServerUnavailable("redis-server is not installed (apt-get install redis-server)")
    with tempfile.TemporaryDirectory(prefix="authsig-redis-") as tmp:
        port = free_port()
        argv = [binary, "--port", str(port), "--bind", HOST, "--save", "", "--dir", tmp]
        proc = subprocess.Popen(
            [*argv, "--appendonly", "no", *settings],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=tmp,
        )
        try:
            wait_for_port(port, proc=proc)
            yield f"redis://{HOST}:{port}/0"
        finally:
            _stop_process(proc)
