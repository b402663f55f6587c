"""``RedisReplayStore``: the store for several hosts (``SET key 1 NX PXAT expiry``).

Two things a Redis can do wrong for replay protection, and what this store does about them:

- *Eviction*: with any ``maxmemory-policy`` but ``noeviction`` (``allkeys-lru``,
  ``volatile-lru``, ...; replay keys all carry a TTL, so the ``volatile-*`` policies take them
  too) Redis drops live keys under memory pressure, and a copy of an evicted request is accepted
  again. The policy is read when the store is built (sync client or URL) or at its first use
  (async-only client); an evicting policy is refused unless ``allow_evicting_policy=True``, and
  a policy that cannot be read (``CONFIG`` disabled or denied) is logged as a warning.
- *One tenant filling it*: with ``max_per_tenant`` set (the default), a Lua script keeps a
  sorted set of each tenant's live keys (score: expiry) next to the keys themselves and refuses
  the tenant's new keys once it holds its share. The script touches two keys; under Redis
  Cluster they hash to different slots, so pass ``max_per_tenant=None`` there.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from authsig._clock import now_ms as _now_ms
from authsig.errors import ReplayStoreUnavailableError
from authsig.replay._common import quota_exceeded

if TYPE_CHECKING:  # pragma: no cover - typing only
    import redis
    import redis.asyncio

__all__ = ["DEFAULT_REDIS_MAX_PER_TENANT", "DEFAULT_REDIS_PREFIX", "RedisReplayStore"]

logger = logging.getLogger("authsig.replay")

DEFAULT_REDIS_PREFIX = "authsig:replay:"
"""Default key prefix of :class:`RedisReplayStore`."""

DEFAULT_REDIS_MAX_PER_TENANT = 100_000
"""Default share of one tenant in :class:`RedisReplayStore`."""

_SAFE_POLICY = "noeviction"
_CHECK_TIMEOUT_S = 5.0

# KEYS: the replay key, the tenant's set. ARGV: expiry (ms), now (ms), the tenant's share.
# Returns 1 (recorded), 0 (present: a replay) or -1 (the tenant's share is full).
_TENANT_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return -1 end
redis.call('SET', KEYS[1], '1', 'PXAT', ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[1], KEYS[1])
local ttl = redis.call('PTTL', KEYS[2])
if ttl < 0 or ttl < tonumber(ARGV[1]) - tonumber(ARGV[2]) then
    redis.call('PEXPIREAT', KEYS[2], ARGV[1])
end
return 1
"""
_SCRIPT_SHA = hashlib.sha1(_TENANT_SCRIPT.encode(), usedforsecurity=False).hexdigest()


def _require_redis() -> None:
    """Refuse to build the store without the redis package: at start-up, with the fix, rather
    than a 500 on every request that reaches it."""
    try:
        import redis  # noqa: F401
    except ImportError:
        raise ModuleNotFoundError(
            "RedisReplayStore needs the redis package: pip install 'authsig[redis]'",
            name="redis",
        ) from None


def _is_async_client(client: Any) -> bool:
    try:
        import redis.asyncio as aredis
    except ImportError:  # pragma: no cover - redis is required to get here
        return False
    return isinstance(client, aredis.Redis)


def _unreachable(exc: BaseException) -> ReplayStoreUnavailableError:
    return ReplayStoreUnavailableError(f"replay store unreachable ({type(exc).__name__})")


def _policy_of(reply: Any) -> str | None:
    value = reply.get("maxmemory-policy") if isinstance(reply, dict) else None
    if value is None and isinstance(reply, dict):
        value = reply.get(b"maxmemory-policy")
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return value if isinstance(value, str) and value else None


def _evicting(policy: str) -> str:
    return (
        f"the Redis maxmemory-policy is {policy!r}: under memory pressure Redis evicts live "
        "replay keys and a copy of an evicted request is accepted again; set it to "
        "'noeviction' (CONFIG SET maxmemory-policy noeviction), or pass "
        "allow_evicting_policy=True to accept that risk knowingly"
    )


class RedisReplayStore:
    """A :class:`~authsig.replay.ReplayStore` backed by Redis (``SET key 1 NX PXAT``).

    ``client_or_url`` is a ``redis://`` URL, a ``redis.Redis`` client or a
    ``redis.asyncio.Redis`` client. With a URL both a sync and an async client are created
    lazily. ``async_client`` supplies the async client when ``client_or_url`` is a sync one;
    without an async client :meth:`add_if_absent_async` runs the sync call in a worker thread, and
    without a sync client :meth:`add_if_absent` is refused.

    ``allow_evicting_policy``: see the module docstring; an evicting policy found when the store
    is built raises ``ValueError`` (a deployment mistake, caught at start-up); found at the first
    use of an async-only client, every call fails closed with
    :class:`~authsig.errors.ReplayStoreUnavailableError` (503, logged), since an exception of
    another kind in the middle of a request would be a 500 that says less. ``max_per_tenant``
    bounds one tenant's live keys (None: no bound).

    Needs Redis 6.2 or later (``PXAT``) and the ``redis`` package (``authsig[redis]``; without
    it the store is refused when built, with ``ModuleNotFoundError``). Keys are ``prefix`` +
    :func:`replay_key`.
    """

    failure_hint = (
        "check that Redis is running and reachable from this host (URL, network, password, "
        "TLS) and not out of memory"
    )

    def __init__(
        self,
        client_or_url: str | redis.Redis | redis.asyncio.Redis,
        *,
        prefix: str = DEFAULT_REDIS_PREFIX,
        async_client: redis.asyncio.Redis | None = None,
        max_per_tenant: int | None = DEFAULT_REDIS_MAX_PER_TENANT,
        allow_evicting_policy: bool = False,
        clock: Callable[[], int] | None = None,
    ) -> None:
        """Create the store; see the class docstring for the accepted clients."""
        _require_redis()
        if max_per_tenant is not None and (
            isinstance(max_per_tenant, bool) or not isinstance(max_per_tenant, int)
        ):
            raise TypeError("max_per_tenant must be an integer or None")
        if max_per_tenant is not None and max_per_tenant < 1:
            raise ValueError("max_per_tenant must be positive")
        self._prefix = prefix
        self._per_tenant = max_per_tenant
        self._allow_evicting = bool(allow_evicting_policy)
        self._clock = clock if clock is not None else _now_ms
        self._url: str | None = None
        self._sync: Any = None
        self._async: Any = async_client
        self._loop_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        self._policy_refusal: str | None = None
        self._policy_checked = False
        if isinstance(client_or_url, str):
            self._url = client_or_url
            self._check_url_policy(client_or_url)
        elif _is_async_client(client_or_url):
            self._async = client_or_url
        else:
            self._sync = client_or_url
            self._judge(self._read_policy(client_or_url), at_start=True)

    def __repr__(self) -> str:
        return f"RedisReplayStore(prefix={self._prefix!r}, max_per_tenant={self._per_tenant})"

    # -- the eviction policy

    def _read_policy(self, client: Any) -> str | None:
        import redis

        try:
            return _policy_of(client.config_get("maxmemory-policy"))
        except (redis.RedisError, OSError) as exc:
            self._cannot_read(exc)
            return None

    def _check_url_policy(self, url: str) -> None:
        import redis

        # A short-lived client with timeouts: a black-holed host must not hang start-up.
        probe = redis.Redis.from_url(
            url, socket_connect_timeout=_CHECK_TIMEOUT_S, socket_timeout=_CHECK_TIMEOUT_S
        )
        try:
            self._judge(self._read_policy(probe), at_start=True)
        finally:
            probe.close()

    def _cannot_read(self, exc: BaseException) -> None:
        logger.warning(
            "authsig: cannot read the Redis maxmemory-policy (%s); make sure it is 'noeviction': "
            "an evicting policy drops live replay keys and lets copies through",
            type(exc).__name__,
        )

    def _judge(self, policy: str | None, *, at_start: bool) -> None:
        self._policy_checked = True
        if policy is None or policy == _SAFE_POLICY:
            return
        if self._allow_evicting:
            logger.warning("authsig: %s (allowed by allow_evicting_policy=True)", _evicting(policy))
            return
        if at_start:
            raise ValueError(_evicting(policy))
        self._policy_refusal = _evicting(policy)
        logger.error("authsig: %s", self._policy_refusal)

    async def _check_async_policy(self, client: Any) -> None:
        import redis

        try:
            policy = _policy_of(await client.config_get("maxmemory-policy"))
        except (redis.RedisError, OSError) as exc:
            self._cannot_read(exc)
            policy = None
        self._judge(policy, at_start=False)

    def _refuse_if_evicting(self) -> None:
        if self._policy_refusal is not None:
            raise ReplayStoreUnavailableError(
                "the replay store's Redis evicts live keys (maxmemory-policy); refusing"
            )

    # -- clients

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

    # -- the operation

    def _expiry(self, expires_at_ms: int) -> int:
        # PXAT in the past would store nothing; keep the key for at least a second so that a
        # copy racing the first one is still refused.
        return max(int(expires_at_ms), self._clock() + 1000)

    def _tenant_call(self, key: str, expires_at_ms: int, tenant: str) -> list[Any]:
        """The arguments of ``EVALSHA`` (after the script's hash) for the tenant script."""
        digest = hashlib.sha256(tenant.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        keys = [self._prefix + key, f"{self._prefix}tenant:{digest}"]
        return [2, *keys, self._expiry(expires_at_ms), self._clock(), self._per_tenant]

    def _result(self, reply: Any) -> bool:
        if reply == -1:
            assert self._per_tenant is not None
            raise quota_exceeded(self._per_tenant)
        return bool(reply)

    def add_if_absent(self, key: str, expires_at_ms: int, *, tenant: str = "") -> bool:
        """See :meth:`ReplayStore.add_if_absent <authsig.replay.ReplayStore.add_if_absent>`."""
        import redis

        self._refuse_if_evicting()
        client = self._sync_client()
        try:
            if tenant and self._per_tenant is not None:
                call = self._tenant_call(key, expires_at_ms, tenant)
                try:
                    reply = client.evalsha(_SCRIPT_SHA, *call)
                except redis.exceptions.NoScriptError:  # first use on this server
                    reply = client.eval(_TENANT_SCRIPT, *call)
            else:
                pxat = self._expiry(expires_at_ms)
                reply = client.set(self._prefix + key, b"1", nx=True, pxat=pxat)
        except (redis.RedisError, OSError) as exc:
            raise _unreachable(exc) from None
        return self._result(reply)

    async def add_if_absent_async(self, key: str, expires_at_ms: int, *, tenant: str = "") -> bool:
        """See :meth:`ReplayStore.add_if_absent_async`."""
        import redis

        client = self._async_client()
        if client is None:
            return await asyncio.to_thread(self.add_if_absent, key, expires_at_ms, tenant=tenant)
        if not self._policy_checked:
            await self._check_async_policy(client)
        self._refuse_if_evicting()
        try:
            if tenant and self._per_tenant is not None:
                call = self._tenant_call(key, expires_at_ms, tenant)
                try:
                    reply = await client.evalsha(_SCRIPT_SHA, *call)
                except redis.exceptions.NoScriptError:  # first use on this server
                    reply = await client.eval(_TENANT_SCRIPT, *call)
            else:
                pxat = self._expiry(expires_at_ms)
                reply = await client.set(self._prefix + key, b"1", nx=True, pxat=pxat)
        except (redis.RedisError, OSError) as exc:
            raise _unreachable(exc) from None
        return self._result(reply)

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
