"""Run rows: their statuses as stored, and recording a run's life.

Every function takes the connection of a transaction (or a single read) the
store opened, in ``db``; each is one statement or two, for any number of runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, Select, bindparam, select, update

from ...model.runs import ACTIVE_STATUSES, TERMINAL_STATUSES, Outcome, Run, RunStatus
from ..rows import outcome_columns, status_values
from ..rules import run_not_found
from .batches import finish_many, start_many
from .connections import Db
from .schema import job_table, run_from_columns, run_table

__all__ = [
    "ACTIVE",
    "BUSY",
    "PENDING",
    "QUEUED",
    "TERMINAL",
    "beat_runs",
    "finish",
    "finish_many",
    "run_from_row",
    "runs_with_names",
    "set_external_ids",
    "start_many",
    "transition",
]

#: ``scheduler_run.status`` of runs that have not ended.
ACTIVE = sorted(status.value for status in ACTIVE_STATUSES)
#: ``scheduler_run.status`` of runs that have ended.
TERMINAL = sorted(status.value for status in TERMINAL_STATUSES)
#: ``scheduler_run.status`` of runs handed to an executor.
BUSY = [RunStatus.QUEUED.value, RunStatus.RUNNING.value]
PENDING = RunStatus.PENDING.value
QUEUED = RunStatus.QUEUED.value

_job = job_table.c
_run = run_table.c

_SET_EXTERNAL_ID = (
    update(run_table).where(_run.id == bindparam("run")).values(external_id=bindparam("external"))
)


def runs_with_names() -> Select[Any]:
    """Run rows with their job's name as ``job_name``."""
    return select(run_table, _job.name.label("job_name")).join(job_table, _job.id == _run.job_id)


def run_from_row(row: RowMapping) -> Run:
    """The :class:`Run` of a row of :func:`runs_with_names`."""
    return run_from_columns(row["id"], row["job_name"], row)


def transition(
    db: Db,
    run_id: int,
    allowed: frozenset[RunStatus],
    status: RunStatus,
    changes: Mapping[str, object],
) -> bool:
    """Move the run to ``status`` with ``changes`` if it is in one of the ``allowed`` statuses."""
    conn = db.conn
    result = conn.execute(
        update(run_table)
        .where(_run.id == run_id, _run.status.in_(status_values(allowed)))
        .values({**changes, "status": status.value})
    )
    if result.rowcount == 1:
        return True
    if conn.scalar(select(_run.id).where(_run.id == run_id)) is None:
        raise run_not_found(run_id)
    return False


def finish(db: Db, run_id: int, outcome: Outcome) -> bool:
    """:meth:`~scheduler.stores.base.RunQueue.mark_finished` inside the transaction of ``db``."""
    conn = db.conn
    row = conn.execute(
        select(_run.status, _run.started_at).where(_run.id == run_id).with_for_update()
    ).one_or_none()
    if row is None:
        raise run_not_found(run_id)
    if row.status in TERMINAL:
        return False
    conn.execute(
        update(run_table)
        .where(_run.id == run_id)
        .values(
            outcome_columns(outcome, started_at=row.started_at, finished_at=outcome.finished_at)
        )
    )
    return True


def set_external_ids(db: Db, external_ids: Mapping[int, str]) -> None:
    """Record each run's external id, in one executemany."""
    params = [{"run": run_id, "external": ext} for run_id, ext in external_ids.items()]
    db.conn.execute(_SET_EXTERNAL_ID, params)


def beat_runs(db: Db, run_ids: Sequence[int], now: datetime, chunk: int = 5_000) -> None:
    """``heartbeat_at = now`` for the runs among ``run_ids`` that are running."""
    ids = list(run_ids)
    for start in range(0, len(ids), chunk):
        db.conn.execute(
            update(run_table)
            .where(_run.id.in_(ids[start : start + chunk]), _run.status == RunStatus.RUNNING.value)
            .values(heartbeat_at=now)
        )
