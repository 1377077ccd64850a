"""A claim's writes, in a fixed number of statements: its new runs, its jobs' next slots.

These statements are the database's own SQL with the driver's parameters:
on a claim of 1,000 runs, the per-row work of SQLAlchemy Core (parameter
compilation, type processors) costs more than the database's.

* A run whose slot and attempt already has one is not inserted, and no error
  raised: the claim skips it (see :meth:`~scheduler.stores.base.RunQueue.claim_due`).
  PostgreSQL and SQLite say so with ``ON CONFLICT (job_id, scheduled_for,
  attempt) DO NOTHING``, which names the slot constraint alone, so any other
  error still fails the claim; a concurrent claim of the same slot waits for
  the first to commit, then inserts nothing.
* PostgreSQL inserts every run in one statement that takes each column as one
  array, ``INSERT ... SELECT ... FROM unnest(...) RETURNING``, so the ids of
  the runs it inserted come back in the same round trip.  The arrays travel in PostgreSQL's binary
  format (psycopg 3's ``%b``), which psycopg writes ten times faster than text
  for instants; a column with one value for the whole batch (the slot, the
  status, the replica of a herd) is sent once as a plain parameter, so a herd
  converts one array of job ids, not an array per column.
* SQLite inserts with the driver's ``executemany``, instants as the text the
  schema keeps, then reads the new runs' ids back (as many as it inserted,
  newest first) in one walk down the primary key.
* MariaDB and MySQL: see :mod:`.mysql`.
* Next run times: PostgreSQL sets each distinct instant once, for every job
  moving to it (``WHERE id = ANY(ids)``, one ``executemany`` over the
  instants), so a herd of jobs sharing a schedule is one update; SQLite, where
  a statement costs no round trip, updates by id in one ``executemany``.

Columns a new run leaves blank (:data:`~scheduler.stores.rows.NEW_RUN_BLANKS`)
are written as SQL literals, once per statement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Float,
    Integer,
    String,
    Text,
    select,
)

from ..rows import NEW_RUN_BLANKS
from . import mysql
from .schema import UTCDateTime, run_table, sqlite_text

__all__ = [
    "SlotKey",
    "advance_jobs",
    "array_type",
    "insert_runs",
    "same_values",
    "slot_key",
    "unnest_params",
    "unnest_select",
]

#: What identifies a run: (job id, slot, attempt), the unique key.
SlotKey = tuple[int, datetime, int]

_run = run_table.c
# The columns a claim gives a value per run, in the table's order.
_PER_RUN: Final = [c for c in run_table.c if c.name != "id" and c.name not in NEW_RUN_BLANKS]
_BLANK: Final = [c for c in run_table.c if c.name in NEW_RUN_BLANKS]
_INSTANTS: Final = frozenset(c.name for c in _PER_RUN if isinstance(c.type, UTCDateTime))
_COLUMN_LIST: Final = ", ".join(
    f'"{c.name}"' for c in [*_PER_RUN, *_BLANK]
)  # "trigger" is a keyword


def slot_key(row: Mapping[Any, Any]) -> SlotKey:
    return (row["job_id"], row["scheduled_for"], row["attempt"])


def insert_runs(
    conn: Connection, rows: Sequence[Mapping[str, Any]], *, replica_id: str
) -> dict[SlotKey, int]:
    """Insert the rows of :func:`~scheduler.stores.rows.run_columns` (no slot
    twice), except those whose slot and attempt already has a run; the ids of
    the inserted ones, by slot (at least of those claimed for ``replica_id``)."""
    if not rows:
        return {}
    if conn.dialect.name == "postgresql":
        return _insert_postgresql(conn, rows)
    if mysql.is_mysql(conn):
        return mysql.insert_runs(conn, rows, replica_id=replica_id)
    inserted = conn.exec_driver_sql(_SQLITE_INSERT, [_sqlite_values(row) for row in rows])
    return _newest_ids(conn, inserted.rowcount)


def advance_jobs(conn: Connection, following: Mapping[int, datetime | None]) -> None:
    """Set ``next_run_at`` of each job id in ``following`` to its instant."""
    if not following:
        return
    if mysql.is_mysql(conn):
        mysql.advance_jobs(conn, following)
        return
    if conn.dialect.name != "postgresql":
        params = [(sqlite_text(instant), job_id) for job_id, instant in following.items()]
        conn.exec_driver_sql(_SQLITE_ADVANCE, params)
        return
    movers: defaultdict[datetime | None, list[int]] = defaultdict(list)
    for job_id, instant in following.items():
        movers[instant].append(job_id)
    conn.exec_driver_sql(
        _POSTGRESQL_ADVANCE, [{"next": instant, "ids": ids} for instant, ids in movers.items()]
    )


# -- PostgreSQL ---------------------------------------------------------------------


def array_type(column: Column[Any]) -> str:
    """The PostgreSQL array element type a column's values travel as."""
    if isinstance(column.type, UTCDateTime):
        return "timestamptz"
    if isinstance(column.type, Boolean):
        return "boolean"
    if isinstance(column.type, String | Text):
        return "text"
    if isinstance(column.type, BigInteger):
        return "bigint"
    if isinstance(column.type, Integer):
        return "integer"
    if isinstance(column.type, Float):
        return "double precision"
    raise TypeError(f"no array type for {column.name} ({column.type})")  # pragma: no cover


def _literal(value: object) -> str:
    if value is None:
        return "NULL"
    if value == "":
        return "''"
    raise ValueError(f"a new run's blank column must be NULL or '', got {value!r}")


_BLANKS: Final = ", ".join(_literal(NEW_RUN_BLANKS[c.name]) for c in _BLANK)


# The slot constraint's columns: a row whose slot and attempt exist is left out.
_SKIP_TAKEN_SLOTS: Final = "ON CONFLICT (job_id, scheduled_for, attempt) DO NOTHING"


@lru_cache(maxsize=64)
def _postgresql_insert(constant: frozenset[str]) -> str:
    """The insert of a claim whose ``constant`` columns hold one value for every run.

    A column whose value varies travels as one array (binary: ``%b``); a
    constant one as one value, sent once, so a herd of runs of one slot sends
    an array of job ids and a handful of scalars, not thirteen arrays.  A row
    whose slot and attempt already has a run is left out (and not returned).
    """
    return (
        f"INSERT INTO scheduler_run ({_COLUMN_LIST}) "
        f"{unnest_select(_PER_RUN, constant, also=_BLANKS)} "
        f"{_SKIP_TAKEN_SLOTS} RETURNING id, job_id, scheduled_for, attempt"
    )


def unnest_params(
    columns: Sequence[Column[Any]],
    rows: Sequence[Mapping[str, Any]],
    *,
    varying: frozenset[str] = frozenset(),
) -> tuple[frozenset[str], dict[str, Any]]:
    """The parameters of :func:`unnest_select` for ``rows``: the names of the
    columns with one value in every row (the *constant* ones, never those in
    ``varying``), and each column's values, one array per column, or that
    one value for a constant column."""
    values = {c.name: [row[c.name] for row in rows] for c in columns}
    constant = frozenset(
        name for name, each in values.items() if name not in varying and same_values(each)
    )
    return constant, {name: each[0] if name in constant else each for name, each in values.items()}


def unnest_select(
    columns: Sequence[Column[Any]], constant: frozenset[str], *, also: str = ""
) -> str:
    """``SELECT`` of one row per element of the arrays of :func:`unnest_params`,
    ``columns`` in order, then the SQL literals ``also``.

    A column whose value varies travels as one array (binary: ``%b``); a
    constant one as one value, sent once.  With every column constant (one
    row), there is no array to unnest.
    """
    arrays = [c for c in columns if c.name not in constant]
    values = ", ".join(
        f"%({c.name})s::{array_type(c)}" if c.name in constant else f'v."{c.name}"' for c in columns
    )
    values = f"{values}, {also}" if also else values
    if not arrays:
        return f"SELECT {values}"
    unnest = ", ".join(f"%({c.name})b::{array_type(c)}[]" for c in arrays)  # b: binary
    names = ", ".join(f'"{c.name}"' for c in arrays)
    return f"SELECT {values} FROM unnest({unnest}) AS v({names})"  # noqa: S608 - schema names


_POSTGRESQL_ADVANCE: Final = (
    "UPDATE scheduler_job SET next_run_at = %(next)s WHERE id = ANY(%(ids)b::bigint[])"
)


def _insert_postgresql(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> dict[SlotKey, int]:
    # job_id always varies in a claim (one run per job and slot), so one array remains.
    constant, params = unnest_params(_PER_RUN, rows, varying=frozenset({"job_id"}))
    inserted = conn.exec_driver_sql(_postgresql_insert(constant), params).all()  # plain tuples
    return {(job_id, slot, attempt): run_id for run_id, job_id, slot, attempt in inserted}


def same_values(values: list[Any]) -> bool:
    """Whether every one of ``values`` (not empty) is the first."""
    return values.count(values[0]) == len(values)


# -- SQLite -------------------------------------------------------------------------

_SQLITE_INSERT: Final = (
    f"INSERT INTO scheduler_run ({_COLUMN_LIST}) "  # noqa: S608 - names from the schema
    f"VALUES ({', '.join('?' for _ in _PER_RUN)}, {_BLANKS}) {_SKIP_TAKEN_SLOTS}"
)
_SQLITE_ADVANCE: Final = "UPDATE scheduler_job SET next_run_at = ? WHERE id = ?"


def _sqlite_values(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(sqlite_text(row[c.name]) if c.name in _INSTANTS else row[c.name] for c in _PER_RUN)


def _newest_ids(conn: Connection, count: int) -> dict[SlotKey, int]:
    """The ids of the ``count`` runs just inserted, by slot.

    The claim holds SQLite's write lock, and a new run's id is larger than
    any before it (the table is ``AUTOINCREMENT``), so the ``count`` newest
    runs are these (``count``: the rows the insert changed, without those it
    left out): one walk down the primary key, however many runs the table
    holds.  (Selecting them by job and replica would read every run the
    replica ever claimed.)
    """
    if count <= 0:
        return {}
    newest = (
        select(_run.id, _run.job_id, _run.scheduled_for, _run.attempt)
        .order_by(_run.id.desc())
        .limit(count)
    )
    return {slot_key(row): row["id"] for row in conn.execute(newest).mappings()}
