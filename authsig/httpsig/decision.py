"""The outcome of verifying an RFC 9421 signed request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from authsig.reasons import Reason

__all__ = ["HttpSigDecision"]


@dataclass(frozen=True)
class HttpSigDecision:
    """Whether a request's signatures are accepted, and why.

    Refusals are decisions (``approved`` False), never exceptions. ``reason`` is a stable code,
    ``message`` one sentence (it may name labels and keyids: it is for the server log),
    ``http_status`` the status to answer with. ``labels``/``keyids``: the signatures that
    verified; ``valid_approvals``: how many distinct keys approved; ``required``: the quorum's
    threshold; ``label``: the signature a refusal is about, when it is about one.
    """

    approved: bool
    reason: str
    message: str
    http_status: int
    labels: tuple[str, ...] = ()
    keyids: tuple[str, ...] = ()
    valid_approvals: int = 0
    required: int = 1
    quorum: str = ""
    label: str | None = field(default=None)

    @classmethod
    def refuse(cls, reason: str, message: str, **facts: Any) -> HttpSigDecision:
        """A refusal with the status that belongs to ``reason``."""
        return cls(False, reason, message, Reason.of(reason).status, **facts)

    @classmethod
    def approve(cls, message: str, **facts: Any) -> HttpSigDecision:
        """An approval."""
        return cls(True, "approved", message, 200, **facts)

    def __bool__(self) -> bool:
        return self.approved

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "approved": self.approved,
            "reason": self.reason,
            "message": self.message,
            "http_status": self.http_status,
            "labels": list(self.labels),
            "keyids": list(self.keyids),
            "valid_approvals": self.valid_approvals,
            "required": self.required,
            "quorum": self.quorum,
            "label": self.label,
        }
