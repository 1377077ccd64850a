"""What only MariaDB (and MySQL) asks of the SQLAlchemy store.

The tables: microsecond instants (``DATETIME(6)``), ``utf8mb4`` with the
binary collation (names compare as on PostgreSQL; four-byte characters fit),
``LONGTEXT`` (a traceback longer than ``TEXT``'s 64 KiB), ``DOUBLE``.  The
server: refused at start when too old, or when the session is not ``READ
COMMITTED`` or not ``utf8mb4``, saying what to change.  Upgrades: a missing
column and index are added under ``GET_LOCK``.  The contract suite runs on
MariaDB too (``tests/contract``); these are the rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from scheduler.cli import main
from scheduler.errors import StoreUnavailable
from scheduler.model.jobs import JobSpec
from scheduler.model.runs import NewRun, Outcome, RunStatus
from scheduler.stores.servers import UnsupportedDatabase
from scheduler.stores.sqlalchemy import SQLAlchemyStore
from scheduler.stores.sqlalchemy.connections import normalised_url

pytestmark = pytest.mark.mariadb

NOW = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def store(shared_mariadb_url: str) -> Iterator[SQLAlchemyStore]:
    made = SQLAlchemyStore(shared_mariadb_url)
    try:
        yield made
    finally:
        made.dispose()


def test_a_bare_mysql_url_means_pymysql_in_utf8mb4() -> None:
    for scheme in ("mysql", "mariadb"):
        url = normalised_url(f"{scheme}://someone@db.example/app")
        assert url.drivername == f"{scheme}+pymysql"
        assert url.query == {"charset": "utf8mb4"}
    kept = normalised_url("mysql+mysqldb://someone@db.example/app?charset=utf8mb4")
    assert kept.drivername == "mysql+mysqldb"


def test_the_tables_keep_microseconds_and_utf8mb4_with_the_binary_collation(
    store: SQLAlchemyStore,
) -> None:
    columns = {c["name"]: c["type"] for c in inspect(store.engine).get_columns("scheduler_run")}
    assert str(columns["scheduled_for"]) == "DATETIME" and columns["scheduled_for"].fsp == 6
    assert "LONGTEXT" in str(columns["traceback"])
    assert "DOUBLE" in str(columns["duration_seconds"])
    with store.engine.connect() as conn:
        collations = conn.execute(
            text(
                "SELECT table_name, table_collation FROM information_schema.tables "
                "WHERE table_schema = DATABASE() ORDER BY table_name"
            )
        ).all()
    assert [tuple(row) for row in collations] == [
        ("scheduler_job", "utf8mb4_bin"),
        ("scheduler_job_upstream", "utf8mb4_bin"),
        ("scheduler_replica", "utf8mb4_bin"),
        ("scheduler_run", "utf8mb4_bin"),
    ]


def test_names_differing_only_in_case_are_two_jobs_and_text_keeps_every_character(
    store: SQLAlchemyStore,
) -> None:
    for name in ("Report", "report"):
        spec = JobSpec.build(
            name=name, task="app.tasks.report", cron="0 * * * *", description=f"{name} ⏰🚀"
        )
        store.save_job(spec, now=NOW)
    jobs = {job.spec.name: job.spec.description for job in store.list_jobs()}
    assert jobs == {"Report": "Report ⏰🚀", "report": "report ⏰🚀"}


def test_instants_keep_their_microseconds_and_a_long_traceback_fits(
    store: SQLAlchemyStore,
) -> None:
    store.save_job(
        JobSpec.build(name="nightly", task="app.tasks.report", cron="0 * * * *"), now=NOW
    )
    run = store.add_run("nightly", NewRun(scheduled_for=NOW, due_at=NOW))
    long = "frame\n" * 20_000  # 120 KB: more than TEXT's 64 KiB
    finished = NOW + timedelta(microseconds=654_321)
    outcome = Outcome(
        status=RunStatus.FAILED, finished_at=finished, error="boom 💥", traceback=long
    )
    assert store.mark_finished(run.id, outcome)
    stored = store.get_run(run.id)
    assert stored.scheduled_for == NOW and stored.finished_at == finished
    assert stored.traceback == long and stored.error == "boom 💥"


def test_a_session_that_is_not_read_committed_is_refused_with_what_to_change(
    shared_mariadb_url: str,
) -> None:
    engine = create_engine(normalised_url(shared_mariadb_url), isolation_level="REPEATABLE READ")
    store = SQLAlchemyStore(shared_mariadb_url, engine=engine)
    try:
        with pytest.raises(UnsupportedDatabase, match="REPEATABLE READ") as refused:
            store.create_schema()
        assert "isolation_level='READ COMMITTED'" in str(refused.value)
        with pytest.raises(UnsupportedDatabase):
            store.schema_changes()
    finally:
        engine.dispose()


def test_a_connection_in_three_byte_utf8_is_refused(mariadb_url: str) -> None:
    store = SQLAlchemyStore(mariadb_url + "?charset=utf8mb3")
    try:
        with pytest.raises(UnsupportedDatabase, match="utf8mb4") as refused:
            store.create_schema()
        assert "?charset=utf8mb4" in str(refused.value)
        with store.engine.connect() as conn:
            assert inspect(conn).get_table_names() == []  # nothing was made
    finally:
        store.dispose()


def test_a_database_lacking_a_column_and_an_index_is_brought_up_to_date(
    mariadb_url: str,
) -> None:
    store = SQLAlchemyStore(mariadb_url)
    try:
        store.create_schema()
        with store.engine.begin() as conn:
            conn.execute(text("ALTER TABLE scheduler_job DROP COLUMN removed_at"))
            conn.execute(text("DROP INDEX scheduler_run_active_idx ON scheduler_run"))
        missing = [change.description for change in store.schema_changes()]
        assert missing == [
            "add column scheduler_job.removed_at",
            "create index scheduler_run_active_idx",
        ]
        assert [change.description for change in store.create_schema()] == missing
        assert store.schema_changes() == []
    finally:
        store.dispose()


def test_tickwork_runs_on_a_bare_mysql_url_in_read_committed_and_utf8mb4(
    capsys: pytest.CaptureFixture[str], mariadb_url: str, tmp_path: Path
) -> None:
    bare = mariadb_url.replace("mysql+pymysql://", "mysql://")
    (tmp_path / "schedules.yaml").write_text(
        "jobs:\n  ping:\n    task: tw_maria_tasks.ping\n    every: 1m\n", encoding="utf-8"
    )
    (tmp_path / "tw_maria_tasks.py").write_text(
        "from scheduler import job\n\n@job\ndef ping():\n    return 'pong'\n", encoding="utf-8"
    )
    argv = [
        "run", "--once", "--executor", "immediate", "--database", bare,
        "--schedules", str(tmp_path / "schedules.yaml"),
        "--pythonpath", str(tmp_path), "--import", "tw_maria_tasks",
    ]  # fmt: skip
    assert main(argv) == 0
    assert main(["jobs", "--database", bare]) == 0
    out = capsys.readouterr().out
    assert "ping" in out and "every 1m" in out
    # The server's default is REPEATABLE READ; the store's sessions are not.
    store = SQLAlchemyStore(bare)
    try:
        with store.engine.connect() as conn:
            assert conn.scalar(text("SELECT @@tx_isolation")) == "READ-COMMITTED"
            assert conn.scalar(text("SELECT @@character_set_connection")) == "utf8mb4"
    finally:
        store.dispose()


def test_a_server_out_of_reach_is_store_unavailable_and_a_bad_column_is_not(
    store: SQLAlchemyStore,
) -> None:
    nowhere = SQLAlchemyStore("mysql://root@127.0.0.1:1/tickwork?connect_timeout=2")
    try:
        with pytest.raises(StoreUnavailable, match="mysql database unavailable"):
            nowhere.next_wake()
    finally:
        nowhere.dispose()
    with store.engine.begin() as conn:  # a schema that needs upgrading, not a server that is down
        conn.execute(text("ALTER TABLE scheduler_job DROP COLUMN paused_at"))
    with pytest.raises(SQLAlchemyError, match="paused_at") as raised:
        store.list_jobs()
    assert not isinstance(raised.value, StoreUnavailable)
