"""The one way authsig reads the clock: integer milliseconds since the epoch.

Every scheme's freshness check (Privy expiry, Cobo nonces and event timestamps) and every replay
store uses :func:`now_ms`, so that a test can reason about one clock and no module rounds
differently from another.
"""

from __future__ import annotations

import time
from datetime import timedelta

__all__ = ["now_ms", "to_ms"]

_MS = timedelta(milliseconds=1)


def now_ms() -> int:
    """Milliseconds since the epoch (floor of the wall clock)."""
    return time.time_ns() // 1_000_000


def to_ms(delta: timedelta) -> int:
    """A ``timedelta`` in whole milliseconds (exact integer arithmetic, no float rounding)."""
    return delta // _MS
