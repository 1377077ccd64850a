"""Tickwork's engine on its SQLAlchemy store (SQLite, PostgreSQL or MariaDB).

Jobs are stored with ``SQLAlchemyStore.sync_jobs``, the call ``tickwork run``
makes for a schedules file.  The engine is the real :class:`Engine` with its
default :class:`EngineConfig`; the only things added are counters (a
``tick`` that counts itself, a statement listener) and the executor it hands
runs to, :class:`HandOver`, which accepts a run and does nothing more, as a
broker would.  So the herd measures claiming, recording and handing over, not
executing no-op tasks in this process.

For the herd the engine's clock is the system clock shifted by a constant, so
that the minute boundary at which every job is due falls ``lead`` seconds
after the engine has started, instead of up to a minute later.  Time still
passes at the real rate.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine as SAEngine

from scheduler.clock import SystemClock
from scheduler.engine import Engine, TickReport
from scheduler.executors.base import ExecutorCapabilities, RunReporter
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import ClaimedRun
from scheduler.stores.sqlalchemy import SQLAlchemyStore
from scheduler.tasks.registry import RegisteredTask, TaskRegistry

from .. import profiling
from ..common import (
    Counter,
    Database,
    Handovers,
    Starts,
    count_sqlalchemy_statements,
    utcnow,
)
from . import Slot

__all__ = ["HandOver", "TickworkHarness"]

TASK = "bench.noop"


def noop() -> None:
    """The task every benchmark job runs."""


class ShiftedClock(SystemClock):
    """The system clock plus a constant ``offset``; waits are real waits."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class HandOver:
    """An executor that takes each run and does nothing with it, like a broker.

    It records the hand-over (job, slot, instant); the run stays ``queued`` in
    the run table, as it would until a worker reported its start.
    """

    name = "handover"
    capabilities = ExecutorCapabilities()

    def __init__(self, handovers: Handovers, offset: timedelta) -> None:
        self.handovers = handovers
        self.offset = offset

    def submit(self, claimed: ClaimedRun, task: RegisteredTask, reporter: RunReporter) -> str:
        slot = (claimed.run.scheduled_for - self.offset).timestamp()
        self.handovers.add(claimed.run.job_name, slot)
        return ""

    def shutdown(self, *, wait: bool, timeout: float | None) -> list[int]:
        return []

    def active_count(self) -> int:
        return 0

    def capacity(self) -> None:
        return None


class CountingEngine(Engine):
    """The engine, counting its completed wake-ups and noting when each began to claim."""

    wakeups: Counter
    claims: Starts

    def tick(self) -> TickReport:
        report = super().tick()
        self.wakeups.add()
        return report

    def _claim(self, now: datetime) -> tuple[list[ClaimedRun], bool, datetime | None]:
        self.claims.add()
        return super()._claim(now)


class TickworkHarness:
    """See :class:`~benchmarks.systems.Harness`."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.handovers = Handovers()
        self.statements = Counter()
        self.wakeups = Counter()
        self.claims = Starts()
        self.notes: list[str] = []
        self.registry = TaskRegistry()
        self.registry.register(noop, name=TASK)
        self.store = SQLAlchemyStore(database.sqlalchemy_url)
        self.store.create_schema()
        self.clock = ShiftedClock()
        self._engine: CountingEngine | None = None
        self._thread: threading.Thread | None = None
        self._editor: SQLAlchemyStore | None = None

    # -- filling the store -------------------------------------------------------
    def _sync(self, specs: list[JobSpec]) -> None:
        self.store.sync_jobs(specs, source=JobSource.CODE, now=utcnow())

    def _fill(self, jobs: int, cron: str) -> None:
        self._sync([_spec(0, cron=cron)])
        copy_first_job(self.store.engine, jobs - 1)

    def fill_herd(self, jobs: int) -> None:
        self._fill(jobs, "* * * * *")

    def fill_quiet(self, jobs: int, cron: str) -> None:
        self._fill(jobs, cron)

    def fill_spread(self, slots: list[Slot], period: int) -> None:
        specs = [
            JobSpec.build(
                name=name, task=TASK, every=period, start=datetime.fromtimestamp(first, UTC)
            )
            for name, first in slots
        ]
        self._sync(specs)

    # -- running -------------------------------------------------------------------
    def start_herd(self, lead: float) -> float:
        due = self.store.next_wake()
        if due is None:
            raise RuntimeError("no job is due: call fill_herd first")
        instant = time.time() + lead
        self.clock.offset = due - datetime.fromtimestamp(instant, UTC)
        self.start()
        return instant

    def start(self) -> None:
        count_sqlalchemy_statements(self.store.engine, self.statements)
        profiling.time_sqlalchemy(self.store.engine)
        executors = {"default": HandOver(self.handovers, self.clock.offset)}
        engine = CountingEngine(self.store, executors, registry=self.registry, clock=self.clock)
        engine.wakeups, engine.claims = self.wakeups, self.claims
        self._engine = engine
        self._thread = threading.Thread(
            target=profiling.profiled(engine.run), name="tickwork-engine", daemon=True
        )
        self._thread.start()

    def edit(self, job: str) -> float:
        if self._editor is None:
            self._editor = SQLAlchemyStore(self.database.sqlalchemy_url)
        spec = JobSpec.build(name=job, task=TASK, cron="* * * * * *")
        self._editor.save_job(spec, now=utcnow())
        return time.time()

    def recorded(self) -> int | None:
        with self.store.engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT count(*) FROM scheduler_run").scalar() or 0)

    def details(self) -> dict[str, Any]:
        return {}

    def stop(self) -> dict[str, float]:
        started = time.perf_counter()
        if self._engine is not None and self._thread is not None:
            self._engine.stop()
            self._thread.join(timeout=60)
        stopping = time.perf_counter() - started
        if self._editor is not None:
            self._editor.dispose()
        self.store.dispose()
        return {"stop_seconds": round(stopping, 3)}


def _spec(index: int, *, cron: str) -> JobSpec:
    return JobSpec.build(name=job_name(index), task=TASK, cron=cron)


def job_name(index: int) -> str:
    return f"job-{index:06d}"


def copy_first_job(engine: SAEngine, copies: int) -> None:
    """Copy the row of ``job-000000`` as ``job-000001`` ... ``job-{copies}``, in one statement.

    Storing 100,000 jobs through ``sync_jobs`` takes a dozen seconds (each
    spec is validated, hashed and given its first slot); the database copies
    a stored one in about one.  The copies are the same job under other
    names; only their ``definition_hash`` still describes ``job-000000``,
    which nothing measured here reads.
    """
    if copies <= 0:
        return
    with engine.begin() as conn:
        columns = list(conn.exec_driver_sql("SELECT * FROM scheduler_job LIMIT 0").keys())
        if conn.dialect.name == "sqlite":
            name = "'job-' || substr('000000' || i, -6, 6)"
            counter = "WITH RECURSIVE counter(i) AS (SELECT 1 UNION ALL "
            counter += "SELECT i + 1 FROM counter WHERE i < ?) "
        elif conn.dialect.name == "mysql":
            conn.exec_driver_sql(f"SET SESSION max_recursive_iterations = {copies + 1}")
            name = "CONCAT('job-', LPAD(i, 6, '0'))"
            counter = "WITH RECURSIVE counter(i) AS (SELECT 1 UNION ALL "
            counter += "SELECT i + 1 FROM counter WHERE i < %s) "
        else:
            name = "'job-' || lpad(i::text, 6, '0')"
            counter = "WITH counter AS (SELECT generate_series(1, %s) AS i) "
        copied = [column for column in columns if column != "id"]
        values = ", ".join(name if column == "name" else f"t.{column}" for column in copied)
        insert = f"INSERT INTO scheduler_job ({', '.join(copied)}) "
        select = f"SELECT {values} FROM counter, scheduler_job t WHERE t.name = 'job-000000'"  # noqa: S608
        # MariaDB takes the WITH after INSERT ... (columns); the others, before it.
        if conn.dialect.name == "mysql":
            conn.exec_driver_sql(insert + counter + select, (copies,))
        else:
            conn.exec_driver_sql(counter + insert + select, (copies,))
