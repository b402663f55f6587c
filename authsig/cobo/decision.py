"""The outcome of verifying a Cobo request or event, and the replay store contract it uses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from authsig.cobo.errors import CoboNonceError, CoboRequestError, CoboSignatureError
from authsig.errors import AuthSigError, ReplayDetectedError, ReplayStoreUnavailableError
from authsig.reasons import Reason

__all__ = ["CoboDecision", "ReplayStoreLike", "header_value"]


@runtime_checkable
class ReplayStoreLike(Protocol):
    """What authsig needs from a replay store (``authsig.replay.ReplayStore`` satisfies it).

    ``add_if_absent`` returns True when ``key`` was new and is now kept until
    ``expires_at_ms``; False when it was already there (a replay). It raises
    ``ReplayStoreUnavailableError`` when full or unreachable (authsig then fails closed).
    """

    def add_if_absent(self, key: str, expires_at_ms: int) -> bool: ...


@dataclass(frozen=True)
class CoboDecision:
    """Whether a Cobo-signed request or event is accepted, and why.

    Refusals are decisions (``approved`` False), never exceptions; the attributes mirror
    :class:`authsig.privy.verifier.Decision`: ``reason`` is a stable code, ``message`` one sentence,
    ``http_status`` the status a server should answer with.
    """

    approved: bool
    reason: str
    message: str
    http_status: int
    api_key: str | None = None
    timestamp_ms: int | None = None

    @classmethod
    def refuse(
        cls,
        reason: str,
        message: str,
        *,
        api_key: str | None = None,
        timestamp_ms: int | None = None,
    ) -> CoboDecision:
        """A refusal with the status that belongs to ``reason``."""
        return cls(False, reason, message, Reason.of(reason).status, api_key, timestamp_ms)

    @classmethod
    def approve(cls, message: str, *, api_key: str | None, timestamp_ms: int) -> CoboDecision:
        """An approval."""
        return cls(True, "approved", message, 200, api_key, timestamp_ms)

    def __bool__(self) -> bool:
        return self.approved

    def __str__(self) -> str:
        return self.message

    def raise_for_refusal(self) -> None:
        """Raise the matching :class:`~authsig.errors.AuthSigError` when refused; else do nothing.

        For callers who prefer exceptions: nonce/timestamp reasons raise ``CoboNonceError``,
        replays ``ReplayDetectedError``, a failed store ``ReplayStoreUnavailableError``, a body
        over the limit ``CoboRequestError`` and every other refusal ``CoboSignatureError``. The
        exception's ``decision`` is this decision (its ``reason`` is the precise code; the
        exception's ``code`` is its class's).
        """
        if self.approved:
            return
        error: type[AuthSigError]
        if self.reason in ("malformed_nonce", "stale_nonce", "future_nonce"):
            error = CoboNonceError
        elif self.reason == "replayed":
            error = ReplayDetectedError
        elif self.reason == "replay_store_unavailable":
            error = ReplayStoreUnavailableError
        elif self.reason == "body_too_large":
            error = CoboRequestError
        else:
            error = CoboSignatureError
        exc = error(self.message)
        exc.decision = self
        raise exc

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "approved": self.approved,
            "reason": self.reason,
            "message": self.message,
            "http_status": self.http_status,
            "api_key": self.api_key,
            "timestamp_ms": self.timestamp_ms,
        }


def header_value(
    headers: Mapping[str, str] | Iterable[tuple[str, str]], name: str
) -> str | list[str] | None:
    """Value of header ``name`` (case-insensitive); a list when it occurs more than once."""
    items: Iterable[tuple[str, str]]
    items = headers.items() if isinstance(headers, Mapping) else headers
    wanted = name.lower()
    found: list[str] = []
    for key, value in items:
        k = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if k.lower() == wanted:
            found.append(value.decode("latin-1") if isinstance(value, bytes) else str(value))
    if not found:
        return None
    return found[0] if len(found) == 1 else found
