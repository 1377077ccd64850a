"""Store contract: following chains creates one run per qualifying upstream run, once.

``up`` is an hourly job; ``down`` runs after it.  Each ended run of ``up`` is
seen once by :meth:`Store.follow_chains`; the runs it starts are pending,
unclaimed, due at the call's ``now``, with the trigger ``chain`` and the
upstream run's id, which is unique per job: a second replica following the
same end creates nothing.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from scheduler.errors import DuplicateRun
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import NewRun, RunStatus, Trigger
from scheduler.stores.base import Store

from .helpers import HOUR, MINUTE, NOW, SECOND, add_runs, finish, hourly, move_to

UPSTREAMS = 30


def chained(name: str = "down", after: str = "up", **options: Any) -> JobSpec:
    options.setdefault("source", JobSource.CODE)
    return JobSpec.build(name=name, task="app.tasks.load", after=[after], **options)


def setup(store: Store, **options: Any) -> None:
    store.save_job(hourly("up"), now=NOW - HOUR)
    store.save_job(chained(**options), now=NOW - HOUR)


def ended(store: Store, status: RunStatus = RunStatus.SUCCEEDED, *, count: int = 1) -> list[int]:
    """``count`` runs of ``up``, one per minute before NOW, ended in ``status`` at NOW."""
    slots = [NOW - HOUR + MINUTE * index for index in range(count)]
    runs = add_runs(store, "up", *slots)
    for run in runs:
        move_to(store, run.id, status, at=NOW)
    return [run.id for run in runs]


def test_an_ended_upstream_run_starts_one_pending_chained_run(store: Store) -> None:
    setup(store)
    [upstream] = ended(store)
    [made] = store.follow_chains(now=NOW + SECOND, limit=100)
    assert made.job_name == "down"
    assert made.trigger is Trigger.CHAIN
    assert made.status is RunStatus.PENDING
    assert made.upstream_run_id == upstream
    assert made.scheduled_for == NOW  # when the upstream run ended
    assert made.due_at == NOW + SECOND
    assert made.replica_id == ""
    assert store.get_run(made.id) == made
    assert store.list_runs(job_name="down") == [made]
    # Seen once: a second pass, by this replica or another, creates nothing.
    assert store.follow_chains(now=NOW + 2 * SECOND, limit=100) == []
    [claimed] = store.claim_pending(now=NOW + 2 * SECOND, replica_id="r1", limit=10)
    assert claimed.run.id == made.id
    assert claimed.job.after == ("up",)


@pytest.mark.parametrize(
    ("when", "starts"),
    [
        ("succeeded", {RunStatus.SUCCEEDED}),
        ("failed", {RunStatus.FAILED, RunStatus.TIMED_OUT}),
        ("finished", {RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.TIMED_OUT}),
    ],
)
def test_when_says_which_endings_start_a_run(
    store: Store, when: str, starts: set[RunStatus]
) -> None:
    setup(store, when=when)
    endings = [
        RunStatus.SUCCEEDED,
        RunStatus.FAILED,
        RunStatus.TIMED_OUT,
        RunStatus.CANCELLED,
    ]
    upstream = {}
    for index, status in enumerate(endings):
        [run] = add_runs(store, "up", NOW - HOUR + MINUTE * index)
        move_to(store, run.id, status, at=NOW)
        upstream[run.id] = status
    made = store.follow_chains(now=NOW, limit=100)
    assert {upstream[run.upstream_run_id] for run in made if run.upstream_run_id} == starts
    assert len(made) == len(starts)
    assert store.follow_chains(now=NOW, limit=100) == []


def test_runs_not_ended_wait_and_are_followed_once_they_end(store: Store) -> None:
    setup(store)
    [run] = add_runs(store, "up", NOW - HOUR)
    move_to(store, run.id, RunStatus.RUNNING, at=NOW)
    assert store.follow_chains(now=NOW, limit=100) == []
    finish(store, run.id, NOW + MINUTE)
    assert [made.upstream_run_id for made in store.follow_chains(now=NOW, limit=100)] == [run.id]


def test_the_limit_takes_the_earliest_ends_first(store: Store) -> None:
    setup(store)
    ids = ended(store, count=5)
    first = store.follow_chains(now=NOW, limit=2)
    rest = store.follow_chains(now=NOW, limit=100)
    assert [run.upstream_run_id for run in first + rest] == ids
    assert store.follow_chains(now=NOW, limit=0) == []


def test_a_job_changed_after_the_end_does_not_run_for_it(store: Store) -> None:
    # Ends older than the chained job's last change (created, edited, resumed) do
    # not start it: adding 'after' to a job does not replay its upstream's history.
    store.save_job(hourly("up"), now=NOW - HOUR)
    [old] = ended(store)
    store.save_job(chained(), now=NOW + SECOND)
    assert store.follow_chains(now=NOW + SECOND, limit=100) == []
    [new] = add_runs(store, "up", NOW)
    finish(store, new.id, NOW + MINUTE)
    made = store.follow_chains(now=NOW + MINUTE, limit=100)
    assert [run.upstream_run_id for run in made] == [new.id]
    assert old != new.id


def test_paused_and_disabled_chained_jobs_do_not_run(store: Store) -> None:
    setup(store)
    store.save_job(chained("off", enabled=False), now=NOW - HOUR)
    store.save_job(chained("held"), now=NOW - HOUR)
    store.set_paused("held", True, now=NOW - HOUR)
    ended(store)
    assert [run.job_name for run in store.follow_chains(now=NOW, limit=100)] == ["down"]


def test_every_job_chained_after_one_upstream_runs_once_per_end(store: Store) -> None:
    setup(store)
    store.save_job(chained("audit", when="finished"), now=NOW - HOUR)
    [upstream] = ended(store)
    made = store.follow_chains(now=NOW, limit=100)
    assert sorted((run.job_name, run.upstream_run_id) for run in made) == [
        ("audit", upstream),
        ("down", upstream),
    ]


def test_a_taken_slot_moves_the_chained_run_a_microsecond_later(store: Store) -> None:
    # The chained job's own schedule took the instant the upstream run ended.
    store.save_job(hourly("up"), now=NOW - HOUR)
    store.save_job(chained(cron="0 * * * *"), now=NOW - HOUR)
    [own] = add_runs(store, "down", NOW)
    [upstream] = ended(store)
    [made] = store.follow_chains(now=NOW, limit=100)
    assert made.scheduled_for == NOW + SECOND / 1_000_000
    assert made.upstream_run_id == upstream
    assert own.scheduled_for == NOW


def test_a_second_run_for_one_upstream_run_is_refused(store: Store) -> None:
    # Another attempt number, so that only the upstream run's index can refuse it
    # (on a run table partitioned by slot, that index is per slot: the same one).
    setup(store)
    [upstream] = ended(store)
    [first] = store.follow_chains(now=NOW, limit=100)
    again = NewRun(
        scheduled_for=first.scheduled_for,
        due_at=NOW + HOUR,
        attempt=2,
        trigger=Trigger.CHAIN,
        upstream_run_id=upstream,
    )
    with pytest.raises(DuplicateRun, match="already has a run after"):
        store.add_run("down", again)
    assert store.list_runs(job_name="down") == [first]


def test_two_replicas_following_at_once_create_each_chained_run_once(store: Store) -> None:
    setup(store)
    ids = ended(store, count=UPSTREAMS)
    start = threading.Barrier(2)

    def follow(replica: str) -> list[int]:
        start.wait()
        made: list[int] = []
        while batch := store.follow_chains(now=NOW, limit=4):
            made += [run.upstream_run_id or 0 for run in batch]
        return made

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(follow, replica) for replica in ("r1", "r2")]
        results = [future.result(timeout=60) for future in futures]
    assert sorted(results[0] + results[1]) == ids
    downs = store.list_runs(job_name="down", limit=UPSTREAMS * 2)
    assert sorted(run.upstream_run_id or 0 for run in downs) == ids


def test_pruning_never_deletes_a_job_that_runs_only_after_another(store: Store) -> None:
    # Its schedule is a one-off instant long past, like a deferred call that ran;
    # it is not one, and stays however long its upstream has not run.
    setup(store)
    assert store.prune(now=NOW + 400 * 24 * HOUR, keep_last=None, max_age=HOUR) == 0
    assert [job.spec.name for job in store.list_jobs()] == ["down", "up"]
