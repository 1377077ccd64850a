"""Store contract, release_runs: claimed runs that never started go back for another replica."""

from __future__ import annotations

from scheduler.model.runs import RunStatus
from scheduler.stores.base import Store

from .helpers import HOUR, NOW, SECOND, RecordingPlanner, due_now, finish, row


def _claim(store: Store, replica: str, *names: str) -> list[int]:
    due_now(store, *names)
    claimed = store.claim_due(now=NOW, replica_id=replica, limit=10, plan=RecordingPlanner())
    return [c.run.id for c in claimed]


def test_a_released_run_is_pending_and_unclaimed_with_its_slot_kept(store: Store) -> None:
    [run_id] = _claim(store, "r1", "a")
    assert store.release_runs([run_id], replica_id="r1") == [run_id]
    assert store.get_run(run_id) == row(run_id, "a", NOW, executor="default")
    assert store.get_job("a").next_run_at == NOW + HOUR  # no new slot: the job moved on


def test_a_released_run_is_claimed_again_by_exactly_one_replica(store: Store) -> None:
    [run_id] = _claim(store, "r1", "a")
    store.release_runs([run_id], replica_id="r1")
    [again] = store.claim_pending(now=NOW + SECOND, replica_id="r2", limit=10)
    assert (again.run.id, again.run.replica_id, again.run.status) == (
        run_id,
        "r2",
        RunStatus.QUEUED,
    )
    assert store.claim_pending(now=NOW + SECOND, replica_id="r3", limit=10) == []
    assert (
        store.claim_due(now=NOW + SECOND, replica_id="r3", limit=10, plan=RecordingPlanner()) == []
    )
    assert [r.id for r in store.list_runs(job_name="a")] == [run_id]
    # r1 no longer owns it: releasing it again as r1 changes nothing
    assert store.release_runs([run_id], replica_id="r1") == []
    assert store.get_run(run_id).replica_id == "r2"


def test_only_unstarted_runs_of_the_replica_without_external_id_are_released(
    store: Store,
) -> None:
    mine, running, outside, ended = _claim(store, "r1", "a", "b", "c", "d")
    [theirs] = _claim(store, "r2", "e")
    store.mark_running(running, worker="host:1", now=NOW + SECOND)
    store.set_external_ids({outside: "task-1"})
    finish(store, ended, NOW + SECOND)
    before = {run_id: store.get_run(run_id) for run_id in (running, outside, ended, theirs)}
    ids = [12345, ended, theirs, outside, running, mine, mine]
    assert store.release_runs(ids, replica_id="r1") == [mine]
    assert {run_id: store.get_run(run_id) for run_id in before} == before
    assert store.get_run(mine).status is RunStatus.PENDING


def test_releasing_no_runs_changes_nothing(store: Store) -> None:
    [run_id] = _claim(store, "r1", "a")
    before = store.get_run(run_id)
    assert store.release_runs([], replica_id="r1") == []
    assert store.get_run(run_id) == before
