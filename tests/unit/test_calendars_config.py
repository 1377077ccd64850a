"""Calendars in schedules files and on the command line."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from scheduler.config import parse_schedules
from scheduler.errors import ConfigError
from scheduler.schedules.calendars import Calendar, DateRange, Holidays, OnExcluded
from tests.cli import run

FILE = dedent(
    """\
    timezone: Europe/Berlin
    calendars:
      company:
        holidays: {country: DE, subdivision: BY}
        business_days: true
        exclude: [2026-12-24..2027-01-01]
    defaults:
      calendar: company
    jobs:
      payroll:
        task: hr.tasks.payroll
        cron: "0 9 * * *"
        exclude: 2026-08-14
        on_excluded: next_business_day
      backup:
        task: ops.tasks.backup
        every: 6h
      once:
        task: ops.tasks.migrate
        at: "2026-12-24T09:00:00+01:00"
      hourly:
        task: ops.tasks.sweep
        cron: "0 * * * *"
        calendar: null
    """
)


def test_a_named_calendar_is_shared_and_a_job_adds_its_own_days() -> None:
    jobs = {spec.name: spec for spec in parse_schedules(FILE, "schedules.yaml")}
    company = Calendar(
        exclude=(DateRange.parse("2026-12-24..2027-01-01"),),
        holidays=Holidays("DE", "BY"),
        business_days=True,
        name="company",
    )
    assert jobs["backup"].calendar == company
    assert jobs["payroll"].calendar == Calendar(
        exclude=(DateRange.parse("2026-08-14"), DateRange.parse("2026-12-24..2027-01-01")),
        holidays=Holidays("DE", "BY"),
        business_days=True,
        on_excluded=OnExcluded.NEXT_BUSINESS_DAY,
        name="company",
    )
    # A one-off job ignores the calendar of its defaults; null drops the named one.
    assert jobs["once"].calendar.is_default
    assert jobs["hourly"].calendar.is_default


BAD = dedent(
    """\
    calendars:
      c: {holidays: {country: XX}}
      d: {exclude: [2026-12-24..2026-12-01, nonsense], weekends: true}
    jobs:
      a: {task: t.x, cron: "0 9 * * *", calendar: nope}
      b: {task: t.x, at: "2026-01-01T00:00:00Z", business_days: true}
      e: {task: t.x, cron: "0 9 * * *", holidays: {country: DE, subdivision: ZZ}}
      f: {task: t.x, cron: "0 9 * * *", on_excluded: later}
    """
)


def test_a_job_may_set_only_the_policy_of_a_named_calendar() -> None:
    # No days of its own: the job once lost its on_excluded with the empty
    # calendar it wrote, and its Christmas slots were dropped, not moved.
    text = dedent(
        """\
        calendars:
          company: {business_days: true}
          moving: {business_days: true, on_excluded: next_business_day}
        jobs:
          moved: {task: t.x, cron: "0 9 * * *", calendar: company, on_excluded: next_business_day}
          kept: {task: t.x, cron: "0 9 * * *", calendar: moving, on_excluded: skip}
        """
    )
    jobs = {spec.name: spec for spec in parse_schedules(text, "schedules.yaml")}
    assert jobs["moved"].calendar == Calendar(
        business_days=True, on_excluded=OnExcluded.NEXT_BUSINESS_DAY, name="company"
    )
    assert jobs["kept"].calendar == Calendar(business_days=True, name="moving")


def test_every_calendar_mistake_is_reported_where_it_is_written() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_schedules(BAD, "bad.yaml")
    found = [(i.line, i.path, i.message.split(";")[0]) for i in caught.value.issues]
    assert found == [
        (2, "calendars.c.holidays", "unknown holiday calendar: country 'XX'"),
        (3, "calendars.d.exclude[0]", "the range 2026-12-24..2026-12-01 ends before it starts"),
        (
            3,
            "calendars.d.exclude[1]",
            "expected a date such as 2026-12-24 or a range such as 2026-12-24..2027-01-01, "
            "got 'nonsense'",
        ),
        (3, "calendars.d.weekends", found[3][2]),
        (5, "jobs.a.calendar", "unknown calendar 'nope'"),
        (6, "jobs.b", "job 'b': calendar: a one-off job ('at') runs at its instant"),
        (7, "jobs.e.holidays", "unknown holiday calendar: subdivision 'ZZ' of country 'DE' (its "
            "subdivisions: BB, BE, BW, BY, HB, HE, HH, MV, NI, NW, RP, SH, SL, SN, ST, TH, "
            "Augsburg)"),
        (8, "jobs.f.on_excluded", "expected one of 'skip', 'next_business_day', got the "
            "string 'later'"),
    ]  # fmt: skip
    assert "unknown key 'weekends'" in found[3][2]


def test_next_explains_the_slots_a_calendar_leaves_out(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "next", "0 9 * * *", "--tz", "Europe/Berlin",
        "--after", "2026-12-23T12:00:00+01:00", "--holidays", "DE-BY", "--business-days",
        "--count", "2", "--explain",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "2026-12-24T09:00:00+01:00",
        "2026-12-28T09:00:00+01:00",
        "",
        "left out 2026-12-25T09:00:00+01:00: public holiday in DE-BY: Christmas Day",
        "left out 2026-12-26T09:00:00+01:00: public holiday in DE-BY: Second Day of Christmas",
        "left out 2026-12-27T09:00:00+01:00: not a business day (Sunday)",
    ]


def test_next_explains_moved_slots(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "next", "0 10 * * 6", "--tz", "Europe/Berlin", "--after", "2026-12-01",
        "--business-days", "--on-excluded", "next_business_day", "--count", "1", "--explain",
    )  # fmt: skip
    assert code == 0
    assert out.splitlines() == [
        "2026-12-07T10:00:00+01:00",
        "",
        "moved    2026-12-05T10:00:00+01:00 to 2026-12-07T10:00:00+01:00: "
        "not a business day (Saturday)",
    ]


def test_next_refuses_an_unknown_country(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "next", "0 9 * * *", "--holidays", "XX", "--count", "1")
    assert (code, out) == (1, "")
    assert "unknown holiday calendar: country 'XX'" in err


def test_check_explains_each_job_with_a_calendar(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text(FILE)
    code, out, err = run(
        capsys, "check", str(path), "--after", "2026-12-23T12:00:00+01:00", "--count", "2",
        "--explain",
    )  # fmt: skip
    assert (code, err) == (0, "")
    explained = out[out.index("\nbackup:") :].splitlines()
    assert explained[:4] == [
        "",
        "backup: company: business days in DE-BY; except 2026-12-24..2027-01-01",
        "no slot was left out between these runs",  # its next two are on the 23rd
        "",
    ]
    assert explained[5:7] == [
        "moved    2026-12-24T09:00:00+01:00 to 2027-01-04T09:00:00+01:00: "
        "excluded by 2026-12-24..2027-01-01",
        "moved    2026-12-25T09:00:00+01:00 to 2027-01-04T09:00:00+01:00: "
        "excluded by 2026-12-24..2027-01-01",
    ]
