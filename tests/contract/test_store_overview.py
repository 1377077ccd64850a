"""Store contract, overview: the counts monitoring reads, and runs read back by id."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scheduler.model.policies import JobSource
from scheduler.model.runs import RunStatus
from scheduler.stores.base import JOB_STATES, Store

from .helpers import HOUR, MINUTE, NOW, SECOND, RecordingPlanner, add_runs, due_now, hourly, move_to


def test_an_empty_store_counts_zero_in_every_state(store: Store) -> None:
    overview = store.overview(now=NOW)
    assert overview.jobs_by_state == dict.fromkeys(JOB_STATES, 0)
    assert overview.due_backlog == 0
    assert overview.runs == ()


def test_jobs_are_counted_by_state(store: Store) -> None:
    due_now(store, "a1", "a2")
    store.save_job(hourly("p"), now=NOW)
    store.set_paused("p", True, now=NOW)
    store.save_job(hourly("d", enabled=False), now=NOW)
    yaml = [hourly("kept", source=JobSource.YAML), hourly("gone", source=JobSource.YAML)]
    store.sync_jobs(yaml, source=JobSource.YAML, now=NOW)
    store.sync_jobs(yaml[:1], source=JobSource.YAML, now=NOW)
    assert store.overview(now=NOW).jobs_by_state == {
        "active": 3,
        "paused": 1,
        "disabled": 1,
        "removed": 1,
    }


def test_the_backlog_is_due_active_jobs_plus_due_unclaimed_runs(store: Store) -> None:
    due_now(store, "a", "b")  # due at NOW
    store.save_job(hourly("later"), now=NOW)  # due at NOW + 1 h
    store.save_job(hourly("paused"), now=NOW - HOUR)
    store.set_paused("paused", True, now=NOW - HOUR)
    add_runs(store, "later", NOW - MINUTE, NOW + MINUTE)  # one due, one not yet
    assert store.overview(now=NOW - SECOND).due_backlog == 1
    assert store.overview(now=NOW).due_backlog == 3
    assert store.overview(now=NOW + MINUTE).due_backlog == 4


def test_claimed_and_finished_runs_leave_the_backlog(store: Store) -> None:
    due_now(store, "a", "b")
    store.save_job(hourly("c"), now=NOW)  # not due; its retry is
    [retry] = add_runs(store, "c", NOW - HOUR)
    claimed = store.claim_due(now=NOW, replica_id="r1", limit=1, plan=RecordingPlanner())
    assert len(claimed) == 1
    assert store.overview(now=NOW).due_backlog == 2  # the other job, and the pending run
    store.claim_pending(now=NOW, replica_id="r1", limit=10)
    assert store.overview(now=NOW).due_backlog == 1
    store.claim_due(now=NOW, replica_id="r1", limit=10, plan=RecordingPlanner())
    assert store.overview(now=NOW).due_backlog == 0
    move_to(store, retry.id, RunStatus.SUCCEEDED, at=NOW + SECOND)
    assert store.overview(now=NOW).due_backlog == 0


def test_runs_asked_for_come_back_as_get_run_reads_them(store: Store) -> None:
    store.save_job(hourly("a"), now=NOW - HOUR)
    first, second, third = add_runs(store, "a", NOW, NOW + HOUR, NOW + 2 * HOUR)
    move_to(store, first.id, RunStatus.FAILED, at=NOW + SECOND)
    store.set_external_ids({second.id: "celery-1"})
    overview = store.overview(now=NOW, run_ids=[third.id, first.id, 999_999, first.id])
    assert overview.runs == (store.get_run(first.id), store.get_run(third.id))
    assert overview.runs[0].status is RunStatus.FAILED


def test_a_pruned_run_is_left_out(store: Store) -> None:
    store.save_job(hourly("a"), now=NOW - HOUR)
    [run] = add_runs(store, "a", NOW)
    move_to(store, run.id, RunStatus.SUCCEEDED, at=NOW)
    assert store.prune(now=NOW + timedelta(days=2), keep_last=None, max_age=timedelta(days=1))
    assert store.overview(now=NOW, run_ids=[run.id]).runs == ()


def test_a_naive_now_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="now"):
        store.overview(now=NOW.replace(tzinfo=None))
