"""Store contract: a claim whose planner asks for a slot that already has a run.

That happens when an edit, sync or resume made with a clock behind a
replica's sets a job back to a slot the replica already claimed, or when a
manual run took the slot.  The slot is not a new run: the claim skips it,
raises nothing, moves the job past it and claims the rest of its batch.  A
second run of a slot is still refused where it is asked for outright
(``add_run``, a plan asking for one slot twice: ``test_store_claims.py``).
"""

from __future__ import annotations

import pytest

from scheduler.model.runs import RunStatus, Trigger
from scheduler.stores.base import Store

from .helpers import HOUR, NOW, SECOND, RecordingPlanner, add_runs, due_now, hourly, once


def test_claiming_a_slot_that_already_has_a_run_skips_it_and_moves_the_job_on(
    store: Store,
) -> None:
    # A manual run took b's slot: the claim creates no second run of it, raises
    # nothing, moves b past it, and claims or records the other jobs of the batch.
    due_now(store, "a", "b", "c", "d")
    [manual] = add_runs(store, "b", NOW, trigger=Trigger.MANUAL)
    planner = RecordingPlanner(statuses={"d": RunStatus.MISSED})
    claimed = store.claim_due(now=NOW, replica_id="r1", limit=10, plan=planner)
    assert [(c.run.job_name, c.run.scheduled_for) for c in claimed] == [("a", NOW), ("c", NOW)]
    assert store.list_runs(job_name="b") == [manual]
    assert [run.status for run in store.list_runs(job_name="d")] == [RunStatus.MISSED]
    assert sorted(planner.planned) == ["a", "b", "c", "d"]
    assert planner.taken == [("b", NOW, 1)]
    assert [job.next_run_at for job in store.list_jobs()] == [NOW + HOUR] * 4
    assert store.claim_due(now=NOW, replica_id="r2", limit=10, plan=planner) == []


@pytest.mark.parametrize("status", [RunStatus.PENDING, RunStatus.MISSED, RunStatus.SKIPPED])
def test_an_edit_from_a_clock_behind_does_not_fire_a_claimed_slot_again(
    store: Store, status: RunStatus
) -> None:
    # r1, its clock ahead, claimed a's slot; an edit made with a clock a second
    # behind sets a back to that slot.  The next claim skips it, whatever the
    # planner makes of it, and a moves on; b, due with it, is claimed.
    due_now(store, "a")
    [first] = store.claim_due(now=NOW, replica_id="r1", limit=10, plan=RecordingPlanner())
    edited = store.save_job(hourly("a", args=[2]), now=NOW - SECOND)
    assert edited.next_run_at == NOW
    store.save_job(once("b", NOW), now=NOW - HOUR)
    planner = RecordingPlanner(statuses={"a": status})
    claimed = store.claim_due(now=NOW + SECOND, replica_id="r2", limit=10, plan=planner)
    assert [c.run.job_name for c in claimed] == ["b"]
    assert store.list_runs(job_name="a") == [first.run]
    assert planner.taken == [("a", NOW, 1)]
    assert store.get_job("a").next_run_at == NOW + HOUR
    assert store.next_wake() == NOW + HOUR


def test_a_job_resumed_with_a_clock_behind_does_not_fire_its_last_slot_again(
    store: Store,
) -> None:
    due_now(store, "a")
    [first] = store.claim_due(now=NOW, replica_id="r1", limit=10, plan=RecordingPlanner())
    store.set_paused("a", True, now=NOW - 2 * SECOND)
    assert store.set_paused("a", False, now=NOW - SECOND).next_run_at == NOW
    assert (
        store.claim_due(now=NOW + SECOND, replica_id="r2", limit=10, plan=RecordingPlanner()) == []
    )
    assert store.list_runs() == [first.run]
    assert store.get_job("a").next_run_at == NOW + HOUR
