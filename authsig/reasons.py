"""``Reason``: the one table of refusal reasons, each with its HTTP status and client text.

Every decision of every scheme names a reason code; errors carry the same codes. This table
says, once, what each code means on the wire: the HTTP status, the problem document's title, and
a generic sentence that tells the client what it can act on without revealing how the server is
configured (quorum ids, member ids, clock readings and resolver messages stay in the server log).

A scheme that needs a code this table lacks registers it from its own package with
:meth:`Reason.register`; the HTTP layer only looks codes up, so a new scheme needs no change to
it. A code that was never registered is a programmer error: the HTTP layer answers it with
``internal_error`` (500) and logs it, so an unknown refusal can never turn into a pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

__all__ = ["Reason"]


@dataclass(frozen=True)
class Reason:
    """One reason code: ``status`` (HTTP), ``title`` (short, for the problem document) and
    ``client_detail`` (one generic sentence a client can act on)."""

    code: str
    status: int
    title: str
    client_detail: str

    _table: ClassVar[dict[str, Reason]] = {}

    @classmethod
    def register(cls, code: str, status: int, title: str, client_detail: str) -> Reason:
        """Add ``code`` to the table (idempotent for an identical row).

        Raises ``ValueError`` when ``code`` is already registered with a different row, or when
        the code or status is malformed: two meanings for one code would make it unstable.
        """
        if not code or not code.isascii() or code != code.lower() or " " in code:
            raise ValueError(f"reason code {code!r} must be lower-case ASCII without spaces")
        if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599:
            raise ValueError(f"reason {code!r}: status must be an HTTP status (200..599)")
        row = cls(code, status, title, client_detail)
        existing = cls._table.get(code)
        if existing is not None and existing != row:
            raise ValueError(f"reason code {code!r} is already registered with another meaning")
        cls._table[code] = row
        return row

    @classmethod
    def get(cls, code: str) -> Reason | None:
        """The row of ``code``, or None when it was never registered."""
        return cls._table.get(code)

    @classmethod
    def of(cls, code: str) -> Reason:
        """The row of ``code``; ``internal_error`` for a code that was never registered."""
        return cls._table.get(code) or cls._table["internal_error"]

    @classmethod
    def all(cls) -> tuple[Reason, ...]:
        """Every registered row, in registration order."""
        return tuple(cls._table.values())

    @classmethod
    def statuses(cls) -> dict[str, int]:
        """``{code: status}`` for every registered code."""
        return {code: row.status for code, row in cls._table.items()}


# The table. Statuses: 400 when the request cannot be read as a signed request at all, 401 when
# its signatures or their freshness fail, 403 when they are valid but too few, 409 for a replay,
# 413 for a body over the limit, 429 when a tenant filled its share of the replay store, 503
# when a dependency failed (fail closed), 500 otherwise.
_ROWS: tuple[tuple[str, int, str, str], ...] = (
    ("approved", 200, "Approved", "The request is approved."),
    (
        "missing_signature",
        401,
        "Signature required",
        "The request carries no signature; sign it with the keys this endpoint requires.",
    ),
    (
        "malformed_signature_header",
        401,
        "Malformed signature header",
        "The signature header cannot be read; send it once, with the signatures as the "
        "scheme specifies.",
    ),
    (
        "empty_signature_entry",
        401,
        "Malformed signature header",
        "The signature header has an empty entry; remove the stray separator.",
    ),
    (
        "signature_header_too_large",
        401,
        "Signature header too large",
        "The signature header has too many signatures or is too long.",
    ),
    (
        "duplicate_signature",
        401,
        "Malformed signature header",
        "The signature header repeats a signature; send each signature once.",
    ),
    (
        "malformed_signature",
        401,
        "Malformed signature",
        "A signature is not well-formed for this scheme; check its encoding.",
    ),
    (
        "invalid_signature",
        401,
        "Invalid signature",
        "A signature does not match the request as received; check that you signed exactly "
        "the method, URL, body and headers you sent, with a key this endpoint accepts.",
    ),
    (
        "missing_header",
        401,
        "Missing header",
        "A header that the signature covers is missing or repeated.",
    ),
    ("invalid_body", 400, "Invalid request body", "The request body is not valid signable JSON."),
    (
        "invalid_payload",
        400,
        "Invalid request",
        "The request cannot be read as a signed request; a header it signs may be repeated.",
    ),
    (
        "malformed_expiry",
        401,
        "Request expiry refused",
        "The request expiry is not a plain count of milliseconds since the epoch.",
    ),
    (
        "expiry_in_seconds",
        401,
        "Request expiry refused",
        "The request expiry looks like seconds; send milliseconds since the epoch.",
    ),
    ("expired", 401, "Request expired", "The request has expired; sign it again."),
    (
        "expiry_too_far",
        401,
        "Request expiry refused",
        "The request expiry is further ahead than this endpoint accepts; use a shorter lifetime.",
    ),
    (
        "expiry_required",
        401,
        "Request expiry required",
        "This endpoint requires a signed request expiry; sign the request with one.",
    ),
    (
        "threshold_not_met",
        403,
        "Not enough approvals",
        "The signatures are valid but too few members approved; collect more approvals.",
    ),
    (
        "replayed",
        409,
        "Request replayed",
        "This signed request was already accepted; sign a new one to repeat the operation.",
    ),
    (
        "body_too_large",
        413,
        "Request body too large",
        "The request body is larger than this endpoint accepts.",
    ),
    (
        "body_timeout",
        408,
        "Request body too slow",
        "The request body did not arrive in time; send it without pausing.",
    ),
    (
        "malformed_forwarded",
        400,
        "Malformed forwarding header",
        "A forwarding header from the proxy is malformed.",
    ),
    (
        "method_override",
        400,
        "Method override refused",
        "Method-override headers and parameters are refused here; send the real method.",
    ),
    (
        "unexpected_app_id",
        401,
        "Wrong app",
        "The request is signed for an app id this endpoint does not serve.",
    ),
    (
        "user_resolution_failed",
        503,
        "Service unavailable",
        "The server could not check the request now; try again later.",
    ),
    (
        "replay_store_unavailable",
        503,
        "Service unavailable",
        "The server could not check the request now; try again later.",
    ),
    # 429, not 503: the tenant's own rate x lifetime filled its share of the replay store;
    # the server is healthy for everyone else, and the tenant can act (wait, shorter expiries).
    (
        "replay_quota_exceeded",
        429,
        "Too many pending signed requests",
        "Too many of your signed requests are still inside their validity window; wait for "
        "some to expire, or sign with shorter expiries.",
    ),
    (
        "internal_error",
        500,
        "Internal error",
        "The request could not be checked because of a server error.",
    ),
    # Reasons of API-key schemes (Cobo): a key the server does not know, and nonce/timestamp
    # freshness.
    (
        "unknown_api_key",
        401,
        "Unknown API key",
        "The API key is not accepted here; check which key you signed with.",
    ),
    (
        "malformed_nonce",
        401,
        "Malformed nonce",
        "The nonce or timestamp is not a count of milliseconds since the epoch.",
    ),
    (
        "stale_nonce",
        401,
        "Stale nonce",
        "The nonce or timestamp is too old; sign the request again with the current time.",
    ),
    (
        "future_nonce",
        401,
        "Nonce in the future",
        "The nonce or timestamp lies in the future; check the signer's clock.",
    ),
)

for _row in _ROWS:
    Reason.register(*_row)
del _row
