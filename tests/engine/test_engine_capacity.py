"""Claim by capacity: a replica claims no more than its executors can start soon,
and a replica that stops gives the runs it had not started back to the others."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from scheduler.engine import Engine, EngineConfig
from scheduler.executors.base import pool_capacity
from scheduler.executors.thread import ThreadExecutor
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import RunStatus
from scheduler.tasks.registry import TaskRegistry
from scheduler.testing import FakeClock, MemoryStore, RecordingExecutor

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _backlog(store: MemoryStore, count: int) -> None:
    specs = [JobSpec.build(name=f"job-{i:03d}", task="tests.work", at=T0) for i in range(count)]
    store.sync_jobs(specs, source=JobSource.CODE, now=T0 - timedelta(minutes=1))


def _engine(
    store: MemoryStore, clock: FakeClock, replica: str, **executors: RecordingExecutor
) -> Engine:
    registry = TaskRegistry()
    registry.register(lambda: None, name="tests.work")
    config = EngineConfig(batch_size=100)
    return Engine(
        store, executors, registry=registry, clock=clock, replica_id=replica, config=config
    )


def test_a_replica_claims_only_what_its_workers_can_take() -> None:
    store, clock = MemoryStore(), FakeClock(T0)
    _backlog(store, 20)
    executor = RecordingExecutor(clock=clock, workers=3)
    engine = _engine(store, clock, "a", default=executor)
    assert engine.tick().claimed == 3
    assert engine.tick().claimed == 0  # all three still open
    executor.run(executor.submissions[0].claimed.run.id)
    assert engine.tick().claimed == 1


def test_two_replicas_split_a_backlog_by_their_capacity() -> None:
    store, clock = MemoryStore(), FakeClock(T0)
    _backlog(store, 24)
    a = RecordingExecutor(clock=clock, workers=4)
    b = RecordingExecutor(clock=clock, workers=4)
    first, second = _engine(store, clock, "a", default=a), _engine(store, clock, "b", default=b)
    while first.tick().claimed + second.tick().claimed:
        a.run_pending()
        b.run_pending()
    assert len(a.submissions) == len(b.submissions) == 12
    assert {run.status for run in store.list_runs(limit=100)} == {RunStatus.SUCCEEDED}


def test_an_executor_without_a_limit_lifts_it() -> None:
    store, clock = MemoryStore(), FakeClock(T0)
    _backlog(store, 20)
    bounded = RecordingExecutor(clock=clock, workers=2)
    engine = _engine(store, clock, "a", default=bounded, other=RecordingExecutor(clock=clock))
    assert engine.tick().claimed == 20


def test_a_stopping_replica_gives_unstarted_runs_back_and_another_runs_them() -> None:
    store, clock = MemoryStore(), FakeClock(T0)
    _backlog(store, 6)
    began, release = threading.Event(), threading.Event()

    def hold() -> None:
        began.set()
        release.wait(30)

    registry = TaskRegistry()
    registry.register(hold, name="tests.work")
    pool = ThreadExecutor(max_workers=1, clock=clock)
    config = EngineConfig(batch_size=100, shutdown_grace=0.0)
    stopping = Engine(
        store, {"default": pool}, registry=registry, clock=clock, replica_id="a", config=config
    )
    try:
        assert stopping.tick().claimed == 3  # one worker, and a buffer of two
        assert began.wait(30)
        stopping.close()
    finally:
        release.set()
    runs = sorted(store.list_runs(limit=100), key=lambda run: run.id)
    assert [(r.status, r.replica_id) for r in runs] == [
        (RunStatus.LOST, "a"),  # it was running: the grace of 0 s ended it
        (RunStatus.PENDING, ""),
        (RunStatus.PENDING, ""),
    ]
    taker = RecordingExecutor(clock=clock, auto_run=True)
    assert _engine(store, clock, "b", default=taker).tick().claimed == 5  # 2 given back, 3 new
    claimed = sorted(s.claimed.run.id for s in taker.submissions)
    assert claimed[:2] == [runs[1].id, runs[2].id]  # the same runs, not new slots
    assert len(store.list_runs(limit=100)) == 6  # one run per job: nothing fired twice


def test_a_run_cancelled_outside_a_shutdown_is_recorded_cancelled() -> None:
    store, clock = MemoryStore(), FakeClock(T0)
    _backlog(store, 1)
    executor = RecordingExecutor(clock=clock, workers=1)
    engine = _engine(store, clock, "a", default=executor)
    engine.tick()
    run_id = executor.submissions[0].claimed.run.id
    executor.complete(run_id, RunStatus.CANCELLED)
    assert store.get_run(run_id).status is RunStatus.CANCELLED


def test_a_thread_pool_has_its_free_workers_plus_a_buffer_as_capacity() -> None:
    assert [pool_capacity(4, active) for active in (0, 5, 6, 9)] == [6, 1, 0, 0]
    assert pool_capacity(1, 0) == 3
    pool = ThreadExecutor(max_workers=8)
    try:
        assert pool.capacity() == 12
    finally:
        pool.shutdown(wait=True, timeout=1.0)


def test_a_run_that_ends_wakes_a_replica_held_back_by_capacity() -> None:
    """With a poll of an hour, the backlog still drains: each run that ends
    lets the loop claim again at once, instead of at its next poll."""
    store = MemoryStore()
    _backlog(store, 9)
    registry = TaskRegistry()
    registry.register(lambda: None, name="tests.work")
    config = EngineConfig(batch_size=100, poll_interval=3600.0)
    engine = Engine(
        store, {"default": ThreadExecutor(max_workers=1)}, registry=registry, config=config
    )
    loop = threading.Thread(target=engine.loop)
    loop.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            runs = store.list_runs(limit=100)
            if len(runs) == 9 and all(r.status is RunStatus.SUCCEEDED for r in runs):
                break
            time.sleep(0.02)
    finally:
        engine.stop()
        loop.join(30)
        engine.close()
    assert [r.status for r in store.list_runs(limit=100)] == [RunStatus.SUCCEEDED] * 9
