"""Group commit: the starts and ends of many runs in one statement each.

:meth:`~scheduler.stores.base.RunQueue.record_transitions` locks the runs it
reports on with one read, decides in Python which reports move their run (the
same rules as :func:`.runs.transition` and :func:`.runs.finish`, in the order
given, so a run reported twice moves once), then writes the moves: PostgreSQL
joins ``unnest`` arrays in one ``UPDATE``, the other databases take an
``executemany``.  On PostgreSQL each kind is one ``UPDATE ... FROM
unnest(...) ... RETURNING`` whose ``WHERE`` keeps the rules, and no read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, bindparam, select, update

from ...model.runs import TERMINAL_STATUSES, Outcome, RunStatus
from ..protocol.batches import RunEnd, RunStart
from ..rows import outcome_columns, result_column
from ..rules import run_not_found
from .connections import Db
from .schema import run_table

__all__ = ["finish_many", "start_many"]

_run = run_table.c
_CHUNK: Final = 5_000
_NOT_STARTED: Final = frozenset({RunStatus.PENDING.value, RunStatus.QUEUED.value})
_RUNNING: Final = RunStatus.RUNNING.value
_ENDED: Final = frozenset(status.value for status in TERMINAL_STATUSES)
_OUTCOME: Final = ("status", "finished_at", "duration_seconds", "result", "error", "traceback")

_START: Final = (
    update(run_table)
    .where(_run.id == bindparam("run"))
    .values(status=_RUNNING, started_at=bindparam("at"), worker=bindparam("worker"))
)
_FINISH: Final = (
    update(run_table)
    .where(_run.id == bindparam("run"))
    .values({name: bindparam(f"new_{name}") for name in _OUTCOME})
)
#: The statuses a run cannot start from: all but pending and queued.  The start
#: names them with ``<> ALL``, which no index serves, where ``IN ('pending',
#: 'queued')`` matched the indexes on the status: psycopg prepares the statement
#: after a few runs, and the generic plan of a run table without statistics
#: (grown since its last ANALYZE) then read every not-ended run's index entry,
#: dead ones included, instead of one primary-key probe per run.
_NOT_STARTABLE: Final = sorted(
    status.value for status in RunStatus if status.value not in _NOT_STARTED
)
_PG_START: Final = (
    "UPDATE scheduler_run SET status = 'running', started_at = v.at, worker = v.worker "
    "FROM unnest(%(ids)b::bigint[], %(at)b::timestamptz[], %(worker)b::text[]) "
    "AS v(id, at, worker) WHERE scheduler_run.id = v.id "
    "AND scheduler_run.status <> ALL(%(not_startable)b::text[]) RETURNING scheduler_run.id"
)
_PG_FINISH: Final = (
    "UPDATE scheduler_run SET status = v.status, finished_at = v.finished_at, "
    "duration_seconds = EXTRACT(EPOCH FROM v.finished_at - scheduler_run.started_at)"
    "::double precision, result = v.result, error = v.error, traceback = v.traceback "
    "FROM unnest(%(ids)b::bigint[], %(status)b::text[], %(finished_at)b::timestamptz[], "
    "%(result)b::text[], %(error)b::text[], %(traceback)b::text[]) "
    "AS v(id, status, finished_at, result, error, traceback) "
    "WHERE scheduler_run.id = v.id AND scheduler_run.status <> ALL(%(ended)b::text[]) "
    "RETURNING scheduler_run.id"
)
_PG_KNOWN: Final = "SELECT id FROM scheduler_run WHERE id = ANY(%(ids)b::bigint[])"


def start_many(db: Db, starts: Sequence[RunStart]) -> set[int]:
    """:meth:`~scheduler.stores.checked.verbs.RunVerbs.start_many` in the transaction of ``db``."""
    if db.conn.dialect.name == "postgresql":
        first = {start.run_id: start for start in reversed(starts)}  # of two, the first
        columns: dict[str, list[Any]] = {
            "ids": list(first),
            "at": [start.at for start in first.values()],
            "worker": [start.worker for start in first.values()],
            "not_startable": _NOT_STARTABLE,
        }
        return _pg_update(db.conn, _PG_START, columns)
    found = _locked(db.conn, (start.run_id for start in starts))
    moved: dict[int, RunStart] = {}
    for start in starts:
        status, _ = found[start.run_id]
        if status in _NOT_STARTED and start.run_id not in moved:
            moved[start.run_id] = start
    if moved:
        params = [{"run": s.run_id, "at": s.at, "worker": s.worker} for s in moved.values()]
        db.conn.execute(_START, params)
    return set(moved)


def finish_many(db: Db, ends: Sequence[RunEnd]) -> set[int]:
    """:meth:`~scheduler.stores.checked.verbs.RunVerbs.finish_many` in the transaction of ``db``."""
    if db.conn.dialect.name == "postgresql":
        first = {end.run_id: end.outcome for end in reversed(ends)}  # of two, the first
        return _pg_update(db.conn, _PG_FINISH, _arrays(first))
    found = _locked(db.conn, (end.run_id for end in ends))
    rows: dict[int, dict[str, Any]] = {}
    for end in ends:
        status, started_at = found[end.run_id]
        if status not in _ENDED and end.run_id not in rows:
            outcome = end.outcome
            rows[end.run_id] = outcome_columns(
                outcome, started_at=started_at, finished_at=outcome.finished_at
            )
    if rows:
        params = [
            {"run": run_id, **{f"new_{name}": row[name] for name in _OUTCOME}}
            for run_id, row in rows.items()
        ]
        db.conn.execute(_FINISH, params)
    return set(rows)


def _locked(conn: Connection, run_ids: Iterable[int]) -> dict[int, tuple[str, datetime | None]]:
    """The status and start of each run, locked until the transaction ends;
    :class:`LookupError` for the first id that names no run."""
    ids = list(dict.fromkeys(run_ids))
    found: dict[int, tuple[str, datetime | None]] = {}
    for first in range(0, len(ids), _CHUNK):
        query = (
            select(_run.id, _run.status, _run.started_at)
            .where(_run.id.in_(ids[first : first + _CHUNK]))
            .with_for_update()
        )
        found.update((row.id, (row.status, row.started_at)) for row in conn.execute(query))
    for run_id in ids:
        if run_id not in found:
            raise run_not_found(run_id)
    return found


def _pg_update(conn: Connection, statement: str, columns: dict[str, list[Any]]) -> set[int]:
    """Run a PostgreSQL update of the runs ``columns["ids"]`` whose status
    allows it (its row locks, and READ COMMITTED's re-check of a row another
    transaction changed meanwhile, keep the rule); the ids it moved.  Checks
    that the others exist only when some did not move."""
    moved = {int(row[0]) for row in conn.exec_driver_sql(statement, columns)}
    ids: list[int] = columns["ids"]
    if len(moved) < len(ids):
        known = {int(row[0]) for row in conn.exec_driver_sql(_PG_KNOWN, {"ids": ids})}
        for run_id in ids:
            if run_id not in known:
                raise run_not_found(run_id)
    return moved


def _arrays(outcomes: dict[int, Outcome]) -> dict[str, list[Any]]:
    values = list(outcomes.values())
    return {
        "ids": list(outcomes),
        "status": [outcome.status.value for outcome in values],
        "finished_at": [outcome.finished_at for outcome in values],
        "result": [result_column(outcome.result) for outcome in values],
        "error": [outcome.error for outcome in values],
        "traceback": [outcome.traceback for outcome in values],
        "ended": sorted(_ENDED),
    }
