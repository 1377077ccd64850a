"""The django.tasks executor checked once, when it is built: backends, queues, priority,
what it promises, and what ``manage.py check`` says about jobs that ask for more."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from scheduler.clock import SystemClock
from scheduler.django.checks import check_scheduler
from scheduler.django.store import DjangoStore
from scheduler.engine import Engine
from scheduler.executors.base import ExecutorConfigError, build_executor
from scheduler.executors.django_tasks import DjangoTasksExecutor
from scheduler.model.jobs import JobSpec
from scheduler.model.runs import RunStatus
from tests.djtasks.conftest import require_backend

require_backend()

BACKEND = "scheduler.executors.django_tasks.DjangoTasksExecutor"


def _framework() -> str:
    import importlib.util

    return "django.tasks" if importlib.util.find_spec("django.tasks") else "django_tasks"


def build(**options: Any) -> DjangoTasksExecutor:
    executor = build_executor(
        "tasks", {"BACKEND": BACKEND, "OPTIONS": options}, clock=SystemClock()
    )
    assert isinstance(executor, DjangoTasksExecutor)
    return executor


def test_it_promises_what_the_backend_can_do() -> None:
    executor = build(backend="default", queue="reports", priority=10)
    caps = executor.capabilities
    assert (caps.supports_queue, caps.supports_priority) == (True, True)
    # No Django tasks backend can stop a task or see it run too long; the work is elsewhere.
    assert (caps.enforces_timeout, caps.observes_timeout, caps.runs_in_process) == (
        False,
        False,
        False,
    )
    assert (executor.alias, executor.queue, executor.priority) == ("default", "reports", 10)


def test_an_unknown_backend_alias_is_refused_naming_the_configured_ones() -> None:
    with pytest.raises(ExecutorConfigError) as raised:
        build(backend="elsewhere")
    assert str(raised.value).startswith(
        "executor 'tasks': OPTIONS: backend: 'elsewhere' is not a usable backend of "
        "Django's TASKS setting (configured: 'default')"
    )


def test_a_queue_the_backend_does_not_list_is_refused() -> None:
    with pytest.raises(ExecutorConfigError) as raised:
        build(queue="nowhere")
    message = str(raised.value)
    assert message.startswith(
        "executor 'tasks': OPTIONS: queue: django.tasks backend 'default' "
        "(its QUEUES: 'default', 'reports') refuses the wrapper task: "
    )
    assert "nowhere" in message


def test_priority_outside_the_frameworks_range_is_refused() -> None:
    with pytest.raises(ExecutorConfigError, match="priority must be a whole number between"):
        build(priority=1000)
    with pytest.raises(ExecutorConfigError, match="expected a whole number from -100 to 100"):
        build(priority="high")


def test_priority_on_a_backend_without_priorities_is_refused(settings: Any) -> None:
    settings.TASKS = {
        **settings.TASKS,
        "plain": {"BACKEND": "tests.djtasks.backends.FifoBackend"},
    }
    build(backend="plain")  # fine without a priority
    with pytest.raises(ExecutorConfigError) as raised:
        build(backend="plain", priority=5)
    assert str(raised.value) == (
        "executor 'tasks': OPTIONS: priority: django.tasks backend 'plain' "
        "(tests.djtasks.backends.FifoBackend) does not support priorities; remove the option"
    )


# -- manage.py check ------------------------------------------------------------------

SCHEDULES = """\
jobs:
  ping:
    task: tests.django.testapp.tasks.ping
    every: 15m
    executor: tasks
"""


@pytest.fixture
def schedules(tmp_path: Path, settings: Any) -> Iterator[Path]:
    path = tmp_path / "schedules.yaml"
    path.write_text(SCHEDULES)
    settings.SCHEDULER = {
        "SCHEDULES": path,
        "EXECUTORS": {
            "default": {"BACKEND": "scheduler.executors.thread.ThreadExecutor"},
            "tasks": {"BACKEND": BACKEND, "OPTIONS": {"backend": "default"}},
        },
    }
    yield path


def test_a_job_on_django_tasks_passes_the_checks(schedules: Path) -> None:
    assert check_scheduler() == []


def test_a_job_queue_the_backend_refuses_is_e009(schedules: Path) -> None:
    schedules.write_text(SCHEDULES + "    queue: nowhere\n")
    [message] = check_scheduler()
    assert message.id == "scheduler.E009"
    assert message.msg.startswith(
        f"{schedules}:6:12: jobs.ping.queue: queue: django.tasks backend 'default' "
        "(its QUEUES: 'default', 'reports') refuses the wrapper task"
    )
    assert message.hint is not None and "QUEUES" in message.hint
    schedules.write_text(SCHEDULES + "    queue: reports\n")
    assert check_scheduler() == []


def test_a_job_timeout_on_django_tasks_is_w001_with_a_hint(schedules: Path) -> None:
    schedules.write_text(SCHEDULES + "    timeout: 5m\n")
    [message] = check_scheduler()
    assert message.id == "scheduler.W001"
    assert "timeout is set, but executor 'tasks' (django_tasks)" in message.msg
    assert message.hint is not None
    assert "django.tasks backends cannot do either" in message.hint


def test_a_bad_executor_entry_is_e003(schedules: Path, settings: Any) -> None:
    settings.SCHEDULER["EXECUTORS"]["tasks"]["OPTIONS"] = {"backend": "elsewhere"}
    messages = check_scheduler()
    assert [message.id for message in messages] == ["scheduler.E003"]
    assert "'elsewhere' is not a usable backend" in messages[0].msg


# -- the immediate backend: the wrapper runs inside enqueue, in this process ----------


@pytest.fixture
def immediate(settings: Any, django_sqlite: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    import scheduler.django.tasks as wrapper
    from scheduler.workers import store as worker_stores

    immediate = f"{_framework()}.backends.immediate.ImmediateBackend"
    settings.TASKS = {"default": {"BACKEND": immediate}}
    monkeypatch.setattr(wrapper, "_side", None)  # a fresh worker side, on this database
    # What the Django app registers when it is ready, on this test's database.
    before = worker_stores.default_store_factory()
    worker_stores.set_default_store_factory(
        lambda: DjangoStore(using=django_sqlite), origin="the Django app"
    )
    try:
        yield django_sqlite
    finally:
        if before is None:
            worker_stores.set_default_store_factory(None, origin="")
        else:
            worker_stores.set_default_store_factory(before.factory, origin=before.origin)


def test_the_immediate_backend_runs_the_wrapper_in_the_scheduler(immediate: str) -> None:
    import tests.djtasks.tasks  # noqa: F401  (registers the tasks)

    store = DjangoStore(using=immediate)
    executor = build(backend="default")
    assert executor.capabilities.runs_in_process
    clock = SystemClock()
    at = clock.now()
    spec = JobSpec.build(name="add", task="tests.djtasks.tasks.add", at=at, kwargs={"a": 1, "b": 2})
    store.save_job(spec, now=at - timedelta(seconds=1))
    try:
        Engine(store, {"default": executor}, clock=clock).tick()
        [run] = store.list_runs(job_name="add")
    finally:
        store.dispose()
    assert (run.status, run.result) == (RunStatus.SUCCEEDED, {"sum": 3})
    assert run.worker.endswith(f":{os.getpid()}")
    assert run.external_id  # the immediate backend's result id


def test_a_job_queue_the_backend_refuses_fails_its_run_at_hand_over(
    django_sqlite: str, tmp_path: Path
) -> None:
    # A job saved in the admin is not seen by manage.py check: its runs fail, by policy.
    from tests.djtasks.harness import close_world, new_world

    world = new_world(django_sqlite, tmp_path, SystemClock(), worker=False)
    try:
        world.add("misrouted", "tests.djtasks.tasks.add", kwargs={"a": 1, "b": 1}, queue="nowhere")
        [run] = world.dispatch()
        assert world.task_results() == []
    finally:
        close_world(world)
    assert run.status is RunStatus.FAILED
    assert run.error.startswith(
        "could not hand the run to executor 'default': django.tasks backend 'default' did not "
        f"enqueue run {run.id}: ExecutorConfigError: job 'misrouted': queue: "
    )
