"""``tickwork check`` on a file that uses every key of the schedules beyond cron:
calendars (named and a job's own), solar schedules, and chains."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from tests.cli import run

FILE = dedent(
    """\
    timezone: Europe/Berlin
    calendars:
      company:
        holidays: {country: DE, subdivision: BY}
        business_days: true
        exclude: [2026-12-24..2027-01-01]
    jobs:
      payroll:
        task: hr.tasks.payroll
        cron: "0 9 * * *"
        calendar: company
        on_excluded: next_business_day
      backup:
        task: ops.tasks.backup
        every: 12h
        exclude: 2026-12-24
        holidays: US
        business_days: true
      lights:
        task: home.tasks.lights
        solar: {event: sunset, latitude: 59.91, longitude: 10.75, offset: -30m}
        timezone: Europe/Oslo
      extract:
        task: etl.tasks.extract
        cron: "0 2 * * *"
      load:
        task: etl.tasks.load
        after: extract
      report:
        task: etl.tasks.report
        after: load
        when: finished
      alert:
        task: etl.tasks.alert
        after: [extract]
        when: failed
        cron: "0 12 * * *"
    """
)


def test_check_prints_the_next_runs_of_every_kind_of_job(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text(FILE)
    code, out, err = run(
        capsys, "check", str(path), "--after", "2026-12-23T12:00:00+01:00", "--count", "2"
    )
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == f"{path}: 7 jobs, no errors"
    assert _next_runs(out) == {
        "alert": [
            "2026-12-24T12:00:00+01:00",
            "2026-12-25T12:00:00+01:00",
            "after extract 2026-12-24T02:00:00+01:00, if it fails",
            "after extract 2026-12-25T02:00:00+01:00, if it fails",
        ],
        # Every 12 hours of UTC; the 24th is excluded, the 25th is Christmas in
        # the US, then a weekend.
        "backup": ["2026-12-23T13:00:00+01:00", "2026-12-28T01:00:00+01:00"],
        "extract": ["2026-12-24T02:00:00+01:00", "2026-12-25T02:00:00+01:00"],
        # Half an hour before sunset in Oslo (astral's sun, to the second).
        "lights": ["2026-12-23T14:42:37+01:00", "2026-12-24T14:43:19+01:00"],
        "load": [
            "after extract 2026-12-24T02:00:00+01:00, if it succeeds",
            "after extract 2026-12-25T02:00:00+01:00, if it succeeds",
        ],
        # Christmas to New Year's Day move to Monday 4 January, as one slot.
        "payroll": ["2027-01-04T09:00:00+01:00", "2027-01-05T09:00:00+01:00"],
        # A chain after a chain: the runs of load are not known in advance.
        "report": ["after each run of load that ends"],
    }


def _next_runs(out: str) -> dict[str, list[str]]:
    """Each job's lines of the NEXT RUNS column."""
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("JOB "))
    column = header.index("NEXT RUNS")
    found: dict[str, list[str]] = {}
    name = ""
    for line in lines[lines.index(header) + 2 :]:
        if not line.strip():
            break
        if line[0] != " ":
            name = line.split()[0]
            found[name] = []
        found[name].append(line[column:].strip())
    return found
