"""Django databases for tests: the ``django_sqlite`` and ``django_postgres`` fixtures.

Each gives the alias (``"sqlite"`` or ``"postgres"`` in ``tests/django_settings.py``)
of a new database holding the app's migrated tables, and forgets it after the
test.  The migrations run once per session into a template (a file copied for
SQLite, a ``CREATE DATABASE ... TEMPLATE`` for PostgreSQL), so a test pays for
a copy, not for a migration.  PostgreSQL missing: skipped on a laptop, a
failure under ``CI=true``, as for every PostgreSQL test.

``shared_django_postgres`` (and its ``_partitioned`` and ``_tasks`` variants)
gives the ``"postgres"`` alias too, on a database shared by the session's
tests and put back into the template's state before each
(``tests/shared_databases.py``): for tests that need the migrated tables, not
a database created for them.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.shared_databases import SharedDatabase, admin_url, worker_prefix


@contextmanager
def pointed_at(alias: str, name: str) -> Iterator[str]:
    """Point the Django connection ``alias`` at the database ``name`` while inside."""
    from django.db import connections

    connections[alias].close()
    connections.settings[alias]["NAME"] = name
    connections[alias].settings_dict["NAME"] = name
    try:
        yield alias
    finally:
        connections[alias].close()
        connections.settings[alias]["NAME"] = ""


def migrate(alias: str) -> None:
    from django.core.management import call_command

    call_command("migrate", "scheduler", database=alias, verbosity=0, interactive=False)


@pytest.fixture(scope="session")
def _django_sqlite_template(
    tmp_path_factory: pytest.TempPathFactory, django_db_blocker: Any
) -> Path:
    path = tmp_path_factory.mktemp("django-template") / "template.sqlite3"
    with django_db_blocker.unblock(), pointed_at("sqlite", str(path)):
        migrate("sqlite")
    return path


@pytest.fixture
def django_sqlite(
    _django_sqlite_template: Path, tmp_path: Path, django_db_blocker: Any
) -> Iterator[str]:
    """The alias of a new SQLite file with the app's tables."""
    path = tmp_path / "django.sqlite3"
    shutil.copyfile(_django_sqlite_template, path)
    with django_db_blocker.unblock(), pointed_at("sqlite", str(path)) as alias:
        yield alias


def _admin_connection() -> Any:
    from tests.conftest import POSTGRES_ADMIN_URL, _service_missing

    try:
        import psycopg
    except ImportError as error:  # pragma: no cover - the test extras install it
        _service_missing("psycopg", error)
        raise
    try:
        return psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        _service_missing("PostgreSQL", error)
        raise


@pytest.fixture(scope="session")
def _django_postgres_template(django_db_blocker: Any) -> Iterator[str]:
    name = f"tickwork_django_template_{uuid.uuid4().hex[:8]}"
    with _admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with django_db_blocker.unblock(), pointed_at("postgres", name):
            migrate("postgres")
        yield name
    finally:
        with _admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def django_postgres(_django_postgres_template: str, django_db_blocker: Any) -> Iterator[str]:
    """The alias of a new PostgreSQL database with the app's tables, dropped afterwards."""
    name = f"tickwork_django_{uuid.uuid4().hex[:12]}"
    with _admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{_django_postgres_template}"')
    try:
        with django_db_blocker.unblock(), pointed_at("postgres", name) as alias:
            yield alias
    finally:
        with _admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- shared PostgreSQL databases, reset before each test (tests/shared_databases.py) ----


@pytest.fixture(scope="session")
def _shared_django_database(_django_postgres_template: str) -> Iterator[SharedDatabase]:
    database = SharedDatabase(worker_prefix("django"), _django_postgres_template)
    yield database
    database.drop()


def _partitioned(name: str) -> None:
    from tests.partitioned_runs import partition_contract_database

    partition_contract_database(f"{admin_url().rsplit('/', 1)[0]}/{name}")


@pytest.fixture(scope="session")
def _shared_django_partitioned_database(
    _django_postgres_template: str,
) -> Iterator[SharedDatabase]:
    database = SharedDatabase.built(
        "django_partitioned", _partitioned, base=_django_postgres_template
    )
    yield database
    database.drop()


@pytest.fixture(scope="session")
def _shared_django_tasks_database(
    _django_postgres_template: str, django_db_blocker: Any
) -> Iterator[SharedDatabase]:
    def with_the_task_queue(name: str) -> None:
        from django.core.management import call_command

        from tests.djtasks.routing import TasksRouter

        TasksRouter.alias = "postgres"  # its data migrations use the router
        try:
            with django_db_blocker.unblock(), pointed_at("postgres", name):
                call_command(
                    "migrate", "django_tasks_database", database="postgres",
                    verbosity=0, interactive=False,
                )  # fmt: skip
        finally:
            TasksRouter.alias = "default"

    database = SharedDatabase.built(
        "django_tasks", with_the_task_queue, base=_django_postgres_template
    )
    yield database
    database.drop()


@contextmanager
def _shared(database: SharedDatabase, django_db_blocker: Any) -> Iterator[str]:
    database.reset()
    try:
        with django_db_blocker.unblock(), pointed_at("postgres", database.name) as alias:
            yield alias
    finally:
        database.disconnect()


@pytest.fixture
def shared_django_postgres(
    _shared_django_database: SharedDatabase, django_db_blocker: Any
) -> Iterator[str]:
    """The alias ``"postgres"``, on a database with the app's migrated tables, empty:
    a :class:`~tests.shared_databases.SharedDatabase` copied from the template of
    ``django_postgres`` and reset for this test."""
    with _shared(_shared_django_database, django_db_blocker) as alias:
        yield alias


@pytest.fixture
def shared_django_postgres_partitioned(
    _shared_django_partitioned_database: SharedDatabase, django_db_blocker: Any
) -> Iterator[str]:
    """As ``shared_django_postgres``, with ``scheduler_run`` partitioned by month
    (``tests/partitioned_runs.py``)."""
    with _shared(_shared_django_partitioned_database, django_db_blocker) as alias:
        yield alias


@pytest.fixture
def shared_django_postgres_tasks(
    _shared_django_tasks_database: SharedDatabase, django_db_blocker: Any
) -> Iterator[str]:
    """As ``shared_django_postgres``, with django-tasks-db's queue table migrated
    too (for ``tests/djtasks``)."""
    with _shared(_shared_django_tasks_database, django_db_blocker) as alias:
        yield alias
