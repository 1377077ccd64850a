"""The management commands, on SQLite and PostgreSQL: run_scheduler, scheduler_check,
scheduler_run, scheduler_prune and scheduler_status."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from scheduler.django.models import Replica
from scheduler.django.runner import RunOptions, run
from scheduler.django.store import DjangoStore
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import Outcome, RunStatus, Trigger
from scheduler.testing import FakeClock
from tests.django.testapp import tasks

PING = "tests.django.testapp.tasks.ping"
REPORT = "tests.django.testapp.tasks.report"
START = datetime(2026, 3, 1, 12, tzinfo=UTC)

SCHEDULES = f"""\
jobs:
  ping:
    task: {PING}
    every: 10s
  report:
    task: {REPORT}
    cron: "* * * * *"
"""


@pytest.fixture
def configured(settings: Any, alias: str, tmp_path: Path) -> Path:
    """SCHEDULER on the test database, with a schedules file; returns the file."""
    path = tmp_path / "schedules.yaml"
    path.write_text(SCHEDULES)
    settings.SCHEDULER = {
        "SCHEDULES": path,
        "DATABASE": alias,
        "EXECUTORS": {"default": {"BACKEND": "scheduler.executors.immediate.ImmediateExecutor"}},
    }
    tasks.CALLS.clear()
    return path


def command(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_run_scheduler_on_a_fake_clock_records_every_slot_of_a_minute(
    configured: Path, django_store: DjangoStore
) -> None:
    """The real engine, store and immediate executor on a FakeClock: a simulated
    minute, no real waiting."""
    clock = FakeClock(START)
    run(RunOptions(duration=60, replica_id="r1"), clock=clock)
    runs = django_store.list_runs(limit=100)
    assert {run.status for run in runs} == {RunStatus.SUCCEEDED}
    ping_slots = sorted(run.scheduled_for for run in runs if run.job_name == "ping")
    assert ping_slots == [START + timedelta(seconds=s) for s in range(10, 61, 10)]
    report = [run for run in runs if run.job_name == "report"]
    assert [(r.scheduled_for, r.result) for r in report] == [
        (START + timedelta(minutes=1), {"for": "2026-03-01T12:01:00+00:00"})
    ]
    assert tasks.CALLS.count(("ping", "")) == 6
    assert {run.replica_id for run in runs} == {"r1"}


def test_run_scheduler_once_runs_what_is_due_now_and_exits(
    configured: Path, django_store: DjangoStore
) -> None:
    # --once runs on the real clock: anchor the hourly grid so that exactly one
    # slot (a second ago) is due, whatever the time of day.
    anchor = datetime.now(UTC) - timedelta(hours=1, seconds=1)
    django_store.save_job(
        JobSpec.build(name="by-hand", task=PING, every="1h", start=anchor, source=JobSource.ADMIN),
        now=anchor,
    )
    call_command("run_scheduler", "--once", "--replica-id", "once", "--log-level", "warning")
    [ran] = django_store.list_runs(job_name="by-hand")
    assert (ran.status, ran.result, ran.replica_id) == (RunStatus.SUCCEEDED, "pong", "once")
    # The file was reconciled too, and the replica stopped cleanly.
    assert [job.spec.name for job in django_store.list_jobs()] == ["by-hand", "ping", "report"]
    replica = Replica.objects.using(django_store.using).get(id="once")
    assert replica.stopped_at is not None


def test_run_scheduler_restores_the_signal_handlers_it_installed(configured: Path) -> None:
    before = signal.getsignal(signal.SIGTERM)
    run(RunOptions(once=True), clock=FakeClock(START))
    assert signal.getsignal(signal.SIGTERM) is before


def test_run_scheduler_refuses_a_bad_schedules_file_and_changes_nothing(
    configured: Path, django_store: DjangoStore
) -> None:
    configured.write_text(SCHEDULES.replace("every: 10s", "every: often"))
    err = StringIO()
    with pytest.raises(CommandError, match="1 error"):
        call_command("run_scheduler", "--once", stderr=err)
    assert f"{configured}:4:12: jobs.ping.every: expected a duration" in err.getvalue()
    assert django_store.list_jobs() == []


def test_run_scheduler_names_an_unknown_executor(configured: Path) -> None:
    with pytest.raises(CommandError, match="no executor named 'nope'; choose one of"):
        call_command("run_scheduler", "--once", "--executor", "nope")


def test_scheduler_check_shows_the_next_runs(configured: Path) -> None:
    out = command("scheduler_check", "--count", "2")
    assert out.startswith(f"{configured}: 2 jobs, no errors")
    assert "ping" in out and "every 10s" in out and REPORT in out


def test_scheduler_check_prints_located_errors(configured: Path) -> None:
    configured.write_text(SCHEDULES.replace("tasks.ping", "tasks.pong"))
    err = StringIO()
    with pytest.raises(CommandError, match="1 error"):
        call_command("scheduler_check", stderr=err)
    assert err.getvalue().startswith(f"{configured}:3:11: jobs.ping.task: task ")


def test_scheduler_run_queues_a_manual_run_and_executes_nothing(
    configured: Path, django_store: DjangoStore
) -> None:
    django_store.save_job(
        JobSpec.build(name="by-hand", task=PING, every="1h", source=JobSource.ADMIN),
        now=datetime.now(UTC),
    )
    out = command("scheduler_run", "by-hand")
    [queued] = django_store.list_runs(job_name="by-hand")
    assert out.startswith(f"queued run {queued.id} of by-hand")
    assert (queued.status, queued.trigger, queued.replica_id) == (
        RunStatus.PENDING,
        Trigger.MANUAL,
        "",
    )
    assert tasks.CALLS == []
    # The scheduler picks it up on its next wake-up.
    call_command("run_scheduler", "--once", "--schedules", str(configured), "--log-level", "error")
    assert django_store.get_run(queued.id).status is RunStatus.SUCCEEDED


def test_scheduler_run_of_an_unknown_job_fails(configured: Path) -> None:
    with pytest.raises(CommandError, match="no job is called 'ghost'"):
        command("scheduler_run", "ghost")


def test_scheduler_prune_deletes_old_finished_runs(
    configured: Path, django_store: DjangoStore
) -> None:
    django_store.save_job(
        JobSpec.build(name="by-hand", task=PING, every="1h", source=JobSource.ADMIN), now=START
    )
    for _ in range(3):
        command("scheduler_run", "by-hand")
    for run_ in django_store.list_runs():
        django_store.mark_finished(
            run_.id, Outcome(status=RunStatus.SUCCEEDED, finished_at=datetime.now(UTC))
        )
    assert command("scheduler_prune", "--keep-last", "1") == "deleted 2 runs\n"
    assert len(django_store.list_runs()) == 1


def test_scheduler_status_fails_without_a_live_replica_and_passes_with_one(
    configured: Path, django_store: DjangoStore
) -> None:
    with pytest.raises(CommandError, match="no scheduler replica is alive: none has ever"):
        command("scheduler_status")
    django_store.heartbeat("web-1", hostname="web", pid=7, now=datetime.now(UTC))
    out = command("scheduler_status")
    assert "web-1" in out and "alive" in out and out.rstrip().endswith("1 replica alive")
    django_store.stop_replica("web-1", now=datetime.now(UTC))
    with pytest.raises(CommandError):
        command("scheduler_status")
