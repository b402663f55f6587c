"""The local stores against a model of the replay contract, on random sequences of calls.

The model is the contract in a few lines: a key is a replay while an entry for it is live
(``expires_at > now``); otherwise, counting only live entries, a tenant (other than ``""``)
holding its share is refused with a quota error, a full store with "unavailable", and anything
else is recorded. The stores decide some of this differently inside (the SQLite store counts
rows not yet purged and decides a refusal again after a purge), so a sequence that mixes
replays, expiries, overwritten keys and both bounds is where they could drift from it.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from _stores import Clock
from hypothesis import given, settings
from hypothesis import strategies as st

from authsig.errors import ReplayQuotaExceededError, ReplayStoreUnavailableError
from authsig.replay import MemoryReplayStore, SQLiteReplayStore


class Model:
    def __init__(self, max_entries: int, max_per_tenant: int) -> None:
        self.max, self.share = max_entries, max_per_tenant
        self.entries: dict[str, tuple[int, str]] = {}

    def add(self, key: str, expires_at: int, tenant: str, now: int) -> str:
        live = {k: v for k, v in self.entries.items() if v[0] > now}
        if key in live:
            return "replay"
        if tenant and sum(1 for _, t in live.values() if t == tenant) >= self.share:
            return "quota"
        if len(live) >= self.max:
            return "full"
        live[key] = (expires_at, tenant)
        self.entries = live
        return "fresh"

    def live(self, now: int) -> int:
        return sum(1 for expires, _ in self.entries.values() if expires > now)


def _outcome(store: object, key: str, expires_at: int, tenant: str) -> str:
    try:
        fresh = store.add_if_absent(key, expires_at, tenant=tenant)  # type: ignore[attr-defined]
    except ReplayQuotaExceededError:
        return "quota"
    except ReplayStoreUnavailableError:
        return "full"
    return "fresh" if fresh else "replay"


# (clock step, key, lifetime, tenant): few keys and tenants, so that replays, overwritten
# expired keys and both bounds come up; lifetimes short beside the steps, so entries expire.
_CALL = st.tuples(
    st.integers(0, 12),
    st.sampled_from("abcdefgh"),
    st.integers(1, 30),
    st.sampled_from(["", "t1", "t2", "t3"]),
)
_folders = itertools.count()


@settings(max_examples=150, deadline=None)
@given(
    max_entries=st.integers(1, 6),
    share=st.integers(1, 6),
    calls=st.lists(_CALL, max_size=40),
)
def test_the_local_stores_decide_as_the_model(
    max_entries: int, share: int, calls: list[tuple[int, str, int, str]]
) -> None:
    share = min(share, max_entries)
    clock = Clock(1_000_000)
    model = Model(max_entries, share)
    memory = MemoryReplayStore(max_entries, max_per_tenant=share, clock=clock)
    with tempfile.TemporaryDirectory(prefix="authsig-model-") as tmp:
        sqlite = SQLiteReplayStore(
            Path(tmp) / f"replay-{next(_folders)}.sqlite3",
            max_entries=max_entries,
            max_per_tenant=share,
            clock=clock,
        )
        try:
            for step, (advance, key, lifetime, tenant) in enumerate(calls):
                clock.now += advance
                expires = clock.now + lifetime
                expected = model.add(key, expires, tenant, clock.now)
                got = (
                    _outcome(memory, key, expires, tenant),
                    _outcome(sqlite, key, expires, tenant),
                )
                assert got == (expected, expected), (step, calls[: step + 1])
                assert len(memory) == len(sqlite) == model.live(clock.now), step
        finally:
            sqlite.close()
