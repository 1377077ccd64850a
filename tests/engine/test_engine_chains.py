"""Chains on the engine, with a fake clock: a chained job runs once per qualifying upstream run.

Two engines share one store, as two replicas share a database: each ends
upstream runs and follows chains, and one of them stops for good half-way,
between ticks, as a replica that crashed.  Every upstream run that succeeded
still gives exactly one run of the chained job, none twice, none missing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scheduler.engine import Engine, EngineConfig
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import Run, RunStatus, Trigger
from scheduler.stores.base import Store
from scheduler.tasks.registry import TaskRegistry
from scheduler.testing import FakeClock, MemoryStore, RecordingExecutor

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
UPSTREAM_RUNS = 1000


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    from scheduler.stores.sqlalchemy import SQLAlchemyStore

    sql = SQLAlchemyStore(f"sqlite:///{tmp_path}/chains.sqlite3")
    sql.create_schema()
    yield sql
    sql.dispose()


def engine(store: Store, clock: FakeClock, name: str, calls: list[str]) -> Engine:
    registry = TaskRegistry()
    registry.register(lambda: calls.append("extract"), name="tests.extract")
    registry.register(lambda: calls.append("load"), name="tests.load")

    def broken() -> None:
        raise RuntimeError("no data")

    registry.register(broken, name="tests.broken")
    executor = RecordingExecutor(clock=clock, auto_run=True)
    return Engine(
        store,
        {"default": executor},
        registry=registry,
        clock=clock,
        replica_id=name,
        config=EngineConfig(poll_interval=3600.0),
    )


def job(name: str, task: str, **options: object) -> JobSpec:
    return JobSpec.build(name=name, task=task, source=JobSource.CODE, **options)  # type: ignore[arg-type]


def all_runs(store: Store, name: str) -> list[Run]:
    return store.list_runs(job_name=name, limit=UPSTREAM_RUNS * 3)


def test_two_engines_give_one_chained_run_per_upstream_run_even_when_one_stops(
    store: Store,
) -> None:
    clock = FakeClock(T0)
    calls: list[str] = []
    store.save_job(job("extract", "tests.extract", every="1s"), now=T0)
    store.save_job(job("load", "tests.load", after=["extract"]), now=T0)
    first, second = engine(store, clock, "r1", calls), engine(store, clock, "r2", calls)
    replicas = [first, second]
    for step in range(1, UPSTREAM_RUNS + 1):
        clock.set(T0 + step * SECOND)
        if step == UPSTREAM_RUNS // 2:
            replicas = [second]  # the first replica crashed: it never ticks again
        for replica in replicas if step % 2 else reversed(replicas):
            replica.tick()
    for _ in range(3):  # let the last upstream end be followed and its run handed over
        second.tick()
    upstream = [run for run in all_runs(store, "extract") if run.status is RunStatus.SUCCEEDED]
    chained = all_runs(store, "load")
    assert len(upstream) == UPSTREAM_RUNS
    assert len(chained) == UPSTREAM_RUNS
    links = Counter(run.upstream_run_id for run in chained)
    assert set(links) == {run.id for run in upstream}
    assert max(links.values()) == 1
    assert {run.trigger for run in chained} == {Trigger.CHAIN}
    assert {run.status for run in chained} == {RunStatus.SUCCEEDED}
    assert Counter(calls) == {"extract": UPSTREAM_RUNS, "load": UPSTREAM_RUNS}
    ends = {run.id: run.finished_at or T0 for run in upstream}
    assert all(run.scheduled_for >= ends[run.upstream_run_id or 0] for run in chained)


def test_a_chained_job_runs_in_the_wake_up_after_its_upstream_ended(store: Store) -> None:
    clock = FakeClock(T0)
    calls: list[str] = []
    store.save_job(job("extract", "tests.extract", cron="*/15 * * * *"), now=T0)
    store.save_job(job("load", "tests.load", after=["extract"]), now=T0)
    store.save_job(job("alert", "tests.load", after=["extract"], when="failed"), now=T0)
    engine(store, clock, "r1", calls).loop(until=T0 + timedelta(minutes=31))
    rows = [
        (run.job_name, run.scheduled_for.isoformat(), run.trigger.value, run.status.value)
        for run in sorted(store.list_runs(limit=100), key=lambda run: run.id)
    ]
    assert rows == [
        ("extract", "2026-06-01T09:15:00+00:00", "schedule", "succeeded"),
        ("load", "2026-06-01T09:15:00+00:00", "chain", "succeeded"),
        ("extract", "2026-06-01T09:30:00+00:00", "schedule", "succeeded"),
        ("load", "2026-06-01T09:30:00+00:00", "chain", "succeeded"),
    ]


def test_a_failed_upstream_run_starts_the_jobs_waiting_for_failures(store: Store) -> None:
    clock = FakeClock(T0)
    calls: list[str] = []
    store.save_job(job("extract", "tests.broken", cron="*/15 * * * *"), now=T0)
    store.save_job(job("load", "tests.load", after=["extract"]), now=T0)
    store.save_job(job("alert", "tests.load", after=["extract"], when="failed"), now=T0)
    store.save_job(job("cleanup", "tests.load", after=["extract"], when="finished"), now=T0)
    engine(store, clock, "r1", calls).loop(until=T0 + timedelta(minutes=16))
    [failed] = all_runs(store, "extract")
    assert failed.status is RunStatus.FAILED
    assert all_runs(store, "load") == []
    for name in ("alert", "cleanup"):
        [run] = all_runs(store, name)
        assert (run.upstream_run_id, run.status) == (failed.id, RunStatus.SUCCEEDED)


JOINED_SLOTS = 200


def test_two_engines_run_a_join_once_per_slot_both_upstreams_succeeded(store: Store) -> None:
    clock = FakeClock(T0)
    calls: list[str] = []
    for name in ("extract-a", "extract-b"):
        store.save_job(job(name, "tests.extract", every="1s"), now=T0)
    store.save_job(job("load", "tests.load", after=["extract-a", "extract-b"]), now=T0)
    replicas = [engine(store, clock, "r1", calls), engine(store, clock, "r2", calls)]
    for step in range(1, JOINED_SLOTS + 1):
        clock.set(T0 + step * SECOND)
        for replica in replicas if step % 2 else reversed(replicas):
            replica.tick()
    for _ in range(3):  # the last ends followed, and the last join handed over
        replicas[0].tick()
    firsts = {run.scheduled_for: run for run in all_runs(store, "extract-a")}
    assert len(firsts) == JOINED_SLOTS
    joined = all_runs(store, "load")
    assert len(joined) == JOINED_SLOTS
    links = Counter(run.upstream_run_id for run in joined)
    assert set(links) == {run.id for run in firsts.values()}
    assert max(links.values()) == 1
    assert {run.status for run in joined} == {RunStatus.SUCCEEDED}
    assert Counter(calls) == {"extract": 2 * JOINED_SLOTS, "load": JOINED_SLOTS}


def test_a_join_runs_once_its_slower_upstream_ended_and_not_for_a_failed_slot(
    store: Store,
) -> None:
    clock = FakeClock(T0)
    calls: list[str] = []
    store.save_job(job("extract-a", "tests.extract", cron="*/15 * * * *"), now=T0)
    store.save_job(job("extract-b", "tests.extract", cron="*/15 * * * *"), now=T0)
    store.save_job(job("broken", "tests.broken", cron="*/30 * * * *"), now=T0)
    store.save_job(job("load", "tests.load", after=["extract-a", "extract-b"]), now=T0)
    store.save_job(job("never", "tests.load", after=["extract-a", "broken"]), now=T0)
    engine(store, clock, "r1", calls).loop(until=T0 + timedelta(minutes=31))
    rows = [
        (run.scheduled_for.isoformat(), run.trigger.value, run.status.value)
        for run in sorted(all_runs(store, "load"), key=lambda run: run.id)
    ]
    assert rows == [
        ("2026-06-01T09:15:00+00:00", "chain", "succeeded"),
        ("2026-06-01T09:30:00+00:00", "chain", "succeeded"),
    ]
    assert all_runs(store, "never") == []


class CountingStore(MemoryStore):
    """Counts the chains' transactions a wake-up opens."""

    follows = 0

    def follow_chains(self, *, now: datetime, limit: int) -> list[Run]:
        self.follows += 1
        return super().follow_chains(now=now, limit=limit)


def test_a_busy_wake_up_follows_chains_only_when_an_upstream_run_ended() -> None:
    clock = FakeClock(T0)
    store = CountingStore()
    calls: list[str] = []
    store.save_job(job("tick", "tests.extract", every="1s"), now=T0)
    scheduler = engine(store, clock, "r1", calls)
    for _ in range(5):  # busy, but no job runs after another: no chains' transaction
        clock.advance(SECOND)
        assert scheduler.tick().dispatched == 1
    assert (store.follows, calls) == (0, ["extract"] * 5)

    store.save_job(job("load", "tests.load", after=["tick"]), now=clock.now())
    for follows in (1, 2, 3):  # from now on, every wake-up has an end to follow
        clock.advance(SECOND)
        scheduler.tick()
        assert store.follows == follows
    # Each wake-up starts tick's run and the load after the previous one (the
    # first of them ended at the instant load was saved, which qualifies).
    assert calls[5:] == ["extract", "load"] * 3
