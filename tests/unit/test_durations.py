"""Durations as people write them, and the clock helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.clock import Clock, SystemClock, ensure_aware_utc
from scheduler.errors import InvalidDuration, SchedulerError
from scheduler.schedules.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("15m", 900),
        ("1h30m", 5400),
        ("2d", 172_800),
        ("1w2d", 777_600),
        (" 1H 30M ", 5400),
        ("45", 45),
        (45, 45),
        (1.5, 1.5),
        (timedelta(minutes=2), 120),
    ],
)
def test_parse_duration(text: str | int | float | timedelta, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("soon", "expected a duration such as '90s'"),
        ("1h30", "expected a duration"),
        ("30m1h", "largest first"),
        ("1m1m", "largest first"),
        ("-5m", "expected a duration"),
        (-5, "cannot be negative"),
        (True, "expected a duration"),
        ("", "expected a duration"),
    ],
)
def test_bad_durations_are_explained(text: str | int, message: str) -> None:
    with pytest.raises(InvalidDuration, match=message) as caught:
        parse_duration(text)
    assert isinstance(caught.value, SchedulerError) and isinstance(caught.value, ValueError)


@given(st.integers(min_value=0, max_value=10**8))
def test_format_round_trips(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value


def test_format_is_short() -> None:
    assert format_duration(timedelta(hours=1, minutes=30)) == "1h30m"
    assert format_duration(timedelta(0)) == "0s"
    assert format_duration(timedelta(days=8)) == "1w1d"


def test_ensure_aware_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert ensure_aware_utc(datetime(2026, 1, 1, 2, tzinfo=plus_two)) == datetime(
        2026, 1, 1, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="start must be timezone-aware"):
        ensure_aware_utc(datetime(2026, 1, 1), "start")


def test_system_clock_is_a_clock_in_utc() -> None:
    clock = SystemClock()
    assert isinstance(clock, Clock)
    before = datetime.now(UTC)
    now = clock.now()
    assert now.tzinfo is UTC and now >= before
    clock.sleep(0)  # returns at once
