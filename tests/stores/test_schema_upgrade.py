"""A database made by an earlier version is brought up to date, additively.

``tests/fixtures/schema_v0`` holds real dumps of databases made by the version
before ``scheduler_job.paused_at`` and ``removed_at`` existed, with a job, a
finished run and a stopped replica in them.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from scheduler.cli import main
from scheduler.model.jobs import JobSpec
from scheduler.model.runs import NewRun, Outcome, RunStatus
from scheduler.stores.sqlalchemy import SQLAlchemyStore
from scheduler.stores.sqlalchemy.upgrade import SchemaChange, SchemaNotUpgradable

FIXTURES = Path(__file__).parent.parent / "fixtures" / "schema_v0"
ACTIVE_INDEX_SQL = (
    "CREATE INDEX scheduler_run_active_idx ON scheduler_run (job_id, status) "
    "WHERE status IN ('pending', 'queued', 'running')"
)
WINDOW_INDEX_SQL = (
    "CREATE INDEX scheduler_run_window_idx ON scheduler_run (scheduled_for, job_id, status)"
)


def changes_since_v0(kind: str) -> list[tuple[str, str]]:
    """Everything the earlier version's database lacks, in the order it is added:
    each change's description and its DDL (``kind``: the dialect's timestamp type)."""

    def column(table: str, name: str, type_: str) -> tuple[str, str]:
        return (f"add column {table}.{name}", f"ALTER TABLE {table} ADD COLUMN {name} {type_}")

    # A join's upstreams: a whole new table (its id counts up by itself on both).
    upstream_table = (
        "CREATE TABLE scheduler_job_upstream (\n"
        f"\tid {'INTEGER' if kind == 'DATETIME' else 'BIGSERIAL'} NOT NULL, \n"
        "\tjob_id BIGINT NOT NULL, \n"
        "\tposition INTEGER NOT NULL, \n"
        "\tname VARCHAR(200) NOT NULL, \n"
        "\tPRIMARY KEY (id), \n"
        "\tCONSTRAINT scheduler_job_upstream_uniq UNIQUE (job_id, name), \n"
        "\tCONSTRAINT scheduler_job_upstream_job_id_fk FOREIGN KEY(job_id) "
        "REFERENCES scheduler_job (id) ON DELETE CASCADE\n)"
    )
    return [
        column("scheduler_job", "paused_at", kind),
        column("scheduler_job", "removed_at", kind),
        column("scheduler_job", "notify", "TEXT"),
        column("scheduler_job", "max_memory_bytes", "BIGINT"),
        column("scheduler_job", "calendar", "TEXT"),
        column("scheduler_job", "solar", "TEXT"),
        column("scheduler_job", "chain_after", "VARCHAR(200)"),
        column("scheduler_job", "chain_when", "VARCHAR(10)"),
        column("scheduler_job", "chain_upstreams", "TEXT"),
        (
            "create index scheduler_job_chain_idx",
            "CREATE INDEX scheduler_job_chain_idx ON scheduler_job (chain_after)",
        ),
        ("create table scheduler_job_upstream", upstream_table),
        (
            "create index scheduler_job_upstream_idx",
            "CREATE INDEX scheduler_job_upstream_idx ON scheduler_job_upstream (name)",
        ),
        column("scheduler_run", "heartbeat_at", kind),
        column("scheduler_run", "upstream_run_id", "BIGINT"),
        column("scheduler_run", "chained_at", kind),
        ("create index scheduler_run_active_idx", ACTIVE_INDEX_SQL),
        (
            "create index scheduler_run_chain_idx",
            "CREATE INDEX scheduler_run_chain_idx ON scheduler_run "
            "(job_id, chained_at, finished_at)",
        ),
        (
            "create index scheduler_run_upstream_uniq",
            "CREATE UNIQUE INDEX scheduler_run_upstream_uniq ON scheduler_run "
            "(job_id, upstream_run_id)",
        ),
        ("create index scheduler_run_window_idx", WINDOW_INDEX_SQL),
    ]


NEW_SINCE_V0 = [description for description, _ in changes_since_v0("")]
T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """An empty SQLite or PostgreSQL database: the earlier version ran on nothing else,
    so there is no MariaDB dump (``tests/stores/test_mariadb_specific.py`` upgrades
    a MariaDB database that lacks a column and an index)."""
    if request.param == "sqlite":
        return sqlite_url
    url: str = request.getfixturevalue("postgres_url")
    return url


def load_dump(url: str) -> None:
    """Fill the empty database at ``url`` with the dump made by the earlier version."""
    if url.startswith("sqlite"):
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as conn:
            conn.executescript((FIXTURES / "sqlite.sql").read_text())
            conn.commit()
        return
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute((FIXTURES / "postgresql.sql").read_text().encode())


@pytest.fixture
def old_url(database_url: str) -> str:
    """A database made by the earlier version, on SQLite and on PostgreSQL."""
    load_dump(database_url)
    return database_url


@pytest.fixture
def old_store(old_url: str) -> Iterator[SQLAlchemyStore]:
    store = SQLAlchemyStore(old_url)
    try:
        yield store
    finally:
        store.dispose()


def descriptions(changes: list[SchemaChange]) -> list[str]:
    return [change.description for change in changes]


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_old_database_lacks_the_new_columns(old_store: SQLAlchemyStore) -> None:
    assert descriptions(old_store.schema_changes()) == NEW_SINCE_V0
    # What `tickwork jobs` hit before; an error of the schema, not an outage to wait out.
    with pytest.raises(SQLAlchemyError, match="paused_at"):
        old_store.list_jobs()


def test_create_schema_adds_the_columns_and_keeps_every_row(old_store: SQLAlchemyStore) -> None:
    assert descriptions(old_store.create_schema()) == NEW_SINCE_V0
    assert old_store.schema_changes() == []
    assert old_store.create_schema() == []  # a second time: nothing left to do
    (job,) = old_store.list_jobs()
    assert (job.spec.name, job.spec.timezone, job.version) == ("nightly", "Europe/Berlin", 1)
    assert (job.next_run_at, job.paused_at, job.removed_at) == (
        datetime(2026, 11, 2, 1, 30, tzinfo=UTC),
        None,
        None,
    )
    (run,) = old_store.list_runs()
    assert (run.id, run.status, run.result) == (1, RunStatus.SUCCEEDED, "done")
    paused = old_store.set_paused("nightly", True, now=T0)
    assert old_store.get_job("nightly") == paused  # the new columns hold what they are given


def test_an_upgraded_database_runs_a_join_after_the_old_job(old_store: SQLAlchemyStore) -> None:
    old_store.create_schema()
    old_store.save_job(JobSpec.build(name="other", task="app.other", cron="0 2 * * *"), now=T0)
    join = JobSpec.build(name="load", task="app.load", after=["nightly", "other"])
    assert old_store.save_job(join, now=T0).spec.after == ("nightly", "other")
    slot = T0 + timedelta(hours=14)
    for name in ("nightly", "other"):
        run = old_store.add_run(name, NewRun(scheduled_for=slot, due_at=slot))
        old_store.mark_finished(
            run.id, Outcome(status=RunStatus.SUCCEEDED, finished_at=slot + timedelta(minutes=1))
        )
    [made] = old_store.follow_chains(now=slot + timedelta(minutes=2), limit=10)
    assert made.job_name == "load"


def test_the_sql_is_what_a_dba_would_run(old_store: SQLAlchemyStore) -> None:
    dialect = old_store.engine.dialect
    sql = [change.sql(dialect) for change in old_store.schema_changes()]
    kind = "TIMESTAMP WITH TIME ZONE" if dialect.name == "postgresql" else "DATETIME"
    assert sql == [ddl for _, ddl in changes_since_v0(kind)]
    with old_store.engine.begin() as conn:  # run exactly that, as a DBA would
        for statement in sql:
            conn.execute(text(statement))
    assert old_store.schema_changes() == []


def test_missing_indexes_and_tables_are_created(old_store: SQLAlchemyStore) -> None:
    with old_store.engine.begin() as conn:
        conn.execute(text("DROP INDEX scheduler_run_replica_idx"))
        conn.execute(text("DROP TABLE scheduler_replica"))
    expected = [
        *NEW_SINCE_V0,
        "create table scheduler_replica",
        "create index scheduler_run_replica_idx",
    ]
    assert sorted(descriptions(old_store.create_schema())) == sorted(expected)
    assert old_store.schema_changes() == []
    old_store.heartbeat("r1", hostname="h", pid=1, now=T0)


def test_a_change_that_is_not_additive_is_refused_and_changes_nothing(
    old_store: SQLAlchemyStore,
) -> None:
    with old_store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE scheduler_run DROP COLUMN worker"))
    message = "column scheduler_run.worker is missing and cannot be added to existing rows"
    with pytest.raises(SchemaNotUpgradable, match=message):
        old_store.create_schema()
    with old_store.engine.connect() as conn:  # the two nullable columns were not added either
        columns = conn.execute(text("SELECT * FROM scheduler_job")).keys()
    assert "paused_at" not in columns


@pytest.mark.postgres
def test_replicas_starting_together_upgrade_once(postgres_url: str) -> None:
    load_dump(postgres_url)
    stores = [SQLAlchemyStore(postgres_url) for _ in range(2)]
    barrier = threading.Barrier(2)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def start(store: SQLAlchemyStore) -> None:
        barrier.wait()
        try:
            results.append(descriptions(store.create_schema()))
        except BaseException as error:  # collected, so the assertion shows it
            errors.append(error)

    threads = [threading.Thread(target=start, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for store in stores:
        store.dispose()
    assert errors == []
    assert sorted(results) == [[], NEW_SINCE_V0]


# -- the command line -------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["jobs"], ["runs"], ["pause", "nightly"], ["resume", "nightly"]])
def test_commands_on_an_outdated_database_say_to_migrate_and_change_nothing(
    capsys: pytest.CaptureFixture[str], old_store: SQLAlchemyStore, old_url: str, argv: list[str]
) -> None:
    code, out, err = cli(capsys, *argv, "--database", old_url)
    assert (code, out) == (1, "")
    lacks = "lacks column scheduler_job.paused_at, column scheduler_job.removed_at"
    assert f"was made by an earlier version of Tickwork and {lacks}" in err
    assert "`tickwork migrate`" in err
    assert descriptions(old_store.schema_changes()) == NEW_SINCE_V0


def test_migrate_sql_prints_the_ddl_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], old_store: SQLAlchemyStore, old_url: str
) -> None:
    code, out, _ = cli(capsys, "migrate", "--database", old_url, "--sql")
    kind = "TIMESTAMP WITH TIME ZONE" if old_url.startswith("postgresql") else "DATETIME"
    assert code == 0
    assert out == "".join(f"-- {what}\n{ddl};\n\n" for what, ddl in changes_since_v0(kind))
    assert descriptions(old_store.schema_changes()) == NEW_SINCE_V0


def test_migrate_applies_the_changes_then_finds_nothing_to_do(
    capsys: pytest.CaptureFixture[str], old_url: str
) -> None:
    code, out, _ = cli(capsys, "migrate", "--database", old_url)
    assert (code, out) == (
        0,
        "\n".join(
            [*NEW_SINCE_V0, f"{len(NEW_SINCE_V0)} changes applied; the database is up to date\n"]
        ),
    )
    assert cli(capsys, "migrate", "--database", old_url)[:2] == (0, "the database is up to date\n")
    assert cli(capsys, "migrate", "--database", old_url, "--sql")[:2] == (
        0,
        "-- the database is up to date: nothing to do\n",
    )
    code, out, _ = cli(capsys, "jobs", "--database", old_url)
    assert code == 0 and "nightly" in out and "succeeded" in out


def test_run_brings_the_database_up_to_date_before_it_starts(
    capsys: pytest.CaptureFixture[str], old_store: SQLAlchemyStore, old_url: str
) -> None:
    code, _, _ = cli(capsys, "run", "--once", "--executor", "immediate", "--database", old_url)
    assert code == 0
    assert old_store.schema_changes() == []
    assert [job.spec.name for job in old_store.list_jobs()] == ["nightly"]


def test_commands_on_an_empty_database_say_how_to_create_the_tables(
    capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        sqlite3.connect(database_url.removeprefix("sqlite:///")).close()  # an empty file
    code, _, err = cli(capsys, "jobs", "--database", database_url)
    assert code == 1
    assert "has no Tickwork tables" in err and "`tickwork migrate`" in err


def test_migrate_sql_never_creates_a_sqlite_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "typo.sqlite3"
    code, out, err = cli(capsys, "migrate", "--database", f"sqlite:///{missing}", "--sql")
    assert (code, out) == (1, "")
    assert f"no database at {missing}" in err
    assert not missing.exists()


def test_a_database_that_lacks_only_an_index_says_so(
    capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    store = SQLAlchemyStore(database_url)
    store.create_schema()
    with store.engine.begin() as conn:
        conn.execute(text("DROP INDEX scheduler_run_active_idx"))
    code, _, err = cli(capsys, "jobs", "--database", database_url)
    assert code == 1
    assert (
        "was made by an earlier version of Tickwork and lacks index scheduler_run_active_idx" in err
    )
    assert descriptions(store.create_schema()) == ["create index scheduler_run_active_idx"]
    assert cli(capsys, "jobs", "--database", database_url)[0] == 0
    store.dispose()
