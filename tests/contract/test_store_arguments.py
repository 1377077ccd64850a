"""Store contract, the argument rules: each verb checks and normalises its arguments alike.

Every store applies these rules through one layer
(:class:`~scheduler.stores.checked.CheckedStore`), before its own work starts:
a naive instant is refused with a :class:`ValueError` naming the argument and
changes nothing; an aware one in another zone is stored in UTC; a ``limit``
below 1 claims and lists nothing; the runs a planner or retrier asks for are
checked new runs; an outcome is terminal.  These tests hold every store to
each rule.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from scheduler.model.policies import JobSource
from scheduler.model.runs import NewRun, Outcome, Run, RunStatus
from scheduler.stores.base import ReplicaInfo, SlotPlan, Store, StoredJob
from scheduler.stores.checked import CheckedStore

from .helpers import (
    HOUR,
    MINUTE,
    NOW,
    RecordingPlanner,
    add_runs,
    assert_all_utc,
    due_now,
    finish,
    hourly,
    new_run,
)

NAIVE = NOW.replace(tzinfo=None)
#: ``NOW``, as the clock on a wall in Kathmandu shows it.
ELSEWHERE = NOW.astimezone(timezone(timedelta(hours=5, minutes=45)))

# Each verb that takes ``now``, called with the ``now`` given on a store that
# holds job ``a`` (due at ``NOW``) and its pending run ``run_id``.
Call = Callable[[Store, int, datetime], object]
CALLS_WITH_NOW: dict[str, Call] = {
    "sync_jobs": lambda s, _, now: s.sync_jobs([hourly("b")], source=JobSource.YAML, now=now),
    "save_job": lambda s, _, now: s.save_job(hourly("b"), now=now),
    "set_paused": lambda s, _, now: s.set_paused("a", True, now=now),
    "claim_due": lambda s, _, now: s.claim_due(
        now=now, replica_id="r1", limit=10, plan=RecordingPlanner()
    ),
    "claim_pending": lambda s, _, now: s.claim_pending(now=now, replica_id="r1", limit=10),
    "mark_queued": lambda s, run_id, now: s.mark_queued(
        run_id, executor="celery", external_id="task-1", now=now
    ),
    "beat_runs": lambda s, run_id, now: s.beat_runs([run_id], now=now),
    "mark_running": lambda s, run_id, now: s.mark_running(run_id, worker="h:1", now=now),
    "mark_finished": lambda s, run_id, now: s.mark_finished(
        run_id, Outcome(status=RunStatus.SUCCEEDED, finished_at=now)
    ),
    "cancel_run": lambda s, run_id, now: s.cancel_run(run_id, now=now),
    "heartbeat": lambda s, _, now: s.heartbeat("r1", hostname="h", pid=1, now=now),
    "stop_replica": lambda s, _, now: s.stop_replica("r1", now=now),
    "prune_replicas": lambda s, _, now: s.prune_replicas(now=now, older_than=HOUR),
    "recover": lambda s, _, now: s.recover(now=now, stale_after=MINUTE),
    "prune": lambda s, _, now: s.prune(now=now, keep_last=0, max_age=HOUR),
}
#: What each verb calls its instant in its error.
ARGUMENT = {"mark_finished": "finished_at"}


def holding_a_run(store: Store) -> Run:
    """Job ``a``, due at ``NOW``, and a pending run of it an hour ago."""
    store.save_job(hourly("a"), now=NOW - HOUR)
    [run] = add_runs(store, "a", NOW - HOUR)
    return run


def contents(store: Store) -> tuple[list[StoredJob], list[Run], list[ReplicaInfo]]:
    return store.list_jobs(), store.list_runs(limit=1000), store.list_replicas()


def test_every_store_checks_its_arguments_in_the_one_layer(store: Store) -> None:
    assert isinstance(store, CheckedStore)


# -- instants -------------------------------------------------------------------------
@pytest.mark.parametrize("verb", sorted(CALLS_WITH_NOW))
def test_a_naive_instant_is_refused_by_name_and_changes_nothing(store: Store, verb: str) -> None:
    run = holding_a_run(store)
    before = contents(store)
    argument = ARGUMENT.get(verb, "now")
    with pytest.raises(ValueError, match=f"^{argument} must be timezone-aware"):
        CALLS_WITH_NOW[verb](store, run.id, NAIVE)
    assert contents(store) == before


def test_instants_given_in_another_zone_are_stored_in_utc(store: Store) -> None:
    saved = store.save_job(hourly("a"), now=ELSEWHERE - HOUR)
    assert saved.created_at == NOW - HOUR
    store.set_paused("a", True, now=ELSEWHERE)
    resumed = store.set_paused("a", False, now=ELSEWHERE + MINUTE)
    assert resumed.updated_at == NOW + MINUTE
    [run] = add_runs(store, "a", ELSEWHERE - HOUR)
    store.mark_running(run.id, worker="h:1", now=ELSEWHERE)
    store.mark_finished(run.id, Outcome(status=RunStatus.SUCCEEDED, finished_at=ELSEWHERE))
    done = store.get_run(run.id)
    assert (done.scheduled_for, done.started_at, done.finished_at) == (NOW - HOUR, NOW, NOW)
    assert_all_utc([store.list_jobs(), store.list_runs()])


def test_a_planner_may_answer_in_another_zone(store: Store) -> None:
    due_now(store, "a")

    def elsewhere(job: StoredJob, has_active_run: bool, now: datetime) -> SlotPlan:
        slot = ELSEWHERE
        new = NewRun(scheduled_for=slot, due_at=slot)
        return SlotPlan(runs=(new,), next_run_at=slot + HOUR)

    [claimed] = store.claim_due(now=ELSEWHERE, replica_id="r1", limit=10, plan=elsewhere)
    assert (claimed.run.scheduled_for, claimed.run.claimed_at) == (NOW, NOW)
    assert store.get_job("a").next_run_at == NOW + HOUR
    assert_all_utc([claimed, store.list_jobs(), store.list_runs()])


@pytest.mark.parametrize(
    ("argument", "plan"),
    [
        ("scheduled_for", SlotPlan(runs=(new_run(NAIVE, due_at=NOW),), next_run_at=NOW + HOUR)),
        ("due_at", SlotPlan(runs=(new_run(NOW, due_at=NAIVE),), next_run_at=NOW + HOUR)),
        ("next_run_at", SlotPlan(runs=(new_run(NOW),), next_run_at=NAIVE + HOUR)),
    ],
)
def test_a_planner_naming_a_naive_instant_gets_it_refused_and_nothing_written(
    store: Store, argument: str, plan: SlotPlan
) -> None:
    due_now(store, "a", "b")
    before = contents(store)
    with pytest.raises(ValueError, match=f"^{argument} must be timezone-aware"):
        store.claim_due(now=NOW, replica_id="r1", limit=10, plan=lambda job, busy, now: plan)
    assert contents(store) == before


def test_a_planner_asking_for_attempt_zero_gets_it_refused(store: Store) -> None:
    due_now(store, "a")
    zero = SlotPlan(runs=(new_run(NOW, attempt=0),), next_run_at=NOW + HOUR)
    with pytest.raises(ValueError, match="attempt must be 1 or more"):
        store.claim_due(now=NOW, replica_id="r1", limit=10, plan=lambda job, busy, now: zero)
    assert store.list_runs() == []


# -- new runs: add_run and the retrier ------------------------------------------------
@pytest.mark.parametrize(
    ("new", "message"),
    [
        (new_run(NAIVE, due_at=NOW), "^scheduled_for must be timezone-aware"),
        (new_run(NOW, due_at=NAIVE), "^due_at must be timezone-aware"),
        (new_run(NOW, attempt=0), "attempt must be 1 or more"),
        (new_run(NOW, status=RunStatus.RUNNING), "a new run must be"),
    ],
)
def test_add_run_refuses_what_is_not_a_new_run(store: Store, new: NewRun, message: str) -> None:
    store.save_job(hourly("a"), now=NOW)
    with pytest.raises(ValueError, match=message):
        store.add_run("a", new)
    assert store.list_runs() == []


def test_add_run_stores_a_slot_given_in_another_zone_in_utc(store: Store) -> None:
    store.save_job(hourly("a"), now=NOW)
    run = store.add_run("a", new_run(ELSEWHERE))
    assert (run.scheduled_for, run.due_at) == (NOW, NOW)
    assert store.get_run(run.id) == run


@pytest.mark.parametrize(
    "retry",
    [
        NewRun(scheduled_for=NOW, due_at=NOW, attempt=2, status=RunStatus.RUNNING),
        NewRun(scheduled_for=NAIVE, due_at=NOW, attempt=2),
    ],
    ids=["running", "naive"],
)
def test_a_retrier_asking_for_what_is_not_a_new_run_changes_nothing(
    store: Store, retry: NewRun
) -> None:
    store.save_job(hourly("a", retries=1), now=NOW - 2 * HOUR)
    [run] = add_runs(store, "a", NOW - HOUR)
    [claimed] = store.claim_pending(now=NOW - HOUR, replica_id="dead", limit=1)
    store.mark_running(claimed.run.id, worker="h:1", now=NOW - HOUR)
    before = contents(store)
    with pytest.raises(ValueError):
        store.recover(now=NOW, stale_after=MINUTE, retry=lambda lost, job: retry)
    assert contents(store) == before
    assert store.get_run(run.id).status is RunStatus.RUNNING


# -- outcomes ---------------------------------------------------------------------------
@pytest.mark.parametrize("status", [RunStatus.PENDING, RunStatus.QUEUED, RunStatus.RUNNING])
def test_an_outcome_must_be_terminal(store: Store, status: RunStatus) -> None:
    run = holding_a_run(store)
    with pytest.raises(ValueError, match="terminal status"):
        store.mark_finished(run.id, Outcome(status=status, finished_at=NOW))
    assert store.get_run(run.id) == run


# -- limits -----------------------------------------------------------------------------
@pytest.mark.parametrize("limit", [0, -1])
def test_a_claim_of_no_jobs_plans_nothing_and_moves_nothing(store: Store, limit: int) -> None:
    due_now(store, "a")
    add_runs(store, "a", NOW - HOUR)
    before = contents(store)
    planner = RecordingPlanner()
    assert store.claim_due(now=NOW, replica_id="r1", limit=limit, plan=planner) == []
    assert store.claim_pending(now=NOW, replica_id="r1", limit=limit) == []
    assert planner.calls == []
    assert contents(store) == before


@pytest.mark.parametrize("limit", [0, -1])
def test_a_listing_of_no_runs_is_empty(store: Store, limit: int) -> None:
    holding_a_run(store)
    assert store.list_runs(limit=limit) == []


def test_a_status_may_be_given_by_its_value(store: Store) -> None:
    run = holding_a_run(store)
    finish(store, run.id, NOW)
    succeeded = store.list_runs(status=RunStatus.SUCCEEDED)
    assert succeeded == [store.get_run(run.id)]
    assert store.list_runs(status="succeeded") == succeeded  # type: ignore[arg-type]


# -- nothing to do --------------------------------------------------------------------------
@pytest.mark.parametrize("keep_last", [0, -1])
def test_keeping_none_or_fewer_prunes_every_ended_run(store: Store, keep_last: int) -> None:
    store.save_job(hourly("a"), now=NOW)
    ended, pending = add_runs(store, "a", NOW - 2 * HOUR, NOW - HOUR)
    finish(store, ended.id, NOW - HOUR)
    assert store.prune(now=NOW, keep_last=keep_last, max_age=None) == 1
    assert store.list_runs() == [pending]


def test_a_beat_of_no_runs_and_no_external_ids_change_nothing(store: Store) -> None:
    run = holding_a_run(store)
    store.beat_runs([], now=NOW)
    store.set_external_ids({})
    assert store.get_run(run.id) == run
