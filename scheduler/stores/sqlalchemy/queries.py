"""Helpers every query of the store uses: IN lists in few statements, rows as
mappings, ``UPDATE ... RETURNING`` where the database has none.

``column IN values`` with thousands of values would be one bound parameter
per value: SQLite caps their number, and psycopg parses them one by one.  So
:func:`among` sends one array on PostgreSQL and chunks elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    RowMapping,
    Select,
    Table,
    any_,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

__all__ = ["among", "select_rows", "update_returning"]

# Bound parameters per IN list: well inside SQLite's 32,766 and PostgreSQL's 65,535.
_CHUNK = 5_000

_T = TypeVar("_T")


def among(
    conn: Connection, column: ColumnElement[_T], values: Sequence[_T]
) -> Iterator[ColumnElement[bool]]:
    """``column IN values`` as a few clauses: one array on PostgreSQL, chunks on SQLite.

    An array is one parameter; an IN list is one per value, which SQLite caps
    and psycopg parses one by one.
    """
    if conn.dialect.name == "postgresql":
        yield column == any_(literal(list(values), ARRAY(column.type)))
        return
    for start in range(0, len(values), _CHUNK):
        yield column.in_(values[start : start + _CHUNK])


def select_rows(conn: Connection, query: Select[Any]) -> list[RowMapping]:
    """Every row of ``query``, as mappings."""
    return list(conn.execute(query).mappings())


def update_returning(
    conn: Connection, table: Table, where: ColumnElement[bool], values: dict[str, Any]
) -> list[RowMapping]:
    """``UPDATE table SET values WHERE where RETURNING *``, as rows.

    MariaDB and MySQL have no ``UPDATE ... RETURNING``: there the rows are
    found without locking (a consistent read), then only those are locked
    and checked again (``SELECT ... FOR UPDATE``, which reads the latest
    committed row), updated by id, and read back: no statement after the
    first when nothing matches.  Locking the whole ``where`` at once would
    lock every row its index range reads, whatever the rest of the condition
    says, and wait for (or deadlock with) the replicas inserting and claiming
    runs there: recovery asks for the runs of dead replicas among every
    active one, and there usually are none.
    """
    if conn.dialect.update_returning:
        return list(
            conn.execute(update(table).where(where).values(values).returning(*table.c)).mappings()
        )
    key = table.c.id
    found = list(conn.scalars(select(key).where(where).order_by(key)))
    ids: list[int] = []
    for start in range(0, len(found), _CHUNK):
        chunk = found[start : start + _CHUNK]
        locked = select(key).where(key.in_(chunk), where).order_by(key).with_for_update()
        ids += conn.scalars(locked)
    rows: list[RowMapping] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        conn.execute(update(table).where(key.in_(chunk)).values(values))
        rows += select_rows(conn, select(table).where(key.in_(chunk)))
    return rows
