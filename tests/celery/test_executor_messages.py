"""What the Celery executor publishes, read back from kombu's in-memory transport.

No broker is needed: ``memory://`` is kombu's own transport, so these run
everywhere, and what they read is the message a worker would receive.
"""

from __future__ import annotations

from tests.celery.conftest import require_celery

require_celery()

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from celery import Celery

from scheduler.errors import TaskNotRegistered
from scheduler.executors.base import (
    ExecutorClosed,
    ExecutorConfigError,
    build_executor,
    resolve_task,
)
from scheduler.executors.celery import CeleryExecutor
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import ClaimedRun, Outcome, Run, RunStatus, Trigger
from scheduler.tasks.registry import RegisteredTask, TaskRegistry

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


class NoReporter:
    """The Celery executor never reports: its workers write to the store."""

    def started(self, run_id: int, *, worker: str) -> bool:
        raise AssertionError("the Celery executor must not report a start")

    def finished(self, run_id: int, outcome: Outcome) -> None:
        raise AssertionError("the Celery executor must not report an end")


@pytest.fixture
def app() -> Iterator[Celery]:
    made = Celery("messages", broker="memory://")

    @made.task(name="proj.plain.add", shared=False)
    def add(a: int, b: int) -> int:
        return a + b

    yield made


def claimed(run_id: int = 7, **options: Any) -> ClaimedRun:
    options.setdefault("task", "proj.jobs.report")
    spec = JobSpec.build(name="report", every="1h", source=JobSource.CODE, **options)
    run = Run(
        id=run_id,
        job_name="report",
        scheduled_for=T0,
        due_at=T0 + timedelta(seconds=5),
        attempt=1,
        trigger=Trigger.SCHEDULE,
        status=RunStatus.QUEUED,
    )
    return ClaimedRun(run=run, job=spec)


def registered() -> RegisteredTask:
    return RegisteredTask(name="proj.jobs.report", func=lambda: None)


def receive(app: Celery, queue: str) -> Any:
    with app.connection_for_read() as conn:
        simple = conn.SimpleQueue(queue)
        try:
            message = simple.get(timeout=2)
            message.ack()
            return message
        finally:
            simple.close()


def test_a_registered_task_is_sent_as_the_wrapper_with_the_run_id_only(app: Celery) -> None:
    executor = CeleryExecutor(app=app, queue="jobs", priority=3)
    assert executor.submit(claimed(), registered(), NoReporter()) == "tickwork-run-7"
    message = receive(app, "jobs")
    assert message.content_type == "application/json"
    assert message.headers["task"] == "scheduler.execute_run"
    assert message.headers["id"] == "tickwork-run-7"
    assert message.payload[:2] == [[7], {}]
    assert message.properties["priority"] == 3
    assert message.headers["expires"] is None


def test_the_jobs_queue_wins_and_its_timeout_becomes_time_limits(app: Celery) -> None:
    executor = CeleryExecutor(app=app, queue="jobs", kill_after=5)
    executor.submit(claimed(queue="reports", timeout="30s"), registered(), NoReporter())
    message = receive(app, "reports")
    assert message.headers["timelimit"] == [35.0, 30.0]  # [hard, soft]


def test_a_plain_celery_task_is_sent_by_name_with_the_jobs_arguments(app: Celery) -> None:
    executor = CeleryExecutor(app=app, queue="jobs")
    task = executor.named_task("proj.plain.add")
    assert task is not None
    run = claimed(task="proj.plain.add", args=[2], kwargs={"b": 3}, catchup_window="10m")
    executor.submit(run, task, NoReporter())
    message = receive(app, "jobs")
    assert message.headers["task"] == "proj.plain.add"
    assert message.payload[:2] == [[2], {"b": 3}]
    expires = run.run.due_at + timedelta(minutes=10)
    assert datetime.fromisoformat(message.headers["expires"]) == expires


def test_only_task_names_the_app_knows_are_accepted(app: Celery) -> None:
    executor = CeleryExecutor(app=app)
    registry = TaskRegistry()
    assert resolve_task(registry, "proj.plain.add", executor).name == "proj.plain.add"
    for name in ("proj.plain.missing", "os.system", "celery.backend_cleanup"):
        with pytest.raises(TaskNotRegistered):
            resolve_task(registry, name, executor)
    assert executor.named_task("scheduler.execute_run") is None
    stand_in = executor.named_task("proj.plain.add")
    assert stand_in is not None
    with pytest.raises(Exception, match="runs on a worker, not in the scheduler"):
        stand_in.func()


def test_the_registry_wins_over_a_celery_task_of_the_same_name(app: Celery) -> None:
    registry = TaskRegistry()
    ours = registry.register(lambda: None, name="proj.plain.add")
    assert resolve_task(registry, "proj.plain.add", CeleryExecutor(app=app)) is ours


def test_it_is_built_from_settings_with_a_dotted_app_path() -> None:
    executor = build_executor(
        "celery",
        {
            "BACKEND": "scheduler.executors.celery.CeleryExecutor",
            "OPTIONS": {"app": "tests.celery.worker_app.app", "queue": "q"},
        },
        clock=_Clock(),
    )
    assert isinstance(executor, CeleryExecutor)
    caps = executor.capabilities
    assert (caps.enforces_timeout, caps.supports_queue, caps.supports_priority) == (
        True,
        True,
        True,
    )
    assert not caps.runs_in_process and not caps.observes_timeout


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"app": "no_such_module.app"}, "cannot import module 'no_such_module'"),
        ({"app": "tests.celery.worker_app.nothing"}, "has no attribute 'nothing'"),
        ({"app": object()}, "expected a Celery app"),
        ({"app": "tests.celery.worker_app.app", "priority": 256}, "priority: expected"),
        ({"app": "tests.celery.worker_app.app", "queue": ""}, "queue: expected"),
        ({"app": "tests.celery.worker_app.app", "kill_after": 0}, "kill_after: expected"),
        ({"app": "tests.celery.worker_app.app", "expires": True}, "does not accept 'expires'"),
    ],
)
def test_bad_options_are_refused_by_name(options: dict[str, Any], message: str) -> None:
    config = {"BACKEND": "scheduler.executors.celery.CeleryExecutor", "OPTIONS": options}
    with pytest.raises(ExecutorConfigError, match=message):
        build_executor("celery", config, clock=_Clock())


def test_nothing_is_sent_after_shutdown(app: Celery) -> None:
    executor = CeleryExecutor(app=app)
    assert executor.shutdown(wait=True, timeout=1) == []
    with pytest.raises(ExecutorClosed):
        executor.submit(claimed(), registered(), NoReporter())
    assert executor.active_count() == 0


class _Clock:
    real_time = False

    def now(self) -> datetime:
        return T0

    def sleep(self, seconds: float) -> None:
        raise AssertionError("no sleeping")
