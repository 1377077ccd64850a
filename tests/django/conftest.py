"""Fixtures for the Django app's tests: a migrated database per test, once on
SQLite and once on PostgreSQL (see ``tests/django_databases.py``).

The SQLite database is a new file; the PostgreSQL one is shared by the
session's tests and put back into the migrated template's state before each
(``shared_django_postgres``), unless the test is marked ``fresh_database``:
then it gets a database created for it (``django_postgres``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from scheduler.django.store import DjangoStore


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def alias(request: pytest.FixtureRequest) -> str:
    """The alias of an empty database with the app's tables, per kind of database."""
    if request.param == "sqlite":
        fixture = "django_sqlite"
    elif request.node.get_closest_marker("fresh_database"):
        fixture = "django_postgres"
    else:
        fixture = "shared_django_postgres"
    found: str = request.getfixturevalue(fixture)
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


#: The browser the Playwright tests drive: Debian's Chromium unless told otherwise.
CHROMIUM = os.environ.get("TICKWORK_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
def chromium() -> str:
    """The path of Chromium, with Playwright importable; skipped without them
    (failed under ``CI=true``, where .ci/deps.sh installs them)."""
    if not Path(CHROMIUM).is_file():
        _missing_for_browser(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing_for_browser("Playwright for Python is not installed (pip install playwright)")
    return CHROMIUM


def _missing_for_browser(what: str) -> None:
    message = f"{what}; the browser test needs it"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {message}")
    pytest.skip(message)
