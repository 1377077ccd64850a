"""Store contract, the due-queue: claim_due, the unique slot rule, claim_pending."""

from __future__ import annotations

import pytest

from scheduler.errors import DuplicateRun, JobNotFound
from scheduler.model.policies import OverlapPolicy
from scheduler.model.runs import ClaimedRun, RunStatus, Trigger
from scheduler.stores.base import SlotPlan, Store, StoredJob

from .helpers import (
    HOUR,
    MINUTE,
    NOW,
    SECOND,
    PlannerError,
    RecordingPlanner,
    add_runs,
    assert_all_utc,
    claimed_row,
    due_now,
    finish,
    hourly,
    move_to,
    new_run,
    once,
    row,
)


# -- claim_due --------------------------------------------------------------------
def test_claim_due_plans_each_due_job_and_claims_its_run(store: Store) -> None:
    a, b = due_now(store, "a", "b")
    store.save_job(hourly("not-yet"), now=NOW)  # due at 13:00
    planner = RecordingPlanner()
    claimed = store.claim_due(now=NOW, replica_id="r1", limit=10, plan=planner)
    assert sorted(planner.calls) == [("a", False, NOW), ("b", False, NOW)]
    ids = [c.run.id for c in claimed]
    assert claimed == [
        ClaimedRun(run=claimed_row(ids[0], "a", NOW), job=a.spec),
        ClaimedRun(run=claimed_row(ids[1], "b", NOW), job=b.spec),
    ]
    assert store.list_runs(job_name="a") == [claimed[0].run]
    assert [job.next_run_at for job in store.list_jobs()] == [NOW + HOUR] * 3


def test_a_claimed_run_is_stored_queued_to_its_jobs_executor(store: Store) -> None:
    # The claim's own transaction queues it: handing it over needs no second write.
    due_now(store, "mail", executor="celery")
    due_now(store, "report")
    claimed = store.claim_due(now=NOW, replica_id="r1", limit=10, plan=RecordingPlanner())
    runs = {run.job_name: run for run in store.list_runs()}
    assert runs == {c.run.job_name: c.run for c in claimed}
    assert runs["mail"] == claimed_row(runs["mail"].id, "mail", NOW, executor="celery")
    assert runs["report"] == claimed_row(runs["report"].id, "report", NOW)
    assert store.list_runs(status=RunStatus.PENDING) == []
    assert store.next_wake() == NOW + HOUR


def test_claim_due_with_nothing_due_plans_nothing(store: Store) -> None:
    store.save_job(hourly("a"), now=NOW)
    planner = RecordingPlanner()
    assert store.claim_due(now=NOW, replica_id="r1", limit=10, plan=planner) == []
    assert planner.calls == []
    assert store.list_runs() == []


@pytest.mark.parametrize(
    ("status", "active"),
    [
        (RunStatus.PENDING, True),
        (RunStatus.QUEUED, True),
        (RunStatus.RUNNING, True),
        (RunStatus.SUCCEEDED, False),
        (RunStatus.CANCELLED, False),
        (RunStatus.LOST, False),
    ],
)
def test_claim_due_tells_the_planner_whether_the_job_has_an_active_run(
    store: Store, status: RunStatus, active: bool
) -> None:
    due_now(store, "a", "other")
    [run] = add_runs(store, "a", NOW - 3 * HOUR)
    move_to(store, run.id, status, at=NOW - 3 * HOUR)
    planner = RecordingPlanner()
    claimed = store.claim_due(now=NOW, replica_id="r1", limit=10, plan=planner)
    assert sorted(planner.calls) == [("a", active, NOW), ("other", False, NOW)]
    # the new run of a busy job is left for claim_pending
    assert [c.run.job_name for c in claimed] == (["other"] if active else ["a", "other"])


@pytest.mark.parametrize("busy", [RunStatus.QUEUED, RunStatus.RUNNING])
def test_claim_due_leaves_the_new_run_of_a_busy_job_to_claim_pending(
    store: Store, busy: RunStatus
) -> None:
    due_now(store, "queue", overlap=OverlapPolicy.QUEUE)
    due_now(store, "allow", overlap=OverlapPolicy.ALLOW)
    previous = {name: add_runs(store, name, NOW - 3 * HOUR)[0] for name in ("queue", "allow")}
    for run in previous.values():
        move_to(store, run.id, busy, at=NOW - 3 * HOUR)
    assert store.claim_due(now=NOW, replica_id="r1", limit=10, plan=RecordingPlanner()) == []
    waiting = {run.job_name: run for run in store.list_runs(status=RunStatus.PENDING)}
    assert waiting == {name: row(waiting[name].id, name, NOW) for name in ("queue", "allow")}
    assert store.next_wake() == NOW
    [allowed] = store.claim_pending(now=NOW, replica_id="r1", limit=10)
    assert allowed.run == claimed_row(waiting["allow"].id, "allow", NOW)
    finish(store, previous["queue"].id, NOW + MINUTE)
    [queued] = store.claim_pending(now=NOW + MINUTE, replica_id="r1", limit=10)
    assert queued.run.id == waiting["queue"].id


def test_claim_due_inserts_the_statuses_the_planner_gives(store: Store) -> None:
    due_now(store, "missed", "skipped", "pending")
    statuses = {"missed": RunStatus.MISSED, "skipped": RunStatus.SKIPPED}
    planner = RecordingPlanner(statuses=statuses)
    claimed = store.claim_due(now=NOW, replica_id="r1", limit=10, plan=planner)
    assert [c.run.job_name for c in claimed] == ["pending"]
    runs = {run.job_name: run for run in store.list_runs()}
    assert runs == {
        "missed": row(runs["missed"].id, "missed", NOW, status=RunStatus.MISSED, finished_at=NOW),
        "skipped": row(
            runs["skipped"].id, "skipped", NOW, status=RunStatus.SKIPPED, finished_at=NOW
        ),
        "pending": claimed[0].run,
    }


def test_claim_due_inserts_every_run_of_a_catch_up_plan(store: Store) -> None:
    [job] = due_now(store, "a")

    def catch_up(job: StoredJob, has_active_run: bool, now: object) -> SlotPlan:
        return SlotPlan(
            runs=(
                new_run(NOW),
                new_run(NOW - HOUR, trigger=Trigger.CATCHUP),
                new_run(NOW - 2 * HOUR, status=RunStatus.MISSED, trigger=Trigger.CATCHUP),
            ),
            next_run_at=NOW + HOUR,
        )

    claimed = store.claim_due(now=NOW, replica_id="r1", limit=1, plan=catch_up)
    assert [(c.run.scheduled_for, c.run.trigger) for c in claimed] == [
        (NOW - HOUR, Trigger.CATCHUP),
        (NOW, Trigger.SCHEDULE),
    ]
    missed = store.list_runs(status=RunStatus.MISSED)
    assert missed == [
        row(
            missed[0].id,
            "a",
            NOW - 2 * HOUR,
            status=RunStatus.MISSED,
            trigger=Trigger.CATCHUP,
            finished_at=NOW,
        )
    ]
    assert claimed[0].job == job.spec


def test_claim_due_returns_runs_oldest_slot_first_then_by_job_name(store: Store) -> None:
    for name, at in [("z", NOW - 10 * MINUTE), ("b", NOW - 5 * MINUTE), ("m", NOW - 10 * MINUTE)]:
        store.save_job(once(name, at), now=NOW - HOUR)
    claimed = store.claim_due(now=NOW, replica_id="r1", limit=10, plan=RecordingPlanner())
    assert [(c.run.scheduled_for, c.run.job_name) for c in claimed] == [
        (NOW - 10 * MINUTE, "m"),
        (NOW - 10 * MINUTE, "z"),
        (NOW - 5 * MINUTE, "b"),
    ]
    assert [job.next_run_at for job in store.list_jobs()] == [None, None, None]
    assert store.next_wake() is None


def test_claim_due_takes_at_most_limit_jobs_earliest_first(store: Store) -> None:
    for name, minutes in [("a", 3), ("b", 1), ("c", 2)]:
        store.save_job(once(name, NOW - minutes * MINUTE), now=NOW - HOUR)
    planner = RecordingPlanner()
    claimed = store.claim_due(now=NOW, replica_id="r1", limit=2, plan=planner)
    assert sorted(planner.planned) == ["a", "c"]
    assert [c.run.job_name for c in claimed] == ["a", "c"]
    assert store.get_job("b").next_run_at == NOW - MINUTE
    assert store.next_wake() == NOW - MINUTE


def test_claim_due_never_claims_a_paused_or_disabled_job(store: Store) -> None:
    due_now(store, "paused")
    store.set_paused("paused", True, now=NOW - MINUTE)
    store.save_job(hourly("off", enabled=False), now=NOW - HOUR)
    planner = RecordingPlanner()
    assert store.claim_due(now=NOW + 5 * HOUR, replica_id="r1", limit=10, plan=planner) == []
    assert planner.calls == []


def test_claim_due_leaves_a_run_that_is_not_due_yet_unclaimed(store: Store) -> None:
    due_now(store, "a")
    planner = RecordingPlanner(delay=30 * SECOND)
    assert store.claim_due(now=NOW, replica_id="r1", limit=10, plan=planner) == []
    [run] = store.list_runs()
    assert run == row(run.id, "a", NOW, due_at=NOW + 30 * SECOND)
    assert store.get_job("a").next_run_at == NOW + HOUR
    assert store.next_wake() == NOW + 30 * SECOND
    assert store.claim_pending(now=NOW + 29 * SECOND, replica_id="r1", limit=10) == []
    [later] = store.claim_pending(now=NOW + 30 * SECOND, replica_id="r2", limit=10)
    assert later.run == claimed_row(
        run.id, "a", NOW, due_at=NOW + 30 * SECOND, at=NOW + 30 * SECOND, replica_id="r2"
    )


def test_claim_due_keeps_nothing_when_the_planner_raises(store: Store) -> None:
    due_now(store, "a", "b", "c")
    before = store.list_jobs()
    with pytest.raises(PlannerError):
        store.claim_due(now=NOW, replica_id="r1", limit=10, plan=RecordingPlanner(fail_for="b"))
    assert store.list_runs() == []
    assert store.list_jobs() == before
    claimed = store.claim_due(now=NOW, replica_id="r1", limit=10, plan=RecordingPlanner())
    assert [c.run.job_name for c in claimed] == ["a", "b", "c"]


@pytest.mark.parametrize("status", [RunStatus.RUNNING, RunStatus.SUCCEEDED])
def test_claim_due_refuses_a_run_created_in_another_status(store: Store, status: RunStatus) -> None:
    due_now(store, "a", "b")
    before = store.list_jobs()
    with pytest.raises(ValueError, match="a new run must be"):
        store.claim_due(
            now=NOW, replica_id="r1", limit=10, plan=RecordingPlanner(statuses={"b": status})
        )
    assert store.list_runs() == []
    assert store.list_jobs() == before


def test_claim_due_refuses_a_naive_instant(store: Store) -> None:
    due_now(store, "a")
    with pytest.raises(ValueError, match="naive"):
        store.claim_due(
            now=NOW.replace(tzinfo=None), replica_id="r1", limit=10, plan=RecordingPlanner()
        )
    assert store.list_runs() == []


# -- the unique (job, scheduled_for, attempt) rule ------------------------------
def test_add_run_refuses_a_second_run_for_the_same_slot_and_attempt(store: Store) -> None:
    store.save_job(hourly("a"), now=NOW)
    [first] = add_runs(store, "a", NOW)
    with pytest.raises(DuplicateRun):
        store.add_run("a", new_run(NOW, due_at=NOW + MINUTE, trigger=Trigger.MANUAL))
    retry = store.add_run("a", new_run(NOW, attempt=2, trigger=Trigger.RETRY))
    assert store.list_runs() == [retry, first]
    assert first == row(first.id, "a", NOW)
    assert retry == row(retry.id, "a", NOW, attempt=2, trigger=Trigger.RETRY)
    assert retry.id > first.id


def test_add_run_for_an_unknown_job_is_refused(store: Store) -> None:
    with pytest.raises(JobNotFound):
        store.add_run("ghost", new_run(NOW))


def test_add_run_only_adds_pending_runs(store: Store) -> None:
    store.save_job(hourly("a"), now=NOW)
    with pytest.raises(ValueError, match="pending"):
        store.add_run("a", new_run(NOW, status=RunStatus.SKIPPED))
    assert store.list_runs() == []


def test_a_planner_asking_for_a_slot_twice_gets_duplicate_run_and_no_writes(
    store: Store,
) -> None:
    due_now(store, "a", "b", "c")
    before = store.list_jobs()
    with pytest.raises(DuplicateRun):
        store.claim_due(
            now=NOW, replica_id="r1", limit=10, plan=RecordingPlanner(duplicate_for="b")
        )
    assert store.list_runs() == []
    assert store.list_jobs() == before


# -- claim_pending ----------------------------------------------------------------
def test_claim_pending_claims_due_unclaimed_runs_oldest_due_first(store: Store) -> None:
    store.save_job(hourly("a"), now=NOW)
    store.save_job(hourly("b"), now=NOW)
    [late] = add_runs(store, "a", NOW - 2 * HOUR, due_at=NOW - MINUTE)
    [early] = add_runs(store, "b", NOW - HOUR, due_at=NOW - 5 * MINUTE)
    [future] = add_runs(store, "a", NOW - HOUR, due_at=NOW + MINUTE)
    claimed = store.claim_pending(now=NOW, replica_id="r1", limit=10)
    assert [c.run for c in claimed] == [
        claimed_row(early.id, "b", NOW - HOUR, due_at=NOW - 5 * MINUTE),
        claimed_row(late.id, "a", NOW - 2 * HOUR, due_at=NOW - MINUTE),
    ]
    assert [c.job.name for c in claimed] == ["b", "a"]
    assert store.list_runs(status=RunStatus.QUEUED) == [c.run for c in claimed]  # newest slot first
    assert store.claim_pending(now=NOW, replica_id="r2", limit=10) == []
    assert store.get_run(future.id) == future


def test_claim_pending_takes_at_most_limit(store: Store) -> None:
    store.save_job(hourly("a"), now=NOW)
    runs = add_runs(store, "a", NOW - 3 * HOUR, NOW - 2 * HOUR, NOW - HOUR)
    claimed = store.claim_pending(now=NOW, replica_id="r1", limit=2)
    assert [c.run.id for c in claimed] == [runs[0].id, runs[1].id]
    assert store.get_run(runs[2].id) == runs[2]


def test_claim_pending_does_not_reclaim_what_claim_due_claimed(store: Store) -> None:
    due_now(store, "a")
    store.claim_due(now=NOW, replica_id="r1", limit=10, plan=RecordingPlanner())
    assert store.claim_pending(now=NOW, replica_id="r2", limit=10) == []


@pytest.mark.parametrize("busy", [RunStatus.QUEUED, RunStatus.RUNNING])
def test_a_queue_job_waits_while_its_previous_run_is_busy(store: Store, busy: RunStatus) -> None:
    store.save_job(hourly("q", overlap=OverlapPolicy.QUEUE), now=NOW)
    store.save_job(hourly("free", overlap=OverlapPolicy.ALLOW), now=NOW)
    [q1] = add_runs(store, "q", NOW - 2 * HOUR)
    [f1] = add_runs(store, "free", NOW - 2 * HOUR)
    store.claim_pending(now=NOW - 2 * HOUR, replica_id="r1", limit=10)  # queues them
    for run in (q1, f1):
        if busy is RunStatus.RUNNING:
            store.mark_running(run.id, worker="host:1", now=NOW - 2 * HOUR)
    [q2] = add_runs(store, "q", NOW - HOUR)
    [f2] = add_runs(store, "free", NOW - HOUR)
    claimed = store.claim_pending(now=NOW, replica_id="r1", limit=10)
    assert [c.run.id for c in claimed] == [f2.id]
    finish(store, q1.id, NOW)
    [after] = store.claim_pending(now=NOW, replica_id="r1", limit=10)
    assert after.run.id == q2.id


def test_a_queue_job_has_one_run_claimed_at_a_time(store: Store) -> None:
    # Found by the simulation (seed 0): a queue job's waiting run and the slot
    # planned behind it were both pending, and one claim queued both at once.
    store.save_job(hourly("q", overlap=OverlapPolicy.QUEUE), now=NOW)
    store.save_job(hourly("free", overlap=OverlapPolicy.ALLOW), now=NOW)
    q1, q2 = add_runs(store, "q", NOW - 2 * HOUR, NOW - HOUR)
    f1, f2 = add_runs(store, "free", NOW - 2 * HOUR, NOW - HOUR)
    claimed = store.claim_pending(now=NOW, replica_id="r1", limit=10)
    assert sorted(c.run.id for c in claimed) == sorted([q1.id, f1.id, f2.id])
    assert store.claim_pending(now=NOW, replica_id="r1", limit=10) == []
    finish(store, q1.id, NOW)
    [after] = store.claim_pending(now=NOW, replica_id="r1", limit=10)
    assert after.run.id == q2.id


def test_runs_come_back_with_aware_utc_instants(store: Store) -> None:
    due_now(store, "a")
    claimed = store.claim_due(now=NOW, replica_id="r1", limit=10, plan=RecordingPlanner())
    add_runs(store, "a", NOW - HOUR)
    claimed += store.claim_pending(now=NOW, replica_id="r1", limit=10)
    assert len(claimed) == 2
    assert_all_utc(claimed)
    assert_all_utc(store.list_runs())
