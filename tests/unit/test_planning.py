"""The slot planner: what each due slot becomes, exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scheduler.engine.planning import SlotPlanner
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import jitter_offset
from scheduler.model.runs import NewRun, RunStatus, Trigger
from scheduler.stores.base import StoredJob

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def stored(next_run_at: datetime | None, **options: Any) -> StoredJob:
    options.setdefault("cron", "* * * * *")
    spec = JobSpec.build(name=options.pop("name", "job"), task="app.tasks.work", **options)
    return StoredJob(
        spec=spec,
        next_run_at=next_run_at,
        version=1,
        definition_hash=spec.definition_hash(),
        created_at=T0,
        updated_at=T0,
    )


def summary(runs: tuple[NewRun, ...]) -> list[tuple[str, str, str]]:
    return [(f"{r.scheduled_for:%H:%M}", r.status.value, r.trigger.value) for r in runs]


def test_on_time_slot_fires_and_advances_from_the_slot() -> None:
    plan = SlotPlanner()(stored(T0), False, T0 + timedelta(seconds=3))
    assert summary(plan.runs) == [("12:00", "pending", "schedule")]
    assert plan.runs[0].due_at == T0
    assert plan.next_run_at == T0 + MIN


def test_not_yet_due_changes_nothing() -> None:
    plan = SlotPlanner()(stored(T0 + MIN), False, T0)
    assert plan.runs == () and plan.next_run_at == T0 + MIN


def test_downtime_with_catchup_once_fires_the_latest_and_records_the_rest() -> None:
    # Down from 12:00 to 12:04:30: slots 12:00..12:04, 12:04 is on time (grace 60 s).
    plan = SlotPlanner()(stored(T0), False, T0 + timedelta(minutes=4, seconds=30))
    assert summary(plan.runs) == [
        ("12:00", "missed", "catchup"),
        ("12:01", "missed", "catchup"),
        ("12:02", "missed", "catchup"),
        ("12:03", "missed", "catchup"),
        ("12:04", "pending", "schedule"),
    ]
    assert plan.next_run_at == T0 + 5 * MIN


def test_only_the_newest_slot_inside_the_grace_is_on_time() -> None:
    # A 10-second job, 56 s behind: six slots inside the 60 s grace, one claim.
    job = stored(T0, cron=None, every="10s", start=T0)
    plan = SlotPlanner()(job, False, T0 + timedelta(seconds=56))
    assert [(r.scheduled_for.second, r.status.value, r.trigger.value) for r in plan.runs] == [
        *[(second, "missed", "catchup") for second in (0, 10, 20, 30, 40)],
        (50, "pending", "schedule"),
    ]


def test_a_backlog_inside_the_grace_fires_as_catchup_under_catchup_all() -> None:
    job = stored(T0, cron=None, every="10s", start=T0, catchup="all", max_catchup=3)
    plan = SlotPlanner()(job, False, T0 + timedelta(seconds=56))
    assert [(r.scheduled_for.second, r.status.value, r.trigger.value) for r in plan.runs] == [
        *[(second, "missed", "catchup") for second in (0, 10)],
        *[(second, "pending", "catchup") for second in (20, 30, 40)],
        (50, "pending", "schedule"),
    ]


def test_catchup_once_when_every_slot_is_late() -> None:
    plan = SlotPlanner()(stored(T0, cron="0 * * * *"), False, T0 + timedelta(hours=2, minutes=30))
    assert summary(plan.runs) == [
        ("12:00", "missed", "catchup"),
        ("13:00", "missed", "catchup"),
        ("14:00", "pending", "catchup"),
    ]
    assert plan.next_run_at == T0 + timedelta(hours=3)


def test_catchup_all_fires_up_to_max_catchup() -> None:
    job = stored(T0, cron="0 * * * *", catchup="all", max_catchup=2)
    plan = SlotPlanner()(job, False, T0 + timedelta(hours=3, minutes=30))
    assert summary(plan.runs) == [
        ("12:00", "missed", "catchup"),
        ("13:00", "missed", "catchup"),
        ("14:00", "pending", "catchup"),
        ("15:00", "pending", "catchup"),
    ]


def test_catchup_skip_fires_nothing_late() -> None:
    job = stored(T0, cron="0 * * * *", catchup="skip")
    plan = SlotPlanner()(job, False, T0 + timedelta(hours=1, minutes=30))
    assert summary(plan.runs) == [("12:00", "missed", "catchup"), ("13:00", "missed", "catchup")]
    assert plan.next_run_at == T0 + timedelta(hours=2)


def test_catchup_window_bounds_how_old_a_slot_may_be() -> None:
    job = stored(T0, cron="0 * * * *", catchup="all", catchup_window="89m")
    plan = SlotPlanner()(job, False, T0 + timedelta(hours=2, minutes=30))
    assert summary(plan.runs) == [
        ("12:00", "missed", "catchup"),
        ("13:00", "missed", "catchup"),
        ("14:00", "pending", "catchup"),
    ]


def test_overlap_skip_records_skipped() -> None:
    plan = SlotPlanner()(stored(T0), True, T0)
    assert summary(plan.runs) == [("12:00", "skipped", "schedule")]
    assert plan.next_run_at == T0 + MIN


def test_overlap_allow_fires_anyway() -> None:
    plan = SlotPlanner()(stored(T0, overlap="allow"), True, T0)
    assert summary(plan.runs) == [("12:00", "pending", "schedule")]


def test_overlap_queue_keeps_the_latest_waiting() -> None:
    job = stored(T0, overlap="queue", catchup="all")
    plan = SlotPlanner()(job, True, T0 + timedelta(minutes=3))
    assert summary(plan.runs) == [
        ("12:00", "skipped", "schedule"),
        ("12:01", "skipped", "schedule"),
        ("12:02", "skipped", "schedule"),
        ("12:03", "pending", "schedule"),
    ]


def test_jitter_delays_due_at_deterministically() -> None:
    job = stored(T0, jitter="30s", name="spread")
    plan = SlotPlanner()(job, False, T0)
    (run,) = plan.runs
    assert run.scheduled_for == T0
    assert run.due_at == T0 + jitter_offset("spread", T0, timedelta(seconds=30))
    assert SlotPlanner()(job, False, T0).runs[0].due_at == run.due_at


def test_end_of_window_stops_the_job() -> None:
    job = stored(T0, end=T0 + timedelta(seconds=30))
    plan = SlotPlanner()(job, False, T0)
    assert summary(plan.runs) == [("12:00", "pending", "schedule")]
    assert plan.next_run_at is None


def test_one_off_job_runs_once() -> None:
    job = stored(T0, cron=None, at=T0)
    plan = SlotPlanner()(job, False, T0 + timedelta(seconds=1))
    assert [(r.scheduled_for, r.status) for r in plan.runs] == [(T0, RunStatus.PENDING)]
    assert plan.next_run_at is None


def test_dst_fall_back_fixed_time_job_fires_once() -> None:
    berlin = "Europe/Berlin"
    first = datetime.fromisoformat("2026-10-25T02:30:00+02:00").astimezone(UTC)
    job = stored(first, cron="30 2 * * *", timezone=berlin)
    plan = SlotPlanner()(job, False, first + timedelta(seconds=1))
    assert len(plan.runs) == 1
    assert plan.next_run_at == datetime.fromisoformat("2026-10-26T02:30:00+01:00")


def test_huge_backlog_is_bounded_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    job = stored(T0, cron="* * * * * *", catchup="skip")  # every second, down for an hour
    now = T0 + timedelta(hours=1)
    plan = SlotPlanner(max_slots=100)(job, False, now)
    assert len(plan.runs) == 100
    assert plan.next_run_at == now + timedelta(seconds=1)
    assert "more slots were missed" in caplog.text


def test_next_times_are_shared_between_jobs_with_one_schedule() -> None:
    planner = SlotPlanner()
    for index in range(50):
        planner(stored(T0, name=f"job-{index}"), False, T0)
    # one schedule, one slot: a single memoised next time
    assert len(planner._next) == 1
    assert [r.trigger for r in planner(stored(T0), False, T0).runs] == [Trigger.SCHEDULE]
