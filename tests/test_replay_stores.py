"""The contract every replay store keeps (memory, SQLite, Redis), and what the SQLite store adds:
shared by processes, private on disk, fork safe, failing closed.

Every store: a key is fresh once and a replay until it expires; one tenant fills only its own
share (429-class refusal) while other tenants and copies are answered as before.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sqlite3
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from _stores import STORE_KINDS, Clock, make_store, real_now

from authsig.errors import ReplayQuotaExceededError, ReplayStoreUnavailableError
from authsig.replay import (
    MemoryReplayStore,
    ReplayStore,
    SQLiteReplayStore,
    claim,
    claim_async,
    default_replay_path,
)
from authsig.replay import _location as location

# Redis expires keys on its own clock, so the stores' clock starts at the real time and every
# expiry lies hours ahead of it: START is read once, at import, and a loaded machine can take
# more than half an hour to reach these tests.
START = real_now()
LATER = START + 6 * 3_600_000


@pytest.fixture(params=STORE_KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def build(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    url = request.getfixturevalue("redis_url") if kind == "redis" else None

    def build(clock: Clock, **caps: int | None) -> Any:
        return make_store(kind, clock, tmp_path, url, **caps)

    return build


# --- the contract -------------------------------------------------------------------------


def test_a_key_is_fresh_once_then_a_replay(build: Any) -> None:
    store = build(Clock(START))
    assert isinstance(store, ReplayStore)
    assert store.add_if_absent("k", LATER) is True
    assert store.add_if_absent("k", LATER) is False
    assert store.add_if_absent("k", LATER + 5, tenant="t") is False
    assert store.add_if_absent("other", LATER, tenant="t") is True


def test_one_tenant_fills_only_its_own_share(build: Any) -> None:
    clock = Clock(START)
    store = build(clock, max_entries=10, max_per_tenant=3)
    for i in range(3):
        assert store.add_if_absent(f"a{i}", LATER + i, tenant="privy:a") is True
    with pytest.raises(ReplayQuotaExceededError) as info:
        store.add_if_absent("a3", LATER, tenant="privy:a")
    assert info.value.code == "replay_quota_exceeded"
    # A copy of an accepted request is still a replay, not a quota refusal.
    assert store.add_if_absent("a0", LATER, tenant="privy:a") is False
    # Everyone else keeps their room.
    for i in range(3):
        assert store.add_if_absent(f"b{i}", LATER, tenant="privy:b") is True
    assert store.add_if_absent("anonymous", LATER) is True
    # The refused key was not recorded: once the tenant has room, it is fresh.
    clock.now = LATER + 1  # a0 and a1 have expired
    assert store.add_if_absent("a3", LATER + 600_000, tenant="privy:a") is True
    assert store.add_if_absent("a4", LATER + 600_000, tenant="privy:a") is True
    with pytest.raises(ReplayQuotaExceededError):
        store.add_if_absent("a5", LATER + 600_000, tenant="privy:a")


@pytest.mark.parametrize("local", ["memory", "sqlite"])
def test_a_full_store_fails_closed_and_evicts_nothing(local: str, tmp_path: Path) -> None:
    clock = Clock(0)
    store = make_store(local, clock, tmp_path, None, max_entries=3, max_per_tenant=3)
    for key in ("a", "b", "c"):
        assert store.add_if_absent(key, 1_000, tenant=f"t-{key}")
    with pytest.raises(ReplayStoreUnavailableError) as info:
        store.add_if_absent("d", 1_000, tenant="t-d")
    assert info.value.code == "replay_store_unavailable"
    for key in ("a", "b", "c"):
        assert store.add_if_absent(key, 1_000) is False
    clock.now = 1_000  # all expired: room again, and the old keys are absent
    assert store.add_if_absent("d", 2_000) is True
    assert store.add_if_absent("a", 2_000) is True
    assert len(store) == 2


@pytest.mark.parametrize("local", ["memory", "sqlite"])
def test_an_entry_is_kept_until_its_expiry_and_not_a_millisecond_longer(
    local: str, tmp_path: Path
) -> None:
    clock = Clock(1_000)
    store = make_store(local, clock, tmp_path, None)
    assert store.add_if_absent("k", 5_000) is True
    clock.now = 4_999
    assert store.add_if_absent("k", 9_000) is False
    clock.now = 5_000
    assert store.add_if_absent("k", 9_000) is True
    assert store.add_if_absent("k", 9_000) is False


def test_the_async_twin_keeps_the_same_contract(build: Any) -> None:
    store = build(Clock(START), max_entries=10, max_per_tenant=1)

    async def run() -> list[bool]:
        results = [
            await store.add_if_absent_async("k", LATER, tenant="t"),
            await store.add_if_absent_async("k", LATER, tenant="t"),
        ]
        with pytest.raises(ReplayQuotaExceededError):
            await store.add_if_absent_async("k2", LATER, tenant="t")
        results.append(await store.add_if_absent_async("k2", LATER, tenant="u"))
        return results

    assert asyncio.run(run()) == [True, False, True]


def test_threads_racing_on_one_key_get_one_acceptance(build: Any) -> None:
    store = build(Clock(START))
    barrier = threading.Barrier(12)
    results: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        mine = [store.add_if_absent(f"key{i}", LATER, tenant="t") for i in range(20)]
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 20


# --- claim: the Gate's call, with stores written before tenants ----------------------------


class OldStore:
    """A store written against the protocol before it had ``tenant``."""

    def __init__(self) -> None:
        self.keys: set[str] = set()

    def add_if_absent(self, key: str, expires_at_ms: int) -> bool:
        fresh = key not in self.keys
        self.keys.add(key)
        return fresh


def test_claim_passes_the_tenant_only_to_stores_that_take_it() -> None:
    old = OldStore()
    assert claim(old, "k", LATER, "privy:q") is True
    assert claim(old, "k", LATER, "privy:q") is False
    assert asyncio.run(claim_async(old, "j", LATER, "privy:q")) is True  # in a worker thread
    new = MemoryReplayStore(max_entries=10, max_per_tenant=1, clock=Clock(START))
    assert claim(new, "k", LATER, "privy:q") is True
    with pytest.raises(ReplayQuotaExceededError):
        claim(new, "j", LATER, "privy:q")
    with pytest.raises(ReplayQuotaExceededError):
        asyncio.run(claim_async(new, "i", LATER, "privy:q"))


def test_bounds_are_checked_when_the_store_is_built(tmp_path: Path) -> None:
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ValueError, match="max_entries"):
            MemoryReplayStore(max_entries=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_per_tenant"):
        MemoryReplayStore(max_entries=10, max_per_tenant=11)
    with pytest.raises(ValueError, match="max_per_tenant"):
        SQLiteReplayStore(tmp_path / "s.sqlite3", max_entries=10, max_per_tenant=0)
    assert MemoryReplayStore(max_entries=1000).max_per_tenant == 100  # a tenth by default
    assert SQLiteReplayStore(tmp_path / "t.sqlite3").max_per_tenant == 100_000


# --- SQLite: where the file lives, and that it is private ----------------------------------


@pytest.fixture
def no_location_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("AUTHSIG_REPLAY_DB", "XDG_RUNTIME_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_default_location_order(
    no_location_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = no_location_env
    assert default_replay_path() == str(home / ".cache" / "authsig" / "replay.sqlite3")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    assert default_replay_path() == str(tmp_path / "xdg-cache" / "authsig" / "replay.sqlite3")
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    assert default_replay_path() == str(runtime / "authsig" / "replay.sqlite3")
    monkeypatch.setenv("AUTHSIG_REPLAY_DB", str(tmp_path / "chosen.db"))
    assert default_replay_path() == str(tmp_path / "chosen.db")


def test_without_a_usable_home_the_temp_dir_is_used(
    no_location_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", "/")  # as for a system account without a home
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    store = SQLiteReplayStore()
    assert store.path == tmp_path / "tmp" / f"authsig-{os.getuid()}" / "replay.sqlite3"
    assert _mode(store.path.parent) == 0o700


def test_the_default_store_is_private(no_location_env: Path) -> None:
    umask = os.umask(0o002)  # a lax umask must not loosen the modes
    try:
        store = SQLiteReplayStore(clock=Clock(START))
        assert store.add_if_absent("k", LATER) is True
    finally:
        os.umask(umask)
    assert store.path == no_location_env / ".cache" / "authsig" / "replay.sqlite3"
    assert _mode(store.path.parent) == 0o700
    files = sorted(store.path.parent.iterdir())
    assert [p.name for p in files] == [
        "replay.sqlite3",
        "replay.sqlite3-shm",
        "replay.sqlite3-wal",
    ]
    assert {_mode(p) for p in files} == {0o600}
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_open_default_directory_is_closed(no_location_env: Path) -> None:
    folder = no_location_env / ".cache" / "authsig"
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    SQLiteReplayStore()
    assert _mode(folder) == 0o700


def test_a_directory_of_another_user_is_refused(
    no_location_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if someone else had created the directory first (e.g. authsig-<uid> in /tmp).
    monkeypatch.setattr(location, "_UID", os.getuid() + 4242)
    with pytest.raises(ReplayStoreUnavailableError, match="belongs to uid"):
        SQLiteReplayStore()


def test_a_link_in_place_of_the_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.db"
    target.write_bytes(b"")
    link = tmp_path / "replay.sqlite3"
    link.symlink_to(target)
    with pytest.raises(ReplayStoreUnavailableError, match="cannot use"):
        SQLiteReplayStore(link)


def test_an_existing_file_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "replay.sqlite3"
    path.write_bytes(b"")
    path.chmod(0o666)
    SQLiteReplayStore(path)
    assert _mode(path) == 0o600


def test_a_file_that_is_not_a_database_fails_at_start_up(tmp_path: Path) -> None:
    path = tmp_path / "replay.sqlite3"
    path.write_bytes(b"this is not a SQLite database" * 100)
    with pytest.raises(ReplayStoreUnavailableError, match="SQLITE_NOTADB"):
        SQLiteReplayStore(path)


def test_a_lock_held_past_the_timeout_fails_closed(tmp_path: Path) -> None:
    path = tmp_path / "replay.sqlite3"
    store = SQLiteReplayStore(path, busy_timeout_ms=50, clock=Clock(START))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process in the middle of a long write
    try:
        with pytest.raises(ReplayStoreUnavailableError) as info:
            store.add_if_absent("k", LATER)
        assert info.value.message == "replay store unavailable (SQLITE_BUSY)"  # no path
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.add_if_absent("k", LATER) is True  # the connection was kept usable


def test_expired_rows_are_purged(tmp_path: Path) -> None:
    clock = Clock(1_000)
    store = SQLiteReplayStore(tmp_path / "replay.sqlite3", clock=clock)
    for i in range(50):
        store.add_if_absent(f"k{i}", 2_000, tenant=f"t{i % 5}")
    clock.now = 10_000  # more than a second later: the next acceptance purges
    store.add_if_absent("new", 20_000, tenant="t0")
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("SELECT key FROM replay").fetchall() == [("new",)]
        counts = dict(conn.execute("SELECT name, live FROM counts").fetchall())
    assert counts == {b"\x00": 1, "t0": 1}


def test_the_async_call_runs_in_a_worker_thread(tmp_path: Path) -> None:
    seen: list[int] = []

    class Recording(SQLiteReplayStore):
        def add_if_absent(self, key: str, expires_at_ms: int, *, tenant: str = "") -> bool:
            seen.append(threading.get_ident())
            return super().add_if_absent(key, expires_at_ms, tenant=tenant)

    store = Recording(tmp_path / "replay.sqlite3", clock=Clock(START))

    async def run() -> bool:
        return await store.add_if_absent_async("k", LATER)

    assert asyncio.run(run()) is True
    assert len(seen) == 1
    assert seen[0] != threading.get_ident()


# --- SQLite: several processes ---------------------------------------------------------------


def _race(store: SQLiteReplayStore, barrier: Any, results: Any) -> None:
    barrier.wait()
    results.put([store.add_if_absent(f"same-{i}", LATER, tenant="t") for i in range(25)])


def test_processes_share_the_store_and_one_copy_wins(tmp_path: Path) -> None:
    store = SQLiteReplayStore(tmp_path / "replay.sqlite3", clock=Clock(START))
    assert store.add_if_absent("before-fork", LATER) is True  # the parent holds a connection
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(6)
    results = ctx.Queue()
    procs = [ctx.Process(target=_race, args=(store, barrier, results)) for _ in range(6)]
    for proc in procs:
        proc.start()
    outcomes = [value for _ in procs for value in results.get(timeout=60)]
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    assert outcomes.count(True) == 25  # each key accepted by exactly one process
    # The children saw the parent's key, and the parent sees theirs, on its own connection.
    assert store.add_if_absent("before-fork", LATER) is False
    assert store.add_if_absent("same-0", LATER) is False
    assert store.add_if_absent("after", LATER) is True


def test_a_forked_child_opens_its_own_connection(tmp_path: Path) -> None:
    store = SQLiteReplayStore(tmp_path / "replay.sqlite3", clock=Clock(START))
    inherited = list(store._idle)
    assert inherited
    pid = os.fork()
    if pid == 0:  # the child: report through the exit code only
        code = 0
        try:
            fresh = store.add_if_absent("child", LATER)
            code = 0 if fresh and all(c not in store._idle for c in inherited) else 1
        except BaseException:
            code = 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.add_if_absent("child", LATER) is False


def test_a_connection_that_cannot_be_opened_fails_closed(tmp_path: Path) -> None:
    path = tmp_path / "replay.sqlite3"
    store = SQLiteReplayStore(path, busy_timeout_ms=50, clock=Clock(START))
    store.close()  # the next call opens a new connection
    path.write_bytes(b"overwritten by something else" * 100)
    with pytest.raises(ReplayStoreUnavailableError, match="SQLITE_NOTADB"):
        store.add_if_absent("k", LATER)


def test_only_the_bounds_constraint_reads_as_a_refusal(tmp_path: Path) -> None:
    # A claim with no room aborts on its NULL tenant (SQLITE_CONSTRAINT_NOTNULL); any other
    # constraint failure is the store's fault and fails closed as unavailable, never as a
    # quota or a replay.
    path = tmp_path / "replay.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE replay (key TEXT PRIMARY KEY CHECK (length(key) < 8), "
            "expires_at INTEGER NOT NULL, tenant TEXT NOT NULL) WITHOUT ROWID"
        )
    conn.close()
    store = SQLiteReplayStore(path, max_entries=2, max_per_tenant=1, clock=Clock(START))
    assert store.add_if_absent("short", LATER, tenant="t") is True
    with pytest.raises(ReplayQuotaExceededError):
        store.add_if_absent("other", LATER, tenant="t")
    assert store.add_if_absent("short", LATER, tenant="t") is False
    with pytest.raises(ReplayStoreUnavailableError, match="SQLITE_CONSTRAINT_CHECK"):
        store.add_if_absent("a-long-key", LATER, tenant="u")
