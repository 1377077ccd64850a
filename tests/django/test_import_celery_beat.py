"""scheduler_import_celery_beat on django-celery-beat's real models, SQLite and PostgreSQL:
the file it writes loads, means what beat meant, and flags what it cannot carry over."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from scheduler.config import load_schedules, parse_schedules
from scheduler.model.jobs import JobSpec
from scheduler.schedules import Cron, Every, Once
from scheduler.schedules.solar import Solar

from ..peers import need_celery_beat

need_celery_beat(module_level=True)
beat = importlib.import_module("django_celery_beat.models")

FUTURE = datetime(2030, 1, 15, 8, tzinfo=UTC)


@pytest.fixture
def beat_db(alias: str) -> str:
    """The test database, with django-celery-beat's tables."""
    call_command("migrate", "django_celery_beat", database=alias, verbosity=0)
    return alias


def create(alias: str, model: Any, **fields: Any) -> Any:
    """A row, through bulk_create: django-celery-beat's save signals would write
    their change marker to the default database, not to ``alias``."""
    [row] = model.objects.using(alias).bulk_create([model(**fields)])
    return row


def periodic(alias: str, name: str, **fields: Any) -> Any:
    fields.setdefault("task", "reports.tasks.nightly")
    return create(alias, beat.PeriodicTask, name=name, **fields)


def crontab(alias: str, **fields: Any) -> Any:
    for key in ("minute", "hour", "day_of_week", "day_of_month", "month_of_year"):
        fields.setdefault(key, "*")
    return create(alias, beat.CrontabSchedule, **fields)


def imported(alias: str, tmp_path: Path) -> tuple[dict[str, JobSpec], str]:
    path = tmp_path / "schedules.yaml"
    out = StringIO()
    call_command("scheduler_import_celery_beat", "--database", alias, "--output", path, stdout=out)
    assert f"Wrote {path}." in out.getvalue()
    return {spec.name: spec for spec in load_schedules(path)}, path.read_text()


def test_each_schedule_kind_becomes_the_same_job(beat_db: str, tmp_path: Path) -> None:
    periodic(
        beat_db,
        "Nightly report (PDF)",
        crontab=crontab(
            beat_db, minute="30", hour="2", day_of_week="monday-friday", timezone="Europe/Berlin"
        ),
        kwargs=json.dumps({"format": "pdf"}),
        description="Yesterday's sales",
        queue="reports",
    )
    every = create(beat_db, beat.IntervalSchedule, every=15, period="minutes")
    periodic(beat_db, "poll", task="feeds.tasks.poll", interval=every, args=json.dumps([1, "a"]))
    clocked = create(beat_db, beat.ClockedSchedule, clocked_time=FUTURE)
    periodic(beat_db, "launch", task="news.tasks.announce", clocked=clocked, one_off=True)
    periodic(beat_db, "paused", task="feeds.tasks.poll", interval=every, enabled=False)
    periodic(
        beat_db,
        "windowed",
        task="feeds.tasks.poll",
        interval=every,
        start_time=FUTURE,
        expires=FUTURE + timedelta(days=7),
        expire_seconds=300,
    )
    jobs, text = imported(beat_db, tmp_path)

    nightly = jobs["Nightly-report-PDF"]
    assert isinstance(nightly.schedule, Cron)
    assert (nightly.schedule.expr, nightly.timezone) == ("30 2 * * mon-fri", "Europe/Berlin")
    assert (nightly.task, nightly.kwargs, nightly.queue, nightly.description) == (
        "reports.tasks.nightly",
        {"format": "pdf"},
        "reports",
        "Yesterday's sales",
    )
    assert jobs["poll"].schedule == Every(timedelta(minutes=15))
    assert jobs["poll"].args == (1, "a")
    assert jobs["launch"].schedule == Once(FUTURE)
    assert jobs["paused"].enabled is False
    windowed = jobs["windowed"]
    assert (windowed.start, windowed.end, windowed.policy.catchup_window) == (
        FUTURE,
        FUTURE + timedelta(days=7),
        timedelta(seconds=300),
    )
    assert windowed.schedule == Every(timedelta(minutes=15), anchor=FUTURE)
    assert "# PeriodicTask 'Nightly report (PDF)'" in text
    assert "5 periodic tasks, 5 imported (0 marked CHECK), 0 not imported" in text


def test_a_schedule_whose_meaning_would_change_is_imported_disabled_and_flagged(
    beat_db: str, tmp_path: Path
) -> None:
    """Celery ANDs day of month with day of week; cron ORs them.  A week of the
    month is written with '#', the same days; other pairs are flagged."""
    periodic(
        beat_db,
        "first-monday",
        crontab=crontab(beat_db, minute="0", hour="9", day_of_month="1-7", day_of_week="mon"),
    )
    periodic(
        beat_db,
        "friday-13th",
        crontab=crontab(beat_db, minute="0", hour="9", day_of_month="13", day_of_week="fri"),
    )
    periodic(
        beat_db,
        "odd-mondays",
        crontab=crontab(beat_db, minute="0", hour="9", day_of_month="*/2", day_of_week="mon"),
    )
    every = create(beat_db, beat.IntervalSchedule, every=1, period="days")
    periodic(beat_db, "once-only", interval=every, one_off=True)
    jobs, text = imported(beat_db, tmp_path)
    assert jobs["first-monday"].enabled is True
    assert jobs["first-monday"].schedule.expr == "0 9 * * 1#1"  # type: ignore[attr-defined]
    assert jobs["friday-13th"].enabled is False
    assert "CHECK: Celery runs it only on days matching both day_of_month '13'" in text
    assert jobs["odd-mondays"].enabled is True  # '*/2' makes cron AND them too
    assert jobs["once-only"].enabled is False
    assert "CHECK: one_off ran it once in beat" in text
    assert "4 imported (2 marked CHECK)" in text


def test_a_solar_schedule_becomes_a_solar_job(beat_db: str, tmp_path: Path) -> None:
    for event in ("sunrise", "dusk_civil", "solar_noon"):
        sun = create(beat_db, beat.SolarSchedule, event=event, latitude=52.52, longitude=13.405)
        periodic(beat_db, event, task="home.tasks.lights", solar=sun)
    jobs, text = imported(beat_db, tmp_path)
    assert {name: job.schedule for name, job in jobs.items()} == {
        name: Solar(event=ours, latitude=52.52, longitude=13.405)  # type: ignore[arg-type]
        for name, ours in (("sunrise", "sunrise"), ("dusk_civil", "dusk"), ("solar_noon", "noon"))
    }
    assert "3 periodic tasks, 3 imported (0 marked CHECK), 0 not imported" in text


def test_what_cannot_be_expressed_is_listed_not_imported(beat_db: str, tmp_path: Path) -> None:
    solar = create(
        beat_db, beat.SolarSchedule, event="dawn_nautical", latitude=52.52, longitude=13.405
    )
    periodic(beat_db, "lights", task="home.tasks.lights", solar=solar)
    periodic(beat_db, "bad-cron", crontab=crontab(beat_db, minute="61"))
    every = create(beat_db, beat.IntervalSchedule, every=10, period="seconds")
    periodic(beat_db, "routed", interval=every, exchange="fast", routing_key="a.b", priority=3)
    periodic(beat_db, "broken-args", interval=every, args="[not json")
    jobs, text = imported(beat_db, tmp_path)
    assert sorted(jobs) == ["routed"]
    assert "not imported: a solar schedule (dawn_nautical at 52.52, 13.405)" in text
    assert "# PeriodicTask 'bad-cron'\n  # not imported: " in text
    assert "not imported: its args or kwargs are not JSON" in text
    assert "not carried over: exchange 'fast'" in text
    assert "not carried over: routing_key 'a.b'" in text
    assert "not carried over: priority 3" in text
    assert "4 periodic tasks, 1 imported (0 marked CHECK), 3 not imported" in text


def test_names_are_made_valid_and_unique(beat_db: str, tmp_path: Path) -> None:
    every = create(beat_db, beat.IntervalSchedule, every=1, period="hours")
    for name in ("sync: users!", "sync: users?", "???"):
        periodic(beat_db, name, interval=every)
    jobs, _ = imported(beat_db, tmp_path)
    assert sorted(jobs) == ["periodic-task-3", "sync:-users", "sync:-users-3"]


def test_no_tasks_and_stdout(beat_db: str) -> None:
    out = StringIO()
    call_command("scheduler_import_celery_beat", "--database", beat_db, stdout=out)
    assert parse_schedules(out.getvalue()) == []
    assert "0 periodic tasks, 0 imported" in out.getvalue()


def test_an_existing_file_that_is_not_a_schedules_file_is_left_alone(
    beat_db: str, tmp_path: Path
) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text("mine")
    with pytest.raises(CommandError, match="is not a valid schedules file"):
        call_command("scheduler_import_celery_beat", "--database", beat_db, "--output", path)
    assert path.read_text() == "mine"


def test_a_second_import_changes_nothing(beat_db: str, tmp_path: Path) -> None:
    every = create(beat_db, beat.IntervalSchedule, every=1, period="hours")
    periodic(beat_db, "hourly", interval=every)
    _, first = imported(beat_db, tmp_path)
    out = StringIO()
    path = tmp_path / "schedules.yaml"
    call_command(
        "scheduler_import_celery_beat", "--database", beat_db, "--output", path, stdout=out
    )
    assert path.read_text() == first
    assert f"Nothing changed: {path} already has every job." in out.getvalue()
