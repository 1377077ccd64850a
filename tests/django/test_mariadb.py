"""The Django app on MariaDB (Django's MySQL backend): its migrations, and the server check.

The contract suite runs the Django store on MariaDB (``django-mariadb`` in
``tests/contract``); these check what is MariaDB's own: the migrations make
the SQLAlchemy store's schema there too (the active-run index whole, as
MariaDB has no partial index; the tables in ``utf8mb4_bin``), and the store
refuses a session that is not ``READ COMMITTED`` when the scheduler starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connections
from sqlalchemy import create_engine, text

from scheduler.django.store import DjangoStore
from scheduler.stores.servers import UnsupportedDatabase
from tests.mariadb_databases import server_url

from .test_schema import TABLES, describe

pytestmark = pytest.mark.mariadb


def test_the_migrations_make_the_sqlalchemy_schema_on_mariadb(
    shared_django_mariadb: str, shared_mariadb_url: str
) -> None:
    migrated_engine = create_engine(
        server_url(connections[shared_django_mariadb].settings_dict["NAME"])
    )
    reference_engine = create_engine(shared_mariadb_url)
    try:
        migrated, reference = describe(migrated_engine), describe(reference_engine)
        with migrated_engine.connect() as conn:
            collations = conn.execute(
                text(
                    "SELECT table_name, table_collation FROM information_schema.tables "
                    "WHERE table_schema = DATABASE() AND table_name LIKE 'scheduler%'"
                )
            ).all()
    finally:
        migrated_engine.dispose()
        reference_engine.dispose()
    assert migrated["tables"] == sorted(TABLES)
    for table in TABLES:
        for aspect in ("columns", "primary key", "unique", "indexes", "foreign keys"):
            assert migrated[table][aspect] == reference[table][aspect], (table, aspect)
    assert ("scheduler_run_active_idx", ("job_id", "status")) in migrated["scheduler_run"][
        "indexes"
    ]
    assert {collation for _, collation in collations} == {"utf8mb4_bin"}


@contextmanager
def options(alias: str, **changed: Any) -> Iterator[None]:
    """The Django connection ``alias`` reconnecting with ``changed`` OPTIONS while inside."""
    connection = connections[alias]
    before = dict(connection.settings_dict["OPTIONS"])
    connection.close()
    connection.settings_dict["OPTIONS"] = {**before, **changed}
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["OPTIONS"] = before


def test_the_store_accepts_the_test_server(shared_django_mariadb: str) -> None:
    DjangoStore(using=shared_django_mariadb).check_database()


def test_a_session_that_is_not_read_committed_is_refused_at_start(
    shared_django_mariadb: str,
) -> None:
    store = DjangoStore(using=shared_django_mariadb)
    with options(shared_django_mariadb, isolation_level="repeatable read"):
        with pytest.raises(UnsupportedDatabase, match="REPEATABLE READ") as refused:
            store.check_database()
    assert "leave Django's OPTIONS 'isolation_level' at 'read committed'" in str(refused.value)
    assert "'mariadb'" in str(refused.value)  # which database


def test_a_connection_in_three_byte_utf8_is_refused_at_start(shared_django_mariadb: str) -> None:
    store = DjangoStore(using=shared_django_mariadb)
    with options(shared_django_mariadb, charset="utf8mb3"):
        with pytest.raises(UnsupportedDatabase, match="character set is utf8mb3"):
            store.check_database()


def test_run_scheduler_stops_before_running_on_a_refused_session(
    shared_django_mariadb: str, settings: Any
) -> None:
    from django.core.management import CommandError, call_command

    settings.SCHEDULER = {"DATABASE": shared_django_mariadb}
    with options(shared_django_mariadb, isolation_level="serializable"):
        with pytest.raises(CommandError, match="Tickwork needs READ COMMITTED"):
            call_command("run_scheduler", "--once")
    assert DjangoStore(using=shared_django_mariadb).list_runs(limit=10) == []


def test_the_dashboards_figures_on_mariadb(shared_django_mariadb: str, settings: Any) -> None:
    """Counts by hour and status, and the nearest-rank percentiles through window
    functions (MariaDB has no percentile aggregate), on the seeded runs."""
    from scheduler.django.admin.dashboard.counts import window_counts
    from scheduler.django.admin.dashboard.health import job_health
    from scheduler.django.admin.dashboard.percentiles import percentiles
    from scheduler.django.admin.dashboard.periods import DEFAULT, Span

    from .admin.conftest import NOW
    from .admin.dashboard_seed import DAY_COUNTS, seed

    settings.SCHEDULER = {"DATABASE": shared_django_mariadb}
    store = DjangoStore(using=shared_django_mariadb)
    try:
        seed(store, shared_django_mariadb, NOW)
    finally:
        store.dispose()
    span = Span.ending(NOW, DEFAULT)

    counted = window_counts(span, DEFAULT)
    counts: dict[str, int] = {}
    for bar in counted.bars.values():
        for status, runs in bar.items():
            counts[status] = counts.get(status, 0) + runs
    found = percentiles(span)
    health = job_health(counted.jobs, found.p95)

    assert counts == DAY_COUNTS
    assert [(job.name, job.ended, job.problems, job.p95_seconds) for job in health.jobs] == [
        ("nightly", 3, 2, 30.0),
        ("hourly", 5, 1, 4.0),
    ]
    assert found.lateness is not None
    assert [value.total_seconds() for value in found.lateness] == [2.0, 9.0]
