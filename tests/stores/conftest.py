"""Fixtures for the SQLAlchemy store's own tests (the shared contract is in ``tests/contract``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scheduler.stores.sqlalchemy import SQLAlchemyStore


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLAlchemy URL of a new SQLite file."""
    return f"sqlite:///{tmp_path / 'tickwork.sqlite3'}"


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def database_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """A URL of an empty database, once per kind of database."""
    if request.param == "sqlite":
        return sqlite_url
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
def sql_store(database_url: str) -> Iterator[SQLAlchemyStore]:
    """A SQLAlchemy store with its tables, on SQLite, PostgreSQL and MariaDB."""
    store = SQLAlchemyStore(database_url)
    store.create_schema()
    try:
        yield store
    finally:
        store.dispose()
