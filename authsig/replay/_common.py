"""What the stores share: capacity settings and the two refusals a bounded store gives."""

from __future__ import annotations

from authsig.errors import ReplayQuotaExceededError, ReplayStoreUnavailableError

__all__ = ["TENANT_SHARE", "Bounded", "capacity", "quota_exceeded", "store_full"]

TENANT_SHARE = 10
"""By default one tenant may hold 1/``TENANT_SHARE`` of a bounded store's capacity."""


def _positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer")
    return value


def capacity(max_entries: object, max_per_tenant: object) -> tuple[int, int]:
    """(max_entries, max_per_tenant), checked; ``max_per_tenant`` None is a tenth of the store.

    A per-tenant cap above the whole capacity would never apply: refused as a mistake.
    """
    total = _positive("max_entries", max_entries)
    if max_per_tenant is None:
        return total, max(1, total // TENANT_SHARE)
    share = _positive("max_per_tenant", max_per_tenant)
    if share > total:
        raise ValueError("max_per_tenant must not exceed max_entries")
    return total, share


class Bounded:
    """The two bounds of a local store, checked by :func:`capacity` and shown read-only."""

    _max: int
    _per_tenant: int

    def _bound(self, max_entries: object, max_per_tenant: object) -> None:
        self._max, self._per_tenant = capacity(max_entries, max_per_tenant)

    @property
    def max_entries(self) -> int:
        """The capacity of the store (unexpired entries)."""
        return self._max

    @property
    def max_per_tenant(self) -> int:
        """The share of one tenant (unexpired entries)."""
        return self._per_tenant


def quota_exceeded(limit: int) -> ReplayQuotaExceededError:
    """The refusal of a tenant that holds ``limit`` unexpired entries (its whole share)."""
    return ReplayQuotaExceededError(
        f"this signer already has {limit} signed requests inside their validity window, its "
        "share of the replay store; wait for some to expire or sign with shorter expiries"
    )


def store_full(limit: int) -> ReplayStoreUnavailableError:
    """The refusal of a store that holds ``limit`` unexpired entries (fail closed)."""
    return ReplayStoreUnavailableError(
        f"replay store is full ({limit} unexpired entries); refusing the request"
    )
