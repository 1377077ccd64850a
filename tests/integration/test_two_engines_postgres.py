"""Two engines (replicas) on one PostgreSQL or MariaDB database: every slot fires once.

200 jobs due every second; for each second of a simulated minute both engines
wake at the same instant, in two threads, and race to claim.  Afterwards each
of the 12,000 slots has exactly one run, handed to exactly one executor once,
and both engines did part of the work.

The executors keep what they are handed (the jobs allow overlapping runs, so a
run not yet ended holds no later slot back): the race is the claim, and running
each run inline would add two single-row transactions per run (its start and
its end, about a minute of this test on MariaDB) that other tests cover.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from scheduler.engine import Engine, EngineConfig
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.stores.sqlalchemy import SQLAlchemyStore
from scheduler.tasks.registry import TaskRegistry
from scheduler.testing import FakeClock, RecordingExecutor

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
JOBS, SECONDS = 200, 60


@pytest.mark.parametrize(
    "database",
    [
        pytest.param("postgres_url", marks=pytest.mark.postgres, id="postgres"),
        pytest.param("mariadb_url", marks=pytest.mark.mariadb, id="mariadb"),
    ],
)
def test_two_engines_fire_each_slot_exactly_once(
    request: pytest.FixtureRequest, database: str
) -> None:
    url: str = request.getfixturevalue(database)
    clock = FakeClock(T0)
    registry = TaskRegistry()
    registry.register(lambda: None, name="tests.noop")
    stores = [SQLAlchemyStore(url) for _ in range(2)]
    stores[0].create_schema()
    specs = [
        JobSpec.build(
            name=f"job-{i:03d}", task="tests.noop", every=timedelta(seconds=1), overlap="allow"
        )
        for i in range(JOBS)
    ]
    stores[0].sync_jobs(specs, source=JobSource.YAML, now=T0 - timedelta(seconds=1))
    executors = [RecordingExecutor(clock=clock) for _ in stores]
    engines = [
        Engine(
            store,
            {"default": executor},
            registry=registry,
            clock=clock,
            replica_id=f"replica-{n}",
            config=EngineConfig(poll_interval=1.0),
        )
        for n, (store, executor) in enumerate(zip(stores, executors, strict=True))
    ]
    for second in range(SECONDS):
        clock.set(T0 + timedelta(seconds=second))
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def wake(
            engine: Engine,
            barrier: threading.Barrier = barrier,
            errors: list[BaseException] = errors,
        ) -> None:
            try:
                barrier.wait(10)
                engine.tick()
            except BaseException as error:  # surfaced below
                errors.append(error)

        threads = [threading.Thread(target=wake, args=(engine,)) for engine in engines]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors, errors

    with stores[0].engine.connect() as conn:
        per_slot = conn.execute(
            text("SELECT job_id, scheduled_for, count(*) FROM scheduler_run GROUP BY 1, 2")
        ).all()
        by_replica = Counter(
            dict(
                conn.execute(
                    text("SELECT replica_id, count(*) FROM scheduler_run GROUP BY 1")
                ).all()
            )
        )
        statuses = Counter(
            dict(conn.execute(text("SELECT status, count(*) FROM scheduler_run GROUP BY 1")).all())
        )
    assert len(per_slot) == JOBS * SECONDS
    assert {count for _, _, count in per_slot} == {1}
    assert statuses == {"queued": JOBS * SECONDS}
    handed = [run_id for executor in executors for run_id in executor.run_ids]
    assert len(handed) == len(set(handed)) == JOBS * SECONDS
    assert set(by_replica) == {"replica-0", "replica-1"}
    assert by_replica["replica-0"] + by_replica["replica-1"] == JOBS * SECONDS
    for store in stores:
        store.dispose()
