"""The Django migration creates exactly the SQLAlchemy store's tables.

Both schemas are read back with SQLAlchemy's inspector and compared: tables,
columns in order, types, nullability, primary keys, unique constraints with
their names, and indexes with their names.  ``tests/stores/test_sqlalchemy_specific.py``
pins the SQLAlchemy side's names, so together they pin the Django side too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Engine

from scheduler.stores.sqlalchemy import SQLAlchemyStore

from .conftest import sqlalchemy_url

TABLES = ("scheduler_job", "scheduler_job_upstream", "scheduler_run", "scheduler_replica")
# What the migration created, in a database created for the test.
pytestmark = pytest.mark.fresh_database


@pytest.fixture
def reference_url(alias: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty database of the same kind, with the SQLAlchemy store's schema."""
    if alias == "sqlite":
        url = f"sqlite:///{tmp_path / 'reference.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    store = SQLAlchemyStore(url)
    store.create_schema()
    store.dispose()
    yield url


def describe(engine: Engine) -> dict[str, Any]:
    """Everything the two schemas must agree on, per table."""
    inspector = inspect(engine)
    sqlite = engine.dialect.name == "sqlite"
    return {
        "tables": sorted(name for name in inspector.get_table_names() if name in TABLES),
        **{
            table: {
                "columns": [
                    (column["name"], _type(column["type"], sqlite), column["nullable"])
                    for column in inspector.get_columns(table)
                ],
                "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
                "unique": sorted(
                    (constraint["name"], tuple(constraint["column_names"]))
                    for constraint in inspector.get_unique_constraints(table)
                ),
                "indexes": sorted(
                    (index["name"], tuple(index["column_names"]))
                    for index in inspector.get_indexes(table)
                    if not index["unique"]
                ),
                "foreign keys": [
                    (key["constrained_columns"], key["referred_table"], key["referred_columns"])
                    for key in inspector.get_foreign_keys(table)
                ],
            }
            for table in TABLES
        },
    }


def _type(kind: Any, sqlite: bool) -> str:
    """PostgreSQL: the type itself.  SQLite: the column's affinity (the only
    thing SQLite's declared types decide) and a declared length."""
    declared = str(kind).upper()
    if not sqlite:
        return declared
    length = re.search(r"\(\d+\)", declared)
    return _affinity(declared) + (length.group(0) if length else "")


def _affinity(declared: str) -> str:
    # https://www.sqlite.org/datatype3.html#determination_of_column_affinity
    if "INT" in declared:
        return "INTEGER"
    if any(word in declared for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if any(word in declared for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


def test_the_django_migration_creates_the_sqlalchemy_schema(alias: str, reference_url: str) -> None:
    django_engine = create_engine(sqlalchemy_url(alias))
    reference_engine = create_engine(reference_url)
    try:
        migrated, reference = describe(django_engine), describe(reference_engine)
    finally:
        django_engine.dispose()
        reference_engine.dispose()
    assert migrated["tables"] == sorted(TABLES)
    for table in TABLES:
        for aspect in ("columns", "primary key", "unique", "indexes", "foreign keys"):
            assert migrated[table][aspect] == reference[table][aspect], (table, aspect)
    assert migrated == reference


def test_instants_are_timestamps_with_time_zone_on_postgresql(alias: str) -> None:
    engine = create_engine(sqlalchemy_url(alias))
    try:
        columns = inspect(engine).get_columns("scheduler_run")
    finally:
        engine.dispose()
    kinds = {column["name"]: str(column["type"]) for column in columns}
    expected = "TIMESTAMP" if alias == "postgres" else "DATETIME"
    assert {kinds[name] for name in ("scheduled_for", "due_at", "claimed_at")} == {expected}
    if alias == "postgres":
        timezone = {column["name"]: getattr(column["type"], "timezone", None) for column in columns}
        assert timezone["scheduled_for"] and timezone["finished_at"]
