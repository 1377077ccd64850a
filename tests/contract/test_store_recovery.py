"""Store contract, replicas: heartbeats, clean stops, and recovering the runs of dead ones.

Each test claims runs for a replica (a claim leaves them queued to their
job's executor) and takes them to a status; recovery at ``NOW`` with
``STALE = 1 minute`` then treats a replica as dead when its last heartbeat is
before ``NOW - STALE``, when it stopped, or when it never beat.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from scheduler.model.jobs import JobSpec
from scheduler.model.runs import NewRun, Run, RunStatus, Trigger
from scheduler.stores.base import RecoveryReport, Store

from .helpers import (
    HOUR,
    MINUTE,
    NOW,
    SECOND,
    PlannerError,
    add_runs,
    claimed_row,
    finish,
    hourly,
    move_to,
    row,
)

STALE = MINUTE


def run_of(store: Store, replica: str, status: RunStatus, *, external_id: str = "") -> Run:
    """A run claimed by ``replica`` an hour ago and taken to ``status``;
    ``external_id`` when it was handed to an executor outside the scheduler."""
    if not store.list_jobs():
        store.save_job(hourly("a"), now=NOW - 2 * HOUR)
    slot = NOW - HOUR - len(store.list_runs()) * SECOND  # a slot of its own
    add_runs(store, "a", slot)
    [claimed] = store.claim_pending(now=slot, replica_id=replica, limit=1)
    run_id = claimed.run.id
    if external_id:
        store.set_external_ids({run_id: external_id})
    move_to(store, run_id, status, at=slot)
    return store.get_run(run_id)


def lost(run: Run, replica: str) -> Run:
    error = f"replica {replica} stopped heartbeating"
    return replace(run, status=RunStatus.LOST, finished_at=NOW, error=error)


def test_runs_of_a_replica_that_stopped_heartbeating_are_recovered(store: Store) -> None:
    store.heartbeat("dead", hostname="h1", pid=1, now=NOW - 10 * MINUTE)
    queued = run_of(store, "dead", RunStatus.QUEUED)
    running = run_of(store, "dead", RunStatus.RUNNING)
    report = store.recover(now=NOW, stale_after=STALE)
    assert report == RecoveryReport(lost=(queued.id, running.id))
    assert store.get_run(queued.id) == lost(queued, "dead")
    assert store.get_run(running.id) == lost(running, "dead")


def test_a_run_claimed_by_a_replica_that_died_before_handing_it_over_is_lost(
    store: Store,
) -> None:
    # Claimed means queued: nobody can tell whether the dead replica handed it
    # to its executor, so it is never given to a second replica to run again.
    store.heartbeat("dead", hostname="h1", pid=1, now=NOW - 10 * MINUTE)
    store.save_job(hourly("a"), now=NOW - 2 * HOUR)
    [added] = add_runs(store, "a", NOW - HOUR)
    [claimed] = store.claim_pending(now=NOW - HOUR, replica_id="dead", limit=1)
    assert claimed.run == claimed_row(added.id, "a", NOW - HOUR, at=NOW - HOUR, replica_id="dead")
    assert store.recover(now=NOW, stale_after=STALE) == RecoveryReport(lost=(added.id,))
    assert store.get_run(added.id) == lost(claimed.run, "dead")
    assert store.claim_pending(now=NOW, replica_id="live", limit=10) == []


def test_runs_handed_to_an_outside_executor_are_left_alone(store: Store) -> None:
    store.heartbeat("dead", hostname="h1", pid=1, now=NOW - 10 * MINUTE)
    queued = run_of(store, "dead", RunStatus.QUEUED, external_id="celery-1")
    running = run_of(store, "dead", RunStatus.RUNNING, external_id="celery-2")
    store.beat_runs([running.id], now=NOW)  # its worker is alive (see test_store_worker_runs)
    assert store.recover(now=NOW, stale_after=STALE) == RecoveryReport()
    assert store.list_runs() == [queued, replace(running, heartbeat_at=NOW)]


def test_ended_runs_of_a_dead_replica_are_left_alone(store: Store) -> None:
    store.heartbeat("dead", hostname="h1", pid=1, now=NOW - 10 * MINUTE)
    ended = [run_of(store, "dead", status) for status in (RunStatus.SUCCEEDED, RunStatus.FAILED)]
    assert store.recover(now=NOW, stale_after=STALE) == RecoveryReport()
    assert store.list_runs() == ended


def test_runs_of_a_live_replica_are_left_alone(store: Store) -> None:
    store.heartbeat("live", hostname="h2", pid=2, now=NOW - HOUR)
    runs = [run_of(store, "live", s) for s in (RunStatus.QUEUED, RunStatus.RUNNING)]
    store.heartbeat("live", hostname="h2", pid=2, now=NOW - 10 * SECOND)
    assert store.recover(now=NOW, stale_after=STALE) == RecoveryReport()
    assert store.list_runs() == runs


def test_a_heartbeat_exactly_stale_after_ago_is_still_alive(store: Store) -> None:
    store.heartbeat("edge", hostname="h2", pid=2, now=NOW - STALE)
    running = run_of(store, "edge", RunStatus.RUNNING)
    assert store.recover(now=NOW, stale_after=STALE) == RecoveryReport()
    assert store.get_run(running.id) == running


def test_runs_of_a_replica_that_never_heartbeat_are_recovered(store: Store) -> None:
    queued = run_of(store, "ghost", RunStatus.QUEUED)
    running = run_of(store, "ghost", RunStatus.RUNNING)
    report = store.recover(now=NOW, stale_after=STALE)
    assert report == RecoveryReport(lost=(queued.id, running.id))
    assert store.get_run(running.id) == lost(running, "ghost")


def test_runs_of_a_cleanly_stopped_stale_replica_are_recovered(store: Store) -> None:
    store.heartbeat("gone", hostname="h3", pid=3, now=NOW - 10 * MINUTE)
    queued = run_of(store, "gone", RunStatus.QUEUED)
    running = run_of(store, "gone", RunStatus.RUNNING)
    store.stop_replica("gone", now=NOW - 9 * MINUTE)
    report = store.recover(now=NOW, stale_after=STALE)
    assert report == RecoveryReport(lost=(queued.id, running.id))


def test_a_stopped_replica_is_dead_at_once(store: Store) -> None:
    # A clean stop promises the replica will not touch its runs again, so its
    # leftovers need not wait for its heartbeat to go stale.
    store.heartbeat("gone", hostname="h3", pid=3, now=NOW - 10 * SECOND)
    running = run_of(store, "gone", RunStatus.RUNNING)
    store.stop_replica("gone", now=NOW - 5 * SECOND)
    assert store.recover(now=NOW, stale_after=STALE) == RecoveryReport(lost=(running.id,))


def test_a_replica_that_heartbeats_after_a_stop_is_alive_again(store: Store) -> None:
    store.heartbeat("back", hostname="h3", pid=3, now=NOW - 10 * MINUTE)
    store.stop_replica("back", now=NOW - 9 * MINUTE)
    store.heartbeat("back", hostname="h3", pid=4, now=NOW - 10 * SECOND)
    running = run_of(store, "back", RunStatus.RUNNING)
    assert store.recover(now=NOW, stale_after=STALE) == RecoveryReport()
    assert store.get_run(running.id) == running


def test_recover_twice_finds_nothing_the_second_time(store: Store) -> None:
    store.heartbeat("dead", hostname="h1", pid=1, now=NOW - 10 * MINUTE)
    run_of(store, "dead", RunStatus.QUEUED)
    run_of(store, "dead", RunStatus.RUNNING)
    store.recover(now=NOW, stale_after=STALE)
    before = store.list_runs()
    assert store.recover(now=NOW + SECOND, stale_after=STALE) == RecoveryReport()
    assert store.list_runs() == before


def test_unclaimed_runs_belong_to_no_replica_and_are_left_alone(store: Store) -> None:
    store.save_job(hourly("a"), now=NOW - 2 * HOUR)
    [pending] = add_runs(store, "a", NOW - HOUR)
    assert store.recover(now=NOW, stale_after=STALE) == RecoveryReport()
    assert store.get_run(pending.id) == pending


# -- retries of lost runs -----------------------------------------------------------
class RecordingRetrier:
    """A :data:`~scheduler.stores.base.Retrier` that asks for attempt + 1, due a minute
    after the loss, and records what it was given."""

    def __init__(self, *, fail: bool = False) -> None:
        self.calls: list[tuple[Run, JobSpec]] = []
        self.fail = fail

    def __call__(self, run: Run, job: JobSpec) -> NewRun | None:
        self.calls.append((run, job))
        if self.fail:
            raise PlannerError("retrier refuses")
        if run.attempt > job.policy.retries:
            return None
        assert run.finished_at is not None
        return NewRun(
            scheduled_for=run.scheduled_for,
            due_at=run.finished_at + MINUTE,
            attempt=run.attempt + 1,
            trigger=Trigger.RETRY,
        )


def test_each_lost_run_gets_the_next_attempt_its_retrier_asks_for(store: Store) -> None:
    spec = store.save_job(hourly("a", retries=1), now=NOW - 2 * HOUR).spec
    store.heartbeat("dead", hostname="h1", pid=1, now=NOW - 10 * MINUTE)
    queued = run_of(store, "dead", RunStatus.QUEUED)
    running = run_of(store, "dead", RunStatus.RUNNING)
    retrier = RecordingRetrier()
    report = store.recover(now=NOW, stale_after=STALE, retry=retrier)
    # the runs as marked, and their job
    assert retrier.calls == [(lost(queued, "dead"), spec), (lost(running, "dead"), spec)]
    assert report.lost == (queued.id, running.id)
    assert len(report.retries) == 2
    assert not {queued.id, running.id} & set(report.retries)
    retries = {store.get_run(retry_id).scheduled_for: retry_id for retry_id in report.retries}
    for run in (queued, running):
        retry_id = retries[run.scheduled_for]
        assert store.get_run(retry_id) == row(
            retry_id, "a", run.scheduled_for, due_at=NOW + MINUTE, attempt=2, trigger=Trigger.RETRY
        )


def test_a_retry_of_a_lost_run_is_claimed_when_due(store: Store) -> None:
    store.save_job(hourly("a", retries=1), now=NOW - 2 * HOUR)
    running = run_of(store, "dead", RunStatus.RUNNING)
    (retry_id,) = store.recover(now=NOW, stale_after=STALE, retry=RecordingRetrier()).retries
    assert store.claim_pending(now=NOW + MINUTE - SECOND, replica_id="live", limit=5) == []
    [again] = store.claim_pending(now=NOW + MINUTE, replica_id="live", limit=5)
    assert (again.run.id, again.run.scheduled_for) == (retry_id, running.scheduled_for)


def test_a_lost_run_of_a_job_without_retries_left_gets_none(store: Store) -> None:
    store.save_job(hourly("a", retries=0), now=NOW - 2 * HOUR)
    running = run_of(store, "dead", RunStatus.RUNNING)
    retrier = RecordingRetrier()
    report = store.recover(now=NOW, stale_after=STALE, retry=retrier)
    assert report == RecoveryReport(lost=(running.id,))
    assert len(retrier.calls) == 1
    assert store.list_runs() == [lost(running, "dead")]


def test_a_next_attempt_that_exists_already_is_not_created_again(store: Store) -> None:
    store.save_job(hourly("a", retries=1), now=NOW - 2 * HOUR)
    running = run_of(store, "dead", RunStatus.RUNNING)
    [existing] = add_runs(store, "a", running.scheduled_for, attempt=2, trigger=Trigger.RETRY)
    report = store.recover(now=NOW, stale_after=STALE, retry=RecordingRetrier())
    assert report == RecoveryReport(lost=(running.id,))
    assert store.list_runs() == [existing, lost(running, "dead")]


def test_a_retrier_that_raises_leaves_every_run_as_it_was(store: Store) -> None:
    store.save_job(hourly("a", retries=1), now=NOW - 2 * HOUR)
    queued = run_of(store, "dead", RunStatus.QUEUED)
    running = run_of(store, "dead", RunStatus.RUNNING)
    with pytest.raises(PlannerError):
        store.recover(now=NOW, stale_after=STALE, retry=RecordingRetrier(fail=True))
    assert store.list_runs() == [queued, running]
    assert store.recover(now=NOW, stale_after=STALE).lost == (queued.id, running.id)


def test_without_a_retrier_a_lost_run_is_not_retried(store: Store) -> None:
    store.save_job(hourly("a", retries=3), now=NOW - 2 * HOUR)
    running = run_of(store, "dead", RunStatus.RUNNING)
    assert store.recover(now=NOW, stale_after=STALE) == RecoveryReport(lost=(running.id,))
    assert store.list_runs() == [lost(running, "dead")]


# -- forgetting replicas --------------------------------------------------------------
WEEK = timedelta(days=7)


def test_replicas_stopped_or_silent_for_longer_than_the_retention_are_deleted(
    store: Store,
) -> None:
    store.heartbeat("silent", hostname="h1", pid=1, now=NOW - WEEK - SECOND)
    store.heartbeat("stopped", hostname="h2", pid=2, now=NOW - 2 * WEEK)
    store.stop_replica("stopped", now=NOW - WEEK - SECOND)
    store.stop_replica("never-beat", now=NOW - 3 * WEEK)
    assert store.prune_replicas(now=NOW, older_than=WEEK) == 3
    assert store.prune_replicas(now=NOW, older_than=WEEK) == 0


def test_replicas_seen_within_the_retention_are_kept(store: Store) -> None:
    store.heartbeat("alive", hostname="h1", pid=1, now=NOW - SECOND)
    store.heartbeat("edge", hostname="h2", pid=2, now=NOW - WEEK)  # exactly a week: kept
    store.heartbeat("just-stopped", hostname="h3", pid=3, now=NOW - 2 * WEEK)
    store.stop_replica("just-stopped", now=NOW - HOUR)
    assert store.prune_replicas(now=NOW, older_than=WEEK) == 0
    assert store.prune_replicas(now=NOW + HOUR, older_than=WEEK) == 1  # "edge" now


def test_a_replica_that_still_holds_an_active_run_is_kept(store: Store) -> None:
    store.heartbeat("gone", hostname="h1", pid=1, now=NOW - 2 * HOUR)
    # handed to an outside executor: recovery leaves it, so the replica holds it
    queued = run_of(store, "gone", RunStatus.QUEUED, external_id="celery-1")
    store.stop_replica("gone", now=NOW - 2 * HOUR)
    assert store.prune_replicas(now=NOW, older_than=HOUR) == 0
    finish(store, queued.id, NOW)
    assert store.prune_replicas(now=NOW, older_than=HOUR) == 1


def test_a_replica_with_only_ended_runs_is_deleted_and_its_runs_kept(store: Store) -> None:
    store.heartbeat("gone", hostname="h1", pid=1, now=NOW - 2 * HOUR)
    ended = run_of(store, "gone", RunStatus.SUCCEEDED)
    assert store.prune_replicas(now=NOW, older_than=HOUR) == 1
    assert store.list_runs() == [ended]


def test_a_forgotten_replica_that_beats_again_is_alive(store: Store) -> None:
    store.heartbeat("back", hostname="h1", pid=1, now=NOW - 2 * WEEK)
    assert store.prune_replicas(now=NOW - SECOND, older_than=WEEK) == 1
    store.heartbeat("back", hostname="h1", pid=2, now=NOW - SECOND)
    running = run_of(store, "back", RunStatus.RUNNING)
    assert store.recover(now=NOW, stale_after=STALE) == RecoveryReport()
    assert store.get_run(running.id) == running
