"""A claim sends the same few statements whatever the number of due jobs, and commits once.

The design rules out a statement or a commit per job: the claim selects the
due jobs (and whether each has a run going) in one statement, inserts all
their runs in one, and moves all their next run times in one, however many
jobs share or do not share a next run time.  Its runs leave it ``queued``, so
the wake-up that hands them over commits nothing more than a quiet one.
Statements are counted as SQLAlchemy sends them (an ``executemany`` counts
once).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, event

from scheduler.engine import Engine
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import NewRun, RunStatus
from scheduler.stores.base import SlotPlan, StoredJob
from scheduler.stores.sqlalchemy import SQLAlchemyStore
from scheduler.tasks.registry import TaskRegistry
from scheduler.testing import FakeClock, RecordingExecutor

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)


def report() -> None:
    """The task the jobs here name."""


def add_due_jobs(store: SQLAlchemyStore, total: int, *, first: int = 0) -> None:
    """``total`` hourly jobs due at ``NOW``, saved in one sync."""
    specs = [
        JobSpec.build(name=f"job-{number:05d}", task="app.tasks.report", cron="0 * * * *")
        for number in range(first, first + total)
    ]
    store.sync_jobs(specs, source=JobSource.CODE, now=NOW - HOUR)


def together(job: StoredJob, has_active_run: bool, now: datetime) -> SlotPlan:
    """One run at the job's slot; every job moves to the same next slot."""
    assert job.next_run_at is not None
    slot = job.next_run_at
    return SlotPlan(runs=(NewRun(scheduled_for=slot, due_at=slot),), next_run_at=slot + HOUR)


def offset(name: str) -> timedelta:
    """Up to an hour, different for (almost) every job name."""
    return timedelta(seconds=int(hashlib.sha256(name.encode()).hexdigest()[:6], 16) % 3600)


def apart(job: StoredJob, has_active_run: bool, now: datetime) -> SlotPlan:
    """Like :func:`together`, but each job moves to a next slot of its own."""
    plan = together(job, has_active_run, now)
    assert plan.next_run_at is not None
    return SlotPlan(runs=plan.runs, next_run_at=plan.next_run_at + offset(job.spec.name))


@contextmanager
def statements(store: SQLAlchemyStore) -> Iterator[list[str]]:
    """The first word of each statement sent meanwhile (``BEGIN IMMEDIATE`` whole)."""
    sent: list[str] = []

    def record(_conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        words = statement.split()
        sent.append(statement if words[0] == "BEGIN" else words[0])

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def claim(store: SQLAlchemyStore, limit: int, plan: Any) -> tuple[int, list[str]]:
    with statements(store) as sent:
        claimed = store.claim_due(now=NOW, replica_id="r1", limit=limit, plan=plan)
    return len(claimed), sent


def test_a_claim_is_three_statements_whatever_the_number_of_jobs(
    sql_store: SQLAlchemyStore,
) -> None:
    add_due_jobs(sql_store, 620)
    few = claim(sql_store, 20, together)
    many = claim(sql_store, 500, together)
    spread = claim(sql_store, 100, apart)  # a hundred different next run times
    if sql_store.engine.dialect.name == "postgresql":
        # the due jobs, locked; their runs, ids returned; their next run times
        expected = ["SELECT", "INSERT", "UPDATE"]
    elif sql_store.engine.dialect.name == "mysql":
        # the due jobs, locked; which of their slots already have runs; the
        # largest run id so far; their runs; the new runs' ids, read back
        # above it; their next run times
        expected = ["SELECT", "SELECT", "SELECT", "INSERT", "SELECT", "UPDATE"]
    else:  # the write lock; and the claimed runs' ids are read back by slot
        expected = ["BEGIN IMMEDIATE", "SELECT", "INSERT", "SELECT", "UPDATE"]
    assert few == (20, expected)
    assert many == (500, expected)
    assert spread == (100, expected)
    moved = {job.spec.name: job.next_run_at for job in sql_store.list_jobs()}  # by name
    assert moved == {
        name: NOW + HOUR + (offset(name) if index >= 520 else timedelta(0))
        for index, name in enumerate(sorted(moved))
    }


def test_claimed_runs_are_queued_and_match_the_rows(sql_store: SQLAlchemyStore) -> None:
    add_due_jobs(sql_store, 30)
    claimed = sql_store.claim_due(now=NOW, replica_id="r1", limit=50, plan=together)
    assert len(claimed) == 30
    stored = {run.id: run for run in sql_store.list_runs(limit=100)}
    assert {item.run.id: item.run for item in claimed} == stored
    assert {run.status for run in stored.values()} == {RunStatus.QUEUED}
    assert {item.run.job_name for item in claimed} == {
        job.spec.name for job in sql_store.list_jobs()
    }


@contextmanager
def commits(store: SQLAlchemyStore) -> Iterator[list[str]]:
    """A list that gets an entry per commit of ``store`` meanwhile."""
    seen: list[str] = []

    def record(_conn: Connection) -> None:
        seen.append("COMMIT")

    event.listen(store.engine, "commit", record)
    try:
        yield seen
    finally:
        event.remove(store.engine, "commit", record)


def test_handing_a_herd_over_commits_only_its_claim(
    sql_store: SQLAlchemyStore,
) -> None:
    """A quiet wake-up commits nothing (it opens no claim); a herd's, its claim
    transactions (due jobs, pending runs), not one per run."""
    add_due_jobs(sql_store, 50)  # due at NOW
    clock = FakeClock(NOW - 2 * SECOND)
    executor = RecordingExecutor(clock=clock)
    registry = TaskRegistry()
    registry.register(report, name="app.tasks.report")
    engine = Engine(sql_store, {"default": executor}, registry=registry, clock=clock)
    engine.tick()  # heartbeat, recovery and pruning: done for the next few seconds
    clock.advance(SECOND)
    with commits(sql_store) as quiet:
        assert engine.tick().claimed == 0
    clock.advance(SECOND)
    with commits(sql_store) as herd:
        assert engine.tick().dispatched == 50
    assert quiet == []
    assert len(herd) <= 2
    assert {run.status for run in sql_store.list_runs(limit=100)} == {RunStatus.QUEUED}
    assert len(executor.submissions) == 50
    engine.close()


@contextmanager
def sent_with_parameters(store: SQLAlchemyStore) -> Iterator[list[tuple[str, Any]]]:
    sent: list[tuple[str, Any]] = []

    def record(_conn: Connection, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def test_the_due_jobs_select_sorts_nothing_and_probes_the_active_runs_index(
    sql_store: SQLAlchemyStore,
) -> None:
    """A herd of jobs due at one instant, half of them with a run in flight: the
    select stops at the limit without sorting the due set, and asks whether each
    job is busy in the small partial index of active runs, not by hashing every
    active run or reading each job's whole history."""
    add_due_jobs(sql_store, 400)
    assert len(sql_store.claim_due(now=NOW, replica_id="r1", limit=200, plan=together)) == 200
    add_due_jobs(sql_store, 400, first=400)
    with sql_store.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE")
    with sent_with_parameters(sql_store) as sent:
        sql_store.claim_due(now=NOW, replica_id="r1", limit=100, plan=together)
    select = next((text, params) for text, params in sent if text.startswith("SELECT"))
    postgresql = sql_store.engine.dialect.name == "postgresql"
    mysql = sql_store.engine.dialect.name == "mysql"
    explain = "EXPLAIN " if postgresql or mysql else "EXPLAIN QUERY PLAN "
    with sql_store.engine.connect() as conn:
        if postgresql:  # on tables this small a sort is cheap: ask whether one is needed
            conn.exec_driver_sql("SET enable_sort = off")
            conn.exec_driver_sql("SET enable_incremental_sort = off")
        rows = conn.exec_driver_sql(explain + select[0], select[1]).mappings().all()
        if mysql:  # a row per table read: how (type), through which index (key), and extras
            plan = "\n".join(f"{r['table']} {r['type']} {r['key']} {r['Extra']}" for r in rows)
        else:
            plan = "\n".join(str(list(row.values())[-1]) for row in rows)
        conn.rollback()
    assert "scheduler_run_active_idx" in plan, plan
    assert "scheduler_job_due_idx" in plan, plan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan and "filesort" not in plan, plan
    assert " ALL " not in plan, plan  # MariaDB's word for reading a whole table
    assert "Hashed SubPlan" not in plan and "hashed SubPlan" not in plan, plan
