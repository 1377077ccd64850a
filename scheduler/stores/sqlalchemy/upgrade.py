"""Bringing a standalone database up to date: additive changes only.

A database created by an earlier ``tickwork run`` may lack what a later
version added.  This module compares the database with
:mod:`scheduler.stores.sqlalchemy.schema` and lists what is missing: whole tables, nullable
columns, indexes.  Each change is one DDL statement, which the store applies in
one transaction (``tickwork run``, ``tickwork migrate``) or prints for a DBA to
review (``tickwork migrate --sql``).

Nothing is ever dropped, renamed or narrowed here: a change that is not
additive (a missing ``NOT NULL`` column without a default) is refused with
:class:`SchemaNotUpgradable`.  A database created by the Django app is
migrated by Django's own migrations, never by this module.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

from sqlalchemy import DDL, Column, Connection, Dialect, Table, inspect, text
from sqlalchemy.schema import CreateColumn, CreateIndex, CreateTable, ExecutableDDLElement

from ...errors import SchedulerError
from . import mysql
from .schema import metadata

__all__ = ["SchemaChange", "SchemaNotUpgradable", "apply", "missing"]

# Serialises schema upgrades of replicas starting together on PostgreSQL
# (an arbitrary constant: "tickwork" as a 64-bit number would do as well).
_UPGRADE_LOCK = 0x7469636B776F726B


class SchemaNotUpgradable(SchedulerError):
    """The database differs from the schema in a way no additive change can fix."""


@dataclass(frozen=True, slots=True)
class SchemaChange:
    """One missing piece of the schema: what it is, and the DDL that adds it."""

    description: str  # "add column scheduler_job.paused_at"
    statement: ExecutableDDLElement

    def sql(self, dialect: Dialect) -> str:
        """The statement as ``dialect`` would run it, without a trailing semicolon."""
        return str(self.statement.compile(dialect=dialect)).strip()


def missing(conn: Connection) -> list[SchemaChange]:
    """What the database behind ``conn`` lacks, tables first, in the order to apply it.

    Raises :class:`SchemaNotUpgradable` for a missing column that is ``NOT
    NULL`` without a server default: adding it would need values for the rows
    already there.
    """
    inspector = inspect(conn)
    existing = set(inspector.get_table_names())
    changes: list[SchemaChange] = []
    for table in metadata.sorted_tables:
        if table.name not in existing:
            changes += _new_table(table)
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        changes += [
            _new_column(table, column, conn.dialect)
            for column in table.columns
            if column.name not in present
        ]
        indexes = {index["name"] for index in inspector.get_indexes(table.name)}
        changes += [
            SchemaChange(f"create index {index.name}", CreateIndex(index))
            for index in sorted(table.indexes, key=lambda index: str(index.name))
            if index.name not in indexes
        ]
    return changes


def apply(conn: Connection) -> list[SchemaChange]:
    """Apply what is :func:`missing` inside the transaction of ``conn``; return it.

    On PostgreSQL an advisory lock makes replicas that start together upgrade
    one after the other, and the later ones find nothing left to do; on
    MariaDB and MySQL ``GET_LOCK`` does (their DDL commits as it goes: see
    :mod:`.mysql`).  On SQLite the write transaction serialises them already.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK})
    with mysql.upgrade_lock(conn) if mysql.is_mysql(conn) else nullcontext():
        changes = missing(conn)
        for change in changes:
            conn.execute(change.statement)
    return changes


def _new_table(table: Table) -> list[SchemaChange]:
    indexes = sorted(table.indexes, key=lambda index: str(index.name))
    return [SchemaChange(f"create table {table.name}", CreateTable(table))] + [
        SchemaChange(f"create index {index.name}", CreateIndex(index)) for index in indexes
    ]


def _new_column(table: Table, column: Column[object], dialect: Dialect) -> SchemaChange:
    where = f"{table.name}.{column.name}"
    if not column.nullable and column.server_default is None:
        raise SchemaNotUpgradable(
            f"column {where} is missing and cannot be added to existing rows: it is "
            "NOT NULL without a default. This version needs a manual migration"
        )
    preparer = dialect.identifier_preparer
    spec = CreateColumn(column).compile(dialect=dialect)
    add = f"ALTER TABLE {preparer.format_table(table)} ADD COLUMN {spec}"
    statement = DDL(add)  # type: ignore[no-untyped-call]
    return SchemaChange(f"add column {where}", statement)
