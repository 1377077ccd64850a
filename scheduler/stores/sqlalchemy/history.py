"""History: reading runs back, and pruning them and the deferred calls they leave behind.

Every function takes the connection of a transaction (or a single read) the
store opened, in ``db``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, and_, case, delete, exists, false, func, select, true

from ...model.policies import JobSource
from ...model.runs import Run, RunStatus
from ..protocol.values import JOB_STATES, StoreOverview
from ..rules import run_not_found
from .connections import Db
from .queries import among, select_rows
from .runs import PENDING, TERMINAL, run_from_row, runs_with_names
from .schema import job_table, run_table

__all__ = ["get_run", "list_runs", "overview", "prune"]

_job = job_table.c
_run = run_table.c
# Newest slot first, then attempt, then id: the order of history.
_NEWEST_FIRST = (_run.scheduled_for.desc(), _run.attempt.desc(), _run.id.desc())


def get_run(db: Db, run_id: int) -> Run:
    rows = select_rows(db.conn, runs_with_names().where(_run.id == run_id))
    if not rows:
        raise run_not_found(run_id)
    return run_from_row(rows[0])


def list_runs(db: Db, job_name: str | None, status: RunStatus | None, limit: int) -> list[Run]:
    """:meth:`~scheduler.stores.base.RunHistory.list_runs`, in one query."""
    query = runs_with_names()
    if job_name is not None:
        query = query.where(_job.name == job_name)
    if status is not None:
        query = query.where(_run.status == status.value)
    rows = select_rows(db.conn, query.order_by(*_NEWEST_FIRST).limit(limit))
    return [run_from_row(row) for row in rows]


# A job's state, as StoredJob.state words it.
_STATE = case(
    (_job.removed_at.is_not(None), "removed"),
    (_job.enabled == false(), "disabled"),
    (_job.paused_at.is_not(None), "paused"),
    else_="active",
).label("state")
_JOBS_BY_STATE: Final = select(_STATE, func.count()).group_by(_STATE)
# Due active jobs and due unclaimed pending runs: two counts on their indexes.
_DUE_JOBS = select(func.count()).where(_job.enabled == true())
_DUE_RUNS = select(func.count()).where(_run.status == PENDING, _run.replica_id == "")


def overview(db: Db, now: datetime, run_ids: Sequence[int]) -> StoreOverview:
    """:meth:`~scheduler.stores.base.RunHistory.overview`: two aggregate
    queries, and the runs asked for in one (or a few chunks on SQLite)."""
    conn = db.conn
    counts: dict[str, int] = {row[0]: row[1] for row in conn.execute(_JOBS_BY_STATE)}
    due = select(
        _DUE_JOBS.where(_job.next_run_at <= now).scalar_subquery(),
        _DUE_RUNS.where(_run.due_at <= now).scalar_subquery(),
    )
    due_jobs, due_runs = conn.execute(due).one()
    runs: list[Run] = []
    if run_ids:
        for among_ids in among(conn, _run.id, run_ids):
            rows = select_rows(conn, runs_with_names().where(among_ids))
            runs.extend(run_from_row(row) for row in rows)
    return StoreOverview(
        jobs_by_state={state: int(counts.get(state, 0)) for state in JOB_STATES},
        due_backlog=int(due_jobs or 0) + int(due_runs or 0),
        runs=tuple(sorted(runs, key=lambda run: run.id)),
    )


def prune(db: Db, now: datetime, keep_last: int | None, max_age: timedelta | None) -> int:
    """:meth:`~scheduler.stores.base.RunHistory.prune` inside the transaction of ``db``.

    One ``DELETE`` per rule, not one with ``id IN (...) OR finished_at < ...``:
    PostgreSQL cannot make a semi-join of an ``IN`` under ``OR``, and once the
    ranked ids outgrow ``work_mem`` it scans them again for every run, a
    prune that grows with the square of the history.
    """
    conn, deleted = db.conn, 0
    if keep_last is not None:
        beyond = _run.id.in_(_beyond_newest(keep_last))
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
        _job.chain_after.is_(None),  # a job that runs only after another is not done
        _job.updated_at < changed_before,
        ~exists().where(_run.job_id == _job.id),
    )


def _beyond_newest(keep_last: int) -> Select[Any]:
    """Ids of terminal runs beyond the newest ``keep_last`` terminal runs of their job."""
    ranked = (
        select(
            _run.id,
            func.row_number().over(partition_by=_run.job_id, order_by=_NEWEST_FIRST).label("rank"),
        )
        .where(_run.status.in_(TERMINAL))
        .subquery()
    )
    return select(ranked.c.id).where(ranked.c.rank > keep_last)
