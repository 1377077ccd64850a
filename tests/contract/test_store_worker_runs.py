"""Store contract, runs executed outside the scheduler: external ids and worker heartbeats.

A Celery worker executing a run refreshes the run's ``heartbeat_at``; the
scheduler's recovery marks ``lost`` a running run whose worker went quiet for
longer than ``stale_after``, whatever the state of the replica that handed it
over, and (with ``start_timeout``) a queued one that no worker started in
time.  Runs executed inside a replica (no heartbeat, no external id) are left
to the replica's own recovery.
"""

from __future__ import annotations

from dataclasses import replace

from scheduler.model.runs import NewRun, Run, RunStatus, Trigger
from scheduler.stores.base import RecoveryReport, Store

from .helpers import HOUR, MINUTE, NOW, SECOND, add_runs, hourly

STALE = MINUTE
LIVE = "live-replica"
RETRY = Trigger.RETRY


def handed_over(store: Store, *, external_id: str = "celery-1", status: RunStatus) -> Run:
    """A run of a live replica handed to an outside executor and taken to ``status``."""
    if not store.list_jobs():
        store.save_job(hourly("a", executor="celery"), now=NOW - 2 * HOUR)
    store.heartbeat(LIVE, hostname="h", pid=1, now=NOW)
    slot = NOW - HOUR - len(store.list_runs()) * SECOND
    add_runs(store, "a", slot)
    [claimed] = store.claim_pending(now=slot, replica_id=LIVE, limit=1)  # queued to "celery"
    run_id = claimed.run.id
    if external_id:
        store.set_external_ids({run_id: external_id})
    if status is RunStatus.RUNNING:
        assert store.mark_running(run_id, worker="w1:42", now=slot)
    return store.get_run(run_id)


def lost_by_worker(run: Run) -> Run:
    error = f"worker {run.worker} stopped heartbeating"
    return replace(run, status=RunStatus.LOST, finished_at=NOW, error=error)


def test_external_ids_are_recorded_in_one_call(store: Store) -> None:
    first = handed_over(store, external_id="", status=RunStatus.QUEUED)
    second = handed_over(store, external_id="", status=RunStatus.QUEUED)
    store.set_external_ids({first.id: "task-1", second.id: "task-2", 999_999: "unknown"})
    assert store.get_run(first.id) == replace(first, external_id="task-1")
    assert store.get_run(second.id) == replace(second, external_id="task-2")


def test_no_external_ids_is_a_no_op(store: Store) -> None:
    run = handed_over(store, external_id="", status=RunStatus.QUEUED)
    store.set_external_ids({})
    assert store.get_run(run.id) == run


def test_a_beat_refreshes_running_runs_only(store: Store) -> None:
    queued = handed_over(store, status=RunStatus.QUEUED)
    running = handed_over(store, status=RunStatus.RUNNING)
    store.beat_runs([queued.id, running.id, 999_999], now=NOW)
    assert store.get_run(queued.id) == queued
    assert store.get_run(running.id) == replace(running, heartbeat_at=NOW)


def test_a_running_run_whose_worker_went_quiet_is_lost(store: Store) -> None:
    run = handed_over(store, status=RunStatus.RUNNING)
    store.beat_runs([run.id], now=NOW - 2 * MINUTE)
    report = store.recover(now=NOW, stale_after=STALE)
    assert report == RecoveryReport(lost=(run.id,))
    assert store.get_run(run.id) == lost_by_worker(replace(run, heartbeat_at=NOW - 2 * MINUTE))


def test_a_worker_that_beat_within_stale_after_is_alive(store: Store) -> None:
    run = handed_over(store, status=RunStatus.RUNNING)
    store.beat_runs([run.id], now=NOW - STALE)
    assert store.recover(now=NOW, stale_after=STALE) == RecoveryReport()
    assert store.get_run(run.id).status is RunStatus.RUNNING


def test_a_worker_that_died_before_its_first_beat_is_judged_by_the_start(store: Store) -> None:
    run = handed_over(store, status=RunStatus.RUNNING)  # started an hour ago, never beat
    assert store.recover(now=NOW, stale_after=STALE) == RecoveryReport(lost=(run.id,))
    assert store.get_run(run.id) == lost_by_worker(run)


def test_queued_runs_of_outside_executors_wait_for_a_worker(store: Store) -> None:
    run = handed_over(store, status=RunStatus.QUEUED)
    assert store.recover(now=NOW, stale_after=STALE) == RecoveryReport()
    assert store.get_run(run.id) == run


def test_runs_executed_inside_a_live_replica_have_no_worker_heartbeat(store: Store) -> None:
    run = handed_over(store, external_id="", status=RunStatus.RUNNING)
    assert store.recover(now=NOW, stale_after=STALE) == RecoveryReport()
    assert store.get_run(run.id) == run


def test_a_beat_after_the_run_ended_changes_nothing(store: Store) -> None:
    run = handed_over(store, status=RunStatus.RUNNING)
    store.beat_runs([run.id], now=NOW - 2 * MINUTE)
    store.recover(now=NOW, stale_after=STALE)
    ended = store.get_run(run.id)
    store.beat_runs([run.id], now=NOW)
    assert store.get_run(run.id) == ended


# -- a run no worker starts ---------------------------------------------------------
def test_a_queued_run_no_worker_started_in_time_is_lost(store: Store) -> None:
    run = handed_over(store, status=RunStatus.QUEUED)  # handed over an hour ago
    assert run.claimed_at == NOW - HOUR
    report = store.recover(now=NOW, stale_after=STALE, start_timeout=30 * MINUTE)
    assert report == RecoveryReport(lost=(run.id,))
    error = "not started by a worker of executor celery within 30m of being handed over"
    assert store.get_run(run.id) == replace(
        run, status=RunStatus.LOST, finished_at=NOW, error=error
    )
    assert store.mark_running(run.id, worker="w1:42", now=NOW) is False  # a late delivery


def test_a_queued_run_within_its_start_timeout_keeps_waiting(store: Store) -> None:
    run = handed_over(store, status=RunStatus.QUEUED)
    assert store.recover(now=NOW, stale_after=STALE, start_timeout=HOUR) == RecoveryReport()
    assert store.recover(now=NOW, stale_after=STALE, start_timeout=None) == RecoveryReport()
    assert store.get_run(run.id) == run


def test_the_start_timeout_leaves_started_and_in_process_runs_alone(store: Store) -> None:
    running = handed_over(store, status=RunStatus.RUNNING)
    store.beat_runs([running.id], now=NOW)
    in_process = handed_over(store, external_id="", status=RunStatus.QUEUED)
    assert store.recover(now=NOW, stale_after=STALE, start_timeout=MINUTE) == RecoveryReport()
    assert store.get_run(in_process.id) == in_process
    assert store.get_run(running.id).status is RunStatus.RUNNING


def test_a_run_no_worker_started_is_retried_by_its_policy(store: Store) -> None:
    run = handed_over(store, status=RunStatus.QUEUED)

    def retry(lost: Run, spec: object) -> NewRun:
        assert lost.status is RunStatus.LOST and lost.id == run.id
        return NewRun(scheduled_for=lost.scheduled_for, due_at=NOW, attempt=2, trigger=RETRY)

    report = store.recover(now=NOW, stale_after=STALE, retry=retry, start_timeout=MINUTE)
    assert report.lost == (run.id,) and len(report.retries) == 1
    again = store.get_run(report.retries[0])
    assert (again.status, again.attempt, again.trigger) == (RunStatus.PENDING, 2, RETRY)
