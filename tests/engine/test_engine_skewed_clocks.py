"""Replicas and editors whose clocks disagree by a little: a slot still fires once.

An edit, sync or resume made with a clock behind a replica's can set a job
back to the slot that replica has just claimed.  The next claim, by any
replica, skips that slot (it has a run), moves the job on and goes on with
the rest: no second run, no exception out of ``tick``, no hook told of a
missed slot that was not missed.  Seed 1079 of the simulation found it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scheduler.engine import Engine, EngineConfig
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.monitoring.hooks import RunHooks
from scheduler.stores.base import Store
from scheduler.tasks.registry import TaskRegistry
from scheduler.testing import FakeClock, MemoryStore, RecordingExecutor

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    from scheduler.stores.sqlalchemy import SQLAlchemyStore

    sql = SQLAlchemyStore(f"sqlite:///{tmp_path}/skew.sqlite3")
    sql.create_schema()
    yield sql
    sql.dispose()


class Replica:
    """An engine with its own clock, ``skew`` ahead of true time."""

    def __init__(self, store: Store, name: str, hooks: RunHooks) -> None:
        registry = TaskRegistry()
        registry.register(lambda: None, name="tests.work")
        self.clock = FakeClock(T0)
        self.executor = RecordingExecutor(clock=self.clock)
        self.engine = Engine(
            store,
            {"default": self.executor},
            registry=registry,
            clock=self.clock,
            replica_id=name,
            config=EngineConfig(poll_interval=3600.0),
            hooks=hooks,
        )

    def tick_at(self, instant: datetime) -> int:
        """Wake up at ``instant`` by this replica's clock; the slots its claim skipped."""
        self.clock.set(instant)
        return self.engine.tick().taken_slots


def job(**options: Any) -> JobSpec:
    return JobSpec.build(
        name="report", task="tests.work", cron="*/5 * * * *", source=JobSource.CODE, **options
    )


def finished_events(hooks: RunHooks) -> list[tuple[datetime, str]]:
    seen: list[tuple[datetime, str]] = []
    hooks.on_finished(lambda event: seen.append((event.scheduled_for, event.status.value)))
    return seen


def test_an_edit_from_a_clock_behind_does_not_fire_a_claimed_slot_again(store: Store) -> None:
    hooks = RunHooks()
    store.save_job(job(), now=T0 - timedelta(minutes=3))
    ahead, other = Replica(store, "ahead", hooks), Replica(store, "other", hooks)
    assert ahead.tick_at(T0 + 2 * SECOND) == 0  # true time T0: its clock is 2 s ahead
    edited = store.save_job(job(args=[1]), now=T0 - SECOND)  # an editor 1 s behind true time
    assert edited.next_run_at == T0  # set back to the slot "ahead" claimed
    assert other.tick_at(T0 + SECOND) == 1  # raises nothing, skips it
    assert ahead.tick_at(T0 + 3 * SECOND) == 0
    assert [(r.scheduled_for, r.replica_id) for r in store.list_runs()] == [(T0, "ahead")]
    assert len(ahead.executor.submissions) + len(other.executor.submissions) == 1
    assert store.get_job("report").next_run_at == T0 + 5 * 60 * SECOND


def test_a_skipped_slot_planned_missed_is_not_announced(store: Store) -> None:
    # A replica two minutes ahead: past the grace, the slot would be recorded
    # missed (catch-up skip); it has a run already, so no hook hears of it.
    hooks = RunHooks()
    seen = finished_events(hooks)
    store.save_job(job(catchup="skip"), now=T0 - timedelta(minutes=3))
    ahead, late = Replica(store, "ahead", hooks), Replica(store, "late", hooks)
    ahead.tick_at(T0)
    store.save_job(job(catchup="skip", args=[1]), now=T0 - SECOND)
    assert late.tick_at(T0 + timedelta(minutes=2)) == 1
    assert (T0, "missed") not in seen
    [run] = store.list_runs()
    assert run.replica_id == "ahead"


def test_a_job_resumed_with_a_clock_behind_does_not_run_its_last_slot_again(
    store: Store,
) -> None:
    hooks = RunHooks()
    store.save_job(job(), now=T0 - timedelta(minutes=3))
    ahead, other = Replica(store, "ahead", hooks), Replica(store, "other", hooks)
    ahead.tick_at(T0 + 2 * SECOND)
    store.set_paused("report", True, now=T0)
    assert store.set_paused("report", False, now=T0 - SECOND).next_run_at == T0
    assert other.tick_at(T0 + SECOND) == 1
    assert len(store.list_runs()) == 1
    assert len(ahead.executor.submissions) + len(other.executor.submissions) == 1
