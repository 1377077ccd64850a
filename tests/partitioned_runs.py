"""Run tables partitioned by ``contrib/postgres/partition_runs.sql``, for tests.

The scripts run as a DBA runs them: the whole file, in one transaction, on a
database whose schema was made the normal way (the SQLAlchemy store's
``create_schema``, as ``tickwork migrate`` does, or the Django migrations).
Nothing here skips: the fixtures that give the databases fail under
``CI=true`` when PostgreSQL is missing (``tests/conftest.py``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg

from scheduler.stores.sqlalchemy import SQLAlchemyStore

CONTRIB = Path(__file__).parent.parent / "contrib" / "postgres"
PARTITION_SCRIPT = CONTRIB / "partition_runs.sql"
UNPARTITION_SCRIPT = CONTRIB / "unpartition_runs.sql"
#: The months around the contract suite's clock (``NOW``, 2026-03-01 12:00
#: UTC): its runs fall on both sides of a partition boundary, and those of
#: other months go to the DEFAULT partition.
CONTRACT_MONTHS = (date(2026, 2, 1), date(2026, 3, 1))


def dsn(url: str) -> str:
    """The psycopg connection string of a SQLAlchemy PostgreSQL URL."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def django_dsn(alias: str) -> str:
    """The psycopg connection string of the database the Django ``alias`` points at."""
    from django.db import connections

    from tests.conftest import POSTGRES_ADMIN_URL

    return f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{connections.settings[alias]['NAME']}"


def run_script(conninfo: str, script: Path) -> list[str]:
    """Run ``script`` whole in one transaction, as ``psql --single-transaction -f``
    would; the notices it raised."""
    notices: list[str] = []
    with psycopg.connect(conninfo) as conn:
        conn.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
        conn.execute(script.read_text())
    return notices


def create_partitions(conninfo: str, *months: date) -> None:
    """The month partitions of ``months``, through the script's own function."""
    with psycopg.connect(conninfo) as conn:
        for month in months:
            conn.execute("SELECT scheduler_run_create_partition(%s)", [month])


def partition_contract_database(conninfo: str) -> None:
    """Partition the (empty) run table, with partitions for the contract's months."""
    run_script(conninfo, PARTITION_SCRIPT)
    create_partitions(conninfo, *CONTRACT_MONTHS)


def partitioned_sqlalchemy_store(url: str) -> SQLAlchemyStore:
    """The SQLAlchemy store on ``url``: its schema created, then the run table partitioned."""
    store = SQLAlchemyStore(url)
    store.create_schema()
    store.engine.dispose()  # its connections saw the table before the change
    partition_contract_database(dsn(url))
    return store
