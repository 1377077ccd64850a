"""The database goes away under a running engine, then comes back.

Real PostgreSQL: connections to the test database are refused and the live
ones terminated, as in a server restart.  The engine must log and back off,
never raise; once the database is back it claims again and the catch-up
policy decides what the outage cost.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from scheduler.engine import Engine, EngineConfig
from scheduler.model.jobs import JobSpec
from scheduler.model.runs import RunStatus
from scheduler.stores.sqlalchemy import SQLAlchemyStore
from scheduler.tasks.registry import TaskRegistry
from scheduler.testing import FakeClock, RecordingExecutor
from tests.conftest import POSTGRES_ADMIN_URL

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def _set_reachable(database: str, reachable: bool) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(
            f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS {str(reachable).lower()}'
        )
        if not reachable:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (database,),
            )


def test_engine_survives_a_database_outage(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    database = postgres_url.rsplit("/", 1)[1]
    store = SQLAlchemyStore(postgres_url)
    store.create_schema()
    clock = FakeClock(T0)
    registry = TaskRegistry()
    registry.register(lambda: "ok", name="tests.ok")
    engine = Engine(
        store,
        {"default": RecordingExecutor(clock=clock, auto_run=True)},
        registry=registry,
        clock=clock,
        replica_id="survivor",
        config=EngineConfig(poll_interval=3600.0, max_backoff=60.0),
    )
    store.save_job(JobSpec.build(name="tick", task="tests.ok", cron="*/5 * * * *"), now=clock.now())
    engine.loop(until=T0 + timedelta(minutes=10))
    try:
        _set_reachable(database, False)
        with caplog.at_level(logging.ERROR, logger="scheduler.engine"):
            clock.set(T0 + timedelta(minutes=14))
            before = len(clock.slept)
            engine.loop(until=T0 + timedelta(minutes=30))  # every tick fails; none raises
        assert "store unavailable" in caplog.text
        backoff = clock.slept[before:]
        # doubling from the poll interval's first retry, capped at 60 s: no spinning
        assert backoff[:3] == [60.0, 60.0, 60.0]
        assert len(backoff) == 16 and max(backoff) <= 60.0
    finally:
        _set_reachable(database, True)
    clock.set(T0 + timedelta(minutes=31))
    engine.loop(until=T0 + timedelta(minutes=36))
    rows = [
        (r.scheduled_for.strftime("%H:%M"), r.trigger.value, r.status.value)
        for r in sorted(store.list_runs(job_name="tick", limit=100), key=lambda r: r.scheduled_for)
    ]
    assert rows == [
        ("08:05", "schedule", "succeeded"),
        ("08:10", "schedule", "succeeded"),
        ("08:15", "catchup", "missed"),
        ("08:20", "catchup", "missed"),
        ("08:25", "catchup", "missed"),
        ("08:30", "schedule", "succeeded"),  # within the grace: the one run for the gap
        ("08:35", "schedule", "succeeded"),
    ]
    assert all(r.status is not RunStatus.RUNNING for r in store.list_runs(limit=100))
    store.dispose()
