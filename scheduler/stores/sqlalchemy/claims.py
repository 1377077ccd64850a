"""The due-queue: what is due next, claiming due jobs and pending runs, inserting runs.

Several replicas may share one database.  What keeps a slot from firing twice
is the unique constraint on ``(job, scheduled_for, attempt)``; what keeps the
replicas from tripping over each other is the claim transaction: on
PostgreSQL due jobs are selected ``FOR NO KEY UPDATE SKIP LOCKED`` (the row
lock of an ``UPDATE`` that leaves keys alone, so run inserts referencing the
job are not blocked), and a replica skips the jobs another one holds; on
SQLite the transaction holds the write lock from its first read.

Every claim is batched: a fixed number of statements whatever the number of
due jobs, never one per job.  An idle wake-up is one indexed ``MIN`` query plus
one indexed select per claim call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    Connection,
    Integer,
    bindparam,
    exists,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Executable

from ...clock import ensure_aware_utc
from ...jobs import JobSpec
from ...policies import OverlapPolicy
from ...runs import ClaimedRun, NewRun, Run
from ..base import Planner, SlotPlan, StoredJob
from ..schema import (
    SLOT_CONSTRAINT,
    UTCDateTime,
    job_table,
    run_columns,
    run_from_columns,
    run_table,
)
from .changes import notify
from .jobs import SpecCache, job_not_found, rows_by_id
from .queries import among
from .runs import ACTIVE, BUSY, PENDING, run_from_row

__all__ = [
    "NEXT_WAKE",
    "add_run",
    "claim_due",
    "claim_pending",
    "conflict",
    "insert_unless_slot_exists",
    "is_slot_conflict",
]

_job = job_table.c
_run = run_table.c

_NOW = bindparam("now", type_=UTCDateTime())
_LIMIT = bindparam("limit", type_=Integer())

#: The earliest next_run_at of an enabled job, and due_at of an unclaimed
#: pending run: two index lookups, in one statement.
NEXT_WAKE: Final = select(
    select(func.min(_job.next_run_at)).where(_job.enabled == true()).scalar_subquery(),
    select(func.min(_run.due_at))
    .where(_run.status == PENDING, _run.replica_id == "")
    .scalar_subquery(),
)

# Due jobs, locked; on PostgreSQL those another replica holds are skipped.
_DUE_JOBS: Final = (
    select(job_table)
    .where(_job.enabled == true(), _job.next_run_at <= _NOW)
    .order_by(_job.next_run_at, _job.name)
    .limit(_LIMIT)
    .with_for_update(skip_locked=True, key_share=True)
)

_busy_run = run_table.alias("busy_run")
# Unclaimed due pending runs, except those of a ``queue`` job whose previous run is busy.
_CLAIMABLE_RUNS: Final = (
    select(run_table, _job.name.label("job_name"))
    .join(job_table, _job.id == _run.job_id)
    .where(_run.status == PENDING, _run.replica_id == "", _run.due_at <= _NOW)
    .where(
        or_(
            _job.overlap != OverlapPolicy.QUEUE.value,
            ~exists().where(_busy_run.c.job_id == _run.job_id, _busy_run.c.status.in_(BUSY)),
        )
    )
    .order_by(_run.due_at, _run.id)
    .limit(_LIMIT)
    .with_for_update(skip_locked=True, key_share=True, of=run_table)
)

# next_run_at of many jobs in one executemany.
_ADVANCE: Final = (
    update(job_table)
    .where(_job.id == bindparam("job"))
    .values(next_run_at=bindparam("next", type_=UTCDateTime()))
)


def claim_due(
    conn: Connection,
    *,
    now: datetime,
    replica_id: str,
    limit: int,
    plan: Planner,
    cache: SpecCache,
) -> tuple[list[ClaimedRun], int]:
    """:meth:`~scheduler.stores.base.Store.claim_due` inside the transaction of
    ``conn``: the claimed runs, unsorted, and how many jobs were due."""
    due = conn.execute(_DUE_JOBS, {"now": now, "limit": limit}).mappings().all()
    if not due:
        return [], 0
    jobs: dict[int, StoredJob] = {row["id"]: cache.stored(row) for row in due}
    busy = _busy_job_ids(conn, list(jobs))
    plans = {job_id: plan(job, job_id in busy, now) for job_id, job in jobs.items()}
    rows = [
        # A busy job's new runs wait for claim_pending and its overlap rule.
        run_columns(
            job_id,
            new.checked(jobs[job_id].spec.name),
            now=now,
            replica_id="" if job_id in busy else replica_id,
        )
        for job_id, chosen in plans.items()
        for new in chosen.runs
    ]
    ids = _insert_runs(conn, rows, now=now, replica_id=replica_id)
    conn.execute(_ADVANCE, [_advance(job_id, chosen) for job_id, chosen in plans.items()])
    claimed = [
        _claimed(ids[_slot_key(row)], jobs[row["job_id"]].spec, row)
        for row in rows
        if row["replica_id"]
    ]
    return claimed, len(jobs)


def claim_pending(
    conn: Connection, *, now: datetime, replica_id: str, limit: int, cache: SpecCache
) -> list[ClaimedRun]:
    """:meth:`~scheduler.stores.base.Store.claim_pending` inside the transaction of ``conn``."""
    rows = conn.execute(_CLAIMABLE_RUNS, {"now": now, "limit": limit}).mappings().all()
    if not rows:
        return []
    for clause in among(conn, _run.id, [row["id"] for row in rows]):
        conn.execute(update(run_table).where(clause).values(replica_id=replica_id, claimed_at=now))
    jobs = {row["id"]: cache.get(row) for row in rows_by_id(conn, {row["job_id"] for row in rows})}
    return [
        ClaimedRun(
            run=replace(run_from_row(row), replica_id=replica_id, claimed_at=now),
            job=jobs[row["job_id"]],
        )
        for row in rows
    ]


def add_run(conn: Connection, job_name: str, new: NewRun) -> Run:
    """Insert one unclaimed run of ``job_name``; :class:`IntegrityError` if its
    slot and attempt exist, :class:`~scheduler.errors.JobNotFound` if the job does not."""
    job_id = conn.scalar(select(_job.id).where(_job.name == job_name))
    if job_id is None:
        raise job_not_found(job_name)
    values = run_columns(job_id, new, now=new.due_at, replica_id="")
    run_id = conn.execute(insert(run_table).values(values).returning(_run.id)).scalar_one()
    notify(conn)
    return run_from_columns(run_id, job_name, values)


def insert_unless_slot_exists(conn: Connection, values: Mapping[str, Any]) -> Executable:
    """``INSERT`` of one run that does nothing if its slot and attempt exist; returns its id."""
    dialect_insert = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
    return (
        dialect_insert(run_table)
        .values(values)
        .on_conflict_do_nothing(index_elements=[_run.job_id, _run.scheduled_for, _run.attempt])
        .returning(_run.id)
    )


def is_slot_conflict(error: IntegrityError) -> bool:
    """Whether ``error`` is the slot constraint refusing a second run of one slot and attempt."""
    constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    if constraint is not None:  # psycopg names it
        return bool(constraint == SLOT_CONSTRAINT)
    # sqlite3 names the columns instead: "UNIQUE constraint failed: scheduler_run.job_id, ..."
    return "scheduler_run.job_id, scheduler_run.scheduled_for, scheduler_run.attempt" in str(
        error.orig
    )


def conflict(error: IntegrityError) -> str:
    """What a slot conflict says, with the database's detail when it gives one."""
    detail = getattr(getattr(error.orig, "diag", None), "message_detail", None)
    found = f" ({detail})" if detail else ""
    return f"a run for the same job, slot and attempt already exists{found}"


def _busy_job_ids(conn: Connection, job_ids: Sequence[int]) -> set[int]:
    """Which of ``job_ids`` have a pending, queued or running run."""
    busy: set[int] = set()
    for clause in among(conn, _run.job_id, job_ids):
        query = select(_run.job_id).where(clause, _run.status.in_(ACTIVE)).distinct()
        busy.update(conn.scalars(query))
    return busy


_SlotKey = tuple[int, datetime, int]


def _slot_key(row: Mapping[Any, Any]) -> _SlotKey:
    return (row["job_id"], row["scheduled_for"], row["attempt"])


def _insert_runs(
    conn: Connection, rows: Sequence[dict[str, Any]], *, now: datetime, replica_id: str
) -> dict[_SlotKey, int]:
    """Insert runs in one executemany; the ids of those claimed, by slot.

    The driver's own executemany (pipelined by psycopg) parses the statement
    once; ``RETURNING`` would need SQLAlchemy's multi-row VALUES instead, whose
    thousands of placeholders psycopg parses in Python.  So the claimed runs'
    ids come from one indexed select, matched by slot: the unique key.
    """
    if not rows:
        return {}
    conn.execute(insert(run_table), list(rows))
    claimed = {_slot_key(row) for row in rows if row["replica_id"]}
    job_ids = sorted({key[0] for key in claimed})
    ids: dict[_SlotKey, int] = {}
    for clause in among(conn, _run.job_id, job_ids):
        query = select(_run.id, _run.job_id, _run.scheduled_for, _run.attempt).where(
            clause, _run.replica_id == replica_id, _run.claimed_at == now
        )
        found = conn.execute(query).mappings()
        ids.update((key, row["id"]) for row in found if (key := _slot_key(row)) in claimed)
    return ids


def _advance(job_id: int, chosen: SlotPlan) -> dict[str, Any]:
    following = chosen.next_run_at
    return {
        "job": job_id,
        "next": None if following is None else ensure_aware_utc(following, "next_run_at"),
    }


def _claimed(run_id: int, spec: JobSpec, row: Mapping[str, Any]) -> ClaimedRun:
    return ClaimedRun(run=run_from_columns(run_id, spec.name, row), job=spec)
