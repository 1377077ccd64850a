"""The executor contract: what every executor promises, checked in the run table.

Each test runs unchanged in every world of :data:`tests.executors.worlds.WORLDS`
(immediate, thread, Celery on Redis and on RabbitMQ, django.tasks on its
ImmediateBackend and on django-tasks-db).  It is phrased at the level all of
them share: a job saved due in a store, one wake-up of the engine handing its
run to the executor, then the run row as the executor (or its worker) left it
and what the task itself logged.  Where executors differ by design, the test
asks the executor's capabilities what to expect, never its name.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scheduler.engine import Engine
from scheduler.errors import DuplicateRun
from scheduler.executors.base import (
    Executor,
    ExecutorCapabilities,
    ExecutorClosed,
    TimeoutObserver,
    capability_problems,
    resolve_task,
)
from scheduler.model.runs import ClaimedRun, NewRun, Outcome, Run, RunStatus, Trigger

from .contract_tasks import (
    HANG_SECONDS,
    add_later,
    echo,
    explode,
    fails_first,
    hang,
    hang_async,
    not_json,
    wait_for,
    which_run,
)
from .worlds import TaskLog, World, wait_until

EXTRA = {"nested": [1, "two", None, True, 2.5], "text": "h\u00e9llo \u2603", "empty": {}}


def outcome_of(run: Run) -> tuple[Any, ...]:
    """What an execution writes to a run; a run not executed again keeps all of it."""
    return (
        run.status,
        run.result,
        run.error,
        run.traceback,
        run.started_at,
        run.finished_at,
        run.worker,
        run.attempt,
    )


def test_it_is_an_executor_and_says_what_it_can_do(world: World) -> None:
    executor = world.executor
    assert isinstance(executor, Executor)
    assert isinstance(executor.capabilities, ExecutorCapabilities)
    if executor.capabilities.observes_timeout:  # the engine asks it on every wake-up
        assert isinstance(executor, TimeoutObserver)
    assert executor.active_count() == 0


def test_a_task_with_json_arguments_succeeds_once(world: World, task_log: TaskLog) -> None:
    spec = world.save_job(echo, args=[2, 3], kwargs={"log": str(task_log.path), "extra": EXTRA})
    world.hand_over(spec)
    run = world.wait_ended(spec)
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert run.result == {"sum": 5, "args": [2, 3], "extra": EXTRA}
    assert (run.error, run.traceback) == ("", "")
    assert (run.attempt, run.trigger, run.executor) == (1, Trigger.SCHEDULE, "default")
    assert run.started_at is not None and run.finished_at is not None
    assert run.started_at <= run.finished_at
    # Executed exactly once, in the process the run names as its worker.
    [execution] = task_log.entries()
    host, pid = run.worker.rsplit(":", 1)
    assert (host, int(pid)) == (socket.gethostname(), execution["pid"])
    assert (execution["pid"] == os.getpid()) is world.executor.capabilities.runs_in_process
    assert [other.id for other in world.runs_of(spec)] == [run.id]
    wait_until(lambda: world.executor.active_count() == 0, "the executor to be idle")


def test_a_task_that_raises_fails_with_its_error_and_traceback(
    world: World, task_log: TaskLog
) -> None:
    spec = world.save_job(explode, args=["no such customer"], kwargs={"log": str(task_log.path)})
    world.hand_over(spec)
    run = world.wait_ended(spec)
    assert run.status is RunStatus.FAILED
    assert run.error == "LookupError: no such customer"
    assert "in explode" in run.traceback
    assert run.traceback.rstrip().endswith("LookupError: no such customer")
    assert run.result is None
    assert run.started_at is not None and run.finished_at is not None
    assert run.started_at <= run.finished_at and run.worker
    assert task_log.events() == ["explode"]
    assert [other.id for other in world.runs_of(spec)] == [run.id]  # no retries asked, none made


def test_a_task_taking_its_context_receives_its_runs(world: World, task_log: TaskLog) -> None:
    spec = world.save_job(which_run, kwargs={"log": str(task_log.path)})
    world.hand_over(spec)
    run = world.wait_ended(spec)
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert isinstance(run.result, dict)
    assert datetime.fromisoformat(str(run.result.pop("scheduled_for"))) == run.scheduled_for
    assert run.result == {
        "run_id": run.id,
        "job_name": spec.name,
        "attempt": 1,
        "trigger": "schedule",
    }
    assert task_log.events() == ["which_run"]


def test_an_async_task_is_awaited_and_its_result_recorded(world: World, task_log: TaskLog) -> None:
    # Every executor runs coroutine functions (scheduler.executors.invoke); none has a
    # capability to say otherwise, so each must await them.
    spec = world.save_job(add_later, args=[40, 2], kwargs={"log": str(task_log.path)})
    world.hand_over(spec)
    run = world.wait_ended(spec)
    assert (run.status, run.result, run.error) == (RunStatus.SUCCEEDED, {"sum": 42}, "")
    assert task_log.events() == ["add_later"]


def test_a_run_handed_over_again_is_not_executed_again(world: World, task_log: TaskLog) -> None:
    spec = world.save_job(echo, args=[1, 1], kwargs={"log": str(task_log.path)})
    world.hand_over(spec)
    first = world.wait_ended(spec)
    assert first.status is RunStatus.SUCCEEDED, first.error
    world.hand_over_again(first)  # a message delivered twice
    world.wait_dropped(first)
    again = world.run_of(spec)
    assert again is not None and outcome_of(again) == outcome_of(first)
    assert task_log.events() == ["echo"]


def test_a_run_handed_over_again_while_it_runs_is_executed_once(
    world: World, task_log: TaskLog, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    spec = world.save_job(wait_for, kwargs={"log": str(task_log.path), "release": str(release)})
    with world.handing_over(spec):  # in a thread of its own: inline executors block in it
        wait_until(lambda: task_log.events() == ["started"], "the task to start")
        running = world.run_of(spec)
        assert running is not None and running.status is RunStatus.RUNNING
        try:
            world.hand_over_again(running)  # redelivered while the first delivery runs
        except DuplicateRun:  # or refused at once: the executor knows it runs here
            pass
        release.touch()
    run = world.wait_ended(spec)
    world.wait_dropped(run)
    assert (run.status, run.result) == (RunStatus.SUCCEEDED, "released")
    assert task_log.events() == ["started", "finished"]
    assert [other.id for other in world.runs_of(spec)] == [run.id]


def test_a_run_started_elsewhere_is_not_executed(world: World, task_log: TaskLog) -> None:
    spec = world.save_job(echo, due=False, args=[1, 1], kwargs={"log": str(task_log.path)})
    now = datetime.now(UTC)
    created = world.store.add_run(
        spec.name, NewRun(scheduled_for=now, due_at=now, trigger=Trigger.MANUAL)
    )
    assert world.store.mark_running(created.id, worker="elsewhere:1", now=now)
    try:
        world.hand_over_again(created)
        world.wait_dropped(created)
        run = world.store.get_run(created.id)
        assert (run.status, run.worker, run.started_at) == (RunStatus.RUNNING, "elsewhere:1", now)
        assert task_log.entries() == []
    finally:  # the other worker finishes it
        world.store.mark_finished(
            created.id, Outcome(status=RunStatus.SUCCEEDED, finished_at=datetime.now(UTC))
        )


def test_a_failed_run_gets_the_retry_its_job_asks_for(world: World, task_log: TaskLog) -> None:
    backoff = timedelta(seconds=1)
    spec = world.save_job(
        fails_first, kwargs={"log": str(task_log.path)}, retries=1, retry_backoff=backoff
    )
    world.hand_over(spec)
    first = world.wait_ended(spec)
    assert first.status is RunStatus.FAILED
    assert first.error == "RuntimeError: the first attempt fails"
    # Whoever records the failure creates the next attempt, due after the back-off;
    # the engine hands it over when it comes due.
    second = world.wait_ended(spec, attempt=2)
    assert (second.trigger, second.scheduled_for) == (Trigger.RETRY, first.scheduled_for)
    assert first.finished_at is not None
    assert second.due_at == first.finished_at + backoff
    assert (second.status, second.result) == (RunStatus.SUCCEEDED, {"attempt": 2})
    assert second.started_at is not None and second.started_at >= second.due_at
    assert [entry["attempt"] for entry in task_log.entries()] == [1, 2]
    assert [run.attempt for run in world.runs_of(spec)] == [1, 2]  # retries: 1 means one


def test_a_result_that_is_not_json_fails_the_run_saying_so(world: World, task_log: TaskLog) -> None:
    spec = world.save_job(not_json, kwargs={"log": str(task_log.path)})
    world.hand_over(spec)
    run = world.wait_ended(spec)
    assert run.status is RunStatus.FAILED
    assert run.error == "result is not JSON: a set is not a JSON value"
    assert run.result is None
    assert task_log.events() == ["not_json"]


def test_a_shut_down_executor_refuses_runs(world: World, task_log: TaskLog) -> None:
    executor = world.new_executor()
    assert executor.active_count() == 0
    assert executor.shutdown(wait=True, timeout=5) == []
    spec = world.save_job(echo, args=[1, 2], kwargs={"log": str(task_log.path)})
    engine = Engine(world.store, {"default": executor}, replica_id=f"closed-{spec.name}")
    try:
        engine.tick()  # claims the run and cannot hand it over
        run = world.run_of(spec)
        assert run is not None
        task = resolve_task(engine.registry, spec.task, executor)
        with pytest.raises(ExecutorClosed, match="shut down"):
            executor.submit(ClaimedRun(run=run, job=spec), task, engine.dispatcher)
    finally:
        engine.close()
    assert run.status is RunStatus.FAILED
    assert run.error.startswith("could not hand the run to executor 'default': ")
    assert "shut down" in run.error
    assert run.started_at is None
    assert executor.active_count() == 0
    assert task_log.entries() == []


@pytest.mark.parametrize("task", [hang, hang_async], ids=["sync", "async"])
def test_a_timeout_is_enforced_observed_or_declared_ignored(
    world: World, task_log: TaskLog, task: Callable[..., Any]
) -> None:
    """A task that outlives its job's 1 s timeout, in every executor, as its
    capabilities say: stopped (enforces), recorded ``timed_out`` while the work
    goes on (observes), or neither, which the capability check says of the job.
    A coroutine function is held to the same promise as a plain one."""
    caps = world.executor.capabilities
    spec = world.save_job(task, kwargs={"log": str(task_log.path)}, timeout=timedelta(seconds=1))
    problems = capability_problems(spec, "default", world.executor)
    world.hand_over(spec)
    run = world.wait_ended(spec)
    [started] = [entry for entry in task_log.entries() if entry["event"] == "started"]
    natural_end = started["at"] + HANG_SECONDS  # when the task would return by itself
    assert run.started_at is not None and run.finished_at is not None
    if caps.enforces_timeout or caps.observes_timeout:
        assert problems == []
        assert run.status is RunStatus.TIMED_OUT, (run.status, run.error)
        assert run.error.startswith("TimeoutError: ")
        assert run.result is None
        assert run.finished_at.timestamp() < natural_end  # at the timeout, not at the task's end
    else:
        assert problems == [
            f"job {spec.name!r}: timeout is set, but executor 'default' ({world.executor.name}) "
            "can neither stop a run nor notice that it ran too long; the timeout is ignored"
        ]
        assert (run.status, run.result) == (RunStatus.SUCCEEDED, "woke up")
        [finished] = [entry for entry in task_log.entries() if entry["event"] == "finished"]
        assert run.finished_at.timestamp() >= finished["at"] - 0.001
    if caps.enforces_timeout:
        # The work stopped: past its natural end, it still has not finished.
        wait_until(lambda: time.time() > natural_end + 0.5, "the task's natural end to pass")
        assert task_log.events() == ["started"]
    else:
        # The work went on to its end; a late outcome changes nothing recorded.
        wait_until(lambda: "finished" in task_log.events(), "the task to finish by itself")
        wait_until(lambda: world.executor.active_count() == 0, "the executor to be idle")
        later = world.run_of(spec)
        assert later is not None and outcome_of(later) == outcome_of(run)
