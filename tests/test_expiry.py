"""privy-request-expiry: make and check."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authsig.errors import (
    AuthSigError,
    ExpiredError,
    ExpiryFormatError,
    ExpiryInSecondsError,
    ExpiryTooFarError,
)
from authsig.privy.expiry import (
    DEFAULT_CLOCK_SKEW,
    DEFAULT_EXPIRES_IN,
    DEFAULT_MAX_LIFETIME,
    check_expiry,
    current_time_ms,
    make_expiry,
)

NOW = 1_764_000_000_000  # 2025-11-24T16:00:00Z in ms


def test_defaults() -> None:
    assert timedelta(minutes=15) == DEFAULT_EXPIRES_IN
    assert timedelta(hours=1) == DEFAULT_MAX_LIFETIME
    assert timedelta(seconds=60) == DEFAULT_CLOCK_SKEW


def test_current_time_ms_is_milliseconds() -> None:
    before = time.time()
    now = current_time_ms()
    after = time.time()
    assert int(before * 1000) - 1 <= now <= int(after * 1000) + 1


def test_make_expiry() -> None:
    assert make_expiry(timedelta(minutes=15), now_ms=NOW) == str(NOW + 900_000)
    assert make_expiry(timedelta(milliseconds=1), now_ms=NOW) == str(NOW + 1)
    value = int(make_expiry(DEFAULT_EXPIRES_IN))
    assert abs(value - (current_time_ms() + 900_000)) < 60_000
    with pytest.raises(TypeError):
        make_expiry(900)  # type: ignore[arg-type]


def test_check_expiry_accepts_window() -> None:
    assert check_expiry(str(NOW + 900_000), now_ms=NOW) == NOW + 900_000
    assert check_expiry(str(NOW), now_ms=NOW) == NOW
    # boundaries: exactly skew in the past, exactly lifetime + skew ahead
    assert check_expiry(str(NOW - 60_000), now_ms=NOW) == NOW - 60_000
    assert check_expiry(str(NOW + 3_660_000), now_ms=NOW) == NOW + 3_660_000
    assert check_expiry(make_expiry(DEFAULT_EXPIRES_IN)) > current_time_ms()


def test_expired() -> None:
    with pytest.raises(ExpiredError) as info:
        check_expiry(str(NOW - 60_001), now_ms=NOW)
    assert "60001 ms" in str(info.value)
    assert "1 min 0.001 s" in str(info.value)
    with pytest.raises(ExpiredError, match=r"0\.500 s"):
        check_expiry(str(NOW - 500), now_ms=NOW, clock_skew=timedelta(0))


def test_too_far() -> None:
    with pytest.raises(ExpiryTooFarError) as info:
        check_expiry(str(NOW + 3_660_001), now_ms=NOW)
    assert "1 ms" in str(info.value)
    assert "beyond" in str(info.value)
    # SDK "intents" use 72 hours: allowed when the verifier raises its maximum lifetime
    value = make_expiry(timedelta(hours=72), now_ms=NOW)
    with pytest.raises(ExpiryTooFarError, match="3 d"):
        check_expiry(value, now_ms=NOW)
    assert check_expiry(value, now_ms=NOW, max_lifetime=timedelta(hours=72)) == int(value)


def test_seconds_detected() -> None:
    seconds = NOW // 1000
    with pytest.raises(ExpiryInSecondsError) as info:
        check_expiry(str(seconds + 900), now_ms=NOW)
    message = str(info.value)
    assert "seconds" in message
    assert str((seconds + 900) * 1000) in message
    assert info.value.code == "expiry_in_seconds"
    assert isinstance(info.value, ExpiryFormatError)
    with pytest.raises(ExpiryInSecondsError):
        check_expiry("99999999999", now_ms=NOW)  # 10**11 - 1


@pytest.mark.parametrize(
    "value",
    [
        "",
        " 1764000000000",
        "1764000000000 ",
        "+1764000000000",
        "-1764000000000",
        "01764000000000",
        "1764000000000.0",
        "1.764e12",
        "0x19A",
        "１７６４０００００００００",  # full-width digits: str.isdigit() would say yes
        "١٧٦٤٠٠٠٠٠٠٠٠٠",  # Arabic-Indic digits
        "1_764_000_000_000",
        "12345678901234567",  # 17 digits
    ],
)
def test_malformed(value: str) -> None:
    with pytest.raises(ExpiryFormatError) as info:
        check_expiry(value, now_ms=NOW)
    assert type(info.value) is ExpiryFormatError
    assert info.value.code == "malformed_expiry"


def test_not_a_string() -> None:
    with pytest.raises(ExpiryFormatError):
        check_expiry(NOW, now_ms=NOW)  # type: ignore[arg-type]


def test_sixteen_digits_are_well_formed_but_too_far() -> None:
    with pytest.raises(ExpiryTooFarError):
        check_expiry("9" * 16, now_ms=NOW)


@given(st.text(max_size=20))
def test_property_only_typed_errors(value: str) -> None:
    try:
        result = check_expiry(value, now_ms=NOW)
    except AuthSigError:
        return
    assert str(result) == value


@given(st.integers(0, 3_600_000))
def test_property_make_then_check(ms: int) -> None:
    value = make_expiry(timedelta(milliseconds=ms), now_ms=NOW)
    assert check_expiry(value, now_ms=NOW) == NOW + ms
