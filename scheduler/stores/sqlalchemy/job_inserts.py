"""New jobs inserted a batch per statement, on PostgreSQL.

A sync inserts the jobs it adds a batch at a time.  Through an
``executemany`` each job is a statement of its own, with SQLAlchemy building
its parameters and psycopg sending it: the most part of storing a new job.
On PostgreSQL the batch is one ``INSERT ... SELECT ... FROM unnest(...)``
instead: each column whose value varies travels as one array in PostgreSQL's
binary format, and each column with one value for the whole batch (most of
them: the policies, the source, the instants of the sync) as that value,
sent once.  The other databases keep the ``executemany``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import Connection, insert

from .bulk import unnest_params, unnest_select
from .schema import job_table

__all__ = ["insert_job_rows"]

# The columns a new job gives a value for, in the table's order.
_COLUMNS: Final = [c for c in job_table.c if c.name != "id"]


def insert_job_rows(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (each a value for every column but ``id``) into ``scheduler_job``."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(insert(job_table), list(rows))
        return
    constant, params = unnest_params(_COLUMNS, rows)
    conn.exec_driver_sql(_postgresql_insert(constant), params)


@lru_cache(maxsize=64)
def _postgresql_insert(constant: frozenset[str]) -> str:
    """The insert of a batch whose ``constant`` columns hold one value for every job."""
    names = ", ".join(f'"{c.name}"' for c in _COLUMNS)
    return f"INSERT INTO scheduler_job ({names}) {unnest_select(_COLUMNS, constant)}"
