"""Chains in a SQL database: the ended runs of upstream jobs, and the runs they start.

One indexed select finds the jobs chained after others (``chain_after``); a
wake-up without chains costs that one query.  The ended runs no chain has
seen (``chained_at`` NULL) are then locked, ``SKIP LOCKED`` on PostgreSQL,
MariaDB and MySQL, so two replicas take different ones; SQLite's write lock
serialises them.  The unique index on ``(job_id, upstream_run_id)`` refuses
a second chained run for one upstream run whatever happened before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select, true, update

from ...model.runs import NewRun, Run
from ..checked.chains import EndedUpstream
from ..protocol.values import StoredJob
from ..rules import job_not_found
from .changes import notify
from .claims import FIRST_UNFOLLOWED_END, insert_unless_slot_exists
from .connections import Db
from .queries import among, select_rows
from .schema import job_table, run_columns, run_from_columns, run_table

__all__ = ["add_chain_runs", "anything_to_follow", "ended_upstream_runs", "mark_chained"]

_job = job_table.c
_run = run_table.c
_MICROSECOND = timedelta(microseconds=1)

_CHAINED_JOBS: Final = select(job_table).where(
    _job.chain_after.is_not(None), _job.enabled == true(), _job.removed_at.is_(None)
)


def anything_to_follow(db: Db) -> bool:
    return db.conn.execute(FIRST_UNFOLLOWED_END).scalar() is not None


def ended_upstream_runs(db: Db, limit: int) -> list[EndedUpstream]:
    conn = db.conn
    dependents: defaultdict[str, list[StoredJob]] = defaultdict(list)
    for row in select_rows(conn, _CHAINED_JOBS):
        dependents[row["chain_after"]].append(db.specs.stored(row))
    if not dependents:
        return []
    names = dict(
        conn.execute(select(_job.id, _job.name).where(_job.name.in_(sorted(dependents)))).all()
    )
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
        while True:
            values = run_columns(ids[name], new, now=new.due_at, replica_id="")
            run_id = insert_unless_slot_exists(conn, values)
            if run_id is not None:
                break
            new = replace(new, scheduled_for=new.scheduled_for + _MICROSECOND)
        created.append(run_from_columns(run_id, name, values))
    notify(conn)
    return created


def mark_chained(db: Db, run_ids: Sequence[int], now: datetime) -> None:
    for clause in among(db.conn, _run.id, list(run_ids)):
        db.conn.execute(update(run_table).where(clause).values(chained_at=now))
