"""``SQLiteReplayStore``: one file shared by every process of an app on one host (the default).

Every worker of a server (uvicorn ``--workers``, gunicorn ``-w``) opens the same file, so a copy
sent to another worker is refused like one sent to the same worker, with nothing to set up.

- *Atomic add-if-absent*: one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE expired`` statement
  (its own transaction); SQLite's write lock serialises the writers of all processes, and
  ``changes()`` (the cursor's ``rowcount``) says whether the key was absent (or expired, which
  counts as absent). Only when it changes nothing does a ``BEGIN IMMEDIATE`` transaction tell a
  replay from a full share.
- *WAL* journal with ``synchronous=NORMAL``: a commit writes the log without waiting for the
  disk, and survives the crash of any process (not a power cut of the host, which a memory
  store would not survive either).
- *Bounded*: trigger-maintained counters per tenant and in all; a tenant over its share gets
  :class:`~authsig.errors.ReplayQuotaExceededError`, a full store
  :class:`~authsig.errors.ReplayStoreUnavailableError`; expired rows are purged first, then
  periodically in small batches.
- *Fail closed*: any SQLite or OS error (locked past ``busy_timeout_ms``, disk full, an
  unreadable or foreign file) raises :class:`~authsig.errors.ReplayStoreUnavailableError`.
- *Fork safe*: connections are pooled per process; a process that finds the pool of another
  (its parent, before a fork) sets it aside untouched (closing an inherited SQLite connection
  can release the parent's locks) and opens its own.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from authsig._clock import now_ms as _now_ms
from authsig.errors import AuthSigError, ReplayStoreUnavailableError
from authsig.replay._common import Bounded, quota_exceeded, store_full
from authsig.replay._location import default_replay_path, prepare

__all__ = ["DEFAULT_SQLITE_MAX_ENTRIES", "SQLiteReplayStore"]

DEFAULT_SQLITE_MAX_ENTRIES = 1_000_000
"""Default capacity of :class:`SQLiteReplayStore` (about 150 bytes on disk per entry)."""

_PURGE_EVERY_MS = 1_000
_CACHE_KIB = 8_192  # per connection; SQLite's default (2 MiB) rereads pages of a large store
_PURGE_BATCH = 2_000

# ``counts`` holds one row per tenant and the total under the name x'00', a BLOB, which no tenant
# (TEXT) can equal: both rows a claim updates then usually share a page, one write fewer.
_SCHEMA = """
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS replay (
    key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, tenant TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS replay_expiry ON replay (expires_at);
CREATE TABLE IF NOT EXISTS counts (name PRIMARY KEY, live INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO counts VALUES (x'00', 0);
CREATE TRIGGER IF NOT EXISTS replay_added AFTER INSERT ON replay BEGIN
    INSERT INTO counts VALUES (NEW.tenant, 1) ON CONFLICT (name) DO UPDATE SET live = live + 1;
    UPDATE counts SET live = live + 1 WHERE name = x'00';
END;
CREATE TRIGGER IF NOT EXISTS replay_removed AFTER DELETE ON replay BEGIN
    UPDATE counts SET live = live - 1 WHERE name = OLD.tenant;
    UPDATE counts SET live = live - 1 WHERE name = x'00';
END;
CREATE TRIGGER IF NOT EXISTS replay_moved AFTER UPDATE OF tenant ON replay
WHEN OLD.tenant <> NEW.tenant BEGIN
    UPDATE counts SET live = live - 1 WHERE name = OLD.tenant;
    INSERT INTO counts VALUES (NEW.tenant, 1) ON CONFLICT (name) DO UPDATE SET live = live + 1;
END;
COMMIT;
"""
# One statement in autocommit mode (atomic on its own) does the common case: insert the key when
# it is absent and both bounds leave room. An expired row counts as absent: the conflict branch
# overwrites it, and only then. When a bound has no room the tenant written is NULL, which the
# NOT NULL constraint refuses before anything is written: the statement aborts and changes
# nothing. (This ``VALUES`` row measured about 6 us less per call than ``INSERT ... SELECT ...
# WHERE`` with the same subqueries, of about 50.) The counts may include expired rows not yet
# purged, so a refusal by a bound is decided again after a purge (see ``_claim``).
_CLAIM = (
    "INSERT INTO replay (key, expires_at, tenant) VALUES (?1, ?2, CASE WHEN "
    "(?3 = '' OR coalesce((SELECT live FROM counts WHERE name = ?3), 0) < ?5) "
    "AND (SELECT live FROM counts WHERE name = x'00') < ?6 THEN ?3 END) "
    "ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at, tenant = excluded.tenant "
    "WHERE replay.expires_at <= ?4"
)
_NO_ROOM = "SQLITE_CONSTRAINT_NOTNULL"  # the abort of ``_CLAIM`` when a bound has no room
_LIVE_KEY = "SELECT 1 FROM replay WHERE key = ? AND expires_at > ?"
_HELD = "SELECT live FROM counts WHERE name = ?"
_PURGE_ALL = "DELETE FROM replay WHERE expires_at <= ?"
_PURGE_SOME = (
    "DELETE FROM replay WHERE key IN "
    "(SELECT key FROM replay WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)"
)
_EMPTY_TENANTS = "DELETE FROM counts WHERE live <= 0 AND name <> x'00'"
_HAS_SCHEMA = "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = 'replay_moved'"
_LIVE = "SELECT count(*) FROM replay WHERE expires_at > ?"

# Connections a forked child found in its parent's pool: never used, never closed (see above).
_INHERITED: list[sqlite3.Connection] = []


def _rolled_back(conn: sqlite3.Connection) -> bool:
    """End an open transaction; False when the connection is no longer usable."""
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    except sqlite3.Error:
        return False
    return True


def _recorded(conn: sqlite3.Connection, args: tuple[str, int, str, int, int, int]) -> bool:
    """Run ``_CLAIM``: True when it recorded the key, False when it changed nothing (the key is
    live, or a bound has no room). Any other constraint failure is an error, not a refusal."""
    try:
        return conn.execute(_CLAIM, args).rowcount > 0
    except sqlite3.IntegrityError as exc:
        if getattr(exc, "sqlite_errorname", None) != _NO_ROOM:
            raise
        return False


def _failure(exc: BaseException) -> ReplayStoreUnavailableError:
    # SQLite's error name (SQLITE_BUSY, SQLITE_FULL, ...) and no path: this text can reach a
    # client in a detailed problem document.
    name = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
    return ReplayStoreUnavailableError(f"replay store unavailable ({name})")


class SQLiteReplayStore(Bounded):
    """A :class:`~authsig.replay.ReplayStore` in a SQLite file shared by the processes of a host.

    ``path`` None is the default location (:func:`~authsig.replay.default_replay_path`:
    ``$AUTHSIG_REPLAY_DB``, else a private ``authsig`` directory in ``$XDG_RUNTIME_DIR``,
    ``~/.cache`` or the temp directory). ``max_entries`` bounds the whole store and
    ``max_per_tenant`` (default: a tenth of it) one tenant's share. ``busy_timeout_ms`` is how
    long a call waits for another process's write lock before failing closed. ``clock``
    (milliseconds since the epoch) is for tests.

    The file is prepared (and checked) when the store is built, so that a wrong location fails
    at start-up with :class:`~authsig.errors.ReplayStoreUnavailableError`. Every process using
    one file must agree on the clock (they do on one host) and must not run on a network file
    system. Needs SQLite 3.24 or later.
    """

    failure_hint = (
        "check the store's file: free disk space, permissions, a local (not network) file "
        "system, and no process holding a long write lock (AUTHSIG_REPLAY_DB moves it)"
    )

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        max_entries: int = DEFAULT_SQLITE_MAX_ENTRIES,
        max_per_tenant: int | None = None,
        busy_timeout_ms: int = 5_000,
        clock: Callable[[], int] | None = None,
    ) -> None:
        if sqlite3.sqlite_version_info < (3, 24, 0):
            raise RuntimeError(
                f"SQLiteReplayStore needs SQLite 3.24+, not {sqlite3.sqlite_version}"
            )
        self._bound(max_entries, max_per_tenant)
        if isinstance(busy_timeout_ms, bool) or not isinstance(busy_timeout_ms, int):
            raise TypeError("busy_timeout_ms must be an integer (milliseconds)")
        if busy_timeout_ms < 0:
            raise ValueError("busy_timeout_ms must not be negative")
        self._timeout = busy_timeout_ms / 1000
        self._clock = clock if clock is not None else _now_ms
        if path is None:
            where, self._default_location = default_replay_path()
        else:
            where, self._default_location = Path(os.fspath(path)).expanduser(), False
        self._path = prepare(where, default_location=self._default_location)
        self._pid = os.getpid()
        self._idle: list[sqlite3.Connection] = []
        self._next_purge = 0
        try:
            self._give(self._connect())  # fail now, not on the first request
        except sqlite3.Error as exc:
            raise ReplayStoreUnavailableError(
                f"cannot open the replay store {self._path} ({_failure(exc).message})"
            ) from None

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    def __repr__(self) -> str:
        return (
            f"SQLiteReplayStore({str(self._path)!r}, max_entries={self._max}, "
            f"max_per_tenant={self._per_tenant})"
        )

    # -- connections: a pool per process

    def _connect(self) -> sqlite3.Connection:
        if not self._path.exists():  # removed while running: recreate it private, not 0644
            prepare(self._path, default_location=self._default_location)
        uri = self._path.as_uri() + "?mode=rw"
        conn = sqlite3.connect(
            uri, uri=True, timeout=self._timeout, isolation_level=None, check_same_thread=False
        )
        try:
            self._setup(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _setup(self, conn: sqlite3.Connection) -> None:
        deadline = time.monotonic() + self._timeout
        while conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            try:
                conn.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError:
                # Another process is switching it at the same moment: wait as for a lock.
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
        # The schema is created in one transaction: its last trigger exists only if all does.
        if conn.execute(_HAS_SCHEMA).fetchone() is None:
            conn.executescript(_SCHEMA)

    def _take(self) -> sqlite3.Connection:
        pid = os.getpid()
        if pid != self._pid:
            # A forked child: the parent's connections are set aside before the pid is updated,
            # so a thread that sees the new pid also sees the new, empty pool.
            _INHERITED.extend(self._idle)
            self._idle = []
            self._pid = pid
        try:
            return self._idle.pop()
        except IndexError:
            pass
        try:
            return self._connect()
        except (sqlite3.Error, OSError) as exc:
            raise _failure(exc) from None

    def _give(self, conn: sqlite3.Connection) -> None:
        if self._pid == os.getpid():
            self._idle.append(conn)

    def close(self) -> None:
        """Close this process's idle connections (the store stays usable: they reopen)."""
        if self._pid != os.getpid():
            return
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    # -- the operation

    def _refusal(self, conn: sqlite3.Connection, tenant: str) -> AuthSigError:
        row = conn.execute(_HELD, (tenant,)).fetchone()
        if tenant and row is not None and row[0] >= self._per_tenant:
            return quota_exceeded(self._per_tenant)
        return store_full(self._max)

    def _claim(self, conn: sqlite3.Connection, args: tuple[str, int, str, int, int, int]) -> bool:
        """Record the key (``args`` of ``_CLAIM``); False when it is there and live."""
        if _recorded(conn, args):
            return True
        # A replay, or a bound reached (perhaps by expired rows): decide in one transaction.
        key, _until, tenant, now = args[:4]
        conn.execute("BEGIN IMMEDIATE")
        if conn.execute(_LIVE_KEY, (key, now)).fetchone() is not None:
            conn.execute("COMMIT")
            return False
        conn.execute(_PURGE_ALL, (now,))
        fresh = _recorded(conn, args)
        conn.execute("COMMIT")  # keeps the purge, refused or not
        if not fresh:
            raise self._refusal(conn, tenant)
        return True

    def _run(self, work: Callable[[sqlite3.Connection], bool]) -> bool:
        """``work`` on a pooled connection; SQLite and OS errors fail closed."""
        conn = self._take()
        try:
            return work(conn)
        except (sqlite3.Error, OSError) as exc:
            raise _failure(exc) from None
        finally:
            if _rolled_back(conn):
                self._give(conn)
            else:
                conn.close()

    def add_if_absent(self, key: str, expires_at_ms: int, *, tenant: str = "") -> bool:
        """See :meth:`ReplayStore.add_if_absent <authsig.replay.ReplayStore.add_if_absent>`."""
        now = self._clock()
        args = (key, int(expires_at_ms), tenant, now, self._per_tenant, self._max)
        fresh = self._run(lambda conn: self._claim(conn, args))
        if fresh and (now >= self._next_purge or now < self._next_purge - _PURGE_EVERY_MS):
            self._purge_some(now)
        return fresh

    async def add_if_absent_async(self, key: str, expires_at_ms: int, *, tenant: str = "") -> bool:
        """As :meth:`add_if_absent`, in a worker thread (never blocking the event loop)."""
        return await asyncio.to_thread(self.add_if_absent, key, expires_at_ms, tenant=tenant)

    def _purge_some(self, now: int) -> None:
        """Delete a batch of expired rows, at most every second per process. Two threads may
        both run it (harmless: SQLite serialises them). A failure is not the request's: the
        next accepted request tries again."""
        self._next_purge = now + _PURGE_EVERY_MS

        def purge(conn: sqlite3.Connection) -> bool:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(_PURGE_SOME, (now, _PURGE_BATCH))
            conn.execute(_EMPTY_TENANTS)
            conn.execute("COMMIT")
            return True

        try:
            self._run(purge)
        except ReplayStoreUnavailableError:
            self._next_purge = 0

    def __len__(self) -> int:
        """Number of stored keys that have not expired yet."""
        conn = self._take()
        try:
            return int(conn.execute(_LIVE, (self._clock(),)).fetchone()[0])
        except sqlite3.Error as exc:
            raise _failure(exc) from None
        finally:
            self._give(conn)
