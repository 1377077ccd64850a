"""The engine with calendars: excluded slots leave no run row, moved slots run once."""

from __future__ import annotations

from datetime import datetime

from scheduler.schedules.calendars import Calendar, Holidays

from .test_engine import World, new_store, world  # noqa: F401 - the fixtures it uses

__all__: list[str] = []


def test_a_business_day_job_records_no_run_for_holidays_and_weekends(world: World) -> None:  # noqa: F811 - the fixture
    world.clock.set("2026-12-23T12:00:00+01:00")
    bavaria = Calendar(holidays=Holidays("DE", "BY"), business_days=True)
    world.add(name="report", cron="0 9 * * *", timezone="Europe/Berlin", calendar=bavaria)
    world.run_until(datetime.fromisoformat("2027-01-08T00:00:00+01:00"))
    assert [row[0] for row in world.rows("report", "Europe/Berlin")] == [
        "2026-12-24T09:00:00+01:00",
        "2026-12-28T09:00:00+01:00",
        "2026-12-29T09:00:00+01:00",
        "2026-12-30T09:00:00+01:00",
        "2026-12-31T09:00:00+01:00",
        "2027-01-04T09:00:00+01:00",
        "2027-01-05T09:00:00+01:00",
        "2027-01-07T09:00:00+01:00",
    ]
    assert {row[3] for row in world.rows("report")} == {"succeeded"}


def test_jobs_with_one_schedule_but_different_calendars_plan_apart(world: World) -> None:  # noqa: F811 - the fixture
    # The planner shares next-slot answers between jobs with the same schedule;
    # a calendar makes the answer different.
    world.clock.set("2026-12-24T08:30:00+00:00")
    world.add(name="plain", cron="0 9 * * *")
    world.add(name="closed", cron="0 9 * * *", calendar=Calendar(exclude=("2026-12-25",)))
    world.run_until(datetime.fromisoformat("2026-12-26T10:00:00+00:00"))
    assert [row[0] for row in world.rows("plain")] == [
        "2026-12-24T09:00:00+00:00",
        "2026-12-25T09:00:00+00:00",
        "2026-12-26T09:00:00+00:00",
    ]
    assert [row[0] for row in world.rows("closed")] == [
        "2026-12-24T09:00:00+00:00",
        "2026-12-26T09:00:00+00:00",
    ]


def test_a_slot_moved_to_the_next_business_day_runs_once(world: World) -> None:  # noqa: F811 - the fixture
    world.clock.set("2026-12-04T12:00:00+00:00")
    weekdays = Calendar(business_days=True, on_excluded="next_business_day")
    world.add(name="tidy", cron="0 10 * * *", calendar=weekdays)
    world.run_until(datetime.fromisoformat("2026-12-08T12:00:00+00:00"))
    assert world.rows("tidy") == [
        ("2026-12-07T10:00:00+00:00", 1, "schedule", "succeeded"),
        ("2026-12-08T10:00:00+00:00", 1, "schedule", "succeeded"),
    ]
