"""How ``tickwork check`` prints instants: in the zone the file uses, always with seconds."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from scheduler.cli import main
from scheduler.model.jobs import JobSpec

FILE = """\
timezone: Europe/Berlin
jobs:
  launch: {task: app.announce, at: 2027-01-15T09:00:00+01:00}
"""


def test_check_prints_a_one_off_instant_in_the_files_zone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    schedules = tmp_path / "schedules.yaml"
    schedules.write_text(FILE)
    assert main(["check", str(schedules), "--after", "2027-01-01T00:00:00Z"]) == 0
    row = capsys.readouterr().out.splitlines()[-1].split()
    assert row == [
        *["launch", "app.announce", "once", "at", "2027-01-15T09:00:00+01:00"],
        *["once", "at", "2027-01-15T09:00:00+01:00", "2027-01-15T09:00:00+01:00"],
    ]


def test_a_one_off_job_describes_its_instant_on_its_own_clock() -> None:
    at = datetime(2027, 7, 1, 7, tzinfo=UTC)
    spec = JobSpec.build(name="launch", task="app.a", at=at, timezone="America/New_York")
    assert spec.describe() == "once at 2027-07-01T03:00:00-04:00"
    assert JobSpec.build(name="launch", task="app.a", at=at).describe() == (
        "once at 2027-07-01T07:00:00+00:00"
    )


def test_slots_print_with_whole_seconds_on_the_minute_and_off_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["next", "--every", "20s", "--anchor", "2026-01-01T00:00:00.250", "--count", "4"]
    assert main([*argv, "--after", "2026-01-01T00:00:30Z"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "2026-01-01T00:00:40+00:00",
        "2026-01-01T00:01:00+00:00",
        "2026-01-01T00:01:20+00:00",
        "2026-01-01T00:01:40+00:00",
    ]
    at = datetime(2027, 7, 1, 7, 0, 0, 500_000, tzinfo=UTC)
    assert JobSpec.build(name="soon", task="app.a", at=at).describe() == (
        "once at 2027-07-01T07:00:00+00:00"
    )
