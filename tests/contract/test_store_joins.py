"""Store contract: a job after two or more upstreams (a join) runs once per slot they all ran.

``a`` and ``b`` are hourly jobs; ``load`` runs after both.  Their runs for one
slot (``scheduled_for``) are followed by :meth:`Store.follow_chains` as they
end; once every upstream has a run of the slot that ended the way ``when``
asks, ``load`` gets one run, keyed by the lowest-id such run of ``a`` (the
first upstream), scheduled for the latest end among the runs it joins.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pytest

from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import Run, RunStatus, Trigger
from scheduler.stores.base import NextWork, Store

from .helpers import HOUR, MINUTE, NOW, SECOND, add_runs, hourly, move_to, once

SLOT = NOW - HOUR
SLOTS = 30


def join(name: str = "load", after: tuple[str, ...] = ("a", "b"), **options: Any) -> JobSpec:
    options.setdefault("source", JobSource.CODE)
    return JobSpec.build(name=name, task="app.tasks.load", after=list(after), **options)


def setup(store: Store, *upstreams: str, **options: Any) -> None:
    names = upstreams or ("a", "b")
    for name in names:
        store.save_job(hourly(name), now=NOW - 2 * HOUR)
    store.save_job(join(after=names, **options), now=NOW - 2 * HOUR)


def end(
    store: Store,
    job: str,
    at: datetime,
    status: RunStatus = RunStatus.SUCCEEDED,
    *,
    slot: datetime = SLOT,
    **fields: Any,
) -> Run:
    """A run of ``job`` for ``slot``, ended in ``status`` at ``at``."""
    [run] = add_runs(store, job, slot, **fields)
    move_to(store, run.id, status, at=at)
    return run


def follow(store: Store, at: datetime = NOW) -> list[Run]:
    return store.follow_chains(now=at, limit=100)


def test_a_join_runs_once_both_upstreams_of_the_slot_succeeded(store: Store) -> None:
    setup(store)
    first = end(store, "a", NOW)
    assert follow(store) == []  # b has not run for the slot yet
    end(store, "b", NOW + MINUTE)
    [made] = follow(store, NOW + 2 * MINUTE)
    assert made.job_name == "load"
    assert made.trigger is Trigger.CHAIN
    assert made.status is RunStatus.PENDING
    assert made.upstream_run_id == first.id  # the first upstream's run, whichever ended last
    assert made.scheduled_for == NOW + MINUTE  # the latest end: when the join completed
    assert made.due_at == NOW + 2 * MINUTE
    assert follow(store, NOW + 3 * MINUTE) == []
    [claimed] = store.claim_pending(now=NOW + 3 * MINUTE, replica_id="r1", limit=10)
    assert claimed.run.id == made.id
    assert claimed.job.after == ("a", "b")


def test_a_join_does_not_run_while_one_upstream_has_not_qualified(store: Store) -> None:
    setup(store)
    end(store, "a", NOW)
    end(store, "b", NOW, RunStatus.FAILED)
    [running] = add_runs(store, "b", SLOT + 2 * MINUTE)  # another slot, not ended
    move_to(store, running.id, RunStatus.RUNNING, at=NOW)
    end(store, "a", NOW, slot=SLOT + MINUTE)  # b has no run for this slot at all
    assert follow(store) == []
    assert store.list_runs(job_name="load") == []


def test_both_ends_followed_in_one_pass_give_one_run(store: Store) -> None:
    setup(store)
    first = end(store, "a", NOW)
    end(store, "b", NOW)
    [made] = follow(store)
    assert made.upstream_run_id == first.id


@pytest.mark.parametrize(
    ("when", "a_ends", "b_ends", "runs"),
    [
        ("failed", RunStatus.FAILED, RunStatus.TIMED_OUT, 1),
        ("failed", RunStatus.FAILED, RunStatus.SUCCEEDED, 0),
        ("finished", RunStatus.SUCCEEDED, RunStatus.FAILED, 1),
        ("finished", RunStatus.SUCCEEDED, RunStatus.CANCELLED, 0),
        ("succeeded", RunStatus.SUCCEEDED, RunStatus.FAILED, 0),
    ],
)
def test_when_applies_to_every_upstream_of_a_join(
    store: Store, when: str, a_ends: RunStatus, b_ends: RunStatus, runs: int
) -> None:
    setup(store, when=when)
    end(store, "a", NOW, a_ends)
    end(store, "b", NOW, b_ends)
    assert len(follow(store)) == runs
    assert len(store.list_runs(job_name="load")) == runs


def test_a_failed_attempt_then_a_succeeded_retry_gives_one_run(store: Store) -> None:
    setup(store)
    end(store, "b", NOW)
    end(store, "a", NOW, RunStatus.FAILED)
    assert follow(store) == []
    retry = end(store, "a", NOW + MINUTE, attempt=2, trigger=Trigger.RETRY)
    [made] = follow(store, NOW + MINUTE)
    assert made.upstream_run_id == retry.id
    assert made.scheduled_for == NOW + MINUTE


def test_with_when_finished_a_retry_of_a_joined_slot_gives_no_second_run(store: Store) -> None:
    setup(store, when="finished")
    failed = end(store, "a", NOW, RunStatus.FAILED)
    end(store, "b", NOW)
    [made] = follow(store)
    assert made.upstream_run_id == failed.id
    # The retry of a's slot joins the same set again: its key is the same run, refused quietly.
    end(store, "a", NOW + MINUTE, attempt=2, trigger=Trigger.RETRY)
    assert follow(store, NOW + MINUTE) == []
    assert store.list_runs(job_name="load") == [made]


def test_interleaved_slots_each_join_once(store: Store) -> None:
    setup(store)
    later = SLOT + HOUR / 2
    a1 = end(store, "a", NOW, slot=SLOT)
    a2 = end(store, "a", NOW + SECOND, slot=later)
    end(store, "b", NOW + 2 * SECOND, slot=later)
    [second] = follow(store, NOW + 3 * SECOND)
    assert second.upstream_run_id == a2.id
    end(store, "b", NOW + 4 * SECOND, slot=SLOT)
    [first] = follow(store, NOW + 5 * SECOND)
    assert first.upstream_run_id == a1.id
    assert first.scheduled_for == NOW + 4 * SECOND
    assert follow(store, NOW + 6 * SECOND) == []


def test_three_upstreams_wait_for_the_last(store: Store) -> None:
    setup(store, "a", "b", "c")
    end(store, "c", NOW)
    first = end(store, "a", NOW + SECOND)
    assert follow(store, NOW + SECOND) == []
    end(store, "b", NOW + 2 * SECOND)
    [made] = follow(store, NOW + 2 * SECOND)
    assert made.upstream_run_id == first.id


def test_a_join_does_not_run_for_ends_before_it_was_last_changed(store: Store) -> None:
    for name in ("a", "b"):
        store.save_job(hourly(name), now=NOW - 2 * HOUR)
    end(store, "a", NOW)
    store.save_job(join(), now=NOW + SECOND)
    end(store, "b", NOW + MINUTE)
    assert follow(store, NOW + MINUTE) == []


def test_one_upstream_in_a_list_keeps_one_run_per_upstream_run(store: Store) -> None:
    setup(store, "a")
    assert store.get_job("load").spec.after == ("a",)
    runs = [end(store, "a", NOW, slot=SLOT + MINUTE * index) for index in range(3)]
    made = follow(store)
    assert sorted(run.upstream_run_id or 0 for run in made) == [run.id for run in runs]


def test_the_end_of_any_upstream_wakes_the_scheduler(store: Store) -> None:
    # Upstreams that are never due, so that only an end to follow makes next_wake.
    far = NOW + 1000 * HOUR
    for name in ("a", "b", "c"):
        store.save_job(once(name, far), now=NOW - HOUR)
    store.save_job(join(after=("a", "b")), now=NOW - HOUR)
    assert store.next_work() == NextWork(far, None)  # no end to follow: no chains' transaction
    ended = end(store, "b", NOW, slot=far)
    assert store.next_wake() == NOW
    assert store.next_work() == NextWork(far, NOW)
    assert follow(store) == []
    assert store.next_work() == NextWork(far, None)
    # Upstreams changed: c is one now, b no longer.
    store.save_job(join(after=("a", "c")), now=NOW + SECOND)
    assert store.get_job("load").spec.after == ("a", "c")
    end(store, "b", NOW + MINUTE, slot=far - HOUR)
    assert store.next_wake() == far
    end(store, "c", NOW + 2 * MINUTE, slot=far - HOUR)
    assert store.next_wake() == NOW + 2 * MINUTE
    store.save_job(join(after=("a", "c"), enabled=False), now=NOW + 3 * MINUTE)
    assert store.next_wake() == far
    assert ended.id


def test_a_join_survives_a_sync_unchanged(store: Store) -> None:
    specs = [hourly("a"), hourly("b"), join(after=("b", "a"))]
    store.sync_jobs(specs, source=JobSource.YAML, now=NOW - HOUR)
    report = store.sync_jobs(specs, source=JobSource.YAML, now=NOW)
    assert report.unchanged == ("a", "b", "load")
    [job] = [job for job in store.list_jobs() if job.spec.name == "load"]
    assert job.spec.after == ("b", "a")
    assert job.version == 1


def test_two_replicas_completing_joins_at_once_create_each_run_once(store: Store) -> None:
    setup(store)
    firsts = []
    for index in range(SLOTS):
        slot = SLOT + MINUTE * index
        firsts.append(end(store, "a", NOW + SECOND * index, slot=slot).id)
        end(store, "b", NOW + SECOND * index, slot=slot)
    start = threading.Barrier(2)

    def follow_all() -> list[int]:
        start.wait()
        made: list[int] = []
        while batch := store.follow_chains(now=NOW + HOUR, limit=3):
            made += [run.upstream_run_id or 0 for run in batch]
        return made

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(follow_all) for _ in range(2)]
        results = [future.result(timeout=60) for future in futures]
    # A pass whose joins the other replica completed first creates nothing, so
    # a replica may stop while ends are left: the next wake-up follows them.
    last = [run.upstream_run_id or 0 for run in follow(store, NOW + HOUR)]
    assert sorted(results[0] + results[1] + last) == firsts
    loads = store.list_runs(job_name="load", limit=SLOTS * 2)
    assert sorted(run.upstream_run_id or 0 for run in loads) == firsts
