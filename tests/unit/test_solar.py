"""Solar schedules: sun events at a place, in UTC instants, polar days and nights included."""

from __future__ import annotations

from datetime import UTC, datetime
from textwrap import dedent
from zoneinfo import ZoneInfo

import pytest

from scheduler.config import parse_schedules
from scheduler.errors import ConfigError, InvalidSchedule
from scheduler.model.jobs import JobSpec
from scheduler.schedules.solar import Solar

OSLO = ZoneInfo("Europe/Oslo")
# Published sunsets for Oslo agree to the minute (22:43 on midsummer's day).
OSLO_SUNSET = Solar("sunset", 59.9139, 10.7522)
TROMSO_SUNSET = Solar("sunset", 69.6492, 18.9553)


def _following(schedule: Solar, after: str, count: int) -> list[str]:
    found: list[str] = []
    current: datetime | None = datetime.fromisoformat(after)
    while current is not None and len(found) < count:
        current = schedule.next_after(current)
        if current is not None:
            found.append(current.astimezone(OSLO).isoformat())
    return found


@pytest.mark.parametrize(
    ("day", "sunset"),
    [
        ("2026-01-01", "2026-01-01T15:22:21+01:00"),
        ("2026-03-29", "2026-03-29T19:52:51+02:00"),  # the day the clocks go forward
        ("2026-06-21", "2026-06-21T22:43:16+02:00"),
        ("2026-10-25", "2026-10-25T16:39:51+01:00"),  # the day they go back
        ("2026-12-21", "2026-12-21T15:11:26+01:00"),
    ],
)
def test_sunset_in_oslo_across_the_year(day: str, sunset: str) -> None:
    assert _following(OSLO_SUNSET, f"{day}T00:00:00+00:00", 1) == [sunset]


def test_oslo_has_a_sunset_every_day_of_the_year() -> None:
    count, current = 0, datetime(2026, 1, 1, tzinfo=UTC)
    while True:
        due = OSLO_SUNSET.next_after(current)
        assert due is not None and due > current
        if due.year > 2026:
            break
        count, current = count + 1, due
    assert count == 365


def test_no_sunset_in_the_polar_day_of_tromso() -> None:
    # The last sunset before the midnight sun, then none until late July.
    assert _following(TROMSO_SUNSET, "2026-05-16T22:30:00+00:00", 2) == [
        "2026-05-18T00:20:31+02:00",
        "2026-07-27T00:10:02+02:00",
    ]


def test_no_sunset_in_the_polar_night_of_tromso() -> None:
    # The sun last sets on 26 November and is not up again until mid-January.
    assert _following(TROMSO_SUNSET, "2026-11-25T12:00:00+00:00", 2) == [
        "2026-11-26T12:01:07+01:00",
        "2027-01-16T12:28:18+01:00",
    ]


def test_an_offset_moves_the_slot_and_every_slot_is_a_whole_second() -> None:
    before = Solar("sunset", 59.9139, 10.7522, "-30m")
    assert _following(before, "2026-06-21T00:00:00+00:00", 1) == ["2026-06-21T22:13:16+02:00"]
    assert before.describe() == "30m before sunset (59.9139, 10.7522)"
    due = before.next_after(datetime(2026, 6, 21, tzinfo=UTC))
    assert due is not None and due.microsecond == 0


def test_a_slot_after_the_instant_asked_about_is_the_same_event_tomorrow() -> None:
    today = OSLO_SUNSET.next_after(datetime(2026, 6, 21, tzinfo=UTC))
    assert today is not None
    tomorrow = OSLO_SUNSET.next_after(today)
    assert tomorrow is not None
    assert tomorrow.astimezone(OSLO).date().isoformat() == "2026-06-22"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"event": "sunset", "latitude": 91, "longitude": 0}, "latitude: expected -90 to 90"),
        ({"event": "sunset", "latitude": 0, "longitude": -181}, "longitude: expected -180 to 180"),
        ({"event": "moonrise", "latitude": 0, "longitude": 0}, "event: expected one of sunrise"),
        ({"event": "sunset", "latitude": "north", "longitude": 0}, "a number of degrees"),
        ({"event": "sunset", "latitude": 0}, "missing 'longitude'"),
        ({"event": "sunset", "latitude": 0, "longitude": 0, "offset": "soon"}, "offset: expected"),
        ({"event": "sunset", "latitude": 0, "longitude": 0, "offset": "25h"}, "less than a day"),
        ({"event": "sunset", "latitude": 0, "longitude": 0, "at": "x"}, "unknown key 'at'"),
    ],
)
def test_bad_solar_schedules_are_refused(value: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidSchedule, match=message):
        Solar.parse(value)


def test_a_solar_job_in_a_schedules_file_round_trips() -> None:
    text = dedent(
        """\
        jobs:
          lights-on:
            task: home.tasks.lights_on
            solar: {event: sunset, latitude: 59.9139, longitude: 10.7522, offset: -30m}
        """
    )
    (spec,) = parse_schedules(text, "home.yaml")
    assert spec.schedule == Solar("sunset", 59.9139, 10.7522, "-30m")
    assert JobSpec.from_dict(spec.to_dict()) == spec


def test_a_bad_solar_schedule_in_a_file_is_located() -> None:
    text = (
        "jobs:\n  lights:\n    task: home.tasks.on\n"
        "    solar: {event: sunset, latitude: 95, longitude: 10}\n"
    )
    with pytest.raises(ConfigError) as caught:
        parse_schedules(text, "home.yaml")
    (issue,) = caught.value.issues
    assert (issue.line, issue.path) == (4, "jobs.lights.solar")
    assert "latitude: expected -90 to 90 degrees, got 95" in issue.message
