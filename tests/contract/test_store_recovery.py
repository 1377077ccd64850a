"""Store contract, replicas: heartbeats, clean stops, and recovering the runs of dead ones.

Each test claims runs for a replica and takes them to a status; recovery at
``NOW`` with ``STALE = 1 minute`` then treats a replica as dead when its last
heartbeat is before ``NOW - STALE``, when it stopped, or when it never beat.
"""

from __future__ import annotations

from dataclasses import replace

from scheduler.runs import Run, RunStatus
from scheduler.stores.base import RecoveryReport, Store

from .helpers import HOUR, MINUTE, NOW, SECOND, add_runs, hourly, move_to, row

STALE = MINUTE


def run_of(store: Store, replica: str, status: RunStatus, *, external_id: str = "") -> Run:
    """A run claimed by ``replica`` an hour ago and taken to ``status``."""
    if not store.list_jobs():
        store.save_job(hourly("a"), now=NOW - 2 * HOUR)
    slot = NOW - HOUR - len(store.list_runs()) * SECOND  # a slot of its own
    add_runs(store, "a", slot)
    [claimed] = store.claim_pending(now=slot, replica_id=replica, limit=1)
    run_id = claimed.run.id
    if status is not RunStatus.PENDING:
        store.mark_queued(run_id, executor="celery", external_id=external_id, now=slot)
        move_to(store, run_id, status, at=slot)
    return store.get_run(run_id)


def lost(run: Run, replica: str) -> Run:
    error = f"replica {replica} stopped heartbeating"
    return replace(run, status=RunStatus.LOST, finished_at=NOW, error=error)


def test_runs_of_a_replica_that_stopped_heartbeating_are_recovered(store: Store) -> None:
    store.heartbeat("dead", hostname="h1", pid=1, now=NOW - 10 * MINUTE)
    pending = run_of(store, "dead", RunStatus.PENDING)
    queued = run_of(store, "dead", RunStatus.QUEUED)
    running = run_of(store, "dead", RunStatus.RUNNING)
    report = store.recover(now=NOW, stale_after=STALE)
    assert report == RecoveryReport(released=(pending.id,), lost=(queued.id, running.id))
    released = row(pending.id, "a", pending.scheduled_for)
    assert store.get_run(pending.id) == released
    assert store.get_run(queued.id) == lost(queued, "dead")
    assert store.get_run(running.id) == lost(running, "dead")


def test_a_released_run_can_be_claimed_again(store: Store) -> None:
    store.heartbeat("dead", hostname="h1", pid=1, now=NOW - 10 * MINUTE)
    pending = run_of(store, "dead", RunStatus.PENDING)
    store.recover(now=NOW, stale_after=STALE)
    assert store.next_wake() == pending.due_at
    [again] = store.claim_pending(now=NOW, replica_id="live", limit=10)
    assert again.run == row(
        pending.id, "a", pending.scheduled_for, claimed_at=NOW, replica_id="live"
    )


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
    runs = [run_of(store, "live", s) for s in (RunStatus.PENDING, RunStatus.RUNNING)]
    store.heartbeat("live", hostname="h2", pid=2, now=NOW - 10 * SECOND)
    assert store.recover(now=NOW, stale_after=STALE) == RecoveryReport()
    assert store.list_runs() == runs


def test_a_heartbeat_exactly_stale_after_ago_is_still_alive(store: Store) -> None:
    store.heartbeat("edge", hostname="h2", pid=2, now=NOW - STALE)
    running = run_of(store, "edge", RunStatus.RUNNING)
    assert store.recover(now=NOW, stale_after=STALE) == RecoveryReport()
    assert store.get_run(running.id) == running


def test_runs_of_a_replica_that_never_heartbeat_are_recovered(store: Store) -> None:
    pending = run_of(store, "ghost", RunStatus.PENDING)
    running = run_of(store, "ghost", RunStatus.RUNNING)
    report = store.recover(now=NOW, stale_after=STALE)
    assert report == RecoveryReport(released=(pending.id,), lost=(running.id,))
    assert store.get_run(running.id) == lost(running, "ghost")


def test_runs_of_a_cleanly_stopped_stale_replica_are_recovered(store: Store) -> None:
    store.heartbeat("gone", hostname="h3", pid=3, now=NOW - 10 * MINUTE)
    pending = run_of(store, "gone", RunStatus.PENDING)
    running = run_of(store, "gone", RunStatus.RUNNING)
    store.stop_replica("gone", now=NOW - 9 * MINUTE)
    report = store.recover(now=NOW, stale_after=STALE)
    assert report == RecoveryReport(released=(pending.id,), lost=(running.id,))


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
    run_of(store, "dead", RunStatus.PENDING)
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
