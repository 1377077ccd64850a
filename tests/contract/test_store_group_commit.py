"""Store contract, group commit: many starts and ends in one ``record_transitions``.

Each report is recorded exactly as its one-run verb (``mark_running``,
``mark_finished``) records it; the batch is all or nothing.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from scheduler.errors import DuplicateRun
from scheduler.model.jobs import JobSpec
from scheduler.model.runs import NewRun, Outcome, Run, RunStatus, Trigger
from scheduler.stores.base import RunEnd, RunStart, Store, Transitions

from .helpers import HOUR, MINUTE, NOW, SECOND, add_runs, hourly, move_to, new_run

SLOTS = [NOW - 3 * HOUR, NOW - 2 * HOUR, NOW - HOUR, NOW]


@pytest.fixture
def runs(store: Store) -> list[Run]:
    """Four pending runs of job ``a``, one per slot of :data:`SLOTS`."""
    store.save_job(hourly("a", retries=2), now=NOW - 4 * HOUR)
    return add_runs(store, "a", *SLOTS)


def start(run: Run, seconds: int = 1, worker: str = "host:7") -> RunStart:
    return RunStart(run_id=run.id, worker=worker, at=NOW + seconds * SECOND)


def end(run: Run, status: RunStatus = RunStatus.SUCCEEDED, *, retry: bool = False) -> RunEnd:
    outcome = Outcome(status=status, finished_at=NOW + 5 * SECOND, error="", result={"n": 1})
    return RunEnd(run_id=run.id, outcome=outcome, retry=retry)


def retry_in_a_minute(ended: Run, job: JobSpec) -> NewRun:
    return new_run(ended.scheduled_for, due_at=NOW + MINUTE, attempt=2, trigger=Trigger.RETRY)


def test_starts_and_ends_are_recorded_as_the_one_run_verbs_record_them(
    store: Store, runs: list[Run]
) -> None:
    a, b, c, d = runs
    move_to(store, c.id, RunStatus.RUNNING, at=NOW)
    done = store.record_transitions([start(a), start(b, 2, "host:8")], [end(c), end(d)])
    assert done == Transitions(started=frozenset({a.id, b.id}), ended=frozenset({c.id, d.id}))
    first, second = store.get_run(a.id), store.get_run(b.id)
    assert (first.status, first.started_at, first.worker) == (
        RunStatus.RUNNING,
        NOW + SECOND,
        "host:7",
    )
    assert (second.started_at, second.worker) == (NOW + 2 * SECOND, "host:8")
    ended = store.get_run(c.id)
    assert (ended.status, ended.finished_at, ended.result) == (
        RunStatus.SUCCEEDED,
        NOW + 5 * SECOND,
        {"n": 1},
    )
    assert ended.duration == 5.0
    never_started = store.get_run(d.id)
    assert (never_started.status, never_started.duration) == (RunStatus.SUCCEEDED, None)


def test_a_start_and_the_end_of_one_run_in_one_batch(store: Store, runs: list[Run]) -> None:
    a = runs[0]
    done = store.record_transitions([start(a)], [end(a, RunStatus.FAILED)])
    assert done == Transitions(started=frozenset({a.id}), ended=frozenset({a.id}))
    recorded = store.get_run(a.id)
    assert (recorded.status, recorded.duration) == (RunStatus.FAILED, 4.0)


def test_a_run_reported_twice_moves_once(store: Store, runs: list[Run]) -> None:
    a, b = runs[:2]
    done = store.record_transitions(
        [start(a, 1, "first:1"), start(a, 2, "second:2")],
        [end(b, RunStatus.FAILED), end(b, RunStatus.SUCCEEDED)],
    )
    assert done == Transitions(started=frozenset({a.id}), ended=frozenset({b.id}))
    assert store.get_run(a.id).worker == "first:1"
    assert store.get_run(b.id).status is RunStatus.FAILED


def test_runs_that_moved_already_are_left_as_they_are(store: Store, runs: list[Run]) -> None:
    a, b, c, _ = runs
    move_to(store, a.id, RunStatus.RUNNING, at=NOW)
    move_to(store, b.id, RunStatus.CANCELLED, at=NOW)
    move_to(store, c.id, RunStatus.SUCCEEDED, at=NOW)
    before = [store.get_run(run.id) for run in (a, b, c)]
    done = store.record_transitions([start(a), start(b)], [end(c, RunStatus.FAILED)])
    assert done == Transitions()
    assert [store.get_run(run.id) for run in (a, b, c)] == before


def test_an_end_that_asks_for_a_retry_stores_it_in_the_same_transaction(
    store: Store, runs: list[Run]
) -> None:
    a, b = runs[:2]
    done = store.record_transitions(
        [], [end(a, RunStatus.FAILED, retry=True), end(b)], retry=retry_in_a_minute
    )
    assert done.ended == {a.id, b.id}
    retries = store.list_runs(job_name="a", status=RunStatus.PENDING)
    [retry] = [run for run in retries if run.attempt == 2]
    assert (retry.scheduled_for, retry.due_at, retry.trigger) == (
        a.scheduled_for,
        NOW + MINUTE,
        Trigger.RETRY,
    )


def test_an_end_without_the_retry_flag_asks_no_retry(store: Store, runs: list[Run]) -> None:
    asked: list[int] = []

    def retry(ended: Run, job: JobSpec) -> NewRun:
        asked.append(ended.id)
        return retry_in_a_minute(ended, job)

    store.record_transitions([], [end(runs[0], RunStatus.FAILED)], retry=retry)
    assert asked == []


def test_a_refused_retry_changes_nothing(store: Store, runs: list[Run]) -> None:
    a, b, c, _ = runs
    add_runs(store, "a", a.scheduled_for, attempt=2)  # the retry's slot and attempt are taken
    before = store.list_runs(limit=100)
    with pytest.raises(DuplicateRun):
        store.record_transitions(
            [start(c)], [end(b), end(a, RunStatus.FAILED, retry=True)], retry=retry_in_a_minute
        )
    assert store.list_runs(limit=100) == before


def test_an_unknown_run_changes_nothing(store: Store, runs: list[Run]) -> None:
    a, b = runs[:2]
    before = store.list_runs(limit=100)
    ghost = RunStart(run_id=b.id + 1000, worker="host:7", at=NOW)
    with pytest.raises(LookupError):
        store.record_transitions([start(a), ghost], [end(b)])
    with pytest.raises(LookupError):
        store.record_transitions(
            [start(a)], [end(b), RunEnd(run_id=b.id + 1000, outcome=end(b).outcome)]
        )
    assert store.list_runs(limit=100) == before


def test_bad_reports_are_refused_before_anything_changes(store: Store, runs: list[Run]) -> None:
    a, b = runs[:2]
    before = store.list_runs(limit=100)
    naive = RunStart(run_id=a.id, worker="host:7", at=datetime(2026, 3, 1, 12))
    with pytest.raises(ValueError, match=r"starts\[0\]\.at"):
        store.record_transitions([naive], [end(b)])
    running = RunEnd(run_id=b.id, outcome=Outcome(status=RunStatus.RUNNING, finished_at=NOW))
    with pytest.raises(ValueError, match="terminal"):
        store.record_transitions([start(a)], [running])
    assert store.list_runs(limit=100) == before


def test_nothing_to_record_is_nothing_done(store: Store, runs: list[Run]) -> None:
    assert store.record_transitions([], []) == Transitions()


def test_a_large_batch(store: Store) -> None:
    store.save_job(hourly("many"), now=NOW - 1000 * HOUR)
    many = add_runs(store, "many", *(NOW - hours * HOUR for hours in range(1, 301)))
    done = store.record_transitions(
        [start(run) for run in many[:150]], [end(run) for run in many[100:]]
    )
    assert done.started == {run.id for run in many[:150]}
    assert done.ended == {run.id for run in many[100:]}
    statuses = [store.get_run(run.id).status for run in many]
    assert statuses == [RunStatus.RUNNING] * 100 + [RunStatus.SUCCEEDED] * 200
