"""The engine on a fake clock: exact run rows across DST, downtime, overlap, retries."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scheduler.engine import Engine, EngineConfig, Retention
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import Run, RunStatus
from scheduler.stores.base import Store
from scheduler.tasks.registry import TaskRegistry
from scheduler.testing import FakeClock, MemoryStore, RecordingExecutor

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class World:
    clock: FakeClock
    store: Store
    executor: RecordingExecutor
    engine: Engine
    calls: list[tuple[Any, ...]]

    def add(self, **options: Any) -> JobSpec:
        options.setdefault("task", "tests.work")
        options.setdefault("source", JobSource.CODE)
        spec = JobSpec.build(**options)
        self.store.save_job(spec, now=self.clock.now())
        return spec

    def runs(self, job: str | None = None) -> list[Run]:
        return sorted(self.store.list_runs(job_name=job, limit=10_000), key=lambda r: r.id)

    def rows(self, job: str | None = None, tz: str = "UTC") -> list[tuple[str, int, str, str]]:
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(tz)
        return [
            (
                r.scheduled_for.astimezone(zone).isoformat(),
                r.attempt,
                r.trigger.value,
                r.status.value,
            )
            for r in self.runs(job)
        ]

    def run_until(self, instant: datetime) -> None:
        self.engine.loop(until=instant)


StoreFactory = Callable[[], Store]


@pytest.fixture(params=["memory", "sqlite"])
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Every engine scenario runs on the in-memory store and on SQLite."""
    made: list[Store] = []

    def factory() -> Store:
        if request.param == "memory":
            store: Store = MemoryStore()
        else:
            from scheduler.stores.sqlalchemy import SQLAlchemyStore

            sql = SQLAlchemyStore(f"sqlite:///{tmp_path}/engine-{len(made)}.sqlite3")
            sql.create_schema()
            store = sql
        made.append(store)
        return store

    yield factory
    for store in made:
        dispose = getattr(store, "dispose", None)
        if dispose is not None:
            dispose()


def make_world(
    new_store: StoreFactory, *, auto_run: bool = True, config: EngineConfig | None = None
) -> World:
    clock = FakeClock(T0)
    calls: list[tuple[Any, ...]] = []
    registry = TaskRegistry()

    def work(*args: Any, **kwargs: Any) -> str:
        calls.append((clock.now(), args, kwargs))
        return "ok"

    def boom() -> None:
        calls.append((clock.now(),))
        raise ValueError("boom")

    registry.register(work, name="tests.work")
    registry.register(boom, name="tests.boom")
    store = new_store()
    executor = RecordingExecutor(clock=clock, auto_run=auto_run)
    # A long poll interval: the engine sleeps exactly until the next due instant.
    config = config or EngineConfig(poll_interval=3600.0)
    engine = Engine(
        store, {"default": executor}, registry=registry, clock=clock, replica_id="r1", config=config
    )
    return World(clock, store, executor, engine, calls)


@pytest.fixture
def world(new_store: StoreFactory) -> World:
    return make_world(new_store)


def test_runs_each_slot_exactly_on_time(world: World) -> None:
    world.add(name="tick", cron="*/15 * * * *")
    world.run_until(T0 + timedelta(hours=1))
    assert world.rows() == [
        ("2026-03-02T09:15:00+00:00", 1, "schedule", "succeeded"),
        ("2026-03-02T09:30:00+00:00", 1, "schedule", "succeeded"),
        ("2026-03-02T09:45:00+00:00", 1, "schedule", "succeeded"),
        ("2026-03-02T10:00:00+00:00", 1, "schedule", "succeeded"),
    ]
    # handed over at the slot itself: the fake clock never overshoots
    assert [call[0] for call in world.calls] == [r.scheduled_for for r in world.runs()]


def test_autumn_dst_runs_a_fixed_time_job_once(world: World) -> None:
    world.clock.set("2026-10-24T12:00:00+02:00")
    world.add(name="nightly", cron="30 2 * * *", timezone="Europe/Berlin")
    world.add(name="hourly", cron="0 * * * *", timezone="Europe/Berlin")
    world.run_until(datetime.fromisoformat("2026-10-26T03:00:00+01:00"))
    assert world.rows("nightly", "Europe/Berlin") == [
        ("2026-10-25T02:30:00+02:00", 1, "schedule", "succeeded"),
        ("2026-10-26T02:30:00+01:00", 1, "schedule", "succeeded"),
    ]
    hourly = [row[0] for row in world.rows("hourly", "Europe/Berlin")]
    start = hourly.index("2026-10-25T02:00:00+02:00")
    assert hourly[start : start + 4] == [
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:00:00+01:00",
        "2026-10-25T03:00:00+01:00",
        "2026-10-25T04:00:00+01:00",
    ]


def test_spring_dst_runs_a_fixed_time_job_after_the_gap(world: World) -> None:
    world.clock.set("2026-03-28T12:00:00+01:00")
    world.add(name="nightly", cron="30 2 * * *", timezone="Europe/Berlin")
    world.run_until(datetime.fromisoformat("2026-03-30T12:00:00+02:00"))
    assert world.rows("nightly", "Europe/Berlin") == [
        ("2026-03-29T03:00:00+02:00", 1, "schedule", "succeeded"),
        ("2026-03-30T02:30:00+02:00", 1, "schedule", "succeeded"),
    ]


def test_downtime_is_recorded_and_caught_up_once(world: World) -> None:
    world.add(name="tick", cron="*/10 * * * *")
    world.run_until(T0 + timedelta(minutes=10))
    world.clock.advance(timedelta(minutes=45))  # the scheduler was down
    world.engine.tick()
    assert world.rows() == [
        ("2026-03-02T09:10:00+00:00", 1, "schedule", "succeeded"),
        ("2026-03-02T09:20:00+00:00", 1, "catchup", "missed"),
        ("2026-03-02T09:30:00+00:00", 1, "catchup", "missed"),
        ("2026-03-02T09:40:00+00:00", 1, "catchup", "missed"),
        ("2026-03-02T09:50:00+00:00", 1, "catchup", "succeeded"),
    ]
    assert world.store.get_job("tick").next_run_at == T0 + timedelta(hours=1)


def test_downtime_with_catchup_all_fires_each_slot(world: World) -> None:
    world.add(name="tick", cron="*/10 * * * *", catchup="all", max_catchup=2)
    world.clock.advance(timedelta(minutes=35))
    world.engine.tick()
    assert world.rows() == [
        ("2026-03-02T09:10:00+00:00", 1, "catchup", "missed"),
        ("2026-03-02T09:20:00+00:00", 1, "catchup", "succeeded"),
        ("2026-03-02T09:30:00+00:00", 1, "catchup", "succeeded"),
    ]


@pytest.mark.parametrize(
    ("catchup", "backlog"),
    [
        ("once", ("catchup", "missed")),
        ("all", ("catchup", "succeeded")),
        ("skip", ("catchup", "missed")),
    ],
)
def test_a_backlog_inside_the_grace_is_late(
    world: World, catchup: str, backlog: tuple[str, str]
) -> None:
    """A 56 s stop leaves a 10-second job six slots behind, all inside the
    60 s grace: only the newest is on time; the others are a backlog, which
    the catch-up policy decides (issue 14: they all fired as ``schedule``)."""
    world.add(name="tick", every="10s", catchup=catchup)
    world.run_until(T0 + timedelta(seconds=14))
    world.clock.advance(timedelta(seconds=56))  # stopped at 09:00:14, back at 09:01:10
    world.engine.tick()
    late = ["09:00:20", "09:00:30", "09:00:40", "09:00:50", "09:01:00"]
    assert world.rows() == [
        ("2026-03-02T09:00:10+00:00", 1, "schedule", "succeeded"),
        *[(f"2026-03-02T{slot}+00:00", 1, *backlog) for slot in late],
        ("2026-03-02T09:01:10+00:00", 1, "schedule", "succeeded"),
    ]


def test_overlap_skip_records_the_busy_slots(new_store: StoreFactory) -> None:
    world = make_world(new_store, auto_run=False)
    world.add(name="slow", every="1m")
    world.run_until(T0 + timedelta(minutes=1))
    (first,) = world.executor.run_ids
    assert world.executor.start(first)
    world.run_until(T0 + timedelta(minutes=3))
    world.executor.complete(first)
    world.run_until(T0 + timedelta(minutes=4))
    assert world.rows() == [
        ("2026-03-02T09:01:00+00:00", 1, "schedule", "succeeded"),
        ("2026-03-02T09:02:00+00:00", 1, "schedule", "skipped"),
        ("2026-03-02T09:03:00+00:00", 1, "schedule", "skipped"),
        ("2026-03-02T09:04:00+00:00", 1, "schedule", "queued"),
    ]


def test_overlap_queue_runs_once_right_after(new_store: StoreFactory) -> None:
    world = make_world(new_store, auto_run=False)
    world.add(name="slow", every="1m", overlap="queue")
    world.run_until(T0 + timedelta(minutes=1))
    (first,) = world.executor.run_ids
    world.executor.start(first)
    world.run_until(T0 + timedelta(minutes=2, seconds=30))
    assert len(world.executor.run_ids) == 1  # the 09:02 run waits
    world.executor.complete(first)
    world.engine.tick()
    assert world.rows() == [
        ("2026-03-02T09:01:00+00:00", 1, "schedule", "succeeded"),
        ("2026-03-02T09:02:00+00:00", 1, "schedule", "queued"),
    ]


def test_failures_are_retried_with_backoff_each_attempt_a_run(world: World) -> None:
    world.add(name="flaky", task="tests.boom", every="1h", retries=2, retry_backoff="30s")
    world.run_until(T0 + timedelta(hours=1, minutes=5))
    rows = world.rows()
    assert rows == [
        ("2026-03-02T10:00:00+00:00", 1, "schedule", "failed"),
        ("2026-03-02T10:00:00+00:00", 2, "retry", "failed"),
        ("2026-03-02T10:00:00+00:00", 3, "retry", "failed"),
    ]
    # attempts started at 10:00, 10:00:30 and 10:01:30 (30 s, then 60 s)
    assert [call[0] for call in world.calls] == [
        T0 + timedelta(hours=1),
        T0 + timedelta(hours=1, seconds=30),
        T0 + timedelta(hours=1, seconds=90),
    ]
    failed = world.runs()[0]
    assert failed.error == "ValueError: boom"
    assert "raise ValueError" in failed.traceback


def test_an_unregistered_task_fails_its_run_not_the_scheduler(world: World) -> None:
    world.add(name="ghost", task="nowhere.to.be.found", every="1m")
    world.run_until(T0 + timedelta(minutes=1))
    (run,) = world.runs()
    assert run.status is RunStatus.FAILED
    assert "nowhere.to.be.found" in run.error


def test_an_unknown_executor_fails_its_run(world: World) -> None:
    world.add(name="elsewhere", every="1m", executor="celery")
    world.run_until(T0 + timedelta(minutes=1))
    (run,) = world.runs()
    assert run.status is RunStatus.FAILED
    assert "no executor named 'celery'" in run.error


def test_pause_and_resume_continue_from_now(world: World) -> None:
    world.add(name="tick", every="1m")
    world.run_until(T0 + timedelta(minutes=2))
    world.store.set_paused("tick", True, now=world.clock.now())
    world.run_until(T0 + timedelta(hours=1))
    world.store.set_paused("tick", False, now=world.clock.now())
    world.run_until(T0 + timedelta(hours=1, minutes=2))
    assert [row[0][11:16] for row in world.rows()] == ["09:01", "09:02", "10:01", "10:02"]


def test_jitter_delays_the_handover_not_the_slot(world: World) -> None:
    world.add(name="spread", every="1h", jitter="10m")
    world.run_until(T0 + timedelta(hours=1, minutes=10))
    (run,) = world.runs()
    assert run.scheduled_for == T0 + timedelta(hours=1)
    assert run.started_at == run.due_at
    assert T0 + timedelta(hours=1) <= run.due_at <= T0 + timedelta(hours=1, minutes=10)


def test_a_run_left_by_a_dead_replica_is_recorded_lost(new_store: StoreFactory) -> None:
    world = make_world(new_store, auto_run=False, config=EngineConfig(poll_interval=3600.0))
    world.add(name="tick", every="1m")
    world.run_until(T0 + timedelta(minutes=1))
    (orphan,) = world.executor.run_ids
    world.executor.start(orphan)  # running in replica r1, which now dies silently
    survivor = Engine(
        world.store,
        {"default": RecordingExecutor(clock=world.clock)},
        registry=world.engine.registry,
        clock=world.clock,
        replica_id="r2",
        config=EngineConfig(poll_interval=3600.0),
    )
    world.clock.advance(timedelta(minutes=2))
    survivor.tick()
    lost = world.store.get_run(orphan)
    assert lost.status is RunStatus.LOST
    assert "r1" in lost.error


def survivor_of(world: World, replica_id: str = "r2") -> Engine:
    """A second replica on the same store and clock, which runs what it is given."""
    return Engine(
        world.store,
        {"default": RecordingExecutor(clock=world.clock, auto_run=True)},
        registry=world.engine.registry,
        clock=world.clock,
        replica_id=replica_id,
        config=EngineConfig(poll_interval=3600.0),
    )


def test_a_run_lost_with_a_dead_replica_is_retried_by_policy(new_store: StoreFactory) -> None:
    world = make_world(new_store, auto_run=False)
    world.add(name="sync", every="1h", retries=1, retry_backoff="30s")
    world.run_until(T0 + timedelta(hours=1))
    (orphan,) = world.executor.run_ids
    world.executor.start(orphan)  # r1 dies silently while its run is going
    survivor = survivor_of(world)
    world.clock.advance(timedelta(minutes=2))
    assert survivor.tick().recovered == 1  # 10:02: r1 silent for two minutes
    survivor.loop(until=T0 + timedelta(hours=1, minutes=5))
    assert world.rows() == [
        ("2026-03-02T10:00:00+00:00", 1, "schedule", "lost"),
        ("2026-03-02T10:00:00+00:00", 2, "retry", "succeeded"),
    ]
    # the backoff counts from the moment the loss was recorded
    assert [call[0] for call in world.calls] == [T0 + timedelta(hours=1, minutes=2, seconds=30)]


def test_a_lost_run_without_retries_left_is_not_retried(new_store: StoreFactory) -> None:
    world = make_world(new_store, auto_run=False)
    world.add(name="sync", every="1h", retries=1, retry_backoff="30s")
    world.run_until(T0 + timedelta(hours=1))
    world.executor.complete(world.executor.run_ids[0], RunStatus.FAILED, error="boom")
    world.run_until(T0 + timedelta(hours=1, seconds=30))
    (_, second) = world.executor.run_ids
    world.executor.start(second)  # attempt 2 of 2, then r1 dies
    survivor = survivor_of(world)
    world.clock.advance(timedelta(minutes=2))
    survivor.loop(until=T0 + timedelta(hours=1, minutes=10))
    assert world.rows() == [
        ("2026-03-02T10:00:00+00:00", 1, "schedule", "failed"),
        ("2026-03-02T10:00:00+00:00", 2, "retry", "lost"),
    ]


def test_a_run_an_executor_reports_lost_is_retried(new_store: StoreFactory) -> None:
    world = make_world(new_store, auto_run=False)
    world.add(name="sync", every="1h", retries=1, retry_backoff="30s")
    world.run_until(T0 + timedelta(hours=1))
    (first,) = world.executor.run_ids
    world.executor.start(first)
    world.executor.complete(first, RunStatus.LOST, error="worker killed")
    world.executor.auto_run = True
    world.run_until(T0 + timedelta(hours=1, minutes=1))
    assert world.rows() == [
        ("2026-03-02T10:00:00+00:00", 1, "schedule", "lost"),
        ("2026-03-02T10:00:00+00:00", 2, "retry", "succeeded"),
    ]


def test_a_run_lost_at_shutdown_is_retried_after_a_restart(new_store: StoreFactory) -> None:
    world = make_world(new_store, auto_run=False)
    world.add(name="sync", every="1h", retries=1, retry_backoff="30s")
    world.engine.run(until=T0 + timedelta(hours=1))  # run 1 is still open when it stops
    assert world.rows() == [
        ("2026-03-02T10:00:00+00:00", 1, "schedule", "lost"),
        ("2026-03-02T10:00:00+00:00", 2, "retry", "pending"),
    ]
    survivor_of(world, "r1").run(until=T0 + timedelta(hours=1, minutes=1))
    assert world.rows()[1] == ("2026-03-02T10:00:00+00:00", 2, "retry", "succeeded")


def test_retention_prunes_old_history(new_store: StoreFactory) -> None:
    config = EngineConfig(
        poll_interval=3600.0,
        retention=Retention(keep_last=3, max_age=None),
        prune_interval=timedelta(minutes=30),
    )
    world = make_world(new_store, config=config)
    world.add(name="tick", every="1m")
    world.run_until(T0 + timedelta(hours=2))
    # The last prune ran in the 11:00 wake-up, right after the 11:00 run.
    assert [row[0][11:16] for row in world.rows()] == ["10:58", "10:59", "11:00"]


def test_the_hourly_prune_forgets_replicas_gone_for_a_week(world: World) -> None:
    store, day = world.store, timedelta(days=1)
    store.heartbeat("stopped-long-ago", hostname="h", pid=1, now=T0 - 8 * day)
    store.stop_replica("stopped-long-ago", now=T0 - 8 * day)
    store.heartbeat("crashed-recently", hostname="h", pid=2, now=T0 - 6 * day)
    assert world.engine.tick().pruned_replicas == 1
    world.clock.advance(timedelta(minutes=30))
    assert world.engine.tick().pruned_replicas == 0  # not an hour since the last prune
    world.clock.advance(day)
    assert world.engine.tick().pruned_replicas == 1  # the crashed one; r1 itself stays
    world.clock.advance(day)
    assert world.engine.tick().pruned_replicas == 0


def test_replicas_are_kept_when_their_retention_is_off(new_store: StoreFactory) -> None:
    retention = Retention(replica_max_age=None)
    world = make_world(new_store, config=EngineConfig(poll_interval=3600.0, retention=retention))
    world.store.stop_replica("stopped-long-ago", now=T0 - timedelta(days=365))
    assert world.engine.tick().pruned_replicas == 0
    assert world.store.prune_replicas(now=T0, older_than=timedelta(days=7)) == 1


def test_a_retry_is_claimed_exactly_when_due(world: World) -> None:
    world.add(
        name="flaky",
        task="tests.boom",
        at=T0 + timedelta(seconds=5),
        retries=1,
        retry_backoff=timedelta(seconds=2.08),
    )
    world.run_until(T0 + timedelta(seconds=30))
    assert [call[0] for call in world.calls] == [
        T0 + timedelta(seconds=5),
        T0 + timedelta(seconds=7.08),
    ]
