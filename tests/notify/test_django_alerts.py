"""The Django side of alerts: NOTIFIERS in settings, its system checks, the
runner that refuses bad ones, the signals, and mail from a real run_scheduler."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError

from scheduler.django.checks import check_scheduler
from scheduler.django.notifications import check_notifiers, uninstall_site_notifiers
from scheduler.django.runner import RunOptions, run
from scheduler.django.signals import run_failed, run_finished
from scheduler.django.store import DjangoStore
from scheduler.model.runs import RunStatus
from scheduler.monitoring.events import RunEvent
from scheduler.tasks.registry import registry as default_registry
from scheduler.testing import FakeClock
from tests.notify.mailers import ADMINS, use_locmem

START = datetime(2026, 3, 1, 12, tzinfo=UTC)
SCHEDULES = """\
jobs:
  flaky:
    task: tests.notify.failing.boom
    every: 5m
  quiet:
    task: tests.notify.failing.boom
    every: 5m
    notify: false
"""
MAIL = {"ops": {"BACKEND": "mail_admins", "OPTIONS": {"THROTTLE": "30m"}}}


@pytest.fixture
def configured(settings: Any, alias: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    path = tmp_path / "schedules.yaml"
    path.write_text(SCHEDULES)
    settings.ADMINS = ADMINS
    use_locmem(settings)
    settings.SCHEDULER = {
        "SCHEDULES": path,
        "DATABASE": alias,
        "TASKS": ["tests.notify.failing.*"],
        "EXECUTORS": {"default": {"BACKEND": "scheduler.executors.immediate.ImmediateExecutor"}},
        "NOTIFIERS": MAIL,
        "POLL_INTERVAL": 300,  # wake for the 5-minute slots only, not every simulated second
    }
    mail.outbox = []
    cache.clear()
    patterns = default_registry.patterns()
    yield settings.SCHEDULER
    uninstall_site_notifiers()
    cache.clear()
    # The runner allow-lists SCHEDULER["TASKS"] in the process's registry: put it back.
    default_registry._patterns[:] = patterns


def test_run_scheduler_mails_once_per_window_and_sends_the_signals(
    configured: dict[str, Any], django_store: DjangoStore
) -> None:
    finished: list[tuple[object, str, RunStatus]] = []
    failed: list[str] = []

    def on_finished(sender: object, event: RunEvent, job: str, **kwargs: Any) -> None:
        finished.append((sender, job, event.status))

    def on_failed(sender: object, event: RunEvent, job: str, **kwargs: Any) -> None:
        failed.append(job)

    run_finished.connect(on_finished)
    run_failed.connect(on_failed)
    try:
        run(RunOptions(duration=3600, replica_id="r1"), clock=FakeClock(START))
    finally:
        run_finished.disconnect(on_finished)
        run_failed.disconnect(on_failed)
    runs = django_store.list_runs(limit=100)
    assert len(runs) == 24 and {r.status for r in runs} == {RunStatus.FAILED}
    # Every end heard once, by signal, with RunEvent as the sender.
    assert len(finished) == 24 and {s for s, _, _ in finished} == {RunEvent}
    assert sorted(failed) == sorted(r.job_name for r in runs)
    # 12 failures of flaky in the hour, one mail per 30 minutes; quiet opted out.
    assert [m.subject for m in mail.outbox] == [
        "[Django] flaky failed (slot 2026-03-01T12:05:00+00:00)",
        "[Django] flaky failed (slot 2026-03-01T12:35:00+00:00) (+5 held back)",
    ]


def test_an_unknown_backend_is_e010_and_run_scheduler_refuses_to_start(
    configured: dict[str, Any], django_store: DjangoStore
) -> None:
    configured["NOTIFIERS"] = {"ops": {"BACKEND": "pager"}}
    [message] = check_notifiers()
    assert message.id == "scheduler.E010"
    assert message.msg.startswith("SCHEDULER['NOTIFIERS']['ops']['BACKEND'] must be one of")
    with pytest.raises(CommandError, match=r"\['ops'\]\['BACKEND'\] must be one of"):
        call_command("run_scheduler", "--once")
    with pytest.raises(SystemCheckError, match=r"scheduler.E010"):
        call_command("check")
    with pytest.raises(ImproperlyConfigured, match=r"\['ops'\]\['BACKEND'\]"):
        run(RunOptions(once=True), clock=FakeClock(START))
    assert django_store.list_jobs() == []


def test_an_unknown_option_is_e010_naming_it(configured: dict[str, Any]) -> None:
    configured["NOTIFIERS"] = {"ops": {"BACKEND": "mail_admins", "OPTIONS": {"THROTTEL": "1m"}}}
    [message] = check_notifiers()
    assert message.id == "scheduler.E010"
    assert "unknown option 'THROTTEL'; did you mean 'THROTTLE'?" in message.msg


def test_notifiers_that_are_not_a_dict_are_e010(configured: dict[str, Any]) -> None:
    configured["NOTIFIERS"] = ["ops"]
    assert "scheduler.E010" in [m.id for m in check_scheduler()]


def test_a_job_naming_an_unconfigured_notifier_is_e011_located(
    configured: dict[str, Any],
) -> None:
    path: Path = configured["SCHEDULES"]
    path.write_text(SCHEDULES.replace("notify: false", "notify: [ops, slack]"))
    [message] = check_notifiers()
    assert message.id == "scheduler.E011"
    assert message.msg == (
        f"{path}:8:13: jobs.quiet.notify: no notifier named 'slack' (configured: ops)"
    )


def test_the_good_configuration_passes(configured: dict[str, Any]) -> None:
    assert check_notifiers() == []
    assert check_scheduler() == []


def test_mail_to_no_admins_is_w003(configured: dict[str, Any], settings: Any) -> None:
    settings.ADMINS = []
    [message] = check_notifiers()
    assert message.id == "scheduler.W003"
    assert message.msg == (
        "SCHEDULER['NOTIFIERS']['ops'] mails ADMINS, and ADMINS is empty: no mail will be sent"
    )


def test_the_signals_are_connected_to_the_process_hooks() -> None:
    from scheduler.monitoring.hooks import hooks

    heard: list[str] = []

    def receiver(sender: object, event: RunEvent, job: str, **kwargs: Any) -> None:
        heard.append(job)

    from scheduler.model.jobs import JobSpec
    from scheduler.model.runs import Trigger

    spec = JobSpec.build(name="x", task="a.b", every="1m")
    event = RunEvent(
        job=spec, run_id=1, status=RunStatus.LOST, scheduled_for=START, due_at=START,
        attempt=1, trigger=Trigger.SCHEDULE, finished_at=START + timedelta(seconds=1),
    )  # fmt: skip
    run_failed.connect(receiver)
    try:
        hooks.emit_finished(event)
    finally:
        run_failed.disconnect(receiver)
    assert heard == ["x"]


def test_a_worker_that_records_a_failure_sends_the_sites_notifications(
    configured: dict[str, Any], django_store: DjangoStore
) -> None:
    """What a Celery or django.tasks worker with the app loaded does: the site's
    notifiers are on the process's hooks, so the worker's record of the end mails."""
    from scheduler.django.notifications import install_site_notifiers
    from scheduler.engine import Engine, EngineConfig
    from scheduler.model.jobs import JobSpec
    from scheduler.model.policies import JobSource
    from scheduler.monitoring.hooks import RunHooks
    from scheduler.tasks.registry import TaskRegistry
    from scheduler.testing import RecordingExecutor
    from scheduler.workers.heartbeats import RunHeartbeat
    from scheduler.workers.run import execute_remote_run
    from tests.notify.failing import boom

    clock = FakeClock(START)
    tasks = TaskRegistry()
    tasks.register(boom, name="tests.notify.failing.boom")
    django_store.save_job(
        JobSpec.build(
            name="remote", task="tests.notify.failing.boom", every="1m", source=JobSource.CODE
        ),
        now=START,
    )
    scheduler = Engine(
        django_store,
        {"default": RecordingExecutor(clock=clock, auto_run=False)},
        registry=tasks,
        clock=clock,
        config=EngineConfig(poll_interval=60.0),
        hooks=RunHooks(),  # the scheduler hands it over and hears nothing of its end
    )
    scheduler.loop(until=START + timedelta(minutes=1))
    (handed_over,) = django_store.list_runs(limit=1)
    [ops] = install_site_notifiers().values()
    heartbeat = RunHeartbeat(lambda: django_store, clock=clock, interval=60)
    try:
        execute_remote_run(
            handed_over.id, store=django_store, registry=tasks, heartbeat=heartbeat, clock=clock
        )
    finally:
        heartbeat.close()
    assert ops.flush(10)
    assert [m.subject for m in mail.outbox] == [
        "[Django] remote failed (slot 2026-03-01T12:01:00+00:00)"
    ]
