"""Calendars: exact instants of jobs that skip or move the slots of excluded days."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scheduler.errors import InvalidJob, InvalidSchedule
from scheduler.model.jobs import JobSpec
from scheduler.schedules.calendared import excluded_slots
from scheduler.schedules.calendars import Calendar, DateRange, Holidays, OnExcluded


def _runs(spec: JobSpec, after: str, count: int) -> list[str]:
    zone = spec.schedule.tz if hasattr(spec.schedule, "tz") else "UTC"
    from zoneinfo import ZoneInfo

    found: list[str] = []
    current: datetime | None = datetime.fromisoformat(after).astimezone(UTC)
    while current is not None and len(found) < count:
        current = spec.next_after(current)
        if current is not None:
            found.append(current.astimezone(ZoneInfo(zone)).isoformat())
    return found


def _daily(tz: str, calendar: Calendar, cron: str = "0 9 * * *") -> JobSpec:
    return JobSpec.build(name="daily", task="t.x", cron=cron, timezone=tz, calendar=calendar)


BAVARIA = Calendar(holidays=Holidays("DE", "BY"), business_days=True)
USA = Calendar(holidays=Holidays("US"), business_days=True)


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        # Christmas, New Year and Epiphany (a holiday in Bavaria only).
        (
            "2026-12-23T09:00:00+01:00",
            [
                "2026-12-24T09:00:00+01:00",
                "2026-12-28T09:00:00+01:00",
                "2026-12-29T09:00:00+01:00",
                "2026-12-30T09:00:00+01:00",
                "2026-12-31T09:00:00+01:00",
                "2027-01-04T09:00:00+01:00",
                "2027-01-05T09:00:00+01:00",
                "2027-01-07T09:00:00+01:00",
            ],
        ),
        # Easter: Good Friday and Easter Monday.
        (
            "2026-04-01T09:00:00+02:00",
            ["2026-04-02T09:00:00+02:00", "2026-04-07T09:00:00+02:00"],
        ),
        # Clocks go forward on Sunday 2026-03-29: the weekend is skipped, the offset changes.
        (
            "2026-03-27T09:00:00+01:00",
            ["2026-03-30T09:00:00+02:00", "2026-03-31T09:00:00+02:00"],
        ),
    ],
)
def test_business_days_in_bavaria(after: str, expected: list[str]) -> None:
    assert _runs(_daily("Europe/Berlin", BAVARIA), after, len(expected)) == expected


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        # Thanksgiving (Thursday); the Friday after it is a business day.
        (
            "2026-11-25T09:00:00-05:00",
            ["2026-11-27T09:00:00-05:00", "2026-11-30T09:00:00-05:00"],
        ),
        # Clocks go back on Sunday 2026-11-01.
        (
            "2026-10-30T09:00:00-04:00",
            ["2026-11-02T09:00:00-05:00"],
        ),
        # Christmas 2026 on a Friday; in 2027 on a Saturday, observed on Friday the 24th.
        (
            "2026-12-24T09:00:00-05:00",
            ["2026-12-28T09:00:00-05:00"],
        ),
        (
            "2027-12-23T09:00:00-05:00",
            ["2027-12-27T09:00:00-05:00"],
        ),
    ],
)
def test_business_days_in_the_united_states(after: str, expected: list[str]) -> None:
    assert _runs(_daily("America/New_York", USA), after, len(expected)) == expected


def test_next_business_day_moves_the_slot_to_the_same_wall_time() -> None:
    monthly = Calendar(
        holidays=Holidays("DE", "BY"),
        business_days=True,
        on_excluded=OnExcluded.NEXT_BUSINESS_DAY,
    )
    spec = _daily("Europe/Berlin", monthly, cron="0 10 25 * *")
    # 2026-12-25 is Christmas (a Friday), then a holiday Saturday and a Sunday.
    assert _runs(spec, "2026-11-26T00:00:00+01:00", 2) == [
        "2026-12-28T10:00:00+01:00",
        "2027-01-25T10:00:00+01:00",
    ]


def test_slots_moved_onto_one_instant_fire_once() -> None:
    weekdays = Calendar(business_days=True, on_excluded=OnExcluded.NEXT_BUSINESS_DAY)
    spec = _daily("Europe/Berlin", weekdays, cron="0 10 * * *")
    # Saturday's and Sunday's slots move onto Monday's own 10:00: one slot.
    assert _runs(spec, "2026-12-04T10:00:00+01:00", 2) == [
        "2026-12-07T10:00:00+01:00",
        "2026-12-08T10:00:00+01:00",
    ]


def test_a_slot_moved_past_the_instant_asked_about_is_still_due() -> None:
    weekdays = Calendar(business_days=True, on_excluded=OnExcluded.NEXT_BUSINESS_DAY)
    spec = _daily("Europe/Berlin", weekdays, cron="0 10 * * 6")
    # Asked on Saturday afternoon: that Saturday's slot moved to Monday, still ahead.
    assert _runs(spec, "2026-12-05T15:00:00+01:00", 1) == ["2026-12-07T10:00:00+01:00"]


def test_a_moved_slot_in_the_spring_gap_fires_when_the_gap_ends() -> None:
    saturday = Calendar(exclude=(DateRange.parse("2026-03-28"),), on_excluded="next_business_day")
    spec = _daily("Europe/Berlin", saturday, cron="30 2 * * *")
    # Saturday's 02:30 moves to Sunday 02:30, which the clocks skip; so does Sunday's
    # own slot: both fire once, at 03:00 CEST, as a fixed-time cron job does.
    assert _runs(spec, "2026-03-27T02:30:00+01:00", 2) == [
        "2026-03-29T03:00:00+02:00",
        "2026-03-30T02:30:00+02:00",
    ]


def test_interval_jobs_skip_excluded_days_in_the_job_zone() -> None:
    holiday = Calendar(exclude=("2026-12-25..2026-12-26",))
    spec = JobSpec.build(
        name="six-hourly", task="t.x", every="6h", timezone="Europe/Berlin", calendar=holiday
    )
    # Every 6 hours from the epoch: 01:00, 07:00, 13:00, 19:00 in Berlin (UTC+1).
    assert _runs(spec, "2026-12-24T19:00:00+00:00", 2) == [
        "2026-12-27T00:00:00+00:00",
        "2026-12-27T06:00:00+00:00",
    ]


def test_excluded_slots_say_why() -> None:
    spec = _daily("Europe/Berlin", BAVARIA)
    left = list(
        excluded_slots(
            spec.schedule,
            spec.calendar,
            spec.timezone,
            datetime(2026, 12, 24, 9, tzinfo=UTC),
            datetime(2026, 12, 28, 9, tzinfo=UTC),
        )
    )
    assert [(item.slot.isoformat(), item.reason) for item in left] == [
        ("2026-12-25T08:00:00+00:00", "public holiday in DE-BY: Christmas Day"),
        ("2026-12-26T08:00:00+00:00", "public holiday in DE-BY: Second Day of Christmas"),
        ("2026-12-27T08:00:00+00:00", "not a business day (Sunday)"),
    ]


@pytest.mark.parametrize("locale", ["de_DE.UTF-8", "C.UTF-8", "fr_FR.UTF-8"])
def test_holiday_names_do_not_follow_the_process_locale(
    locale: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # gettext reads these; left to itself the holidays package named Christmas
    # "Erster Weihnachtstag" on one machine and "Christmas Day" on another.
    from scheduler.schedules import calendars

    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.setenv(name, locale)
    calendars._country_calendar.cache_clear()
    try:
        assert Holidays("DE", "BY").name_on(datetime(2026, 12, 25).date()) == "Christmas Day"
        assert Holidays("JP").name_on(datetime(2026, 1, 1).date()) == "New Year's Day"
    finally:
        calendars._country_calendar.cache_clear()


def test_an_empty_calendar_leaves_the_definition_hash_alone() -> None:
    plain = JobSpec.build(name="a", task="t.x", cron="0 9 * * *")
    assert plain.with_fields(calendar=Calendar()).definition_hash() == plain.definition_hash()
    assert "calendar" not in plain.to_dict()
    weekdays = plain.with_fields(calendar=Calendar(business_days=True))
    assert weekdays.definition_hash() != plain.definition_hash()
    assert JobSpec.from_dict(weekdays.to_dict()) == weekdays


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"holidays": {"country": "XX"}}, "unknown holiday calendar: country 'XX'"),
        ({"holidays": {"country": "DE", "subdivision": "ZZ"}}, "subdivision 'ZZ' of country 'DE'"),
        ({"exclude": ["2027-01-01..2026-12-24"]}, "ends before it starts"),
        ({"exclude": ["24.12.2026"]}, "expected a date such as 2026-12-24"),
        ({"exclude": ["2026-02-30"]}, "is not a real date"),
        ({"on_excluded": "later"}, "on_excluded: expected one of skip, next_business_day"),
        ({"business_days": "yes"}, "business_days: expected true or false"),
        ({"weekends": True}, "unknown key 'weekends'"),
    ],
)
def test_bad_calendars_are_refused_saying_why(value: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidSchedule, match=message):
        Calendar.parse(value)


def test_a_one_off_job_cannot_have_a_calendar() -> None:
    with pytest.raises(InvalidJob, match="a calendar applies to cron and interval jobs only"):
        JobSpec.build(
            name="once",
            task="t.x",
            at=datetime(2026, 12, 25, tzinfo=UTC),
            calendar=Calendar(business_days=True),
        )


def test_a_calendar_that_excludes_everything_ends_the_job() -> None:
    forever = Calendar(exclude=("2026-01-01..2040-12-31",))
    spec = _daily("UTC", forever)
    assert spec.next_after(datetime(2026, 6, 1, tzinfo=UTC)) is None


def test_moving_the_slots_of_a_frequent_job_looks_at_days_not_slots() -> None:
    # 259,200 one-second slots fall on the excluded days; they all move to the
    # 27th, and the answer is found day by day (this once took minutes).
    closed = Calendar(exclude=("2026-12-24..2026-12-26",), on_excluded="next_business_day")
    spec = JobSpec.build(name="pulse", task="t.x", every="1s", calendar=closed)
    assert _runs(spec, "2026-12-23T23:59:59+00:00", 2) == [
        "2026-12-27T00:00:00+00:00",
        "2026-12-27T00:00:01+00:00",
    ]
    assert _runs(spec, "2026-12-27T00:00:00.500000+00:00", 1) == ["2026-12-27T00:00:01+00:00"]


def test_moving_over_years_of_excluded_days_walks_them_once() -> None:
    # Every excluded day of one run moves to the same day: that day is found
    # once for the run, not once per day in it (3,652 days x 3,652 once took minutes).
    closed = Calendar(exclude=("2026-01-01..2035-12-31",), on_excluded="next_business_day")
    spec = JobSpec.build(name="pulse", task="t.x", every="1s", calendar=closed)
    assert _runs(spec, "2026-06-01T00:00:00+00:00", 2) == [
        "2036-01-01T00:00:00+00:00",
        "2036-01-01T00:00:01+00:00",
    ]


def test_moving_when_no_day_is_ever_allowed_ends_the_job() -> None:
    forever = Calendar(exclude=("2026-01-01..2040-12-31",), on_excluded="next_business_day")
    spec = JobSpec.build(name="pulse", task="t.x", every="1s", calendar=forever)
    assert spec.next_after(datetime(2026, 6, 1, tzinfo=UTC)) is None
    left = excluded_slots(
        spec.schedule,
        spec.calendar,
        "UTC",
        datetime(2026, 6, 1, tzinfo=UTC),
        datetime(2026, 6, 1, 0, 0, 2, tzinfo=UTC),
    )
    assert [(item.slot.second, item.reason, item.moved_to) for item in left] == [
        (1, "excluded by 2026-01-01..2040-12-31", None),
        (2, "excluded by 2026-01-01..2040-12-31", None),
    ]
