"""The ``privy-request-expiry`` header: milliseconds since the Unix epoch, as decimal text.

:func:`make_expiry` produces it; :func:`check_expiry` enforces it: plain ASCII digits
(no sign, no leading zeros, at most 16 digits), not in seconds, not in the past beyond the
clock-skew allowance, and not further ahead than ``max_lifetime`` (+ skew).
"""

from __future__ import annotations

import re
from datetime import timedelta

from authsig._clock import now_ms as current_time_ms
from authsig._clock import to_ms as _to_ms
from authsig.errors import (
    ExpiredError,
    ExpiryError,
    ExpiryFormatError,
    ExpiryInSecondsError,
    ExpiryTooFarError,
)
from authsig.policy import DEFAULT_CLOCK_SKEW, DEFAULT_MAX_LIFETIME

__all__ = [
    "DEFAULT_EXPIRES_IN",
    "DEFAULT_MAX_LIFETIME",
    "DEFAULT_CLOCK_SKEW",
    "SECONDS_THRESHOLD_MS",
    "current_time_ms",
    "make_expiry",
    "check_expiry",
]

DEFAULT_EXPIRES_IN = timedelta(minutes=15)

SECONDS_THRESHOLD_MS = 10**11
"""Values below this (1973-03-03 in ms; year 5138 in seconds) are taken to be seconds."""

_DIGITS = re.compile(r"(?:0|[1-9][0-9]{0,15})")
_DEFAULT_SKEW_MS = _to_ms(DEFAULT_CLOCK_SKEW)
_DEFAULT_LIFETIME_MS = _to_ms(DEFAULT_MAX_LIFETIME)


def _human(ms: int) -> str:
    """``123456`` -> ``"123456 ms (2 min 3.456 s)"``."""
    seconds, millis = divmod(abs(ms), 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = []
    if days:
        parts.append(f"{days} d")
    if hours:
        parts.append(f"{hours} h")
    if minutes:
        parts.append(f"{minutes} min")
    parts.append(f"{seconds}.{millis:03d} s")
    return f"{ms} ms ({' '.join(parts)})"


def make_expiry(expires_in: timedelta, *, now_ms: int | None = None) -> str:
    """The header value for a request that expires ``expires_in`` from now (or ``now_ms``)."""
    if not isinstance(expires_in, timedelta):
        raise TypeError("expires_in must be a datetime.timedelta")
    now = current_time_ms() if now_ms is None else now_ms
    value = now + _to_ms(expires_in)
    if value < 0:
        raise ExpiryError("expiry would lie before the Unix epoch")
    return str(value)


def check_expiry(
    value: str,
    *,
    now_ms: int | None = None,
    max_lifetime: timedelta = DEFAULT_MAX_LIFETIME,
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
) -> int:
    """Validate a ``privy-request-expiry`` value; returns it in milliseconds.

    Raises :class:`ExpiryFormatError` (not 1-16 plain ASCII digits without leading zeros),
    :class:`ExpiryInSecondsError` (below 10**11: looks like seconds),
    :class:`ExpiredError` (more than ``clock_skew`` in the past) or
    :class:`ExpiryTooFarError` (more than ``max_lifetime + clock_skew`` ahead).
    """
    if not isinstance(value, str):
        raise ExpiryFormatError("expiry must be text of decimal milliseconds")
    # Fast form of the _DIGITS check (plain ASCII digits, 1-16 of them, no leading zero).
    plain = (
        value.isascii()
        and value.isdigit()
        and len(value) <= 16
        and (value[0] != "0" or len(value) == 1)
    )
    if not plain and not _DIGITS.fullmatch(value):
        raise ExpiryFormatError(
            "expiry must be 1 to 16 ASCII decimal digits without sign or leading zeros "
            "(milliseconds since the Unix epoch)"
        )
    expiry = int(value)
    if expiry < SECONDS_THRESHOLD_MS:
        raise ExpiryInSecondsError(
            f"expiry {expiry} looks like seconds since the epoch; privy-request-expiry is in "
            f"milliseconds (that would be {expiry * 1000})"
        )
    now = current_time_ms() if now_ms is None else now_ms
    skew = _DEFAULT_SKEW_MS if clock_skew is DEFAULT_CLOCK_SKEW else _to_ms(clock_skew)
    if expiry < now - skew:
        raise ExpiredError(
            f"request expired {_human(now - expiry)} ago (clock skew allowance {_human(skew)})"
        )
    lifetime = (
        _DEFAULT_LIFETIME_MS if max_lifetime is DEFAULT_MAX_LIFETIME else _to_ms(max_lifetime)
    )
    limit = now + lifetime + skew
    if expiry > limit:
        raise ExpiryTooFarError(
            f"expiry is {_human(expiry - now)} ahead, {_human(expiry - limit)} beyond the "
            f"maximum lifetime of {_human(_to_ms(max_lifetime))} plus clock skew"
        )
    return expiry
