"""Replica rows: heartbeats, clean stops, listing, recovering the runs of dead ones, forgetting.

Every function takes the connection of a transaction the store opened, in ``db``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Connection,
    RowMapping,
    and_,
    case,
    delete,
    exists,
    insert,
    literal,
    or_,
    select,
    update,
)

from ...model.runs import RunStatus
from ..protocol.values import RecoveryReport, ReplicaInfo, Retrier
from .claims import insert_unless_slot_exists
from .connections import Db
from .jobs import rows_by_id
from .queries import update_returning
from .runs import ACTIVE, BUSY, PENDING
from .schema import UTCDateTime, replica_table, run_columns, run_from_columns, run_table
from .specs import SpecCache
from .worker_runs import lose_silent_workers, lose_unstarted

__all__ = ["heartbeat", "list_replicas", "prune_replicas", "recover", "stop_replica"]

_run = run_table.c
_replica = replica_table.c
_LISTED = (
    _replica.id,
    _replica.hostname,
    _replica.pid,
    _replica.started_at,
    _replica.heartbeat_at,
    _replica.stopped_at,
)


def heartbeat(db: Db, replica_id: str, *, hostname: str, pid: int, now: datetime) -> None:
    """Record that ``replica_id`` is alive; one that had stopped starts a new life."""
    conn = db.conn
    restarted = case(
        (_replica.stopped_at.is_(None), _replica.started_at),
        else_=literal(now, UTCDateTime()),
    )
    # started_at is assigned before stopped_at (the table's column order, which
    # SQLAlchemy follows): MariaDB and MySQL assign left to right, and the CASE
    # must read the stopped_at that was there, not the NULL written after it.
    result = conn.execute(
        update(replica_table)
        .where(_replica.id == replica_id)
        .values(hostname=hostname, pid=pid, heartbeat_at=now, stopped_at=None, started_at=restarted)
    )
    if result.rowcount == 0:
        conn.execute(
            insert(replica_table).values(
                id=replica_id, hostname=hostname, pid=pid, started_at=now, heartbeat_at=now
            )
        )


def stop_replica(db: Db, replica_id: str, *, now: datetime) -> None:
    """Record a clean shutdown of ``replica_id``, even one that never beat."""
    conn = db.conn
    result = conn.execute(
        update(replica_table).where(_replica.id == replica_id).values(stopped_at=now)
    )
    if result.rowcount == 0:
        conn.execute(
            insert(replica_table).values(
                id=replica_id, hostname="", pid=0, started_at=now, heartbeat_at=now, stopped_at=now
            )
        )


def list_replicas(db: Db) -> list[ReplicaInfo]:
    """Every replica row, newest heartbeat first, ties by id."""
    newest_first = (_replica.heartbeat_at.desc(), _replica.id)
    rows = db.conn.execute(select(*_LISTED).order_by(*newest_first))
    return [
        ReplicaInfo(
            id=row.id,
            hostname=row.hostname,
            pid=row.pid,
            started_at=row.started_at,
            heartbeat_at=row.heartbeat_at,
            stopped_at=row.stopped_at,
        )
        for row in rows
    ]


def prune_replicas(db: Db, *, cutoff: datetime) -> int:
    """Delete replicas not seen since before ``cutoff`` that hold no unfinished run."""
    holds_a_run = exists().where(_run.replica_id == _replica.id, _run.status.in_(ACTIVE))
    result = db.conn.execute(
        delete(replica_table).where(
            _replica.heartbeat_at < cutoff,
            or_(_replica.stopped_at.is_(None), _replica.stopped_at < cutoff),
            ~holds_a_run,
        )
    )
    return result.rowcount


def recover(
    db: Db,
    *,
    now: datetime,
    stale_after: timedelta,
    retry: Retrier | None,
    start_timeout: timedelta | None,
) -> RecoveryReport:
    """:meth:`~scheduler.stores.base.ReplicaStore.recover` inside the transaction of ``db``."""
    conn = db.conn
    dead = _of_dead_replica(now - stale_after)
    message = literal("replica ") + _run.replica_id + literal(" stopped heartbeating")
    released = [
        row["id"]
        for row in update_returning(
            conn, run_table, (_run.status == PENDING) & dead, {"replica_id": "", "claimed_at": None}
        )
    ]
    lost = [
        *update_returning(
            conn,
            run_table,
            _run.status.in_(BUSY) & (_run.external_id == "") & dead,
            {"status": RunStatus.LOST.value, "finished_at": now, "error": message},
        ),
        # Runs executed outside the scheduler (Celery) are judged by their worker's beat.
        *lose_silent_workers(conn, now=now, stale_before=now - stale_after),
    ]
    if start_timeout is not None:
        lost += lose_unstarted(conn, now=now, start_timeout=start_timeout)
    retries = _retry_lost(conn, lost, retry, db.specs) if retry is not None and lost else []
    return RecoveryReport(
        released=tuple(sorted(released)),
        lost=tuple(sorted(row["id"] for row in lost)),
        retries=tuple(sorted(retries)),
    )


def _retry_lost(
    conn: Connection, lost: Sequence[RowMapping], retry: Retrier, cache: SpecCache
) -> list[int]:
    """Insert the next attempt ``retry`` asks for of each lost run, unless it exists."""
    jobs = {row["id"]: row for row in rows_by_id(conn, {row["job_id"] for row in lost})}
    created: list[int] = []
    for row in sorted(lost, key=lambda row: row["id"]):
        job = jobs[row["job_id"]]
        new = retry(run_from_columns(row["id"], job["name"], row), cache.get(job))
        if new is None:
            continue
        values = run_columns(job["id"], new, now=new.due_at, replica_id="")
        run_id = insert_unless_slot_exists(conn, values)
        if run_id is not None:
            created.append(run_id)
    return created


def _of_dead_replica(stale_before: datetime) -> ColumnElement[bool]:
    """The run's replica stopped, went quiet before ``stale_before``, or never beat."""
    alive = (
        select(_replica.id)
        .where(_replica.id == _run.replica_id)
        .where(_replica.stopped_at.is_(None), _replica.heartbeat_at >= stale_before)
    )
    return and_(_run.replica_id != "", ~alive.exists())
