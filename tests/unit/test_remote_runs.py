"""The body of the wrapper task a worker runs, without Celery: store, registry, heartbeat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import NewRun, Run, RunStatus, Trigger
from scheduler.tasks.registry import TaskRegistry
from scheduler.testing import FakeClock, MemoryStore
from scheduler.workers.heartbeats import RunHeartbeat
from scheduler.workers.run import execute_remote_run

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


class Stopped(Exception):
    """What a worker raises inside a task at its time limit (Celery: SoftTimeLimitExceeded)."""


@pytest.fixture
def registry() -> TaskRegistry:
    tasks = TaskRegistry()
    tasks.register(lambda a, b: a + b, name="t.add")
    tasks.register(_stopped, name="t.stopped")
    tasks.register(_wrapped_stop, name="t.wrapped_stop")
    return tasks


def _stopped() -> None:
    raise Stopped


def _wrapped_stop() -> None:
    try:
        _stopped()
    except Stopped as error:
        raise RuntimeError("cleanup failed") from error


def handed_over(store: MemoryStore, task: str, **options: Any) -> Run:
    spec = JobSpec.build(name=task, task=task, every="1h", source=JobSource.CODE, **options)
    store.save_job(spec, now=T0)
    run = store.add_run(task, NewRun(scheduled_for=T0, due_at=T0))
    store.mark_queued(run.id, executor="celery", external_id=f"tickwork-run-{run.id}", now=T0)
    return run


def run(store: MemoryStore, registry: TaskRegistry, run_id: int, **options: Any) -> Any:
    clock = options.pop("clock", FakeClock(T0 + timedelta(seconds=1)))
    heartbeat = RunHeartbeat(lambda: store, interval=60, clock=clock)
    try:
        return execute_remote_run(
            run_id, store=store, registry=registry, heartbeat=heartbeat, clock=clock, **options
        )
    finally:
        heartbeat.close()


def test_a_run_is_started_executed_and_recorded(registry: TaskRegistry) -> None:
    store = MemoryStore()
    queued = handed_over(store, "t.add", kwargs={"a": 1, "b": 2})
    outcome = run(store, registry, queued.id)
    assert outcome is not None and outcome.result == 3
    done = store.get_run(queued.id)
    assert (done.status, done.result) == (RunStatus.SUCCEEDED, 3)
    # Judged by its start until the heartbeat thread's first beat (a minute here).
    assert done.worker and done.heartbeat_at is None


def test_a_run_without_an_external_id_is_beaten_at_once(registry: TaskRegistry) -> None:
    store = MemoryStore()
    queued = handed_over(store, "t.add", kwargs={"a": 1, "b": 2})
    store.set_external_ids({queued.id: ""})  # its hand-over could not be recorded
    run(store, registry, queued.id)
    assert store.get_run(queued.id).heartbeat_at == T0 + timedelta(seconds=1)


def test_a_second_delivery_is_not_executed(registry: TaskRegistry) -> None:
    store = MemoryStore()
    queued = handed_over(store, "t.add", kwargs={"a": 1, "b": 2})
    assert run(store, registry, queued.id) is not None
    first = store.get_run(queued.id)
    assert run(store, registry, queued.id) is None
    assert store.get_run(queued.id) == first


def test_a_run_that_is_gone_is_dropped(registry: TaskRegistry) -> None:
    assert run(MemoryStore(), registry, 404) is None


def test_a_task_the_worker_does_not_know_fails_the_run(registry: TaskRegistry) -> None:
    store = MemoryStore()
    queued = handed_over(store, "t.unknown", retries=1)
    run(store, registry, queued.id)
    failed = store.get_run(queued.id)
    assert failed.status is RunStatus.FAILED
    assert "task 't.unknown' is not registered" in failed.error
    [retry] = [r for r in store.list_runs() if r.attempt == 2]
    assert retry.trigger is Trigger.RETRY


@pytest.mark.parametrize("task", ["t.stopped", "t.wrapped_stop"])
def test_a_stop_at_the_time_limit_is_timed_out(registry: TaskRegistry, task: str) -> None:
    store = MemoryStore()
    queued = handed_over(store, task, timeout="5s")
    run(store, registry, queued.id, is_timeout=lambda error: isinstance(error, Stopped))
    ended = store.get_run(queued.id)
    assert ended.status is RunStatus.TIMED_OUT
    assert ended.error.startswith("TimeoutError: stopped by the worker at the job's 5s timeout")
    assert "Stopped" in ended.traceback


def test_other_failures_stay_failed(registry: TaskRegistry) -> None:
    store = MemoryStore()
    queued = handed_over(store, "t.stopped", timeout="5s")
    run(store, registry, queued.id, is_timeout=lambda error: False)
    assert store.get_run(queued.id).status is RunStatus.FAILED


def test_a_run_past_its_catchup_window_is_cancelled_not_run(registry: TaskRegistry) -> None:
    store = MemoryStore()
    queued = handed_over(store, "t.add", kwargs={"a": 1, "b": 2}, catchup_window="1m")
    late = FakeClock(T0 + timedelta(minutes=1, seconds=1))
    assert run(store, registry, queued.id, clock=late) is None
    ended = store.get_run(queued.id)
    assert (ended.status, ended.started_at) == (RunStatus.CANCELLED, None)


def test_a_run_within_its_catchup_window_runs(registry: TaskRegistry) -> None:
    store = MemoryStore()
    queued = handed_over(store, "t.add", kwargs={"a": 1, "b": 2}, catchup_window="1m")
    on_time = FakeClock(T0 + timedelta(minutes=1))
    assert run(store, registry, queued.id, clock=on_time) is not None
    assert store.get_run(queued.id).status is RunStatus.SUCCEEDED
