"""SQL for runs executed outside the scheduler, by Celery workers and the like.

Such a run is handed over with an external id (a Celery task id) and, while a
worker executes it, the worker refreshes the run's ``heartbeat_at``.  When the
worker dies (killed, out of memory, its machine gone) the heartbeat stops, and
the scheduler's recovery marks the run ``lost``: :func:`lose_silent_workers`.

The external id and the worker's beats are recorded by :mod:`.runs`; the
statements here run inside the recovery's transaction (:mod:`.replicas`),
each one statement for any number of runs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, RowMapping, and_, literal, or_

from ...model.runs import NOT_STARTED_PREFIX, RunStatus, not_started_suffix
from .queries import update_returning
from .schema import run_table

__all__ = ["lose_silent_workers", "lose_unstarted"]

_run = run_table.c
_RUNNING = RunStatus.RUNNING.value
_QUEUED = RunStatus.QUEUED.value


def lose_unstarted(
    conn: Connection, *, now: datetime, start_timeout: timedelta
) -> list[RowMapping]:
    """Mark ``lost`` the queued runs handed to workers outside the scheduler
    (they have an external id) that no worker started within ``start_timeout``
    of their claim; return their rows as marked."""
    message = (
        literal(NOT_STARTED_PREFIX) + _run.executor + literal(not_started_suffix(start_timeout))
    )
    lost = update_returning(
        conn,
        run_table,
        and_(
            _run.status == _QUEUED,
            _run.external_id != "",
            _run.claimed_at < now - start_timeout,
        ),
        {"status": RunStatus.LOST.value, "finished_at": now, "error": message},
    )
    return sorted(lost, key=lambda row: row["id"])


def lose_silent_workers(
    conn: Connection, *, now: datetime, stale_before: datetime
) -> list[RowMapping]:
    """Mark ``lost`` the running runs whose worker went quiet before ``stale_before``;
    return their rows as marked.

    Quiet means no heartbeat since ``stale_before``; a run with an external id
    that has no heartbeat at all (its worker died between starting it and its
    first beat) is judged by ``started_at``.  Runs executed inside a replica
    have neither, and are left to the replica's own recovery.
    """
    silent = or_(
        _run.heartbeat_at < stale_before,
        and_(
            _run.heartbeat_at.is_(None),
            _run.external_id != "",
            _run.started_at < stale_before,
        ),
    )
    message = literal("worker ") + _run.worker + literal(" stopped heartbeating")
    lost = update_returning(
        conn,
        run_table,
        and_(_run.status == _RUNNING, silent),
        {"status": RunStatus.LOST.value, "finished_at": now, "error": message},
    )
    return sorted(lost, key=lambda row: row["id"])
