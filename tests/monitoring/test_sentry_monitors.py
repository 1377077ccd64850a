"""What Sentry Crons is told about a job: slugs and monitor configurations (no SDK).

Each crontab sent is checked against cronsim, the parser Sentry reads monitor
schedules with: it must fire at the same instants as the job itself.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from cronsim import CronSim

from scheduler.model.jobs import JobSpec
from scheduler.model.runs import RunStatus
from scheduler.monitoring.sentry_monitors import (
    Monitor,
    Unmonitored,
    checkin_status,
    monitor_for,
    monitor_slug,
    slug_clashes,
)
from scheduler.schedules import Cron
from scheduler.schedules.kinds import upcoming

START = datetime(2026, 1, 1, tzinfo=UTC)


def monitor(**options: Any) -> Monitor:
    options.setdefault("name", "job")
    return monitor_for(JobSpec.build(task="tests.work", **options))


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("nightly-backup", "nightly-backup"),
        ("Reports.Daily:EU", "reports-daily-eu"),
        ("a..b__c--d", "a-b__c--d"),
        ("-.edge.-", "edge"),
        ("2026", "job-2026"),
        ("...", "job-" + "ab5df625"),
        ("x" * 50, "x" * 50),
        ("x" * 51, "x" * 41 + "-4d4ab2ae"),
        ("y" * 200, "y" * 41 + "-3c8b7a7f"),
    ],
)
def test_a_slug_is_what_sentry_accepts(name: str, slug: str) -> None:
    found = monitor_slug(name)
    if slug.endswith(("ab5df625", "4d4ab2ae", "3c8b7a7f")):  # the hash: only its shape is pinned
        assert found[:-8] == slug[:-8] and len(found) == len(slug)
    else:
        assert found == slug
    assert found == monitor_slug(name)
    assert len(found) <= 50 and not found.isdigit()
    assert set(found) <= set("abcdefghijklmnopqrstuvwxyz0123456789-_")


def test_long_names_with_a_common_beginning_get_different_slugs() -> None:
    base = "billing.invoices.reminders.for-customers-in-the-european-union"
    assert monitor_slug(base + ".first") != monitor_slug(base + ".second")


def test_clashing_names_are_found() -> None:
    assert slug_clashes(["a.b", "a:b", "A-B", "c", "a_b"]) == {"a-b": ["A-B", "a.b", "a:b"]}
    assert slug_clashes(["a", "b"]) == {}


def test_check_in_statuses() -> None:
    assert {status: checkin_status(status) for status in RunStatus} == {
        RunStatus.PENDING: None,
        RunStatus.QUEUED: None,
        RunStatus.RUNNING: None,
        RunStatus.SUCCEEDED: "ok",
        RunStatus.FAILED: "error",
        RunStatus.TIMED_OUT: "error",
        RunStatus.SKIPPED: None,
        RunStatus.MISSED: None,
        RunStatus.LOST: "error",
        RunStatus.CANCELLED: None,
    }


@pytest.mark.parametrize(
    ("every", "value", "unit"),
    [
        ("1m", 1, "minute"),
        ("15m", 15, "minute"),
        ("1h30m", 90, "minute"),
        ("2h", 2, "hour"),
        ("36h", 36, "hour"),
        ("1d", 1, "day"),
        ("8d", 8, "day"),
        ("1w", 1, "week"),
        ("14d", 2, "week"),
    ],
)
def test_an_interval_in_the_largest_unit_that_divides_it(every: str, value: int, unit: str) -> None:
    assert monitor(every=every).config() == {
        "schedule": {"type": "interval", "value": value, "unit": unit},
        "timezone": "UTC",
        "checkin_margin": 1,
    }


@pytest.mark.parametrize("every", ["30s", "90s", "1h30s"])
def test_an_interval_of_part_minutes_has_no_monitor(every: str) -> None:
    with pytest.raises(Unmonitored, match="not a whole number of minutes"):
        monitor(every=every)


def test_margin_and_max_runtime_come_from_jitter_and_timeout() -> None:
    assert monitor(every="1h").checkin_margin == 1
    assert monitor(every="1h", jitter="1s").checkin_margin == 2  # 61 s, rounded up
    assert monitor(every="1h", jitter="5m").checkin_margin == 6
    assert monitor(every="1h").max_runtime is None  # Sentry keeps its own setting
    assert monitor(every="1h", timeout="1s").max_runtime == 1
    assert monitor(every="1h", timeout="10m").max_runtime == 10
    assert monitor(every="1h", timeout="10m1s").max_runtime == 11
    assert monitor(every="1h", timeout="60d").max_runtime == 40_320  # Sentry's limit
    assert monitor(cron="30 2 * * * 45").checkin_margin == 2  # fires 45 s past the minute


def test_a_cron_job_sends_its_expression_in_its_zone() -> None:
    assert monitor(cron="30 2 * * 1-5", timezone="Europe/Berlin", timeout="2h").config() == {
        "schedule": {"type": "crontab", "value": "30 2 * * 1-5"},
        "timezone": "Europe/Berlin",
        "checkin_margin": 1,
        "max_runtime": 120,
    }


@pytest.mark.parametrize(
    ("cron", "crontab"),
    [
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
        ("*/15 9-17 * * mon-fri", "*/15 9-17 * * MON-FRI"),
        ("0 0 ? * 5l", "0 0 * * 5L"),
        ("0 12 * * 1#2", "0 12 * * 1#2"),
        ("0 0 L * *", "0 0 L * *"),
        ("0 0 1,15 jan,jul *", "0 0 1,15 JAN,JUL *"),
        ("0 0 */2 * 1", "0 0 */2 * 1"),
        ("0 0 1 * 1", "0 0 1 * 1"),
        ("5-5 * * * *", "5 * * * *"),
        ("0 0 * * 7", "0 0 * * 7"),
        ("30 2 * * * 15", "30 2 * * *"),
    ],
)
def test_a_crontab_sentry_reads_as_the_job_fires(cron: str, crontab: str) -> None:
    sent = monitor(cron=cron).schedule
    assert sent == crontab
    assert isinstance(sent, str)
    ours = Cron(cron, tz="UTC", hash_key="job")
    offset = timedelta(seconds=int(cron.split()[5])) if len(cron.split()) == 6 else timedelta(0)
    expected, instant = [], START
    for _ in range(40):
        found = ours.next_after(instant)
        assert found is not None
        expected.append(found - offset)
        instant = found
    assert list(itertools.islice(CronSim(sent, START), 40)) == expected


def test_hashed_fields_are_sent_as_the_values_they_hash_to() -> None:
    sent = monitor(name="nightly", cron="H H(0-5) * * *").schedule
    minute, hour, *rest = str(sent).split()
    assert rest == ["*", "*", "*"] and int(minute) < 60 and int(hour) <= 5
    assert monitor(name="nightly", cron="H H(0-5) * * *").schedule == sent
    ours = Cron("H H(0-5) * * *", tz="UTC", hash_key="nightly")
    assert ours.next_after(START) == next(iter(CronSim(str(sent), START)))


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"cron": "* * * * * */10"}, "fires more than once a minute (seconds field '*/10')"),
        ({"cron": "0 0 15W * *"}, "Sentry cannot read its cron expression '0 0 15W * *'"),
        ({"at": START}, "a one-off job has no schedule for Sentry to watch"),
    ],
)
def test_what_sentry_cannot_follow_is_refused_with_the_reason(
    options: dict[str, Any], reason: str
) -> None:
    with pytest.raises(Unmonitored) as refused:
        monitor(**options)
    assert reason in str(refused.value)


@pytest.mark.parametrize(
    ("cron", "after"),
    [
        ("30 2 * * *", "2026-03-27T12:00:00+01:00"),  # in the spring gap: once, at 03:00
        ("30 2 * * *", "2026-10-23T12:00:00+02:00"),  # in the repeated hour: once
        ("30 * * * *", "2026-03-28T22:00:00+01:00"),  # wildcard: no run in the gap
        ("30 * * * *", "2026-10-24T22:00:00+02:00"),  # wildcard: both 02:30s
    ],
)
def test_sentry_expects_the_runs_across_daylight_saving_changes(cron: str, after: str) -> None:
    start = datetime.fromisoformat(after).astimezone(ZoneInfo("Europe/Berlin"))
    sent = str(monitor(cron=cron, timezone="Europe/Berlin").schedule)
    expected = list(upcoming(Cron(cron, tz="Europe/Berlin"), start, 8))
    found = [when.astimezone(UTC) for when in itertools.islice(CronSim(sent, start), 8)]
    assert found == expected
