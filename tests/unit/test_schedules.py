"""Schedules: the DST table, cron syntax, Every, Once, and hypothesis properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.errors import InvalidSchedule
from scheduler.schedules import Cron, Every, Once, Schedule, upcoming


def runs(expr: str, zone: str, after: str, count: int) -> list[str]:
    """What `tickwork next EXPR --tz ZONE --after AFTER --count COUNT` prints."""
    tz = ZoneInfo(zone)
    start = datetime.fromisoformat(after)
    return [d.astimezone(tz).isoformat() for d in upcoming(Cron(expr, zone), start, count)]


# Each row: zone, expression, after, the exact runs that follow.  Reviewed by
# hand against cronie's rules; cross-checked by the brute-force oracle.
DST_TABLE = [
    # Europe/Berlin: 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET.
    (
        "Europe/Berlin",
        "0 * * * *",
        "2026-03-28T23:30:00+01:00",
        [
            "2026-03-29T00:00:00+01:00",
            "2026-03-29T01:00:00+01:00",
            "2026-03-29T03:00:00+02:00",
            "2026-03-29T04:00:00+02:00",
        ],
    ),
    (
        "Europe/Berlin",
        "*/15 * * * *",
        "2026-03-29T01:40:00+01:00",
        ["2026-03-29T01:45:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:15:00+02:00"],
    ),
    (
        "Europe/Berlin",
        "30 2 * * *",
        "2026-03-28T12:00:00+01:00",
        ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"],
    ),
    (
        "Europe/Berlin",
        "0 2 * * *",
        "2026-03-28T12:00:00+01:00",
        ["2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"],
    ),
    (
        "Europe/Berlin",
        "0 * * * *",
        "2026-10-25T00:30:00+02:00",
        [
            "2026-10-25T01:00:00+02:00",
            "2026-10-25T02:00:00+02:00",
            "2026-10-25T02:00:00+01:00",
            "2026-10-25T03:00:00+01:00",
        ],
    ),
    (
        "Europe/Berlin",
        "*/15 * * * *",
        "2026-10-25T02:40:00+02:00",
        [
            "2026-10-25T02:45:00+02:00",
            "2026-10-25T02:00:00+01:00",
            "2026-10-25T02:15:00+01:00",
            "2026-10-25T02:30:00+01:00",
            "2026-10-25T02:45:00+01:00",
            "2026-10-25T03:00:00+01:00",
        ],
    ),
    (
        "Europe/Berlin",
        "30 2 * * *",
        "2026-10-24T12:00:00+02:00",
        ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"],
    ),
    (
        "Europe/Berlin",
        "0 2 * * *",
        "2026-10-24T12:00:00+02:00",
        ["2026-10-25T02:00:00+02:00", "2026-10-26T02:00:00+01:00"],
    ),
    # America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
    (
        "America/New_York",
        "0 * * * *",
        "2026-03-08T00:30:00-05:00",
        ["2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"],
    ),
    (
        "America/New_York",
        "*/15 * * * *",
        "2026-03-08T01:40:00-05:00",
        ["2026-03-08T01:45:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:15:00-04:00"],
    ),
    (
        "America/New_York",
        "30 2 * * *",
        "2026-03-07T12:00:00-05:00",
        ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"],
    ),
    (
        "America/New_York",
        "0 2 * * *",
        "2026-03-07T12:00:00-05:00",
        ["2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00"],
    ),
    (
        "America/New_York",
        "0 * * * *",
        "2026-11-01T00:30:00-04:00",
        ["2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"],
    ),
    (
        "America/New_York",
        "*/15 * * * *",
        "2026-11-01T01:40:00-04:00",
        [
            "2026-11-01T01:45:00-04:00",
            "2026-11-01T01:00:00-05:00",
            "2026-11-01T01:15:00-05:00",
            "2026-11-01T01:30:00-05:00",
            "2026-11-01T01:45:00-05:00",
            "2026-11-01T02:00:00-05:00",
        ],
    ),
    (
        "America/New_York",
        "30 2 * * *",
        "2026-10-31T12:00:00-04:00",
        ["2026-11-01T02:30:00-05:00", "2026-11-02T02:30:00-05:00"],
    ),
    (
        "America/New_York",
        "0 2 * * *",
        "2026-10-31T12:00:00-04:00",
        ["2026-11-01T02:00:00-05:00", "2026-11-02T02:00:00-05:00"],
    ),
    (
        "America/New_York",
        "30 1 * * *",
        "2026-10-31T12:00:00-04:00",
        ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"],
    ),
    # Australia/Lord_Howe shifts by 30 minutes: 2026-04-05 02:00 +11 -> 01:30 +10:30;
    # 2026-10-04 02:00 +10:30 -> 02:30 +11.
    (
        "Australia/Lord_Howe",
        "0 * * * *",
        "2026-04-05T00:30:00+11:00",
        ["2026-04-05T01:00:00+11:00", "2026-04-05T02:00:00+10:30", "2026-04-05T03:00:00+10:30"],
    ),
    (
        "Australia/Lord_Howe",
        "*/15 * * * *",
        "2026-04-05T01:20:00+11:00",
        [
            "2026-04-05T01:30:00+11:00",
            "2026-04-05T01:45:00+11:00",
            "2026-04-05T01:30:00+10:30",
            "2026-04-05T01:45:00+10:30",
            "2026-04-05T02:00:00+10:30",
        ],
    ),
    (
        "Australia/Lord_Howe",
        "30 2 * * *",
        "2026-04-04T12:00:00+11:00",
        ["2026-04-05T02:30:00+10:30", "2026-04-06T02:30:00+10:30"],
    ),
    (
        "Australia/Lord_Howe",
        "0 2 * * *",
        "2026-04-04T12:00:00+11:00",
        ["2026-04-05T02:00:00+10:30", "2026-04-06T02:00:00+10:30"],
    ),
    (
        "Australia/Lord_Howe",
        "0 * * * *",
        "2026-10-04T00:30:00+10:30",
        ["2026-10-04T01:00:00+10:30", "2026-10-04T03:00:00+11:00", "2026-10-04T04:00:00+11:00"],
    ),
    (
        "Australia/Lord_Howe",
        "*/15 * * * *",
        "2026-10-04T01:40:00+10:30",
        ["2026-10-04T01:45:00+10:30", "2026-10-04T02:30:00+11:00", "2026-10-04T02:45:00+11:00"],
    ),
    (
        "Australia/Lord_Howe",
        "30 2 * * *",
        "2026-10-03T12:00:00+10:30",
        ["2026-10-04T02:30:00+11:00", "2026-10-05T02:30:00+11:00"],
    ),
    (
        "Australia/Lord_Howe",
        "0 2 * * *",
        "2026-10-03T12:00:00+10:30",
        ["2026-10-04T02:30:00+11:00", "2026-10-05T02:00:00+11:00"],
    ),
    # Europe/Dublin (GMT in winter, IST in summer): 2026-03-29 01:00 -> 02:00;
    # 2026-10-25 02:00 -> 01:00.
    (
        "Europe/Dublin",
        "0 * * * *",
        "2026-03-28T23:30:00+00:00",
        ["2026-03-29T00:00:00+00:00", "2026-03-29T02:00:00+01:00", "2026-03-29T03:00:00+01:00"],
    ),
    (
        "Europe/Dublin",
        "*/15 * * * *",
        "2026-03-29T00:40:00+00:00",
        ["2026-03-29T00:45:00+00:00", "2026-03-29T02:00:00+01:00", "2026-03-29T02:15:00+01:00"],
    ),
    (
        "Europe/Dublin",
        "30 2 * * *",
        "2026-03-28T12:00:00+00:00",
        ["2026-03-29T02:30:00+01:00", "2026-03-30T02:30:00+01:00"],
    ),
    (
        "Europe/Dublin",
        "0 2 * * *",
        "2026-03-28T12:00:00+00:00",
        ["2026-03-29T02:00:00+01:00", "2026-03-30T02:00:00+01:00"],
    ),
    (
        "Europe/Dublin",
        "0 * * * *",
        "2026-10-25T00:30:00+01:00",
        ["2026-10-25T01:00:00+01:00", "2026-10-25T01:00:00+00:00", "2026-10-25T02:00:00+00:00"],
    ),
    (
        "Europe/Dublin",
        "*/15 * * * *",
        "2026-10-25T01:40:00+01:00",
        ["2026-10-25T01:45:00+01:00", "2026-10-25T01:00:00+00:00", "2026-10-25T01:15:00+00:00"],
    ),
    (
        "Europe/Dublin",
        "30 2 * * *",
        "2026-10-24T12:00:00+01:00",
        ["2026-10-25T02:30:00+00:00", "2026-10-26T02:30:00+00:00"],
    ),
    (
        "Europe/Dublin",
        "0 2 * * *",
        "2026-10-24T12:00:00+01:00",
        ["2026-10-25T02:00:00+00:00", "2026-10-26T02:00:00+00:00"],
    ),
    (
        "Europe/Dublin",
        "30 1 * * *",
        "2026-10-24T12:00:00+01:00",
        ["2026-10-25T01:30:00+01:00", "2026-10-26T01:30:00+00:00"],
    ),
    # America/Santiago changes at midnight: 2026-04-05 00:00 -03 -> 23:00 -04 (Saturday
    # evening repeats); 2026-09-06 00:00 -04 -> 01:00 -03.
    (
        "America/Santiago",
        "0 * * * *",
        "2026-04-04T22:30:00-03:00",
        ["2026-04-04T23:00:00-03:00", "2026-04-04T23:00:00-04:00", "2026-04-05T00:00:00-04:00"],
    ),
    (
        "America/Santiago",
        "*/15 * * * *",
        "2026-04-04T23:40:00-03:00",
        ["2026-04-04T23:45:00-03:00", "2026-04-04T23:00:00-04:00", "2026-04-04T23:15:00-04:00"],
    ),
    (
        "America/Santiago",
        "30 23 * * *",
        "2026-04-04T12:00:00-03:00",
        ["2026-04-04T23:30:00-03:00", "2026-04-05T23:30:00-04:00"],
    ),
    (
        "America/Santiago",
        "30 2 * * *",
        "2026-04-04T12:00:00-03:00",
        ["2026-04-05T02:30:00-04:00", "2026-04-06T02:30:00-04:00"],
    ),
    (
        "America/Santiago",
        "0 2 * * *",
        "2026-04-04T12:00:00-03:00",
        ["2026-04-05T02:00:00-04:00", "2026-04-06T02:00:00-04:00"],
    ),
    (
        "America/Santiago",
        "0 * * * *",
        "2026-09-05T22:30:00-04:00",
        ["2026-09-05T23:00:00-04:00", "2026-09-06T01:00:00-03:00", "2026-09-06T02:00:00-03:00"],
    ),
    (
        "America/Santiago",
        "*/15 * * * *",
        "2026-09-05T23:40:00-04:00",
        ["2026-09-05T23:45:00-04:00", "2026-09-06T01:00:00-03:00", "2026-09-06T01:15:00-03:00"],
    ),
    (
        "America/Santiago",
        "0 0 * * *",
        "2026-09-05T12:00:00-04:00",
        ["2026-09-06T01:00:00-03:00", "2026-09-07T00:00:00-03:00"],
    ),
    (
        "America/Santiago",
        "30 2 * * *",
        "2026-09-05T12:00:00-04:00",
        ["2026-09-06T02:30:00-03:00", "2026-09-07T02:30:00-03:00"],
    ),
    (
        "America/Santiago",
        "0 2 * * *",
        "2026-09-05T12:00:00-04:00",
        ["2026-09-06T02:00:00-03:00", "2026-09-07T02:00:00-03:00"],
    ),
    # Wildcard hours skip the gap instead of moving into it (croniter alone gives 03:00).
    (
        "Europe/Berlin",
        "0 */2 * * *",
        "2026-03-28T23:30:00+01:00",
        ["2026-03-29T00:00:00+01:00", "2026-03-29T04:00:00+02:00", "2026-03-29T06:00:00+02:00"],
    ),
    # Several fixed minutes in the gap still give one run.
    (
        "Europe/Berlin",
        "0,20,40 2 * * *",
        "2026-03-28T12:00:00+01:00",
        ["2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"],
    ),
    (
        "Europe/Berlin",
        "15 1,2,3 * * *",
        "2026-03-29T00:00:00+01:00",
        [
            "2026-03-29T01:15:00+01:00",
            "2026-03-29T03:00:00+02:00",
            "2026-03-29T03:15:00+02:00",
            "2026-03-30T01:15:00+02:00",
        ],
    ),
    (
        "Europe/Berlin",
        "0 0-23/2 * * *",
        "2026-10-25T01:30:00+02:00",
        ["2026-10-25T02:00:00+02:00", "2026-10-25T04:00:00+01:00"],
    ),
    (
        "Europe/Berlin",
        "* 2 * * *",
        "2026-10-25T02:58:00+02:00",
        ["2026-10-25T02:59:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T02:01:00+01:00"],
    ),
    # A jump of 3 hours or more: Samoa skipped 30 December 2011 (no catch-up) ...
    (
        "Pacific/Apia",
        "0 0 * * *",
        "2011-12-28T12:00:00-10:00",
        ["2011-12-29T00:00:00-10:00", "2011-12-31T00:00:00+14:00"],
    ),
    (
        "Pacific/Apia",
        "30 12 * * *",
        "2011-12-29T00:00:00-10:00",
        ["2011-12-29T12:30:00-10:00", "2011-12-31T12:30:00+14:00"],
    ),
    # ... and Casey station went back 3 hours at 02:00 on 2010-03-05 (no suppression).
    (
        "Antarctica/Casey",
        "30 1 * * *",
        "2010-03-04T12:00:00+11:00",
        ["2010-03-05T01:30:00+11:00", "2010-03-05T01:30:00+08:00", "2010-03-06T01:30:00+08:00"],
    ),
]


@pytest.mark.parametrize(("zone", "expr", "after", "expected"), DST_TABLE)
def test_dst_table(zone: str, expr: str, after: str, expected: list[str]) -> None:
    assert runs(expr, zone, after, len(expected)) == expected


def test_next_after_is_strict() -> None:
    cron = Cron("30 2 * * *", "Europe/Berlin")
    fire = datetime.fromisoformat("2026-06-01T02:30:00+02:00")
    assert cron.next_after(fire) == datetime.fromisoformat("2026-06-02T02:30:00+02:00")
    assert cron.next_after(fire - timedelta(microseconds=1)) == fire


def test_next_after_from_inside_the_repeated_hour() -> None:
    cron = Cron("*/30 * * * *", "Europe/Berlin")
    first_pass = datetime.fromisoformat("2026-10-25T02:40:00+02:00")
    second_pass = datetime.fromisoformat("2026-10-25T02:10:00+01:00")
    assert cron.next_after(first_pass) == datetime.fromisoformat("2026-10-25T02:00:00+01:00")
    assert cron.next_after(second_pass) == datetime.fromisoformat("2026-10-25T02:30:00+01:00")
    fixed = Cron("30 2 * * *", "Europe/Berlin")
    assert fixed.next_after(second_pass) == datetime.fromisoformat("2026-10-26T02:30:00+01:00")


def test_results_are_aware_utc() -> None:
    result = Cron("0 9 * * *", "Asia/Tokyo").next_after(datetime(2025, 12, 31, 12, tzinfo=UTC))
    assert result == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    assert result.tzinfo is UTC


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Cron("* * * * *").next_after(datetime(2026, 1, 1))


# -- syntax -----------------------------------------------------------------


def _days(expr: str, after: str, count: int) -> list[str]:
    return [
        d.date().isoformat() for d in upcoming(Cron(expr), datetime.fromisoformat(after), count)
    ]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("@yearly", ["2027-01-01", "2028-01-01"]),
        ("@annually", ["2027-01-01", "2028-01-01"]),
        ("@monthly", ["2026-02-01", "2026-03-01"]),
        ("@weekly", ["2026-01-04", "2026-01-11"]),  # Sundays
        ("@daily", ["2026-01-02", "2026-01-03"]),
        ("@midnight", ["2026-01-02", "2026-01-03"]),
        ("0 0 * * MON-FRI", ["2026-01-02", "2026-01-05"]),
        ("0 0 1 JAN,JUL *", ["2026-07-01", "2027-01-01"]),
        ("0 0 L * *", ["2026-01-31", "2026-02-28"]),
        ("0 0 15W * *", ["2026-01-15", "2026-02-16"]),  # 15 Feb 2026 is a Sunday
        ("0 0 1W * *", ["2026-02-02", "2026-03-02"]),  # 1 Feb is a Sunday, 1 Mar too
        ("0 0 * * 5L", ["2026-01-30", "2026-02-27"]),  # last Friday
        ("0 0 * * 1#2", ["2026-01-12", "2026-02-09"]),  # second Monday
        ("0 0 * * 7", ["2026-01-04", "2026-01-11"]),  # 7 is Sunday too
        ("0 0 */2 * 1", ["2026-01-05", "2026-01-19"]),  # odd days AND Mondays
        ("0 0 1,15 * 1", ["2026-01-05", "2026-01-12"]),  # the 1st/15th OR Mondays
        ("0 0 15 * 5L", ["2026-01-15", "2026-01-30"]),  # OR with a last weekday
        ("0 0 31 2 0", ["2026-02-01", "2026-02-08"]),  # 31 Feb never; Sundays in Feb
        ("0 0 5-5 * *", ["2026-01-05", "2026-02-05"]),  # croniter reads 5-5 as *
        ("0 0 * * THU", ["2026-01-08", "2026-01-15"]),  # the h in THU is not H
    ],
)
def test_cron_syntax(expr: str, expected: list[str]) -> None:
    assert _days(expr, "2026-01-01T00:00:00+00:00", 2) == expected


def test_hourly_is_a_wildcard_job_and_daily_is_fixed() -> None:
    assert Cron("@hourly").is_wildcard
    assert not Cron("@daily").is_wildcard
    assert Cron("0 */2 * * *").is_wildcard
    assert not Cron("0 0-23/2 * * *").is_wildcard


def test_seconds_field() -> None:
    cron = Cron("* * * * * */20")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert [d.second for d in upcoming(cron, start, 4)] == [20, 40, 0, 20]


def test_jobs_sharing_an_expression_share_one_parse() -> None:
    assert (
        Cron("*/5 * * * *", hash_key="a").expression is Cron("*/5 * * * *", hash_key="b").expression
    )
    assert (
        Cron("H * * * *", hash_key="a").expression is not Cron("H * * * *", hash_key="b").expression
    )


def test_hash_forms() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    minutes = [d.minute for d in upcoming(Cron("H(0-29)/10 * * * *", hash_key="x"), start, 3)]
    assert minutes[1] - minutes[0] == 10 and all(m < 30 for m in minutes[:3])
    with pytest.raises(InvalidSchedule, match="uses H"):
        Cron("0 0 * * thu,H")


def test_hashed_fields_are_stable_per_job_and_spread_between_jobs() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    times = {
        name: Cron("H H * * *", hash_key=name).next_after(start) for name in ("a", "b", "c", "d")
    }
    assert times["a"] == Cron("H H * * *", hash_key="a").next_after(start)
    assert len(set(times.values())) > 1
    assert all(t is not None and t - start <= timedelta(days=1) for t in times.values())


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("61 * * * *", "the minute field '61' is not valid (allowed: 0-59)"),
        ("* 24 * * *", "the hour field '24' is not valid"),
        ("* * 32 * *", "the day-of-month field '32' is not valid"),
        ("* * * 13 *", "the month field '13' is not valid"),
        ("* * * * MOO", "the day-of-week field 'MOO' is not valid"),
        ("* * *", "has 3 fields; expected 5"),
        ("* * * * * * *", "has 7 fields"),
        ("@reboot", "unknown cron alias '@reboot'"),
        ("0 0 30 2 *", "never matches a real date"),
        ("H * * * *", "needs a job name"),
        ("0 0 LW * *", "'LW' (last weekday of the month) is not supported"),
        ("", "a cron expression is required"),
    ],
)
def test_invalid_cron_is_explained(expr: str, message: str) -> None:
    with pytest.raises(InvalidSchedule, match=message.replace("(", r"\(").replace(")", r"\)")):
        Cron(expr)


def test_unknown_zone() -> None:
    with pytest.raises(InvalidSchedule, match="unknown time zone 'Mars/Olympus'"):
        Cron("* * * * *", "Mars/Olympus")


def test_describe() -> None:
    assert Cron("30 2 * * *", "Europe/Berlin").describe() == "At 02:30 (Europe/Berlin)"
    assert "every 15 minutes" in Cron("*/15 * * * *").describe().lower()
    assert Every(timedelta(minutes=90)).describe() == "every 1h30m"
    assert Once(datetime(2026, 1, 1, tzinfo=UTC)).describe() == "once at 2026-01-01T00:00:00+00:00"


def test_schedules_satisfy_the_protocol() -> None:
    for schedule in (Cron("* * * * *"), Every("1m"), Once(datetime(2026, 1, 1, tzinfo=UTC))):
        assert isinstance(schedule, Schedule)


# -- Every and Once -----------------------------------------------------------


def test_every_counts_real_time_across_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    anchor = datetime(2026, 3, 29, 0, 30, tzinfo=berlin)
    every = Every(timedelta(hours=1), anchor=anchor)
    got = [d.astimezone(berlin).isoformat() for d in upcoming(every, anchor, 3)]
    assert got == [
        "2026-03-29T01:30:00+01:00",
        "2026-03-29T03:30:00+02:00",
        "2026-03-29T04:30:00+02:00",
    ]


def test_every_without_anchor_aligns_to_the_epoch() -> None:
    start = datetime(2026, 5, 5, 10, 7, 13, tzinfo=UTC)
    assert Every("15m").next_after(start) == datetime(2026, 5, 5, 10, 15, tzinfo=UTC)


def test_every_before_its_anchor_is_due_at_the_anchor() -> None:
    anchor = datetime(2026, 5, 5, tzinfo=UTC)
    assert Every("1h", anchor=anchor).next_after(anchor - timedelta(days=3)) == anchor
    assert Every("1h", anchor=anchor).next_after(anchor) == anchor + timedelta(hours=1)


@pytest.mark.parametrize("bad", ["0s", "-5", "soon", timedelta(0)])
def test_every_refuses_empty_or_bad_intervals(bad: object) -> None:
    with pytest.raises(InvalidSchedule):
        Every(bad)  # type: ignore[arg-type]


def test_once() -> None:
    at = datetime(2026, 5, 5, 12, tzinfo=UTC)
    once = Once(at)
    assert once.next_after(at - timedelta(seconds=1)) == at
    assert once.next_after(at) is None
    assert list(upcoming(once, at - timedelta(days=1), 5)) == [at]
    with pytest.raises(InvalidSchedule, match="timezone-aware"):
        Once(datetime(2026, 5, 5))


# -- properties -----------------------------------------------------------------

ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
EXPRESSIONS = [
    "* * * * *",
    "*/15 * * * *",
    "0 * * * *",
    "30 2 * * *",
    "0 2 * * *",
    "0 */2 * * *",
    "15 1,2,3 * * *",
    "0 0 * * *",
    "*/7 1-3 * * *",
    "45 23 * * 1-5",
    "0 0 L * *",
    "0 12 * * 5L",
    "0 0 */2 * 1",
    "20 0-23/3 * * *",
    "* 2 * * *",
    "0,30 * * * * 15",
    "30 2 * * 0,1#1",
    "0 12 * * 5L,1",
    "*/20 1-3 * * 6,0#2",
]
instants = st.datetimes(
    min_value=datetime(1995, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=400, deadline=None)
@given(expr=st.sampled_from(EXPRESSIONS), zone=st.sampled_from(ZONES), after=instants)
def test_runs_are_aware_strictly_after_and_strictly_increasing(
    expr: str, zone: str, after: datetime
) -> None:
    fires = list(upcoming(Cron(expr, zone), after, 6))
    assert len(fires) == 6
    assert all(f.tzinfo is UTC for f in fires)
    assert fires[0] > after
    assert all(a < b for a, b in pairwise(fires))


@settings(max_examples=200, deadline=None)
@given(expr=st.sampled_from(EXPRESSIONS), zone=st.sampled_from(ZONES), after=instants)
def test_next_after_is_stable_from_any_point_between_runs(
    expr: str, zone: str, after: datetime
) -> None:
    cron = Cron(expr, zone)
    first = cron.next_after(after)
    assert first is not None
    middle = after + (first - after) / 2
    assert cron.next_after(middle) == first


@settings(max_examples=200, deadline=None)
@given(
    seconds=st.integers(min_value=1, max_value=10 * 86_400),
    anchor=instants,
    after=instants,
)
def test_every_is_a_regular_grid(seconds: int, anchor: datetime, after: datetime) -> None:
    interval = timedelta(seconds=seconds)
    nxt = Every(interval, anchor=anchor).next_after(after)
    assert nxt > after
    assert (nxt - anchor) % interval == timedelta(0)
    assert nxt - after <= interval or nxt == anchor
