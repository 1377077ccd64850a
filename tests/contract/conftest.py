"""The ``store`` fixture: every contract test runs once per store and database.

``memory`` is :class:`~scheduler.stores.memory.MemoryStore`; ``sqlite`` and
``postgres`` are the SQLAlchemy store on a fresh file and on a database with
its tables, empty; ``django-sqlite`` and ``django-postgres`` are
:class:`~scheduler.django.store.DjangoStore` on a fresh, migrated file and on
a migrated database, empty (``tests/django_databases.py``); ``mariadb`` and
``django-mariadb`` are the same two stores on MariaDB
(``tests/mariadb_databases.py``).  The PostgreSQL
databases are shared by the session's tests and put back into their
template's state before each (``tests/shared_databases.py``): no contract
test creates or changes a schema.
The SQLAlchemy parameters skip only while ``scheduler.stores.sqlalchemy`` does
not exist; any other import error is a failure.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scheduler.stores.base import Store
from scheduler.stores.memory import MemoryStore

_SQLALCHEMY_MODULE = "scheduler.stores.sqlalchemy"


def _sqlalchemy_store_class() -> Any:
    try:
        module = importlib.import_module(_SQLALCHEMY_MODULE)
    except ModuleNotFoundError as error:
        if error.name != _SQLALCHEMY_MODULE:
            raise
        pytest.skip(f"{_SQLALCHEMY_MODULE} does not exist yet: no SQLAlchemyStore to test")
    return module.SQLAlchemyStore


def _sqlalchemy_store(url: str) -> Store:
    store: Store = _sqlalchemy_store_class()(url)
    store.create_schema()  # type: ignore[attr-defined]
    return store


def _shared_database_store(request: pytest.FixtureRequest, fixture: str) -> Store:
    """The SQLAlchemy store on a shared database that ``create_schema`` made
    (``tests/shared_databases.py``, ``tests/mariadb_databases.py``), emptied for this test."""
    store_class = _sqlalchemy_store_class()  # skips first, if there is no such store
    store: Store = store_class(request.getfixturevalue(fixture))
    return store


def _django_store(alias: str) -> Store:
    from scheduler.django.store import DjangoStore

    return DjangoStore(using=alias)


def _partitioned_store(request: pytest.FixtureRequest, kind: str) -> Store:
    """``postgres-partitioned``, ``django-postgres-partitioned``: the same
    stores on a run table partitioned by month (not among the default
    parameters: ``test_store_on_partitioned_runs.py`` asks for them)."""
    if kind == "postgres-partitioned":
        return _shared_database_store(request, "shared_partitioned_postgres_url")
    return _django_store(request.getfixturevalue("shared_django_postgres_partitioned"))


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        "django-sqlite",
        pytest.param("django-postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
        pytest.param("django-mariadb", marks=pytest.mark.mariadb),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store of each kind."""
    kind: str = request.param
    if kind == "memory":
        made: Store = MemoryStore()
    elif kind == "sqlite":
        made = _sqlalchemy_store(f"sqlite:///{tmp_path}/t.sqlite3")
    elif kind == "postgres":
        made = _shared_database_store(request, "shared_postgres_url")
    elif kind == "mariadb":
        made = _shared_database_store(request, "shared_mariadb_url")
    elif kind == "django-mariadb":
        made = _django_store(request.getfixturevalue("shared_django_mariadb"))
    elif kind.endswith("-partitioned"):
        made = _partitioned_store(request, kind)
    elif kind == "django-postgres":
        made = _django_store(request.getfixturevalue("shared_django_postgres"))
    else:
        made = _django_store(request.getfixturevalue("django_sqlite"))
    assert isinstance(made, Store)
    try:
        yield made
    finally:
        dispose = getattr(made, "dispose", None)
        if dispose is not None:
            dispose()
