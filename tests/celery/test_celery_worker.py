"""Runs handed to a real Celery worker process, on Redis and on RabbitMQ.

Each test asserts the run rows the worker wrote: what a user reads in
``tickwork runs`` after a run on Celery succeeded, failed, ran out of time,
lost its worker, or was delivered twice.
"""

from __future__ import annotations

from tests.celery.conftest import require_celery

require_celery()

import os
import signal
import socket
import time
from datetime import timedelta
from pathlib import Path

import pytest

from scheduler.model.runs import ClaimedRun, RunStatus, Trigger

from .harness import HEARTBEAT, STALE_AFTER, World, new_world, wait_until

pytestmark = pytest.mark.celery

TASKS = "tests.celery.worker_app"


def test_a_registered_task_succeeds_with_its_result(world: World) -> None:
    world.add("add", f"{TASKS}.add", kwargs={"a": 2, "b": 3})
    world.add("context", f"{TASKS}.which_slot")
    world.dispatch()
    run = world.ended("add")
    assert (run.status, run.result, run.error) == (RunStatus.SUCCEEDED, {"sum": 5}, "")
    host, pid = run.worker.rsplit(":", 1)
    assert host == socket.gethostname() and int(pid) != os.getpid()
    assert run.external_id == f"tickwork-run-{run.id}"
    assert run.executor == "default"
    assert run.started_at is not None and run.finished_at is not None
    assert run.duration is not None
    context = world.ended("context")
    assert context.status is RunStatus.SUCCEEDED
    assert context.result == {"run_id": context.id, "attempt": 1}


def test_a_failing_task_is_failed_with_its_traceback_and_retried(world: World) -> None:
    world.add(
        "explode", f"{TASKS}.explode", kwargs={"message": "boom"}, retries=1, retry_backoff="1h"
    )
    world.dispatch()
    run = world.ended("explode")
    assert run.status is RunStatus.FAILED
    assert run.error == "ValueError: boom"
    assert "in explode" in run.traceback and run.traceback.rstrip().endswith("ValueError: boom")
    # The worker records the end, then creates the next attempt: a moment later.
    retry = wait_until(
        lambda: [r for r in world.store.list_runs(job_name="explode") if r.attempt == 2],
        "the retry to be created",
    )[0]
    assert (retry.status, retry.trigger) == (RunStatus.PENDING, Trigger.RETRY)
    assert retry.due_at == run.finished_at + timedelta(hours=1)


@pytest.mark.serial  # the run must end within 5 s of its 1 s limit
def test_the_soft_time_limit_records_timed_out(world: World) -> None:
    world.add("slow", f"{TASKS}.sleep", kwargs={"seconds": 60}, timeout="1s")
    world.dispatch()
    run = world.ended("slow")
    assert run.status is RunStatus.TIMED_OUT
    assert run.error.startswith("TimeoutError: stopped by the worker at the job's 1s timeout")
    assert "SoftTimeLimitExceeded" in run.traceback
    # The limit counts from the hand-over to the pool process, a little before the
    # run is marked started; the task itself would have slept a minute.
    assert run.duration is not None and run.duration < 5


def test_the_hard_time_limit_records_timed_out(tmp_path: Path, broker: str) -> None:
    world, close = new_world(tmp_path, broker, kill_after=1.0)
    try:
        world.add("stubborn", f"{TASKS}.stubborn", kwargs={"seconds": 60}, timeout="1s")
        world.dispatch()
        run = world.ended("stubborn")
    finally:
        close()
    assert run.status is RunStatus.TIMED_OUT
    assert "TimeLimitExceeded" in run.error


@pytest.mark.serial  # the loss must be noticed within 6 s
def test_a_worker_killed_mid_run_ends_lost(world: World) -> None:
    mark = world.tmp / "started"
    world.add("victim", f"{TASKS}.sleep", kwargs={"seconds": 600, "mark": str(mark)})
    world.dispatch()
    world.started("victim")
    wait_until(mark.exists, "the task to start")
    wait_until(lambda: world.run_of("victim").heartbeat_at, "the worker's heartbeat")
    world.worker.kill()
    killed_at = time.monotonic()
    run = world.ended("victim", tick=True)
    noticed_after = time.monotonic() - killed_at
    assert run.status is RunStatus.LOST
    assert run.error == f"worker {run.worker} stopped heartbeating"
    # Bounded: stale_after, plus a heartbeat and a recovery round.
    assert noticed_after < STALE_AFTER.total_seconds() + 2 * HEARTBEAT + 2


def test_a_pool_process_killed_mid_run_is_lost_at_once(world: World) -> None:
    mark = world.tmp / "started"
    world.add("victim", f"{TASKS}.sleep", kwargs={"seconds": 600, "mark": str(mark)})
    world.dispatch()
    wait_until(lambda: mark.exists() and mark.read_text(), "the task to start")
    os.kill(int(mark.read_text()), signal.SIGKILL)
    run = world.ended("victim")  # no engine tick: the worker's parent records it
    assert run.status is RunStatus.LOST
    assert "WorkerLostError" in run.error


def test_a_duplicate_delivery_is_executed_once(world: World) -> None:
    calls = world.tmp / "calls"
    world.add("once", f"{TASKS}.count_calls", kwargs={"path": str(calls)})
    [run] = world.dispatch()
    claimed = ClaimedRun(run=run, job=world.store.get_job("once").spec)
    task = world.engine.registry.resolve(f"{TASKS}.count_calls")
    assert world.executor.submit(claimed, task, world.engine) == run.external_id  # again
    ended = world.ended("once")
    wait_until(
        lambda: f"run {run.id} of once was delivered again" in world.worker.output(),
        "the worker to drop the second delivery",
    )
    assert (ended.status, ended.result) == (RunStatus.SUCCEEDED, 1)
    assert len(calls.read_text().splitlines()) == 1


def test_a_plain_celery_task_is_tracked_by_its_task_id(world: World) -> None:
    world.add("multiply", "tests.plain.multiply", args=[6, 7])
    world.add("plain-fail", "tests.plain.fail", args=["no luck"])
    world.add("unknown", "tests.plain.nowhere")
    world.add("second-try", "tests.plain.second_try")
    world.dispatch()
    run = world.ended("multiply")
    assert (run.status, run.result) == (RunStatus.SUCCEEDED, 42)
    assert run.external_id == f"tickwork-run-{run.id}" and run.worker
    failed = world.ended("plain-fail")
    assert (failed.status, failed.error) == (RunStatus.FAILED, "RuntimeError: no luck")
    assert "raise RuntimeError(message)" in failed.traceback
    retried = world.ended("second-try")  # Celery's own retry: one run, two tries
    assert (retried.status, retried.result) == (RunStatus.SUCCEEDED, "succeeded on try 2")
    unknown = world.run_of("unknown")
    assert unknown.status is RunStatus.FAILED
    assert "'tests.plain.nowhere' is not registered" in unknown.error


def test_a_message_past_the_catchup_window_is_not_run(world: World) -> None:
    calls = world.tmp / "calls"
    # Due three seconds ago (on time for the scheduler's grace), with a window of
    # one second: the message has expired when the worker receives it.
    world.add(
        "stale", f"{TASKS}.count_calls", kwargs={"path": str(calls)}, catchup_window="1s", due=3
    )
    world.dispatch()
    run = world.ended("stale")
    assert run.status is RunStatus.CANCELLED
    assert run.started_at is None and not calls.exists()


def test_postgresql_as_the_store(tmp_path: Path, broker: str, postgres_url: str) -> None:
    world, close = new_world(tmp_path, broker, database=postgres_url)
    try:
        world.add("add", f"{TASKS}.add", kwargs={"a": 40, "b": 2})
        world.dispatch()
        run = world.ended("add")
    finally:
        close()
    assert (run.status, run.result) == (RunStatus.SUCCEEDED, {"sum": 42})
