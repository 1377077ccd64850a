"""Fixtures for the Django app's tests: a fresh, migrated database per test,
once on SQLite and once on PostgreSQL (see ``tests/django_databases.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scheduler.django.store import DjangoStore


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def alias(request: pytest.FixtureRequest) -> str:
    """The alias of an empty database with the app's tables, per kind of database."""
    found: str = request.getfixturevalue(f"django_{request.param}")
    return found


@pytest.fixture
def django_store(alias: str) -> Iterator[DjangoStore]:
    store = DjangoStore(using=alias)
    try:
        yield store
    finally:
        store.dispose()


def sqlalchemy_url(alias: str) -> str:
    """The SQLAlchemy URL of the database the Django alias points at."""
    from django.db import connections

    settings = connections[alias].settings_dict
    if connections[alias].vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    where = f"{settings['HOST']}:{settings['PORT']}"
    return f"postgresql+psycopg://{settings['USER']}{password}@{where}/{settings['NAME']}"
