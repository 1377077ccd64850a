"""Runs executed by a real Celery worker are counted once, by the replica that handed them over.

Two replicas (two engines, each with its own hooks and monitor, as two
processes would have) share one database.  Replica ``a`` claims and hands
three runs to Celery: one succeeds and one fails on the worker, whose hooks
fire in the worker process; the third waits on a queue no worker reads until
replica ``b``'s recovery records it ``lost`` (its hook fires in ``b``).  Each
is counted once, by ``a``, from the run table; ``b`` counts none.
"""

from __future__ import annotations

from tests.celery.conftest import require_celery

require_celery()

from collections import Counter
from datetime import timedelta

import pytest

from scheduler.engine import Engine, EngineConfig
from scheduler.model.runs import ACTIVE_STATUSES, RunStatus
from scheduler.monitoring.events import RunEvent
from scheduler.monitoring.hooks import RunHooks
from scheduler.monitoring.monitor import Monitor
from scheduler.stores.sqlalchemy import SQLAlchemyStore

from .harness import STALE_AFTER, World, _delete_queue, wait_until

pytestmark = pytest.mark.celery

TASKS = "tests.celery.worker_app"
NOBODY = "tickwork-test-nobody-reads-this"


def replica(world: World, store: SQLAlchemyStore, name: str) -> tuple[Engine, Monitor, RunHooks]:
    hooks = RunHooks()
    config = EngineConfig(
        heartbeat_interval=STALE_AFTER / 3.5,
        stale_after=STALE_AFTER,
        start_timeout=timedelta(seconds=1),
    )
    monitor = Monitor(
        store, hooks=hooks, clock=world.engine.clock, heartbeat_interval=config.heartbeat_interval
    )
    monitor.attach()
    engine = Engine(
        store,
        {"default": world.executor},
        clock=world.engine.clock,
        replica_id=name,
        config=config,
        hooks=hooks,
        after_tick=[monitor.after_tick],
    )
    return engine, monitor, hooks


def counted(*monitors: Monitor) -> Counter[tuple[str, str]]:
    total: Counter[tuple[str, str]] = Counter()
    for monitor in monitors:
        for family in monitor.metrics.registry.collect():
            for sample in family.samples:
                if sample.name == "tickwork_runs_total" and sample.value:
                    total[(sample.labels["job"], sample.labels["status"])] += int(sample.value)
    return total


def test_a_celery_run_is_counted_once_with_two_replicas(world: World) -> None:
    other_store = SQLAlchemyStore(str(world.store.engine.url))
    try:
        engine_a, monitor_a, _ = replica(world, world.store, "a")
        engine_b, monitor_b, hooks_b = replica(world, other_store, "b")
        heard_in_b: list[RunEvent] = []
        hooks_b.on_finished(heard_in_b.append)
        world.add("add", f"{TASKS}.add", kwargs={"a": 2, "b": 3})
        world.add("explode", f"{TASKS}.explode", kwargs={"message": "boom"})
        world.add("stray", f"{TASKS}.add", kwargs={"a": 1, "b": 1}, queue=NOBODY)
        engine_a.loop(once=True)  # one wake-up, its report to after_tick
        # The worker's runs end before b looks: b's recovery would record a run
        # lost that a loaded worker had not started within the 1 s start timeout.
        assert world.ended("add").status is RunStatus.SUCCEEDED
        assert world.ended("explode").status is RunStatus.FAILED
        engine_b.loop(once=True)
        assert {run.replica_id for run in world.store.list_runs()} == {"a"}

        def stray_lost() -> bool:
            engine_b.loop(once=True)  # b's recovery: started by no worker within start_timeout
            return world.run_of("stray").status is RunStatus.LOST

        wait_until(stray_lost, "replica b to record the stray run lost")
        assert [event.status for event in heard_in_b] == [RunStatus.LOST]
        assert heard_in_b[0].external_id  # so b's monitor leaves it to a
        for monitor in (monitor_a, monitor_b, monitor_a, monitor_b):
            assert monitor.refresh()
        engine_a.loop(once=True)
        assert monitor_a.refresh() and monitor_b.refresh()

        table = Counter(
            (run.job_name, run.status.value)
            for run in world.store.list_runs(limit=100)
            if run.status not in ACTIVE_STATUSES
        )
        assert table == {("add", "succeeded"): 1, ("explode", "failed"): 1, ("stray", "lost"): 1}
        # One-off jobs of source code, as deferred calls are: labelled by their task.
        assert counted(monitor_a) == {
            (f"{TASKS}.add", "succeeded"): 1,
            (f"{TASKS}.explode", "failed"): 1,
            (f"{TASKS}.add", "lost"): 1,
        }
        assert counted(monitor_b) == {}
        sample = monitor_a.metrics.registry.get_sample_value
        assert sample("tickwork_runs_in_flight") == 0
        assert sample("tickwork_run_duration_seconds_count", {"job": f"{TASKS}.add"}) == 1
    finally:
        other_store.dispose()
        _delete_queue(world.executor, NOBODY)
