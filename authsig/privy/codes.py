"""Privy's own refusal codes, next to authsig's reasons.

Privy's API answers a refused authorization with one generic 401 text and a code. authsig's
reason codes (:class:`~authsig.reasons.Reason`) are its own and scheme-neutral, so this table
lives with the Privy scheme: for each authsig reason, the code Privy's API would answer for the
same request, where Privy documents one. ``Decision.privy_code`` reads it; for people reading
Privy's logs, :func:`reasons_for_privy_code` goes the other way. ``docs/privy-codes.md`` is the
table in prose (a test keeps the two equal).

Where the code depends on how many signatures were correct (Privy tells "zero correct" from
"insufficient correct"), :func:`privy_code` looks at the decision's signature outcomes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

__all__ = [
    "PRIVY_CODES",
    "PRIVY_CODE_BY_REASON",
    "REVERSE_ONLY",
    "privy_code",
    "reasons_for_privy_code",
]

MISSING = "missing_or_empty_authorization_header"
ZERO = "zero_correct_authorization_signatures"
INSUFFICIENT = "insufficient_correct_authorization_signatures"
QUANTITY = "incorrect_quantity_of_authorization_signatures"
EXPIRED = "request_expired"
NO_USER_KEYS = "no_valid_user_session_keys"
USER_KEYS_EXPIRED = "user_session_keys_expired"

PRIVY_CODES: Mapping[str, str] = {
    MISSING: "missing privy-authorization-signature header, or no signatures in it",
    ZERO: "no valid authorization signature was provided",
    INSUFFICIENT: "not enough valid authorization signatures were provided",
    QUANTITY: "the number of signatures does not match the authorization threshold",
    EXPIRED: "the request expiry has passed",
    NO_USER_KEYS: "no valid user signing (session) key is available",
    USER_KEYS_EXPIRED: "the user signing (session) key has expired",
}
"""Privy's documented authorization refusal codes and what each means."""

# authsig reason -> the Privy codes it can stand for. A reason with two codes is refined by
# privy_code() from the signature outcomes; a reason absent here has no Privy code.
PRIVY_CODE_BY_REASON: Mapping[str, tuple[str, ...]] = {
    "missing_signature": (MISSING,),
    # An empty header value (or an empty entry) is "no signatures provided".
    "empty_signature_entry": (MISSING,),
    # More signatures than the header allows: the count is wrong before any is checked.
    "signature_header_too_large": (QUANTITY,),
    # A signature verifies with no member key: none correct, some correct, or the threshold
    # met by the others while Privy expects exactly that many signatures.
    "invalid_signature": (ZERO, INSUFFICIENT, QUANTITY),
    "threshold_not_met": (ZERO, INSUFFICIENT),
    "expired": (EXPIRED,),
    # Privy reads an expiry in seconds as milliseconds: long expired.
    "expiry_in_seconds": (EXPIRED,),
}

# Privy codes about user members' session keys: authsig asks the application's resolver for a
# user's current keys, so an expired or missing session key shows up as a signature that
# verifies with no member key, or as a resolver failure.
REVERSE_ONLY: Mapping[str, tuple[str, ...]] = {
    NO_USER_KEYS: ("invalid_signature", "threshold_not_met", "user_resolution_failed"),
    USER_KEYS_EXPIRED: ("invalid_signature", "threshold_not_met"),
}


class _Outcome(Protocol):
    @property
    def status(self) -> str: ...


class _Decision(Protocol):
    @property
    def approved(self) -> bool: ...
    @property
    def reason(self) -> str: ...
    @property
    def missing(self) -> int: ...
    @property
    def signatures(self) -> Sequence[_Outcome]: ...


def privy_code(decision: _Decision) -> str | None:
    """The code Privy's API would answer for ``decision``; None when it is approved or when
    Privy documents no code for its reason."""
    if decision.approved:
        return None
    codes = PRIVY_CODE_BY_REASON.get(decision.reason, ())
    if len(codes) <= 1:
        return codes[0] if codes else None
    if not any(s.status == "matched" for s in decision.signatures):
        return ZERO
    if decision.missing == 0 and QUANTITY in codes:
        return QUANTITY
    return INSUFFICIENT


def reasons_for_privy_code(code: str) -> tuple[str, ...]:
    """The authsig reasons a refusal Privy answered with ``code`` can correspond to (empty for
    a code Privy does not document). Raises :class:`TypeError` when ``code`` is not a str."""
    if not isinstance(code, str):
        raise TypeError(f"a Privy code is a str, not {type(code).__name__}")
    found = [reason for reason, codes in PRIVY_CODE_BY_REASON.items() if code in codes]
    found += [r for r in REVERSE_ONLY.get(code, ()) if r not in found]
    return tuple(found)
