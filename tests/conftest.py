"""Shared fixtures: real services, used for real.

A test that needs PostgreSQL gets a fresh, empty database (``postgres_url``),
or, when it needs the store's tables rather than a database of its own, a
database shared by the session's tests and reset to the schema before it
(``shared_postgres_url``, ``tests/shared_databases.py``).  When the server is
not reachable the test is skipped on a developer machine, with the reason, and
fails in CI (``CI=true``), where a missing service is a broken build.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

POSTGRES_ADMIN_URL = os.environ.get(
    "TICKWORK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)

# Every PostgreSQL connection of the tests (and of the processes they start,
# which inherit the environment) commits without waiting for its WAL to reach
# the disk.  A commit is visible to every other connection at once all the
# same; only a crash of the server could lose it, and test data is thrown away.
# PostgreSQL-heavy tests were waiting on fsync: two engines racing for 12,000
# slots took 72 s with it, 25 s without.  A PGOPTIONS of your own is kept.
os.environ.setdefault("PGOPTIONS", "-c synchronous_commit=off")


def _service_missing(name: str, error: Exception) -> None:
    message = f"{name} is not reachable ({error}); start it or unset the test"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {message}")
    pytest.skip(message)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL of a new, empty PostgreSQL database, dropped afterwards."""
    try:
        import psycopg
    except ImportError as error:  # pragma: no cover - the test extras install it
        _service_missing("psycopg", error)
        raise
    name = f"tickwork_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        _service_missing("PostgreSQL", error)
        raise
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Fresh Django databases (tests/django_databases.py), for the contract suite and tests/django.
from tests.django_databases import (  # noqa: E402
    _django_postgres_template,  # noqa: F401
    _django_sqlite_template,  # noqa: F401
    _shared_django_database,  # noqa: F401
    _shared_django_partitioned_database,  # noqa: F401
    _shared_django_tasks_database,  # noqa: F401
    django_postgres,  # noqa: F401
    django_sqlite,  # noqa: F401
    shared_django_postgres,  # noqa: F401
    shared_django_postgres_partitioned,  # noqa: F401
    shared_django_postgres_tasks,  # noqa: F401
)

# MariaDB databases, new or shared (tests/mariadb_databases.py), as for PostgreSQL.
from tests.mariadb_databases import (  # noqa: E402
    _shared_django_mariadb_database,  # noqa: F401
    _shared_mariadb_store_database,  # noqa: F401
    mariadb_url,  # noqa: F401
    shared_django_mariadb,  # noqa: F401
    shared_mariadb_url,  # noqa: F401
)

# PostgreSQL databases with the store's tables, shared by a session's tests and
# reset before each (tests/shared_databases.py): most tests need tables, not a
# database created for them.
from tests.shared_databases import (  # noqa: E402
    _shared_partitioned_store_database,  # noqa: F401
    _shared_store_database,  # noqa: F401
    shared_partitioned_postgres_url,  # noqa: F401
    shared_postgres_url,  # noqa: F401
)


@pytest.fixture(autouse=True)
def _logging_left_as_found() -> Iterator[None]:
    """Commands under test set the ``scheduler`` logger's level as a real process
    would (``--log-level error``); undo it, so no test's log capture depends on
    which command ran before it.  (The root logger is pytest's to manage.)"""
    import logging

    ours = logging.getLogger("scheduler")
    level, handlers = ours.level, list(ours.handlers)
    yield
    ours.setLevel(level)
    ours.handlers[:] = handlers


#: The longest tests and modules, started first: pytest-xdist hands the first
#: tests out one per worker in turn, so these run side by side from the start
#: instead of one of them keeping a single worker busy after the others are done.
#: Only the order changes (a stable sort: the rest keep theirs).
LONGEST_FIRST = (
    "tests/integration/test_two_engines_postgres.py",
    "tests/simulation/test_simulation.py::test_full",
    "tests/simulation/test_simulation.py::test_short",
    "tests/unit/test_schedules_oracle.py",
    "tests/integration/test_demo.py",
    "tests/benchmarks/",
    "tests/celery/",
    "tests/djtasks/test_db_worker.py",
    "tests/integration/test_shutdown.py",
    "tests/integration/test_status_probe.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next(
            (n for n, start in enumerate(LONGEST_FIRST) if item.nodeid.startswith(start)),
            len(LONGEST_FIRST),
        )

    items.sort(key=rank)
