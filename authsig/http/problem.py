"""RFC 9457 problem documents for refusals, built from the one :class:`~authsig.reasons.Reason`
table, for every scheme alike."""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from authsig.reasons import Reason

__all__ = ["PROBLEM_TYPE_PREFIX", "Problem", "status_line"]

PROBLEM_TYPE_PREFIX = "urn:authsig:problem:"
"""Problem ``type`` URIs are this prefix plus the reason code (unless configured otherwise)."""


@dataclass(frozen=True)
class Problem:
    """An ``application/problem+json`` response: ``type``, ``title``, ``status``, ``detail``
    and ``reason`` (the reason code)."""

    status: int
    reason: str
    title: str
    detail: str
    type: str

    @classmethod
    def build(
        cls, reason: str, detail: str | None = None, *, type_prefix: str = PROBLEM_TYPE_PREFIX
    ) -> Problem:
        """The problem for ``reason``; ``detail`` defaults to the reason's client sentence.

        A reason that was never registered becomes ``internal_error``: the caller logs it.
        """
        row = Reason.of(reason)
        text = detail if detail is not None else row.client_detail
        return cls(row.status, row.code, row.title, text, type_prefix + row.code)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object."""
        return {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "reason": self.reason,
        }

    def body(self) -> bytes:
        """The response body (UTF-8 JSON)."""
        return json.dumps(self.to_dict(), ensure_ascii=False).encode("utf-8")

    def headers(self) -> list[tuple[str, str]]:
        """Response headers: content type and length, and no caching of a refusal."""
        return [
            ("content-type", "application/problem+json"),
            ("content-length", str(len(self.body()))),
            ("cache-control", "no-store"),
        ]


def status_line(status: int) -> str:
    """``"401 Unauthorized"``: the WSGI status line of ``status``."""
    if status == 413:  # RFC 9110's name; older Pythons still say "Request Entity Too Large"
        return "413 Content Too Large"
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return f"{status} {phrase}"
