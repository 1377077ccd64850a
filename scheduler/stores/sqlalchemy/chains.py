"""Chains in a SQL database: the ended runs of upstream jobs, and the runs they start.

One indexed select finds the chained jobs (``chain_after``: a join's first
upstream); their specs name every upstream.  A wake-up without chains costs
one query (:data:`.claims.UNFOLLOWED_ENDS`, which also reads the
upstreams of joins from ``scheduler_job_upstream``).  The ended runs no chain
has seen (``chained_at`` NULL) are then locked, ``SKIP LOCKED`` on PostgreSQL,
MariaDB and MySQL, so two replicas take different ones; SQLite's write lock
serialises them.  The unique index on ``(job_id, upstream_run_id)`` refuses
a second chained run for one upstream run (or one join's key) whatever
happened before; the insert here leaves such a run out quietly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Connection, select, true, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from ...model.runs import NewRun, Run
from ..checked.chains import EndedUpstream
from ..protocol.values import StoredJob
from ..rows import is_slot_violation, is_upstream_violation
from ..rules import job_not_found
from . import mysql
from .changes import notify
from .claims import UNFOLLOWED_ENDS
from .connections import Db
from .queries import among, select_rows
from .schema import job_table, run_columns, run_from_columns, run_table

__all__ = [
    "add_chain_runs",
    "anything_to_follow",
    "ended_runs_at",
    "ended_upstream_runs",
    "mark_chained",
]

_job = job_table.c
_run = run_table.c
_MICROSECOND = timedelta(microseconds=1)

_CHAINED_JOBS: Final = select(job_table).where(
    _job.chain_after.is_not(None), _job.enabled == true(), _job.removed_at.is_(None)
)


def anything_to_follow(db: Db) -> bool:
    return any(end is not None for end in db.conn.execute(UNFOLLOWED_ENDS).one())


def ended_upstream_runs(db: Db, limit: int) -> list[EndedUpstream]:
    conn = db.conn
    dependents: defaultdict[str, list[StoredJob]] = defaultdict(list)
    for row in select_rows(conn, _CHAINED_JOBS):
        job = db.specs.stored(row)
        for upstream in job.spec.after:
            dependents[upstream].append(job)
    if not dependents:
        return []
    names = _names(conn, dependents)
    if not names:
        return []
    query = (
        select(run_table)
        .where(_run.job_id.in_(sorted(names)), _run.chained_at.is_(None))
        .where(_run.finished_at.is_not(None))
        .order_by(_run.finished_at, _run.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    found = []
    for row in select_rows(conn, query):
        name = names[row["job_id"]]
        found.append(EndedUpstream(run_from_columns(row["id"], name, row), tuple(dependents[name])))
    return found


def ended_runs_at(db: Db, job_names: Collection[str], slots: Collection[datetime]) -> list[Run]:
    """The ended runs of the jobs ``job_names`` scheduled for any of ``slots``
    (the history index: by job, then slot); read, not locked."""
    conn = db.conn
    names = _names(conn, job_names)
    if not names or not slots:
        return []
    query = (
        select(run_table)
        .where(_run.job_id.in_(sorted(names)), _run.scheduled_for.in_(sorted(slots)))
        .where(_run.finished_at.is_not(None))
    )
    return [
        run_from_columns(row["id"], names[row["job_id"]], row) for row in select_rows(conn, query)
    ]


def add_chain_runs(db: Db, rows: Sequence[tuple[str, NewRun]]) -> list[Run]:
    if not rows:
        return []
    conn = db.conn
    wanted = sorted({name for name, _ in rows})
    ids = dict(conn.execute(select(_job.name, _job.id).where(_job.name.in_(wanted))).all())
    created = []
    for name, new in rows:
        if name not in ids:
            raise job_not_found(name)
        inserted = _insert(conn, ids[name], new)
        if inserted is not None:
            created.append(run_from_columns(inserted[0], name, inserted[1]))
    if created:
        notify(conn)
    return created


def mark_chained(db: Db, run_ids: Sequence[int], now: datetime) -> None:
    for clause in among(db.conn, _run.id, list(run_ids)):
        db.conn.execute(update(run_table).where(clause).values(chained_at=now))


def _names(conn: Connection, job_names: Collection[str]) -> dict[int, str]:
    """The ids of the jobs called ``job_names`` that exist, and their names."""
    query = select(_job.id, _job.name).where(_job.name.in_(sorted(job_names)))
    return dict(conn.execute(query).all())


def _insert(conn: Connection, job_id: int, new: NewRun) -> tuple[int, Mapping[str, Any]] | None:
    """Insert ``new`` at the first free slot from its own; its id and columns, or
    ``None`` if the job has a run for its upstream run already (another replica
    completed the same join, or followed the same end).

    Every pass either returns or finds the slot taken and moves a microsecond
    on: a conflict on the upstream run is seen as such, never as a taken slot,
    so it cannot send the loop round for ever.
    """
    followed = select(_run.id).where(
        _run.job_id == job_id, _run.upstream_run_id == new.upstream_run_id
    )
    while True:
        if new.upstream_run_id is not None and conn.scalar(followed) is not None:
            return None
        values = run_columns(job_id, new, now=new.due_at, replica_id="")
        run_id = _insert_unless_taken(conn, values)
        if run_id is not None:
            return run_id, values
        # Refused by a unique index: the loop's first line tells which one.
        new = replace(new, scheduled_for=new.scheduled_for + _MICROSECOND)


def _insert_unless_taken(conn: Connection, values: Mapping[str, Any]) -> int | None:
    """Insert one run unless a unique index refuses it (its slot and attempt, or
    its upstream run): its id, or ``None``.

    On PostgreSQL an insert that meets another transaction's uncommitted run
    of the same key waits for it, so the statement after sees that run.
    """
    if mysql.is_mysql(conn):
        return _insert_catching(conn, values)
    dialect_insert = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = dialect_insert(run_table).values(values).on_conflict_do_nothing().returning(_run.id)
    return conn.scalars(statement).one_or_none()


def _insert_catching(conn: Connection, values: Mapping[str, Any]) -> int | None:
    """MariaDB and MySQL have no ``ON CONFLICT DO NOTHING``: a refused insert
    fails that one statement and leaves the transaction going."""
    try:
        key = conn.execute(run_table.insert().values(values)).inserted_primary_key
    except IntegrityError as error:
        if is_slot_violation(error.orig) or is_upstream_violation(error.orig):
            return None
        raise
    if key is None:  # pragma: no cover - every dialect of the store reports it
        raise RuntimeError("the database did not report the new run's id")
    return int(key[0])
