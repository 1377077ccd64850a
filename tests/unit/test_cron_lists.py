"""Cron fields croniter reads differently from cron: reversed ranges (refused, as
cronie does) and day lists mixing plain values with ``W``, ``L`` or ``#``
(a union of their elements).  Exact instants, in the job's zone."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler.cli import main
from scheduler.config import parse_schedules
from scheduler.errors import ConfigError, InvalidSchedule
from scheduler.schedules import Cron, upcoming

REVERSED = [
    ("0 17-9 * * *", "hour", "17-9", "write 17-23,0-9 for a range that wraps past midnight"),
    (
        "* * 5-1 * *",
        "day-of-month",
        "5-1",
        "write 5-31,1 for a range that wraps past the end of the month",
    ),
    ("0 0 * DEC-JAN *", "month", "DEC-JAN", "write 12,1 for a range that wraps past the end"),
    ("0 9 * * FRI-SUN", "day-of-week", "FRI-SUN", "write 5-7 for a range that ends on Sunday"),
    ("0 9 * * 5-0", "day-of-week", "5-0", "write 5-7 for a range that ends on Sunday"),
    ("0 9 * * 5-1", "day-of-week", "5-1", "write 5-7,1 for a range that wraps past Sunday"),
    ("0 9 * * 7-2", "day-of-week", "7-2", "write 0-2 for a range that starts on Sunday"),
    ("50-10/5 * * * *", "minute", "50-10/5", "write 50-59/5,0-10/5 for a range that wraps"),
    ("0 0 * * * 40-5", "second", "40-5", "write 40-59,0-5 for a range that wraps past"),
    ("0 1,22-2 * * *", "hour", "22-2", "write 22-23,0-2"),
]


def reversed_message(expr: str, field: str, part: str, hint: str) -> str:
    return (
        f"cron expression {expr!r}: the {field} field has the range {part!r}, "
        f"which starts after it ends; {hint}"
    )


@pytest.mark.parametrize(("expr", "field", "part", "hint"), REVERSED)
def test_a_reversed_range_is_refused_with_the_field_and_a_hint(
    expr: str, field: str, part: str, hint: str
) -> None:
    with pytest.raises(InvalidSchedule, match=re.escape(reversed_message(expr, field, part, hint))):
        Cron(expr)


@pytest.mark.parametrize(
    "expr", ["0 9 * * 5-7", "0 9 * * 0-7", "0 9 * * SUN-SAT", "0 9 * * 0-6", "0 9-9 * * *"]
)
def test_ranges_that_run_upwards_are_accepted(expr: str) -> None:
    Cron(expr)


def test_a_range_out_of_bounds_keeps_its_own_message() -> None:
    with pytest.raises(InvalidSchedule, match="the minute field '70-10' is not valid"):
        Cron("70-10 * * * *")


def test_a_reversed_range_in_yaml_is_located() -> None:
    text = "jobs:\n  late:\n    task: x.a\n    cron: '0 17-9 * * *'\n"
    with pytest.raises(ConfigError) as caught:
        parse_schedules(text, "schedules.yaml")
    assert [str(issue) for issue in caught.value.issues] == [
        "schedules.yaml:4:11: jobs.late.cron: "
        + reversed_message("0 17-9 * * *", "hour", "17-9", REVERSED[0][3])
    ]


def test_tickwork_check_refuses_a_reversed_range(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    schedules = tmp_path / "schedules.yaml"
    schedules.write_text("jobs:\n  weekend: {task: x.a, cron: '0 9 * * FRI-SUN'}\n")
    assert main(["check", str(schedules)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines()[0] == (
        f"{schedules}:2:30: jobs.weekend.cron: "
        + reversed_message("0 9 * * FRI-SUN", "day-of-week", "FRI-SUN", REVERSED[3][3])
        + " (0 and 7 are both Sunday)"
    )


# -- day-of-week lists are unions ---------------------------------------------------

UNIONS = [
    # day of month too: the last day and the weekday nearest the 15th (croniter
    # refused L,15W); 15 February and 15 March 2026 are Sundays
    (
        "UTC",
        "0 0 L,15W * *",
        "2026-01-01T00:00:00+00:00",
        [
            "2026-01-15T00:00:00+00:00",
            "2026-01-31T00:00:00+00:00",
            "2026-02-16T00:00:00+00:00",
            "2026-02-28T00:00:00+00:00",
            "2026-03-16T00:00:00+00:00",
        ],
    ),
    # (the weekday nearest the 1st, or the 15th) OR (Saturdays, or the first Sunday)
    (
        "UTC",
        "0 0 1W,15 * 6,0#1",
        "2026-02-01T00:00:00+00:00",
        [
            "2026-02-02T00:00:00+00:00",
            "2026-02-07T00:00:00+00:00",
            "2026-02-14T00:00:00+00:00",
            "2026-02-15T00:00:00+00:00",
            "2026-02-21T00:00:00+00:00",
        ],
    ),
    # every Thursday, the second one included once
    (
        "UTC",
        "0 0 * * 4,4#2",
        "2026-01-01T00:00:00+00:00",
        ["2026-01-08T00:00:00+00:00", "2026-01-15T00:00:00+00:00", "2026-01-22T00:00:00+00:00"],
    ),
    # every Friday; the last one (30 January) once
    (
        "UTC",
        "0 9 * * 5,5L",
        "2026-01-20T00:00:00+00:00",
        ["2026-01-23T09:00:00+00:00", "2026-01-30T09:00:00+00:00", "2026-02-06T09:00:00+00:00"],
    ),
    # every Saturday and the first Tuesday
    (
        "UTC",
        "0 0 * * 6,2#1",
        "2026-01-01T00:00:00+00:00",
        ["2026-01-03T00:00:00+00:00", "2026-01-06T00:00:00+00:00", "2026-01-10T00:00:00+00:00"],
    ),
    # the last Friday and every Monday
    (
        "UTC",
        "0 0 * * 5L,1",
        "2026-01-20T00:00:00+00:00",
        ["2026-01-26T00:00:00+00:00", "2026-01-30T00:00:00+00:00", "2026-02-02T00:00:00+00:00"],
    ),
    # Mondays, Tuesdays and the first Wednesday (7 January, not 14)
    (
        "UTC",
        "0 0 * * 1,2,3#1",
        "2026-01-04T00:00:00+00:00",
        [
            "2026-01-05T00:00:00+00:00",
            "2026-01-06T00:00:00+00:00",
            "2026-01-07T00:00:00+00:00",
            "2026-01-12T00:00:00+00:00",
            "2026-01-13T00:00:00+00:00",
            "2026-01-19T00:00:00+00:00",
        ],
    ),
    # both day fields restricted: the 13th OR (a Friday OR the first Monday)
    (
        "UTC",
        "0 0 13 * 5,1#1",
        "2026-02-01T00:00:00+00:00",
        ["2026-02-02T00:00:00+00:00", "2026-02-06T00:00:00+00:00", "2026-02-13T00:00:00+00:00"],
    ),
    # */2 day-of-month ANDs: odd days that are a Saturday or the first Tuesday
    (
        "UTC",
        "0 0 */2 * 6,2#1",
        "2026-01-25T00:00:00+00:00",
        [
            "2026-01-31T00:00:00+00:00",
            "2026-02-03T00:00:00+00:00",
            "2026-02-07T00:00:00+00:00",
            "2026-02-21T00:00:00+00:00",
        ],
    ),
    # spring forward on a Sunday: the fixed-time job runs once after the gap
    (
        "Europe/Berlin",
        "30 2 * * 0,1#1",
        "2026-03-28T00:00:00+00:00",
        ["2026-03-29T03:00:00+02:00", "2026-04-05T02:30:00+02:00", "2026-04-06T02:30:00+02:00"],
    ),
    # fall back on the last Sunday: a fixed-time job once, a wildcard job twice
    (
        "Europe/Berlin",
        "30 2 * * 0L,3",
        "2026-10-20T00:00:00+00:00",
        ["2026-10-21T02:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-28T02:30:00+01:00"],
    ),
    (
        "Europe/Berlin",
        "*/30 2 * * 0L,3",
        "2026-10-24T23:00:00+00:00",
        [
            "2026-10-25T02:00:00+02:00",
            "2026-10-25T02:30:00+02:00",
            "2026-10-25T02:00:00+01:00",
            "2026-10-25T02:30:00+01:00",
            "2026-10-28T02:00:00+01:00",
        ],
    ),
    (
        "America/New_York",
        "0 2 * * 0#2,6",
        "2026-03-07T00:00:00+00:00",
        ["2026-03-07T02:00:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-14T02:00:00-04:00"],
    ),
]


@pytest.mark.parametrize(("zone", "expr", "after", "expected"), UNIONS)
def test_a_weekday_list_is_the_union_of_its_elements(
    zone: str, expr: str, after: str, expected: list[str]
) -> None:
    fires = upcoming(Cron(expr, zone), datetime.fromisoformat(after), len(expected))
    assert [fire.astimezone(ZoneInfo(zone)).isoformat() for fire in fires] == expected


def test_hashed_fields_beside_a_mixed_weekday_list() -> None:
    cron = Cron("H H * * 6,2#1", hash_key="backup")
    minute, hour, *rest = cron.expression.hashed_fields()
    assert minute.isdigit() and hour.isdigit()
    assert rest == ["*", "*", "6,2#1"]


@pytest.mark.parametrize(
    ("expr", "words"),
    [
        ("0 9 * * 6,2#1", "At 09:00, only on Saturday and on the first Tuesday of the month"),
        (
            "0 0 * * 5L,1",
            "At 00:00, only on Monday and on the last Friday of the month",
        ),
        ("0 0 L * *", "At 00:00, on the last day of the month"),  # was "on day l"
        ("0 0 1,L * *", "At 00:00, on day 1 of the month and on the last day of the month"),
        (
            "0 0 L,15W * *",
            "At 00:00, on the last day of the month and on the weekday nearest day 15 of the month",
        ),
        (
            "0 9 * 1-6 4,4#2",
            "At 09:00, only on Thursday and on the second Thursday of the month, "
            "January through June",
        ),
    ],
)
def test_a_weekday_union_is_described_part_by_part(expr: str, words: str) -> None:
    # cron-descriptor alone reads 6,2#1 as "the first Saturday and Tuesday"
    assert Cron(expr).describe() == f"{words} (UTC)"
