"""The importers' day arithmetic, and APScheduler's cron fields as cron: a table of
trigger keywords and the expression that means the same."""

from __future__ import annotations

from typing import Any

import pytest

from scheduler.importers.days import nth_weekdays, weekday_list


@pytest.mark.parametrize(
    ("days", "text"),
    [
        ({1, 2, 3, 4, 5}, "mon-fri"),
        ({0, 6}, "sat,sun"),
        ({0, 1, 2, 3, 4, 5, 6}, "mon-sat,sun"),
        ({1, 3, 5, 0}, "mon,wed,fri,sun"),
        ({2}, "tue"),
    ],
)
def test_weekdays_are_named_and_never_wrap(days: set[int], text: str) -> None:
    assert weekday_list(days) == text


@pytest.mark.parametrize(
    ("day_of_month", "days", "expected"),
    [("1-7", {1}, "1#1"), ("8-14", {1, 5}, "1#2,5#2"), ("22-28", {0}, "0#4"), ("1-8", {1}, None)],
)
def test_a_week_of_the_month_and_weekdays_is_nth_weekdays(
    day_of_month: str, days: set[int], expected: str | None
) -> None:
    assert nth_weekdays(day_of_month, days) == expected


aps_cron = pytest.importorskip("apscheduler.triggers.cron")


@pytest.mark.parametrize(
    ("fields", "expr", "flagged"),
    [
        ({"hour": 3}, "0 3 * * *", False),
        ({"minute": "5/15"}, "5-59/15 * * * *", False),
        ({"day_of_week": "mon-fri", "hour": 9, "minute": 30}, "30 9 * * mon-fri", False),
        ({"day_of_week": "*/2"}, "0 0 * * mon,wed,fri,sun", False),
        ({"day_of_week": "mon-sun"}, "0 0 * * *", False),
        ({"day": "last"}, "0 0 L * *", False),
        ({"day": "last fri"}, "0 0 * * 5L", False),
        ({"day": "1st mon,15", "hour": 8}, "0 8 15 * 1#1", False),
        ({"day": "1-7", "day_of_week": "mon"}, "0 0 * * 1#1", False),
        ({"day": "*/2", "day_of_week": "sat,sun"}, "0 0 */2 * sat,sun", False),
        ({"second": "*/10"}, "* * * * * */10", False),
        ({"month": "jan-mar", "day": 1}, "0 0 1 1-3 *", False),
        ({"day": 13, "day_of_week": "fri"}, "0 0 13 * fri", True),
    ],
)
def test_apscheduler_cron_fields_as_cron(fields: dict[str, Any], expr: str, flagged: bool) -> None:
    from scheduler.importers.apscheduler_cron import cron_text

    text = cron_text(aps_cron.CronTrigger(timezone="UTC", **fields))
    assert (text.expr, text.problem is not None) == (expr, flagged)


def test_apscheduler_week_has_no_cron_field_and_year_only_a_span() -> None:
    from scheduler.importers.apscheduler_cron import YearSpan, cron_text, year_span

    assert cron_text(aps_cron.CronTrigger(week=10, timezone="UTC")).expr is None
    # One year or one range of years is left to the window; the rest has no equivalent.
    one = aps_cron.CronTrigger(year=2027, timezone="UTC")
    # (APScheduler fills the fields below the year with their minimum: 1 January.)
    assert (cron_text(one).expr, year_span(one)) == ("0 0 1 1 *", YearSpan(2027, 2027))
    span = aps_cron.CronTrigger(year="2027-2029", timezone="UTC")
    assert year_span(span) == YearSpan(2027, 2029)
    assert year_span(aps_cron.CronTrigger(timezone="UTC")) == YearSpan()
    for years in ("*/2", "2027,2029", "2027-2031/2"):
        trigger = aps_cron.CronTrigger(year=years, timezone="UTC")
        assert cron_text(trigger).expr is None, years
        assert year_span(trigger).problem is not None, years
