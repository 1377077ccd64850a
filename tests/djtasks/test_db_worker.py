"""Runs handed to a real django.tasks backend: django-tasks-db and its ``db_worker`` process.

Each test asserts the run rows the worker wrote through the Django store, on
SQLite and on PostgreSQL: what a user reads in the admin after a run on
django.tasks succeeded, failed, lost its worker, was enqueued twice, or could
not be enqueued at all.
"""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connections

from scheduler.model.runs import ClaimedRun, RunStatus, Trigger
from scheduler.testing import FakeClock
from tests.djtasks.conftest import require_backend

from .harness import (
    HEARTBEAT,
    QUEUE_TABLE,
    STALE_AFTER,
    TASKS,
    World,
    close_world,
    new_world,
    wait_until,
)

require_backend()


def test_a_registered_task_succeeds_with_its_result(world: World) -> None:
    world.add("add", f"{TASKS}.add", kwargs={"a": 2, "b": 3})
    world.add("report", f"{TASKS}.add", kwargs={"a": 40, "b": 2}, queue="reports")
    world.dispatch()
    run = world.ended("add")
    assert (run.status, run.result, run.error) == (RunStatus.SUCCEEDED, {"sum": 5}, "")
    host, pid = run.worker.rsplit(":", 1)
    assert world.worker.process is not None
    assert host == socket.gethostname() and int(pid) == world.worker.process.pid
    assert run.executor == "default"
    assert run.started_at is not None and run.duration is not None
    report = world.ended("report")
    assert (report.status, report.result) == (RunStatus.SUCCEEDED, {"sum": 42})
    # The external id is the backend's result id; the job's queue is its queue name.
    by_id = {str(result.id): result for result in world.task_results()}
    assert by_id[run.external_id].queue_name == "default"
    assert by_id[report.external_id].queue_name == "reports"
    assert by_id[run.external_id].task_path == "scheduler.django.tasks.execute_run"
    assert by_id[run.external_id].args_kwargs == {"args": [run.id], "kwargs": {}}
    finished = wait_until(
        lambda: (row := _result(world, run.external_id)).status == "SUCCESSFUL" and row,
        "the backend to record its task successful",
    )
    assert finished.return_value == {"run_id": run.id, "status": "succeeded"}


def test_a_failing_task_is_failed_with_its_traceback_and_retried(world: World) -> None:
    world.add(
        "explode", f"{TASKS}.explode", kwargs={"message": "boom"}, retries=1, retry_backoff="1h"
    )
    world.dispatch()
    run = world.ended("explode")
    assert run.status is RunStatus.FAILED
    assert run.error == "ValueError: boom"
    assert "in explode" in run.traceback and run.traceback.rstrip().endswith("ValueError: boom")
    retry = wait_until(
        lambda: [r for r in world.store.list_runs(job_name="explode") if r.attempt == 2],
        "the retry to be created",
    )[0]
    assert (retry.status, retry.trigger) == (RunStatus.PENDING, Trigger.RETRY)
    assert retry.due_at == run.finished_at + timedelta(hours=1)
    # The wrapper itself succeeded: the task's failure is the run's, not the backend's.
    row = wait_until(
        lambda: (found := _result(world, run.external_id)).status == "SUCCESSFUL" and found,
        "the backend to record the wrapper's end",
    )
    assert row.return_value == {"run_id": run.id, "status": "failed"}


def test_a_second_enqueue_of_a_run_is_not_executed(world: World) -> None:
    calls = world.tmp / "calls"
    world.add("once", f"{TASKS}.count_calls", kwargs={"path": str(calls)})
    [run] = world.dispatch()
    claimed = ClaimedRun(run=run, job=world.store.get_job("once").spec)
    task = world.engine.registry.resolve(f"{TASKS}.count_calls")
    again = world.executor.submit(claimed, task, world.engine)
    assert again != run.external_id  # a second task of the backend, for the same run
    ended = world.ended("once")
    row = wait_until(
        lambda: (found := _result(world, again)).status == "SUCCESSFUL" and found,
        "the backend to run the second task",
    )
    assert row.return_value == {"run_id": run.id, "status": "not executed"}
    assert f"run {run.id} of once was delivered again" in world.worker.output()
    assert (ended.status, ended.result) == (RunStatus.SUCCEEDED, 1)
    assert len(calls.read_text().splitlines()) == 1


@pytest.mark.serial  # the loss must be noticed within 6 s
def test_a_worker_killed_mid_run_ends_lost(world: World) -> None:
    mark = world.tmp / "started"
    world.add("victim", f"{TASKS}.sleep", kwargs={"seconds": 600, "mark": str(mark)})
    world.dispatch()
    wait_until(mark.exists, "the task to start")
    wait_until(lambda: world.run_of("victim").heartbeat_at, "the worker's heartbeat")
    assert world.run_of("victim").status is RunStatus.RUNNING
    world.worker.kill()
    killed_at = time.monotonic()
    run = world.ended("victim", tick=True)
    noticed_after = time.monotonic() - killed_at
    assert run.status is RunStatus.LOST
    assert run.error == f"worker {run.worker} stopped heartbeating"
    # Bounded: stale_after, plus a heartbeat and a recovery round.
    assert noticed_after < STALE_AFTER.total_seconds() + 2 * HEARTBEAT + 2


def test_a_refused_enqueue_fails_the_run_and_its_retry_goes_through(
    alias: str, tmp_path: Path
) -> None:
    clock = FakeClock(datetime.now(UTC))
    world = new_world(alias, tmp_path, clock, worker=False)
    try:
        _hide_queue_table(alias, True)
        world.add("add", f"{TASKS}.add", kwargs={"a": 1, "b": 1}, retries=1, retry_backoff="1m")
        world.dispatch()  # the engine survives the backend's error
        failed = world.run_of("add")
        assert failed.status is RunStatus.FAILED
        assert failed.error.startswith(
            "could not hand the run to executor 'default': django.tasks backend 'default' "
            f"did not enqueue run {failed.id}: "
        )
        retry = world.run_of("add", attempt=2)
        assert retry.status is RunStatus.PENDING
        assert retry.due_at == clock.now() + timedelta(minutes=1)
        # The backend's database is back; so is the worker.  The retry comes due.
        _hide_queue_table(alias, False)
        world.worker.start()
        clock.advance(timedelta(minutes=1))
        world.dispatch()
        assert wait_until(
            lambda: (r := world.run_of("add", attempt=2)).status is RunStatus.SUCCEEDED and r,
            "the retry to succeed",
        ).result == {"sum": 2}
    finally:
        _hide_queue_table(alias, False)
        close_world(world)


def _result(world: World, result_id: str) -> object:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.using(world.alias).get(id=result_id)


def _hide_queue_table(alias: str, hidden: bool) -> None:
    """Rename django-tasks-db's table away (its database "refuses"), or back."""
    names = (QUEUE_TABLE, f"{QUEUE_TABLE}_hidden")
    old, new = names if hidden else names[::-1]
    with connections[alias].cursor() as cursor:
        tables = connections[alias].introspection.table_names(cursor)
        if old in tables:
            cursor.execute(f"ALTER TABLE {old} RENAME TO {new}")
