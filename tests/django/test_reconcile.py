"""The schedules file reconciled into a Django database: add, change, remove; admin jobs
untouched; a bad file changes nothing and the last good set keeps running."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scheduler.config.reconcile import SchedulesFile
from scheduler.django.discovery import task_registry
from scheduler.django.runner import schedules_file
from scheduler.django.settings import scheduler_settings
from scheduler.django.store import DjangoStore
from scheduler.errors import ConfigError
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.stores.base import SyncReport

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)
PING = "tests.django.testapp.tasks.ping"

TWO_JOBS = f"""\
jobs:
  ping:
    task: {PING}
    every: 15m
  nightly:
    task: {PING}
    cron: "30 2 * * *"
"""


def write(path: Path, text: str, *, tick: int) -> None:
    """Write ``text`` with an mtime the watcher is sure to see as new."""
    path.write_text(text)
    stamp = 1_800_000_000 + tick
    os.utime(path, (stamp, stamp))


@pytest.fixture
def watched(tmp_path: Path, django_store: DjangoStore) -> SchedulesFile:
    path = tmp_path / "schedules.yaml"
    write(path, TWO_JOBS, tick=0)
    watcher = schedules_file(path, django_store, task_registry(()))
    assert watcher.sync(NOW) == SyncReport(added=("nightly", "ping"))
    return watcher


def state(store: DjangoStore) -> list[tuple[str, str, bool, datetime | None]]:
    return [
        (job.spec.name, job.spec.source.value, job.spec.enabled, job.removed_at)
        for job in store.list_jobs()
    ]


def test_start_adds_the_jobs_of_the_file(watched: SchedulesFile, django_store: DjangoStore) -> None:
    assert state(django_store) == [("nightly", "yaml", True, None), ("ping", "yaml", True, None)]
    assert django_store.get_job("ping").next_run_at == NOW + timedelta(minutes=15)


def test_a_changed_file_adds_updates_and_disables_in_one_go(
    watched: SchedulesFile, django_store: DjangoStore
) -> None:
    edited = TWO_JOBS.replace("every: 15m", "every: 5m").replace("nightly", "weekly")
    write(watched.path, edited.replace('"30 2 * * *"', '"0 3 * * 1"'), tick=1)
    watched(NOW + HOUR)
    assert state(django_store) == [
        ("nightly", "yaml", False, NOW + HOUR),  # kept for its history, disabled and marked
        ("ping", "yaml", True, None),
        ("weekly", "yaml", True, None),
    ]
    ping = django_store.get_job("ping")
    assert (ping.version, ping.next_run_at) == (2, NOW + HOUR + timedelta(minutes=5))
    assert django_store.get_job("nightly").next_run_at is None


def test_an_unchanged_file_is_not_read_again(
    watched: SchedulesFile, django_store: DjangoStore
) -> None:
    before = django_store.list_jobs()
    watched(NOW + HOUR)
    assert django_store.list_jobs() == before


def test_admin_jobs_are_never_touched(watched: SchedulesFile, django_store: DjangoStore) -> None:
    admin = JobSpec.build(name="by-hand", task=PING, every="1h", source=JobSource.ADMIN)
    saved = django_store.save_job(admin, now=NOW)
    write(watched.path, "jobs: {}\n", tick=1)
    watched(NOW + HOUR)
    assert django_store.get_job("by-hand") == saved
    assert [name for name, *_ in state(django_store)] == ["by-hand", "nightly", "ping"]


@pytest.mark.parametrize(
    "bad",
    [
        TWO_JOBS.replace("every: 15m", "every: soon"),  # a mistake in the file
        TWO_JOBS.replace("tasks.ping", "tasks.pong"),  # a task nobody registered
        TWO_JOBS + "  by-hand:\n    task: " + PING + "\n    every: 1m\n",  # an admin job's name
    ],
    ids=["bad-value", "unregistered-task", "name-of-an-admin-job"],
)
def test_a_bad_file_changes_nothing_and_the_last_good_set_keeps_running(
    watched: SchedulesFile,
    django_store: DjangoStore,
    bad: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    django_store.save_job(
        JobSpec.build(name="by-hand", task=PING, every="1h", source=JobSource.ADMIN), now=NOW
    )
    before = django_store.list_jobs()
    write(watched.path, bad, tick=1)
    with caplog.at_level(logging.ERROR, logger="scheduler.config.reconcile"):
        watched(NOW + HOUR)
    assert django_store.list_jobs() == before
    [record] = caplog.records
    assert "cannot be used; still running the last good set of 2 jobs" in record.getMessage()
    assert len(watched.last_good) == 2
    # Fixed again, it is picked up.
    write(watched.path, TWO_JOBS.replace("15m", "20m"), tick=2)
    watched(NOW + 2 * HOUR)
    assert django_store.get_job("ping").version == 2


def test_a_bad_file_at_start_is_an_error_naming_each_place(
    tmp_path: Path, django_store: DjangoStore
) -> None:
    path = tmp_path / "schedules.yaml"
    write(path, TWO_JOBS.replace("tasks.ping", "tasks.pong"), tick=0)
    with pytest.raises(ConfigError) as raised:
        schedules_file(path, django_store, task_registry(())).sync(NOW)
    assert [str(issue).split(": task")[0] for issue in raised.value.issues] == [
        f"{path}:3:11: jobs.ping.task",
        f"{path}:6:11: jobs.nightly.task",
    ]
    assert "SCHEDULER['TASKS']" in str(raised.value)
    assert django_store.list_jobs() == []


def test_a_file_without_a_timezone_is_read_in_django_time_zone(
    tmp_path: Path, django_store: DjangoStore, settings: Any
) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    path = tmp_path / "schedules.yaml"
    write(path, TWO_JOBS, tick=0)
    config = scheduler_settings()
    assert config.timezone == "Europe/Berlin"
    watcher = schedules_file(path, django_store, task_registry(()), timezone=config.timezone)
    watcher.sync(NOW)
    nightly = django_store.get_job("nightly")
    assert nightly.spec.timezone == "Europe/Berlin"
    assert nightly.next_run_at == datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
