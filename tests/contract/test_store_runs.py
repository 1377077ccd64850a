"""Store contract, runs: recording their life, reading history, pruning it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from scheduler.errors import DuplicateRun
from scheduler.model.jobs import JobSpec
from scheduler.model.runs import NewRun, Outcome, Run, RunStatus, Trigger
from scheduler.stores.base import Retrier, Store

from .helpers import (
    HOUR,
    MINUTE,
    NOW,
    SECOND,
    add_runs,
    assert_all_utc,
    finish,
    hourly,
    move_to,
    new_run,
    row,
)

DAY = timedelta(days=1)


@pytest.fixture
def run(store: Store) -> Run:
    """A pending run of job ``a`` for the slot at ``NOW`` (a claim would queue it)."""
    store.save_job(hourly("a"), now=NOW - HOUR)
    [added] = add_runs(store, "a", NOW)
    return added


def the_run(run_id: int, **fields: Any) -> Run:
    """The row of the ``run`` fixture, with ``fields`` changed."""
    return row(run_id, "a", NOW, **fields)


# -- mark_queued, mark_running, mark_finished, cancel_run ------------------------
def test_mark_queued_records_the_executor_and_external_id(store: Store, run: Run) -> None:
    store.mark_queued(run.id, executor="celery", external_id="task-1", now=NOW + SECOND)
    assert store.get_run(run.id) == the_run(
        run.id, status=RunStatus.QUEUED, executor="celery", external_id="task-1"
    )


def test_mark_queued_only_moves_a_pending_run(store: Store, run: Run) -> None:
    store.mark_running(run.id, worker="host:7", now=NOW + SECOND)
    before = store.get_run(run.id)
    store.mark_queued(run.id, executor="celery", external_id="late", now=NOW + 2 * SECOND)
    assert store.get_run(run.id) == before


def test_mark_running_starts_a_queued_run_once(store: Store, run: Run) -> None:
    store.mark_queued(run.id, executor="celery", external_id="task-1", now=NOW + SECOND)
    assert store.mark_running(run.id, worker="host:7", now=NOW + 2 * SECOND)
    started = the_run(
        run.id,
        status=RunStatus.RUNNING,
        executor="celery",
        external_id="task-1",
        started_at=NOW + 2 * SECOND,
        worker="host:7",
    )
    assert store.get_run(run.id) == started
    # the same message delivered twice: the second worker must not run it
    assert not store.mark_running(run.id, worker="other:8", now=NOW + 3 * SECOND)
    assert store.get_run(run.id) == started


def test_mark_running_starts_a_pending_run(store: Store, run: Run) -> None:
    assert store.mark_running(run.id, worker="host:7", now=NOW + SECOND)
    assert store.get_run(run.id) == the_run(
        run.id, status=RunStatus.RUNNING, started_at=NOW + SECOND, worker="host:7"
    )


@pytest.mark.parametrize("status", [RunStatus.SUCCEEDED, RunStatus.CANCELLED])
def test_mark_running_refuses_a_run_that_ended(store: Store, run: Run, status: RunStatus) -> None:
    move_to(store, run.id, status, at=NOW + SECOND)
    before = store.get_run(run.id)
    assert not store.mark_running(run.id, worker="host:7", now=NOW + 2 * SECOND)
    assert store.get_run(run.id) == before


def _retry_of(asked: list[tuple[RunStatus, str]]) -> Retrier:
    def retry(ended: Run, job: JobSpec) -> NewRun:
        asked.append((ended.status, job.name))
        return new_run(ended.scheduled_for, due_at=NOW + MINUTE, attempt=2, trigger=Trigger.RETRY)

    return retry


def test_mark_finished_stores_the_retry_with_the_outcome(store: Store, run: Run) -> None:
    # One transaction: a crash after the outcome committed cannot lose the retry.
    asked: list[tuple[RunStatus, str]] = []
    failed = Outcome(status=RunStatus.FAILED, finished_at=NOW + SECOND)
    assert store.mark_finished(run.id, failed, retry=_retry_of(asked)) is True
    assert asked == [(RunStatus.FAILED, "a")]
    [retry, ended] = store.list_runs(job_name="a")
    assert (ended.id, ended.status) == (run.id, RunStatus.FAILED)
    assert (retry.attempt, retry.status, retry.replica_id) == (2, RunStatus.PENDING, "")
    assert (retry.due_at, retry.trigger) == (NOW + MINUTE, Trigger.RETRY)
    # A second report of the end asks nothing and adds nothing.
    assert store.mark_finished(run.id, failed, retry=_retry_of(asked)) is False
    assert len(asked) == 1 and len(store.list_runs(job_name="a")) == 2


def test_mark_finished_changes_nothing_when_its_retry_is_refused(store: Store, run: Run) -> None:
    add_runs(store, "a", NOW, attempt=2)  # the retry's slot and attempt are taken
    failed = Outcome(status=RunStatus.FAILED, finished_at=NOW + SECOND)
    with pytest.raises(DuplicateRun):
        store.mark_finished(run.id, failed, retry=_retry_of([]))
    assert store.get_run(run.id).status is RunStatus.PENDING


def test_mark_finished_records_the_outcome(store: Store, run: Run) -> None:
    store.mark_running(run.id, worker="host:7", now=NOW + SECOND)
    outcome = Outcome(
        status=RunStatus.FAILED,
        finished_at=NOW + 3 * SECOND,
        result={"rows": [1, 2], "ok": False},
        error="ValueError: bad",
        traceback="Traceback (most recent call last): ...",
    )
    assert store.mark_finished(run.id, outcome) is True
    finished = store.get_run(run.id)
    assert finished == the_run(
        run.id,
        status=RunStatus.FAILED,
        started_at=NOW + SECOND,
        worker="host:7",
        finished_at=NOW + 3 * SECOND,
        result={"rows": [1, 2], "ok": False},
        error="ValueError: bad",
        traceback="Traceback (most recent call last): ...",
    )
    assert finished.duration == 2.0


def test_the_recorded_result_is_a_copy(store: Store, run: Run) -> None:
    result: dict[str, Any] = {"rows": [1, 2]}
    store.mark_finished(run.id, Outcome(status=RunStatus.SUCCEEDED, finished_at=NOW, result=result))
    result["rows"].append(3)
    assert store.get_run(run.id).result == {"rows": [1, 2]}


def test_a_terminal_run_stays_as_it_ended(store: Store, run: Run) -> None:
    finish(store, run.id, NOW + SECOND, RunStatus.SUCCEEDED)
    before = store.get_run(run.id)
    assert (
        store.mark_finished(run.id, Outcome(status=RunStatus.LOST, finished_at=NOW + HOUR)) is False
    )
    assert store.get_run(run.id) == before
    assert not store.cancel_run(run.id, now=NOW + HOUR)
    assert store.get_run(run.id) == before


@pytest.mark.parametrize("status", [RunStatus.PENDING, RunStatus.QUEUED])
def test_cancel_run_withdraws_a_run_that_has_not_started(
    store: Store, run: Run, status: RunStatus
) -> None:
    move_to(store, run.id, status, at=NOW)
    assert store.cancel_run(run.id, now=NOW + MINUTE)
    cancelled = store.get_run(run.id)
    assert (cancelled.status, cancelled.finished_at) == (RunStatus.CANCELLED, NOW + MINUTE)
    assert not store.mark_running(run.id, worker="host:7", now=NOW + 2 * MINUTE)


def test_cancel_run_refuses_a_running_run(store: Store, run: Run) -> None:
    store.mark_running(run.id, worker="host:7", now=NOW + SECOND)
    before = store.get_run(run.id)
    assert not store.cancel_run(run.id, now=NOW + MINUTE)
    assert store.get_run(run.id) == before


def test_an_unknown_run_is_a_lookup_error(store: Store) -> None:
    with pytest.raises(LookupError):
        store.get_run(12345)
    with pytest.raises(LookupError):
        store.mark_queued(12345, executor="default", external_id="", now=NOW)
    with pytest.raises(LookupError):
        store.mark_running(12345, worker="host:7", now=NOW)
    with pytest.raises(LookupError):
        finish(store, 12345, NOW)
    with pytest.raises(LookupError):
        store.cancel_run(12345, now=NOW)


def test_a_run_cannot_finish_in_an_active_status(store: Store, run: Run) -> None:
    with pytest.raises(ValueError, match="terminal"):
        store.mark_finished(run.id, Outcome(status=RunStatus.RUNNING, finished_at=NOW))
    assert store.get_run(run.id) == the_run(run.id)


def test_recorded_runs_come_back_with_aware_utc_instants(store: Store, run: Run) -> None:
    store.mark_running(run.id, worker="host:7", now=NOW + SECOND)
    finish(store, run.id, NOW + 2 * SECOND)
    assert_all_utc(store.get_run(run.id))
    assert_all_utc(store.list_runs())


# -- list_runs --------------------------------------------------------------------
def test_list_runs_is_newest_first_by_slot_then_attempt(store: Store) -> None:
    store.save_job(hourly("a"), now=NOW)
    store.save_job(hourly("b"), now=NOW)
    [a_retry] = add_runs(store, "a", NOW - 2 * HOUR, attempt=2, trigger=Trigger.RETRY)
    a_old, a_new = add_runs(store, "a", NOW - 2 * HOUR, NOW)
    [b_mid] = add_runs(store, "b", NOW - HOUR)
    assert store.list_runs() == [a_new, b_mid, a_retry, a_old]
    assert store.list_runs(limit=2) == [a_new, b_mid]
    assert store.list_runs(job_name="a") == [a_new, a_retry, a_old]
    assert store.list_runs(job_name="ghost") == []


def test_list_runs_filters_by_status(store: Store) -> None:
    store.save_job(hourly("a"), now=NOW)
    store.save_job(hourly("b"), now=NOW)
    a1, a2 = add_runs(store, "a", NOW - HOUR, NOW)
    [b1] = add_runs(store, "b", NOW - HOUR)
    finish(store, a1.id, NOW)
    finish(store, b1.id, NOW)
    succeeded = RunStatus.SUCCEEDED
    # same slot and attempt: the later insert (higher id) comes first
    assert [r.id for r in store.list_runs(status=succeeded)] == [b1.id, a1.id]
    assert [r.id for r in store.list_runs(job_name="a", status=succeeded)] == [a1.id]
    assert store.list_runs(status=RunStatus.PENDING) == [a2]
    assert store.list_runs(status=RunStatus.FAILED) == []


# -- prune ------------------------------------------------------------------------
def history(store: Store, job: str, hours: int) -> list[Run]:
    """``hours`` succeeded runs of ``job``, one per hour up to ``NOW``, oldest first."""
    store.save_job(hourly(job), now=NOW)
    runs = add_runs(store, job, *(NOW - h * HOUR for h in range(hours - 1, -1, -1)))
    for run in runs:
        finish(store, run.id, run.scheduled_for + MINUTE)
    return [store.get_run(run.id) for run in runs]


def test_prune_keeps_the_newest_terminal_runs_of_each_job(store: Store) -> None:
    a = history(store, "a", 4)
    b = history(store, "b", 2)
    [active] = add_runs(store, "a", NOW - 10 * HOUR)  # old, but still pending
    assert store.prune(now=NOW, keep_last=2, max_age=None) == 2
    assert store.list_runs(job_name="a") == [a[3], a[2], active]
    assert store.list_runs(job_name="b") == [b[1], b[0]]


def test_prune_counts_only_terminal_runs_towards_keep_last(store: Store) -> None:
    a = history(store, "a", 2)
    [newest] = add_runs(store, "a", NOW + HOUR)
    assert store.prune(now=NOW, keep_last=1, max_age=None) == 1
    assert store.list_runs(job_name="a") == [newest, a[1]]


def test_prune_deletes_runs_that_finished_before_max_age(store: Store) -> None:
    a = history(store, "a", 4)  # finished at 09:01, 10:01, 11:01, 12:01
    [old_running] = add_runs(store, "a", NOW - DAY)
    store.mark_running(old_running.id, worker="host:7", now=NOW - DAY)
    assert store.prune(now=NOW, keep_last=None, max_age=90 * MINUTE) == 2
    assert [r.id for r in store.list_runs(job_name="a")] == [a[3].id, a[2].id, old_running.id]


def test_prune_with_both_rules_deletes_what_either_rule_deletes(store: Store) -> None:
    a = history(store, "a", 4)
    b = history(store, "b", 1)  # finished at 12:01, young
    assert store.prune(now=NOW + 30 * MINUTE, keep_last=3, max_age=2 * HOUR) == 2
    assert store.list_runs(job_name="a") == [a[3], a[2]]
    assert store.list_runs(job_name="b") == b


def test_prune_without_rules_deletes_nothing(store: Store) -> None:
    history(store, "a", 3)
    assert store.prune(now=NOW + DAY, keep_last=None, max_age=None) == 0
    assert len(store.list_runs()) == 3
