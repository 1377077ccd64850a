"""Run hooks: each run's start and end heard once, by the process that recorded it.

Fake clock, engines on the in-memory store and SQLite, a recording executor.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scheduler.engine import Engine, EngineConfig, TickReport
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import Outcome, RunStatus, Trigger
from scheduler.monitoring.events import PROBLEM_STATUSES, RunEvent
from scheduler.monitoring.hooks import RunHooks
from scheduler.stores.base import NextWork, Store
from scheduler.tasks.registry import TaskRegistry
from scheduler.testing import FakeClock, MemoryStore, RecordingExecutor
from scheduler.workers.heartbeats import RunHeartbeat
from scheduler.workers.run import execute_remote_run

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@dataclass
class Heard:
    """What a set of hooks heard, by kind."""

    started: list[RunEvent] = field(default_factory=list)
    finished: list[RunEvent] = field(default_factory=list)
    failed: list[RunEvent] = field(default_factory=list)

    def ends(self) -> list[tuple[str, str, int, str, bool]]:
        return [
            (e.job_name, e.scheduled_for.strftime("%H:%M"), e.attempt, e.status.value, e.will_retry)
            for e in self.finished
        ]


def listening() -> tuple[RunHooks, Heard]:
    hooks, heard = RunHooks(), Heard()
    hooks.on_started(heard.started.append)
    hooks.on_finished(heard.finished.append)
    hooks.on_failed(heard.failed.append)
    return hooks, heard


def registry() -> TaskRegistry:
    tasks = TaskRegistry()
    tasks.register(lambda: "ok", name="tests.work")

    def boom() -> None:
        raise ValueError("boom")

    tasks.register(boom, name="tests.boom")
    return tasks


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    from scheduler.stores.sqlalchemy import SQLAlchemyStore

    sql = SQLAlchemyStore(f"sqlite:///{tmp_path}/hooks.sqlite3")
    sql.create_schema()
    yield sql
    sql.dispose()


def add(store: Store, clock: FakeClock, **options: Any) -> JobSpec:
    options.setdefault("task", "tests.work")
    options.setdefault("source", JobSource.CODE)
    spec = JobSpec.build(**options)
    store.save_job(spec, now=clock.now())
    return spec


def engine(
    store: Store, clock: FakeClock, hooks: RunHooks, *, auto_run: bool = True, replica: str = "r1"
) -> tuple[Engine, RecordingExecutor]:
    executor = RecordingExecutor(clock=clock, auto_run=auto_run)
    built = Engine(
        store,
        {"default": executor},
        registry=registry(),
        clock=clock,
        replica_id=replica,
        config=EngineConfig(poll_interval=3600.0),
        hooks=hooks,
    )
    return built, executor


def test_every_end_is_heard_once_and_failures_twice(store: Store) -> None:
    clock = FakeClock(T0)
    hooks, heard = listening()
    add(store, clock, name="fine", every="30m")
    add(store, clock, name="flaky", task="tests.boom", every="1h", retries=1, retry_backoff="30s")
    scheduler, _ = engine(store, clock, hooks)
    scheduler.loop(until=T0 + timedelta(hours=1, minutes=5))
    assert sorted(heard.ends()) == [
        ("fine", "09:30", 1, "succeeded", False),
        ("fine", "10:00", 1, "succeeded", False),
        ("flaky", "10:00", 1, "failed", True),
        ("flaky", "10:00", 2, "failed", False),
    ]
    assert [(e.job_name, e.attempt) for e in heard.failed] == [("flaky", 1), ("flaky", 2)]
    assert len(heard.started) == 4
    retry = next(e for e in heard.finished if e.attempt == 2)
    assert retry.trigger is Trigger.RETRY
    assert retry.error == "ValueError: boom"
    assert retry.started_at == T0 + timedelta(hours=1, seconds=30)
    assert retry.duration == timedelta(0)  # the fake clock does not move while it runs
    assert retry.lateness == timedelta(seconds=30)  # started 30 s after its slot
    assert retry.replica_id == "r1" and retry.worker and retry.run_id is not None
    recorded = {run.id: run.status for run in store.list_runs(limit=100)}
    assert {e.run_id: e.status for e in heard.finished} == recorded


def test_a_start_is_heard_with_its_worker_and_instant(store: Store) -> None:
    clock = FakeClock(T0)
    hooks, heard = listening()
    add(store, clock, name="slow", every="1m")
    scheduler, executor = engine(store, clock, hooks, auto_run=False)
    scheduler.loop(until=T0 + MINUTE)
    (run_id,) = executor.run_ids
    clock.advance(timedelta(seconds=5))
    assert executor.start(run_id)
    (started,) = heard.started
    assert (started.run_id, started.status, started.finished) == (run_id, RunStatus.RUNNING, False)
    assert started.lateness == timedelta(seconds=5)
    clock.advance(timedelta(seconds=7))
    executor.complete(run_id)
    (ended,) = heard.finished
    assert ended.duration == timedelta(seconds=7) and ended.worker == started.worker


def test_skipped_and_missed_slots_are_heard_once_their_claim_committed(store: Store) -> None:
    clock = FakeClock(T0)
    hooks, heard = listening()
    add(store, clock, name="slow", every="1m")
    add(store, clock, name="tick", cron="*/10 * * * *")
    scheduler, _ = engine(store, clock, hooks, auto_run=False)
    scheduler.loop(until=T0 + 3 * MINUTE)  # slow's 09:01 run never ends
    clock.advance(timedelta(minutes=45))  # the scheduler was down
    scheduler.tick()
    ends = sorted(heard.ends())
    assert ("slow", "09:02", 1, "skipped", False) in ends
    assert ("slow", "09:03", 1, "skipped", False) in ends
    missed = [end for end in ends if end[0] == "tick"]
    assert missed == [  # 09:40 is the one catch-up run
        ("tick", "09:10", 1, "missed", False),
        ("tick", "09:20", 1, "missed", False),
        ("tick", "09:30", 1, "missed", False),
    ]
    assert {e.status for e in heard.failed} == {RunStatus.MISSED}  # skipped is no problem
    assert all(e.run_id is None for e in heard.finished)
    recorded = [
        (r.job_name, r.scheduled_for.strftime("%H:%M"), r.attempt, r.status.value, False)
        for r in store.list_runs(limit=100)
        if r.status in {RunStatus.MISSED, RunStatus.SKIPPED}
    ]
    assert sorted(recorded) == ends


def test_a_run_lost_by_recovery_is_heard_by_the_recovering_replica_only(store: Store) -> None:
    clock = FakeClock(T0)
    first_hooks, first = listening()
    second_hooks, second = listening()
    add(store, clock, name="slow", every="1h", retries=1)
    dead, executor = engine(store, clock, first_hooks, auto_run=False, replica="dead")
    dead.loop(until=T0 + timedelta(hours=1))
    (run_id,) = executor.run_ids
    executor.start(run_id)  # then the replica stops heartbeating
    clock.advance(timedelta(minutes=5))
    survivor, _ = engine(store, clock, second_hooks, replica="survivor")
    survivor.tick()
    survivor.tick()
    assert second.ends() == [("slow", "10:00", 1, "lost", True)]
    assert [e.run_id for e in second.failed] == [run_id]
    assert "dead" in second.failed[0].error
    executor.complete(run_id)  # the dead replica's late report changes nothing
    assert first.finished == []
    assert store.get_run(run_id).status is RunStatus.LOST


def test_a_second_report_of_an_end_is_not_heard(store: Store) -> None:
    clock = FakeClock(T0)
    hooks, heard = listening()
    add(store, clock, name="slow", every="1m")
    scheduler, executor = engine(store, clock, hooks, auto_run=False)
    scheduler.loop(until=T0 + MINUTE)
    (run_id,) = executor.run_ids
    executor.start(run_id)
    done = Outcome(status=RunStatus.SUCCEEDED, finished_at=clock.now())
    scheduler.dispatcher.finished(run_id, done)
    scheduler.dispatcher.finished(run_id, Outcome(status=RunStatus.FAILED, finished_at=clock.now()))
    scheduler.dispatcher.flush_reports()
    assert [e.status for e in heard.finished] == [RunStatus.SUCCEEDED]


def test_a_hook_that_raises_is_logged_and_counted_and_changes_nothing(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(T0)
    hooks, heard = RunHooks(), Heard()

    def broken(event: RunEvent) -> None:
        raise RuntimeError("pager down")

    hooks.on_finished(broken)
    hooks.on_finished(heard.finished.append)
    hooks.on_started(broken)
    add(store, clock, name="fine", every="1m")
    scheduler, _ = engine(store, clock, hooks)
    with caplog.at_level(logging.ERROR, logger="scheduler.monitoring.hooks"):
        scheduler.loop(until=T0 + 3 * MINUTE)
    statuses = [run.status for run in store.list_runs(job_name="fine", limit=10)]
    assert statuses == [RunStatus.SUCCEEDED] * 3
    assert len(heard.finished) == 3  # the hooks after the broken one still ran
    assert hooks.errors == 6  # three starts, three ends
    assert sum("pager down" in r.exc_text for r in caplog.records if r.exc_text) == 6


def test_removed_hooks_are_not_called_and_registration_returns_the_hook() -> None:
    hooks = RunHooks()
    calls: list[RunEvent] = []

    def hook(event: RunEvent) -> None:
        calls.append(event)

    assert hooks.on_failed(hook) is hook and hooks.on_finished(hook) is hook
    assert hooks
    event = RunEvent(
        job=JobSpec.build(name="x", task="t", every="1m"),
        run_id=1,
        status=RunStatus.TIMED_OUT,
        scheduled_for=T0,
        due_at=T0,
        attempt=1,
        trigger=Trigger.SCHEDULE,
        finished_at=T0,
    )
    hooks.emit_finished(event)
    assert len(calls) == 2  # finished, then failed
    hooks.remove(hook)
    hooks.emit_finished(event)
    assert len(calls) == 2 and not hooks
    assert PROBLEM_STATUSES == {
        RunStatus.FAILED,
        RunStatus.TIMED_OUT,
        RunStatus.LOST,
        RunStatus.MISSED,
    }


def test_after_tick_hears_every_wake_up_even_when_the_store_is_down() -> None:
    from scheduler.errors import StoreUnavailable

    class Down(MemoryStore):
        down = False

        def next_work(self) -> NextWork:
            if self.down:
                raise StoreUnavailable("database restarting")
            return super().next_work()

    clock = FakeClock(T0)
    store = Down()
    reports: list[TickReport] = []
    scheduler = Engine(
        store,
        {"default": RecordingExecutor(clock=clock, auto_run=True)},
        registry=registry(),
        clock=clock,
        config=EngineConfig(poll_interval=10.0),
        after_tick=[reports.append],
        hooks=RunHooks(),
    )
    scheduler.loop(until=T0 + timedelta(seconds=20))
    assert reports and all(r.retry_in is None for r in reports)
    assert reports[0].heartbeat_at == T0 and reports[0].claim_seconds is not None
    store.down = True
    scheduler.loop(once=True)
    assert reports[-1].retry_in is not None and "restarting" in reports[-1].error


def test_a_worker_outside_the_scheduler_tells_its_own_hooks() -> None:
    clock = FakeClock(T0)
    store = MemoryStore()
    hooks, heard = listening()
    add(store, clock, name="remote", task="tests.boom", every="1m")
    quiet, _ = engine(store, clock, RunHooks(), auto_run=False)
    quiet.loop(until=T0 + MINUTE)
    (run,) = store.list_runs(limit=1)
    heartbeat = RunHeartbeat(lambda: store, clock=clock, interval=60)
    try:
        outcome = execute_remote_run(
            run.id, store=store, registry=registry(), heartbeat=heartbeat, clock=clock, hooks=hooks
        )
    finally:
        heartbeat.close()
    assert outcome is not None and outcome.status is RunStatus.FAILED
    assert [e.status for e in heard.started] == [RunStatus.RUNNING]
    assert [(e.run_id, e.status) for e in heard.failed] == [(run.id, RunStatus.FAILED)]
    again = execute_remote_run(
        run.id, store=store, registry=registry(), heartbeat=heartbeat, clock=clock, hooks=hooks
    )
    assert again is None and len(heard.finished) == 1  # a second delivery is not heard
