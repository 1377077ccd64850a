"""The due-queue: what is due next, claiming due jobs and pending runs, inserting runs.

Several replicas may share one database.  What keeps a slot from firing twice
is the unique constraint on ``(job, scheduled_for, attempt)``; what keeps the
replicas from tripping over each other is the claim transaction: on
PostgreSQL due jobs are selected ``FOR NO KEY UPDATE SKIP LOCKED`` (the row
lock of an ``UPDATE`` that leaves keys alone, so run inserts referencing the
job are not blocked), and a replica skips the jobs another one holds; on
MariaDB and MySQL the same select is ``FOR UPDATE SKIP LOCKED`` under ``READ
COMMITTED`` (:mod:`scheduler.stores.servers` says why), and claiming pending
runs locks their jobs' rows too (MariaDB has no ``FOR UPDATE OF``), so a
replica skips a run whose job another replica is claiming at that moment and
takes it at its next wake-up; on SQLite the transaction holds the write lock
from its first read.

Every claim is batched: a fixed number of statements whatever the number of
due jobs, never one per job (see :mod:`.bulk`), and its runs are claimed
``queued``, so the wake-up that hands them over commits once.  An idle
wake-up is one indexed ``MIN`` query plus one indexed select per claim call.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    Connection,
    Integer,
    Select,
    bindparam,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from ...model.jobs import JobSpec
from ...model.policies import OverlapPolicy
from ...model.runs import ClaimedRun, NewRun, Run, RunStatus
from ..checked.verbs import Claim
from ..protocol.values import NextWork, Planner, StoredJob, earliest
from ..rows import ACTIVE_RUN_CONDITION, claim_rows, is_slot_violation
from ..rules import job_not_found, one_run_per_queue_job
from . import bulk, mysql
from .changes import notify
from .connections import Db
from .jobs import rows_by_id
from .queries import among
from .runs import BUSY, PENDING, QUEUED, run_from_row
from .schema import (
    UTCDateTime,
    job_table,
    job_upstream_table,
    run_columns,
    run_from_columns,
    run_table,
)

__all__ = [
    "NEXT_WAKE",
    "UNFOLLOWED_ENDS",
    "add_run",
    "claim_due",
    "claim_pending",
    "insert_unless_slot_exists",
    "next_work",
]

_job = job_table.c
_run = run_table.c

_NOW = bindparam("now", type_=UTCDateTime())
_LIMIT = bindparam("limit", type_=Integer())

_chained_job = job_table.alias("chained_job")
_upstream_job = job_table.alias("upstream_job")
_link = job_upstream_table.c
#: The names of the jobs that enabled jobs run after (``after``), first or only
#: upstream (``chain_after``, indexed) ...
UPSTREAM_NAMES: Final = select(_chained_job.c.chain_after).where(
    _chained_job.c.chain_after.is_not(None),
    _chained_job.c.enabled == true(),
    _chained_job.c.removed_at.is_(None),
)
#: ... and every upstream of an enabled join (``scheduler_job_upstream``), found
#: from the same index: a join's first upstream is its ``chain_after`` too.
JOINED_NAMES: Final = (
    select(_link.name)
    .select_from(_chained_job)
    .join(job_upstream_table, _link.job_id == _chained_job.c.id)
    .where(
        _chained_job.c.chain_after.is_not(None),
        _chained_job.c.enabled == true(),
        _chained_job.c.removed_at.is_(None),
    )
)


#: The earliest unfollowed end of one upstream job's runs: the first entry of
#: its range of the (job_id, chained_at, finished_at) index, which the ORDER
#: BY names so that no other index looks as good.
_FIRST_END_OF_JOB: Final = (
    select(_run.finished_at)
    .where(_run.job_id == _upstream_job.c.id)
    .where(_run.chained_at.is_(None), _run.finished_at.is_not(None))
    .order_by(_run.chained_at, _run.finished_at)
    .limit(1)
    .correlate(_upstream_job)
    .scalar_subquery()
)


def _first_unfollowed_end(names: Select[Any]) -> Select[Any]:
    """The earliest end of a run of a job called one of ``names`` that no chain has
    followed yet: an index probe per upstream job, never a scan of the runs.

    A correlated subquery per upstream job, not a join of the runs: a join
    leaves the order to the planner, which, when the run table's statistics
    are old (a table that grew since its last ``ANALYZE``), scans every
    ended run instead, a cost that grows with the history (70 ms a wake-up
    at 30,000 runs on PostgreSQL).  A subquery in the select list is run
    once per upstream job on every database."""
    return (
        select(func.min(_FIRST_END_OF_JOB))
        .select_from(_upstream_job)
        .where(_upstream_job.c.name.in_(names.scalar_subquery()))
    )


#: The earliest end of a run of a first or only upstream that no chain has
#: followed yet, and of any upstream of a join: two statements, for an OR of
#: the two name lists makes PostgreSQL scan the runs.
FIRST_UNFOLLOWED_END: Final = _first_unfollowed_end(UPSTREAM_NAMES)
FIRST_UNFOLLOWED_JOIN_END: Final = _first_unfollowed_end(JOINED_NAMES)
#: Both, in one statement.
UNFOLLOWED_ENDS: Final = select(
    FIRST_UNFOLLOWED_END.scalar_subquery(), FIRST_UNFOLLOWED_JOIN_END.scalar_subquery()
)

#: The earliest next_run_at of an enabled job, due_at of an unclaimed pending
#: run, and end of a run a chain has to follow: index lookups, in one statement.
NEXT_WAKE: Final = select(
    select(func.min(_job.next_run_at)).where(_job.enabled == true()).scalar_subquery(),
    select(func.min(_run.due_at))
    .where(_run.status == PENDING, _run.replica_id == "")
    .scalar_subquery(),
    FIRST_UNFOLLOWED_END.scalar_subquery(),
    FIRST_UNFOLLOWED_JOIN_END.scalar_subquery(),
)

# Whether the job of the enclosing row has a run that has not ended: a probe of
# the partial index of active runs per job.  A scalar subquery rather than
# EXISTS, which PostgreSQL may turn into a hash of every active run, costly
# when thousands are in flight; the condition is literal SQL, as the index's.
_HAS_ACTIVE_RUN: Final = (
    select(literal_column("1"))
    .select_from(run_table)
    .where(_run.job_id == _job.id, text(f"scheduler_run.{ACTIVE_RUN_CONDITION}"))
    .limit(1)
    .scalar_subquery()
    .is_not(None)
)

# Due jobs, locked, and whether each has a run that has not ended (the
# overlap rule's question); on PostgreSQL those another replica holds are skipped.
# Ordered by next_run_at alone, the order of the (enabled, next_run_at) index,
# so the database stops after ``limit`` rows: a tie-breaker such as the name
# would make it sort every due job at every claim, and a herd of 100,000 jobs
# due at one instant costs quadratic time.
_DUE_JOBS: Final = (
    select(job_table, _HAS_ACTIVE_RUN.label("busy"))
    .where(_job.enabled == true(), _job.next_run_at <= _NOW)
    .order_by(_job.next_run_at)
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


def next_work(db: Db) -> NextWork:
    """:meth:`~scheduler.stores.base.RunQueue.next_work`: index lookups, in one statement."""
    job, run, end, joined_end = db.conn.execute(NEXT_WAKE).one()
    return NextWork(earliest(job, run), earliest(end, joined_end))


def claim_due(db: Db, *, now: datetime, replica_id: str, limit: int, plan: Planner) -> Claim:
    """:meth:`~scheduler.stores.base.RunQueue.claim_due` inside the transaction of
    ``db``: the claimed runs, unsorted, how many jobs were due, and the planned
    slots skipped because they already had a run (:func:`.bulk.insert_runs`)."""
    conn, cache = db.conn, db.specs
    due = conn.execute(_DUE_JOBS, {"now": now, "limit": limit}).mappings().all()
    if not due:
        return Claim()
    jobs: dict[int, StoredJob] = {row["id"]: cache.stored(row) for row in due}
    busy = {row["id"] for row in due if row["busy"]}
    plans = {job_id: plan(job, job_id in busy, now) for job_id, job in jobs.items()}
    rows = claim_rows(plans, jobs, busy, now=now, replica_id=replica_id)
    ids = bulk.insert_runs(conn, rows, replica_id=replica_id)
    bulk.advance_jobs(conn, {job_id: chosen.next_run_at for job_id, chosen in plans.items()})
    taken = [row for row in rows if bulk.slot_key(row) not in ids]
    return Claim(
        claimed=[
            _claimed(ids[bulk.slot_key(row)], jobs[row["job_id"]].spec, row)
            for row in rows
            if row["replica_id"] and bulk.slot_key(row) in ids
        ],
        due_jobs=len(jobs),
        taken=[
            (jobs[row["job_id"]].spec.name, row["scheduled_for"], row["attempt"]) for row in taken
        ],
    )


def claim_pending(db: Db, *, now: datetime, replica_id: str, limit: int) -> list[ClaimedRun]:
    """:meth:`~scheduler.stores.base.RunQueue.claim_pending` inside the transaction of ``db``."""
    conn, cache = db.conn, db.specs
    rows = conn.execute(_CLAIMABLE_RUNS, {"now": now, "limit": limit}).mappings().all()
    if not rows:
        return []
    jobs = {row["id"]: cache.get(row) for row in rows_by_id(conn, {row["job_id"] for row in rows})}
    rows = one_run_per_queue_job(rows, lambda row: jobs[row["job_id"]])
    handed_to: defaultdict[str, list[int]] = defaultdict(list)
    for row in rows:
        handed_to[jobs[row["job_id"]].executor].append(row["id"])
    for executor, run_ids in handed_to.items():  # one update per executor, not per run
        changes = {"status": QUEUED, "executor": executor, "replica_id": replica_id}
        for clause in among(conn, _run.id, run_ids):
            conn.execute(update(run_table).where(clause).values(**changes, claimed_at=now))
    return [
        ClaimedRun(
            run=replace(
                run_from_row(row),
                status=RunStatus.QUEUED,
                executor=jobs[row["job_id"]].executor,
                replica_id=replica_id,
                claimed_at=now,
            ),
            job=jobs[row["job_id"]],
        )
        for row in rows
    ]


def add_run(db: Db, job_name: str, new: NewRun) -> Run:
    """Insert one unclaimed run of ``job_name``; the database's IntegrityError if its
    slot and attempt exist, :class:`~scheduler.errors.JobNotFound` if the job does not."""
    conn = db.conn
    job_id = conn.scalar(select(_job.id).where(_job.name == job_name))
    if job_id is None:
        raise job_not_found(job_name)
    values = run_columns(job_id, new, now=new.due_at, replica_id="")
    run_id = _insert(conn, values)
    notify(conn)
    return run_from_columns(run_id, job_name, values)


def insert_unless_slot_exists(conn: Connection, values: Mapping[str, Any]) -> int | None:
    """Insert one run unless its slot and attempt exist; its id, or ``None``.

    MariaDB and MySQL have no ``ON CONFLICT DO NOTHING`` (``INSERT IGNORE``
    would hide any error): there the run is inserted unless it is found, and
    a concurrent insert of the same slot, refused by the constraint, fails
    that one statement and leaves the transaction going.
    """
    if mysql.is_mysql(conn):
        return _insert_unless_found(conn, values)
    dialect_insert = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = (
        dialect_insert(run_table)
        .values(values)
        .on_conflict_do_nothing(index_elements=[_run.job_id, _run.scheduled_for, _run.attempt])
        .returning(_run.id)
    )
    return conn.scalars(statement).one_or_none()


def _insert_unless_found(conn: Connection, values: Mapping[str, Any]) -> int | None:
    slot = (_run.job_id == values["job_id"]) & (_run.attempt == values["attempt"])
    found = select(_run.id).where(slot, _run.scheduled_for == values["scheduled_for"])
    if conn.scalar(found) is not None:
        return None
    try:
        return _insert(conn, values)
    except IntegrityError as error:
        if is_slot_violation(error.orig):
            return None
        raise


def _insert(conn: Connection, values: Mapping[str, Any]) -> int:
    """Insert one run; its id (``RETURNING`` where the database has it, else the driver's)."""
    key = conn.execute(insert(run_table).values(values)).inserted_primary_key
    if key is None:  # pragma: no cover - every dialect of the store reports it
        raise RuntimeError("the database did not report the new run's id")
    return int(key[0])


def _claimed(run_id: int, spec: JobSpec, row: Mapping[str, Any]) -> ClaimedRun:
    return ClaimedRun(run=run_from_columns(run_id, spec.name, row), job=spec)
