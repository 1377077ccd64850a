"""Run rows: their statuses as stored, recording their life, reading and pruning history.

Every function takes the connection of a transaction (or a single read) the
store opened.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    RowMapping,
    Select,
    and_,
    delete,
    exists,
    func,
    select,
    update,
)

from ...model.policies import JobSource
from ...model.runs import ACTIVE_STATUSES, TERMINAL_STATUSES, Outcome, Run, RunStatus
from ..rows import outcome_columns
from ..rules import run_not_found
from .schema import job_table, run_from_columns, run_table

__all__ = [
    "ACTIVE",
    "BUSY",
    "NOT_STARTED",
    "PENDING",
    "QUEUED",
    "TERMINAL",
    "finish",
    "list_runs",
    "prune",
    "run_from_row",
    "runs_with_names",
    "transition",
]

#: ``scheduler_run.status`` of runs that have not ended.
ACTIVE = sorted(status.value for status in ACTIVE_STATUSES)
#: ``scheduler_run.status`` of runs that have ended.
TERMINAL = sorted(status.value for status in TERMINAL_STATUSES)
#: ``scheduler_run.status`` of runs handed to an executor.
BUSY = [RunStatus.QUEUED.value, RunStatus.RUNNING.value]
#: ``scheduler_run.status`` of runs that may still start.
NOT_STARTED = [RunStatus.PENDING.value, RunStatus.QUEUED.value]
PENDING = RunStatus.PENDING.value
QUEUED = RunStatus.QUEUED.value

_job = job_table.c
_run = run_table.c


def runs_with_names() -> Select[Any]:
    """Run rows with their job's name as ``job_name``."""
    return select(run_table, _job.name.label("job_name")).join(job_table, _job.id == _run.job_id)


def run_from_row(row: RowMapping) -> Run:
    """The :class:`Run` of a row of :func:`runs_with_names`."""
    return run_from_columns(row["id"], row["job_name"], row)


def transition(
    conn: Connection, run_id: int, allowed: list[str], changes: Mapping[str, object]
) -> bool:
    """Apply ``changes`` if the run is in one of the ``allowed`` statuses."""
    result = conn.execute(
        update(run_table).where(_run.id == run_id, _run.status.in_(allowed)).values(changes)
    )
    if result.rowcount == 1:
        return True
    if conn.scalar(select(_run.id).where(_run.id == run_id)) is None:
        raise run_not_found(run_id)
    return False


def finish(conn: Connection, run_id: int, outcome: Outcome, finished_at: datetime) -> None:
    """:meth:`~scheduler.stores.base.Store.mark_finished` inside the transaction of ``conn``."""
    row = conn.execute(
        select(_run.status, _run.started_at).where(_run.id == run_id).with_for_update()
    ).one_or_none()
    if row is None:
        raise run_not_found(run_id)
    if row.status in TERMINAL:
        return
    conn.execute(
        update(run_table)
        .where(_run.id == run_id)
        .values(outcome_columns(outcome, started_at=row.started_at, finished_at=finished_at))
    )


def list_runs(job_name: str | None, status: RunStatus | None, limit: int) -> Select[Any]:
    """The query of :meth:`~scheduler.stores.base.Store.list_runs`."""
    query = runs_with_names()
    if job_name is not None:
        query = query.where(_job.name == job_name)
    if status is not None:
        query = query.where(_run.status == RunStatus(status).value)
    return query.order_by(_run.scheduled_for.desc(), _run.attempt.desc(), _run.id.desc()).limit(
        limit
    )


def prune(conn: Connection, now: datetime, keep_last: int | None, max_age: timedelta | None) -> int:
    """:meth:`~scheduler.stores.base.Store.prune` inside the transaction of ``conn``.

    One ``DELETE`` per rule, not one with ``id IN (...) OR finished_at < ...``:
    PostgreSQL cannot make a semi-join of an ``IN`` under ``OR``, and once the
    ranked ids outgrow ``work_mem`` it scans them again for every run, a
    prune that grows with the square of the history.
    """
    deleted = 0
    if keep_last is not None:
        beyond = _run.id.in_(_beyond_newest(max(keep_last, 0)))
        deleted += conn.execute(delete(run_table).where(_run.status.in_(TERMINAL), beyond)).rowcount
    if max_age is not None:
        old = _run.finished_at < now - max_age
        deleted += conn.execute(delete(run_table).where(_run.status.in_(TERMINAL), old)).rowcount
        conn.execute(delete(job_table).where(_finished_one_off(now - max_age)))
    return deleted


def _finished_one_off(changed_before: datetime) -> ColumnElement[bool]:
    """A deferred call that ran (or was cancelled) and has no history left."""
    return and_(
        _job.source == JobSource.CODE.value,
        _job.run_at.is_not(None),
        _job.next_run_at.is_(None),
        _job.paused_at.is_(None),
        _job.updated_at < changed_before,
        ~exists().where(_run.job_id == _job.id),
    )


def _beyond_newest(keep_last: int) -> Select[Any]:
    """Ids of terminal runs beyond the newest ``keep_last`` terminal runs of their job."""
    newest_first = (_run.scheduled_for.desc(), _run.attempt.desc(), _run.id.desc())
    ranked = (
        select(
            _run.id,
            func.row_number().over(partition_by=_run.job_id, order_by=newest_first).label("rank"),
        )
        .where(_run.status.in_(TERMINAL))
        .subquery()
    )
    return select(ranked.c.id).where(ranked.c.rank > keep_last)
