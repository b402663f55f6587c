"""Replay protection: remember approved requests until they could no longer be accepted.

A signed request stays valid until its expiry (plus the verifier's clock skew). Anyone who sees
it in transit can send it again inside that window, so a server that acts on it remembers each
approved request until then and refuses a second copy.

The :class:`ReplayStore` protocol has one operation, *add if absent*: it atomically records a
key until a given time, on behalf of a *tenant* (who signed: a quorum, an API key), and says
whether the key was new. Three stores ship here, each bounded, each failing closed (it refuses
the request rather than forget a live entry):

* :class:`SQLiteReplayStore`, the middleware's default: one file shared by every process on
  the host, so a copy sent to another worker is refused too, with nothing to configure.
* :class:`MemoryReplayStore`: one process only (tests, single-process apps that ask for it).
* :class:`RedisReplayStore`: several hosts; ``SET key 1 NX PXAT expiry`` is one atomic command.
  It refuses a Redis that evicts keys.

Each bounds one tenant's share (:class:`~authsig.errors.ReplayQuotaExceededError`, 429), so
that one signer sending fast cannot fill the store and lock every other signer out. A tenant
sending ``r`` requests a second that stay acceptable ``L`` seconds holds ``r * L`` entries.

What the key is made of is decided by the scheme (for Privy :func:`replay_key`: a hash of the
canonical signing payload, not of the signature header, so that dropping, adding or reordering
signatures does not make a copy look new).
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
from typing import Any, Protocol, runtime_checkable

from authsig.replay._location import ENV_VAR as REPLAY_DB_ENV
from authsig.replay._location import default_replay_path as _default_replay_path
from authsig.replay.memory import DEFAULT_MAX_ENTRIES, MemoryReplayStore
from authsig.replay.redis_store import (
    DEFAULT_REDIS_MAX_PER_TENANT,
    DEFAULT_REDIS_PREFIX,
    RedisReplayStore,
)
from authsig.replay.sqlite import DEFAULT_SQLITE_MAX_ENTRIES, SQLiteReplayStore

__all__ = [
    "DEFAULT_MAX_ENTRIES",
    "DEFAULT_REDIS_MAX_PER_TENANT",
    "DEFAULT_REDIS_PREFIX",
    "DEFAULT_SQLITE_MAX_ENTRIES",
    "REPLAY_DB_ENV",
    "MemoryReplayStore",
    "RedisReplayStore",
    "ReplayStore",
    "SQLiteReplayStore",
    "claim",
    "claim_async",
    "default_replay_path",
    "replay_key",
]

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


def default_replay_path() -> str:
    """Where :class:`SQLiteReplayStore` keeps its file by default.

    ``$AUTHSIG_REPLAY_DB`` if set; else ``authsig/replay.sqlite3`` in ``$XDG_RUNTIME_DIR``
    (private and local where it exists), else in ``$XDG_CACHE_HOME`` or ``~/.cache``, else in
    ``authsig-<uid>`` in the temp directory. See ``docs/middleware.md`` for why.
    """
    return str(_default_replay_path()[0])


@runtime_checkable
class ReplayStore(Protocol):
    """Atomic *add if absent* with a per-key expiry (milliseconds since the epoch)."""

    def add_if_absent(self, key: str, expires_at_ms: int, *, tenant: str = "") -> bool:
        """Record ``key`` until ``expires_at_ms`` on behalf of ``tenant``.

        Returns True when the key was new (and is now stored), False when it is already
        stored and unexpired (a replay). Raises
        :class:`~authsig.errors.ReplayQuotaExceededError` when ``tenant`` holds its whole
        share, :class:`~authsig.errors.ReplayStoreUnavailableError` when the store is full
        or unreachable. ``tenant`` ``""`` (nobody named) is bound by the store's capacity only.
        """
        ...

    async def add_if_absent_async(self, key: str, expires_at_ms: int, *, tenant: str = "") -> bool:
        """Async form of :meth:`add_if_absent`."""
        ...


_TAKES_TENANT: dict[Any, bool] = {}


def _takes_tenant(method: Any) -> bool:
    """Whether a store method accepts ``tenant=`` (stores written before it existed do not)."""
    function = getattr(method, "__func__", method)
    known = _TAKES_TENANT.get(function)
    if known is None:
        try:
            parameters = list(inspect.signature(function).parameters.values())
        except (TypeError, ValueError):  # no signature to read: call it the old way
            parameters = []
        known = any(
            p.name == "tenant" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters
        )
        _TAKES_TENANT[function] = known
    return known


def claim(store: Any, key: str, expires_at_ms: int, tenant: str = "") -> bool:
    """``store.add_if_absent``, with ``tenant`` when the store takes it.

    A store written for the protocol before tenants existed keeps working; it simply has no
    per-tenant bound.
    """
    method = store.add_if_absent
    if tenant and _takes_tenant(method):
        return bool(method(key, expires_at_ms, tenant=tenant))
    return bool(method(key, expires_at_ms))


async def claim_async(store: Any, key: str, expires_at_ms: int, tenant: str = "") -> bool:
    """:func:`claim` from async code: ``add_if_absent_async`` when the store has it; a store
    with only the sync call runs it in a worker thread, never on the event loop."""
    method = getattr(store, "add_if_absent_async", None)
    if method is None:
        return await asyncio.to_thread(claim, store, key, expires_at_ms, tenant)
    if tenant and _takes_tenant(method):
        return bool(await method(key, expires_at_ms, tenant=tenant))
    return bool(await method(key, expires_at_ms))
