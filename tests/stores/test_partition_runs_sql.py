"""``contrib/postgres/partition_runs.sql`` and ``unpartition_runs.sql`` on real PostgreSQL.

Each test makes the schema the normal way, ``tickwork migrate`` for the
SQLAlchemy store or the Django migrations for the Django store, records runs
through the store, then runs a script whole, in one transaction, as a DBA
would.  The script must keep every row, the columns, the constraints and
indexes under their names, and the id sequence where it stood; the stores
must then work on the partitioned table (the run contract on it is
``tests/contract/test_store_on_partitioned_runs.py``), the engine included;
the maintenance functions must create, fill, drop and detach month
partitions; and the undo script must give back a plain table.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest

from scheduler.cli import main
from scheduler.engine import Engine, EngineConfig
from scheduler.errors import DuplicateRun
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import Outcome, RunStatus
from scheduler.stores.base import Store
from scheduler.tasks.registry import TaskRegistry
from scheduler.testing import FakeClock, RecordingExecutor
from tests.contract.helpers import HOUR, NOW, add_runs, finish, hourly, new_run
from tests.partitioned_runs import (
    PARTITION_SCRIPT,
    UNPARTITION_SCRIPT,
    create_partitions,
    django_dsn,
    dsn,
    run_script,
)

pytestmark = pytest.mark.postgres

#: Slots of the history recorded before partitioning: an old month, both
#: sides of two month boundaries (to the microsecond), the contract's NOW.
SLOTS = [
    datetime(2019, 6, 1, 8, tzinfo=UTC),
    datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 1, 1, tzinfo=UTC),
    datetime(2026, 1, 15, 6, tzinfo=UTC),
    datetime(2026, 2, 28, 23, tzinfo=UTC),
    datetime(2026, 3, 1, tzinfo=UTC),
    NOW,
]
#: The month partitions that history needs, and how many runs each holds.
HISTORY_PARTITIONS = {
    "scheduler_run_2019_06": 1,
    "scheduler_run_2025_12": 1,
    "scheduler_run_2026_01": 3,  # with the failed run of sync
    "scheduler_run_2026_02": 1,
    "scheduler_run_2026_03": 2,
}


# -- databases of both kinds -------------------------------------------------------
@dataclass
class Database:
    """A PostgreSQL database with Tickwork's tables, made the way its kind makes them."""

    kind: str  # "sqlalchemy" or "django"
    conninfo: str
    new_store: Callable[[], Store]

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.conninfo) as conn:
            return conn.execute(sql, params).fetchall()

    def value(self, sql: str, *params: Any) -> Any:
        return self.rows(sql, *params)[0][0]

    def run_script(self, script: Any = PARTITION_SCRIPT) -> list[str]:
        return run_script(self.conninfo, script)


@pytest.fixture(params=["sqlalchemy", "django"])
def database(request: pytest.FixtureRequest) -> Iterator[Database]:
    made: list[Store] = []
    if request.param == "sqlalchemy":
        from scheduler.stores.sqlalchemy import SQLAlchemyStore

        url: str = request.getfixturevalue("postgres_url")
        assert main(["migrate", "--database", dsn(url)]) == 0

        def new_store() -> Store:
            made.append(SQLAlchemyStore(url))
            return made[-1]

        conninfo = dsn(url)
    else:
        from scheduler.django.store import DjangoStore

        alias: str = request.getfixturevalue("django_postgres")  # migrated by Django

        def new_store() -> Store:
            made.append(DjangoStore(using=alias))
            return made[-1]

        conninfo = django_dsn(alias)
    yield Database(request.param, conninfo, new_store)
    for store in made:
        dispose = getattr(store, "dispose", None)
        if dispose is not None:
            dispose()


@pytest.fixture
def sqlalchemy_database(postgres_url: str) -> Iterator[Database]:
    """The SQLAlchemy kind only, for what does not depend on who made the schema."""
    from scheduler.stores.sqlalchemy import SQLAlchemyStore

    assert main(["migrate", "--database", dsn(postgres_url)]) == 0
    made: list[SQLAlchemyStore] = []

    def new_store() -> Store:
        made.append(SQLAlchemyStore(postgres_url))
        return made[-1]

    yield Database("sqlalchemy", dsn(postgres_url), new_store)
    for store in made:
        store.dispose()


def record_history(store: Store) -> list[int]:
    """Runs of two jobs over :data:`SLOTS`, some finished; the ids of ``report``'s."""
    store.save_job(hourly("report"), now=SLOTS[0] - HOUR)
    store.save_job(hourly("sync", executor="celery"), now=SLOTS[0] - HOUR)
    ids = [run.id for run in add_runs(store, "report", *SLOTS)]
    for run_id, slot in zip(ids[:3], SLOTS, strict=False):
        store.mark_queued(run_id, executor="default", external_id="", now=slot)
        assert store.mark_running(run_id, worker="host:1", now=slot)
        store.mark_finished(
            run_id,
            Outcome(status=RunStatus.SUCCEEDED, finished_at=slot + HOUR, result={"rows": 3}),
        )
    (failed,) = add_runs(store, "sync", SLOTS[3])
    finish(store, failed.id, SLOTS[3] + HOUR, RunStatus.FAILED)
    return ids


# -- what the catalog says ---------------------------------------------------------
def all_runs(db: Database) -> list[tuple[Any, ...]]:
    return db.rows("SELECT * FROM scheduler_run ORDER BY id")


def columns(db: Database) -> list[tuple[Any, ...]]:
    return db.rows(
        "SELECT column_name, data_type, character_maximum_length, is_nullable, column_default, "
        "is_identity, identity_generation FROM information_schema.columns "
        "WHERE table_name = 'scheduler_run' ORDER BY ordinal_position"
    )


def constraints(db: Database) -> dict[str, str]:
    """Name -> definition of every constraint of the run table itself."""
    return dict(
        db.rows(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'scheduler_run'::regclass AND contype <> 'n'"
        )
    )


def indexes(db: Database) -> set[str]:
    return {
        name
        for (name,) in db.rows(
            "SELECT indexrelid::regclass::text FROM pg_index "
            "WHERE indrelid = 'scheduler_run'::regclass"
        )
    }


def next_id(db: Database) -> int:
    """The id the sequence hands out next (read without taking it)."""
    sequence = db.value("SELECT pg_get_serial_sequence('scheduler_run', 'id')")
    last, called = db.rows(f"SELECT last_value, is_called FROM {sequence}")[0]  # noqa: S608
    return int(last) + 1 if called else int(last)


def relkind(db: Database) -> str:
    return str(db.value("SELECT relkind FROM pg_class WHERE oid = 'scheduler_run'::regclass"))


def partitions(db: Database) -> dict[str, int]:
    """Each partition of the run table, with the number of runs in it."""
    counts = dict(
        db.rows("SELECT tableoid::regclass::text, count(*) FROM scheduler_run GROUP BY 1")
    )
    names = db.rows(
        "SELECT inhrelid::regclass::text FROM pg_inherits "
        "WHERE inhparent = 'scheduler_run'::regclass"
    )
    return {name: counts.get(name, 0) for (name,) in names}


def months_ahead(count: int) -> set[str]:
    """Names of the partitions of this month (UTC) and the ``count`` after it."""
    today = datetime.now(UTC).date()
    names = set()
    for step in range(count + 1):
        year, month = divmod(today.year * 12 + today.month - 1 + step, 12)
        names.add(f"scheduler_run_{year:04d}_{month + 1:02d}")
    return names


def schema(db: Database) -> tuple[Any, ...]:
    return columns(db), constraints(db), indexes(db)


# -- the conversion -----------------------------------------------------------------
def test_partitioning_keeps_every_run_the_columns_the_keys_and_the_sequence(
    database: Database,
) -> None:
    store = database.new_store()
    record_history(store)
    (doomed,) = add_runs(store, "sync", NOW + HOUR)
    # A pruned run: its id is never handed out again, partitioned or not.
    database.rows("DELETE FROM scheduler_run WHERE id = %s RETURNING id", doomed.id)
    before_rows, before_columns = all_runs(database), columns(database)
    before_constraints, before_indexes = constraints(database), indexes(database)
    before_next = next_id(database)
    assert before_next == doomed.id + 1

    notices = database.run_script()

    assert notices[-1] == (
        f"scheduler_run is partitioned by month: {len(before_rows)} runs kept, "
        f"next id {before_next}"
    )
    assert relkind(database) == "p"
    assert database.value("SELECT pg_get_partkeydef('scheduler_run'::regclass)") == (
        "RANGE (scheduled_for)"
    )
    assert all_runs(database) == before_rows
    assert columns(database) == before_columns  # serial or identity, as it was
    assert next_id(database) == before_next
    # Every constraint and index under its name; the primary key gains the partition key.
    after = constraints(database)
    assert after.pop("scheduler_run_pkey") == "PRIMARY KEY (id, scheduled_for)"
    assert before_constraints.pop("scheduler_run_pkey") == "PRIMARY KEY (id)"
    assert after == before_constraints
    assert after["scheduler_run_slot_uniq"] == "UNIQUE (job_id, scheduled_for, attempt)"
    assert indexes(database) == before_indexes
    # A month partition per month with runs, this month and three more, and DEFAULT.
    found = partitions(database)
    assert found == {
        **dict.fromkeys(months_ahead(3), 0),
        **HISTORY_PARTITIONS,
        "scheduler_run_default": 0,
    }

    # The store, started afresh as after a maintenance window, carries on.
    store = database.new_store()
    added = store.add_run("report", new_run(NOW + HOUR))
    assert added.id == before_next
    assert partitions(database)["scheduler_run_2026_03"] == 3
    assert [run.scheduled_for for run in store.list_runs(job_name="report")] == [
        NOW + HOUR,
        *reversed(SLOTS),
    ]


def test_the_stores_keep_the_slot_rule_and_history_on_the_partitioned_table(
    database: Database,
) -> None:
    ids = record_history(database.new_store())
    database.run_script()
    store = database.new_store()

    # A second run of a slot recorded before the change is refused, in any partition.
    for slot in (SLOTS[0], SLOTS[1], NOW):
        with pytest.raises(DuplicateRun):
            store.add_run("report", new_run(slot))
    assert database.value("SELECT count(*) FROM scheduler_run") == len(SLOTS) + 1
    # A run recorded before is found by its id alone, whatever its partition.
    assert store.get_run(ids[0]).result == {"rows": 3}
    store.mark_queued(ids[-1], executor="default", external_id="", now=NOW)
    assert store.mark_running(ids[-1], worker="host:1", now=NOW)
    finish(store, ids[-1], NOW + HOUR)
    assert store.get_run(ids[-1]).status is RunStatus.SUCCEEDED
    # Pruning deletes across partitions: two finished runs of report stay.
    assert store.prune(now=NOW + 2 * HOUR, keep_last=2, max_age=None) == 2
    assert [run.scheduled_for for run in store.list_runs(job_name="report")] == [
        NOW,
        *reversed(SLOTS[2:-1]),
    ]
    assert partitions(database)["scheduler_run_2019_06"] == 0


def test_the_schema_check_of_tickwork_run_finds_nothing_to_add(
    sqlalchemy_database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    sqlalchemy_database.run_script()
    capsys.readouterr()
    url = sqlalchemy_database.conninfo
    assert main(["migrate", "--database", url, "--sql"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert sqlalchemy_database.new_store().schema_changes() == []  # type: ignore[attr-defined]


def test_the_active_run_probe_still_uses_the_partial_index(
    sqlalchemy_database: Database,
) -> None:
    record_history(sqlalchemy_database.new_store())
    sqlalchemy_database.run_script()
    active_partitions = {
        name
        for (name,) in sqlalchemy_database.rows(
            "SELECT inhrelid::regclass::text FROM pg_inherits "
            "WHERE inhparent = 'scheduler_run_active_idx'::regclass"
        )
    }
    assert len(active_partitions) == len(partitions(sqlalchemy_database))
    with psycopg.connect(sqlalchemy_database.conninfo) as conn:
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(
            line
            for (line,) in conn.execute(
                "EXPLAIN SELECT (SELECT 1 FROM scheduler_run "
                "WHERE scheduler_run.job_id = scheduler_job.id "
                "AND scheduler_run.status IN ('pending', 'queued', 'running') LIMIT 1) "
                "FROM scheduler_job"
            )
        )
    assert {name for name in active_partitions if name in plan} == active_partitions, plan


def test_running_the_script_again_changes_nothing(database: Database) -> None:
    record_history(database.new_store())
    database.run_script()
    before = (schema(database), partitions(database), next_id(database))
    notices = database.run_script()
    assert notices == ["scheduler_run is partitioned already: nothing to convert"]
    assert (schema(database), partitions(database), next_id(database)) == before


def test_a_failing_conversion_changes_nothing(sqlalchemy_database: Database) -> None:
    db = sqlalchemy_database
    record_history(db.new_store())
    # A unique index without the partition key cannot exist on a partitioned
    # table: the script fails at its very end, after copying every run.
    with psycopg.connect(db.conninfo, autocommit=True) as conn:
        conn.execute(
            "CREATE UNIQUE INDEX scheduler_run_external_uniq ON scheduler_run (external_id) "
            "WHERE external_id <> ''"
        )
    before = (all_runs(db), schema(db), next_id(db))
    with pytest.raises(psycopg.errors.FeatureNotSupported, match="partition"):
        db.run_script()
    assert relkind(db) == "r"
    assert (all_runs(db), schema(db), next_id(db)) == before
    assert db.value("SELECT to_regclass('scheduler_run_default')") is None
    assert db.value("SELECT to_regproc('scheduler_run_create_partitions')") is None


def test_a_foreign_key_to_the_run_table_is_refused(sqlalchemy_database: Database) -> None:
    db = sqlalchemy_database
    with psycopg.connect(db.conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE run_notes (run_id bigint REFERENCES scheduler_run (id))")
    with pytest.raises(psycopg.errors.RaiseException, match="a foreign key references"):
        db.run_script()
    assert relkind(db) == "r"


@pytest.fixture
def app_roles(sqlalchemy_database: Database) -> Iterator[tuple[str, str]]:
    """Two new roles: one owning Tickwork's tables (the application's), one
    granted reads on the runs (a dashboard's); dropped afterwards."""
    suffix = uuid.uuid4().hex[:8]
    owner, reader = f"tickwork_app_{suffix}", f"tickwork_reader_{suffix}"
    with psycopg.connect(sqlalchemy_database.conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {owner}")
        conn.execute(f"CREATE ROLE {reader}")
        conn.execute(f"GRANT USAGE, CREATE ON SCHEMA public TO {owner}")  # it made the tables
        tables = ("scheduler_job", "scheduler_job_upstream", "scheduler_run", "scheduler_replica")
        for table in tables:
            conn.execute(f"ALTER TABLE {table} OWNER TO {owner}")
        conn.execute(f"GRANT SELECT ON scheduler_run TO {reader}")
    try:
        yield owner, reader
    finally:
        with psycopg.connect(sqlalchemy_database.conninfo, autocommit=True) as conn:
            for role in (owner, reader):
                conn.execute(f"DROP OWNED BY {role}")
                conn.execute(f"DROP ROLE {role}")


def test_the_owner_and_the_grants_carry_over(
    sqlalchemy_database: Database, app_roles: tuple[str, str]
) -> None:
    db = sqlalchemy_database
    owner, reader = app_roles
    db.run_script()  # as a superuser, not as the owner
    owners = set(
        db.rows(
            "SELECT relname, pg_get_userbyid(relowner) FROM pg_class "
            "WHERE relname LIKE 'scheduler_run%%' AND relkind IN ('r', 'p')"
        )
    )
    assert {role for _, role in owners} == {owner}
    assert len(owners) == len(months_ahead(3)) + 2  # the months, DEFAULT and the parent
    assert db.value("SELECT has_table_privilege(%s, 'scheduler_run', 'SELECT')", reader)
    assert not db.value("SELECT has_table_privilege(%s, 'scheduler_run', 'INSERT')", reader)
    # The owner, not only a superuser, keeps the months coming.
    with psycopg.connect(db.conninfo) as conn:
        conn.execute(f"SET ROLE {owner}")
        created = conn.execute("SELECT * FROM scheduler_run_create_partitions(4)").fetchall()
    assert len(created) == 1


# -- monthly maintenance ------------------------------------------------------------
def test_create_partitions_makes_the_months_ahead_that_are_missing(
    sqlalchemy_database: Database,
) -> None:
    db = sqlalchemy_database
    db.run_script()
    created = db.rows("SELECT * FROM scheduler_run_create_partitions(5)")
    assert {name for (name,) in created} == months_ahead(5) - months_ahead(3)
    assert db.rows("SELECT * FROM scheduler_run_create_partitions(5)") == []
    assert set(partitions(db)) == months_ahead(5) | {"scheduler_run_default"}


def test_a_new_partition_takes_its_month_out_of_the_default_partition(
    database: Database,
) -> None:
    store = database.new_store()
    store.save_job(hourly("report"), now=NOW)
    database.run_script()
    store = database.new_store()
    may = [datetime(2030, 5, 1, tzinfo=UTC), datetime(2030, 5, 31, 23, 59, 59, tzinfo=UTC)]
    june = datetime(2030, 6, 1, tzinfo=UTC)
    runs = add_runs(store, "report", *may, june)
    assert partitions(database)["scheduler_run_default"] == 3
    before = all_runs(database)

    with psycopg.connect(database.conninfo) as conn:
        notices: list[str] = []
        conn.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
        name = conn.execute("SELECT scheduler_run_create_partition('2030-05-17')").fetchone()
    assert name == ("scheduler_run_2030_05",)
    assert notices == ["moved 2 runs from scheduler_run_default into scheduler_run_2030_05"]
    assert partitions(database)["scheduler_run_2030_05"] == 2
    assert partitions(database)["scheduler_run_default"] == 1
    assert all_runs(database) == before
    assert store.get_run(runs[0].id) == runs[0]
    with pytest.raises(DuplicateRun):
        store.add_run("report", new_run(may[1]))


@pytest.fixture
def old_months(sqlalchemy_database: Database) -> Database:
    """Partitions of 2019-06 and 2020-01 with finished runs, and of 2019-07
    with one still pending; the history of the last months beside them."""
    db = sqlalchemy_database
    store = db.new_store()
    store.save_job(hourly("report"), now=NOW)
    db.run_script()
    create_partitions(db.conninfo, date(2019, 6, 1), date(2019, 7, 1), date(2020, 1, 1))
    store = db.new_store()
    old = [datetime(2019, 6, 3, tzinfo=UTC), datetime(2020, 1, 9, tzinfo=UTC)]
    for run in add_runs(store, "report", *old):
        finish(store, run.id, run.scheduled_for + HOUR)
    add_runs(store, "report", datetime(2019, 7, 4, tzinfo=UTC), NOW)
    return db


def drop_partitions(db: Database, sql: str) -> tuple[list[str], list[str]]:
    """The names ``sql`` returns, and its warnings."""
    warnings: list[str] = []
    with psycopg.connect(db.conninfo) as conn:
        conn.add_notice_handler(lambda diag: warnings.append(diag.message_primary or ""))
        dropped = [name for (name,) in conn.execute(sql)]
    return dropped, warnings


def test_drop_partitions_drops_old_months_but_not_one_with_a_run_going(
    old_months: Database,
) -> None:
    db = old_months
    dropped, warnings = drop_partitions(
        db, "SELECT * FROM scheduler_run_drop_partitions(interval '1 year')"
    )
    assert dropped == ["scheduler_run_2019_06", "scheduler_run_2020_01"]
    assert warnings == ["scheduler_run_2019_07 kept: it holds runs that have not ended"]
    left = partitions(db)
    assert "scheduler_run_2019_06" not in left
    assert left["scheduler_run_2019_07"] == 1
    assert db.value("SELECT to_regclass('scheduler_run_2019_06')") is None
    store = db.new_store()
    assert [run.scheduled_for.year for run in store.list_runs()] == [2026, 2019]


def test_detach_only_keeps_old_months_as_tables_of_their_own(old_months: Database) -> None:
    db = old_months
    dropped, _ = drop_partitions(
        db, "SELECT * FROM scheduler_run_drop_partitions(interval '1 year', detach_only => true)"
    )
    assert dropped == ["scheduler_run_2019_06", "scheduler_run_2020_01"]
    assert db.value("SELECT count(*) FROM scheduler_run_2019_06") == 1
    detached = "SELECT relispartition FROM pg_class WHERE relname = 'scheduler_run_2019_06'"
    assert db.value(detached) is False
    assert len(db.new_store().list_runs()) == 2


# -- the engine ---------------------------------------------------------------------
def test_the_engine_runs_retries_and_prunes_across_a_month_boundary(database: Database) -> None:
    database.new_store()  # the schema, empty
    database.run_script()
    create_partitions(database.conninfo, date(2026, 2, 1), date(2026, 3, 1))
    store = database.new_store()
    start = datetime(2026, 2, 28, 22, tzinfo=UTC)
    clock = FakeClock(start)
    registry = TaskRegistry()
    calls: list[datetime] = []

    def work() -> str:
        calls.append(clock.now())
        return "ok"

    def boom() -> None:
        raise ValueError("boom")

    registry.register(work, name="tests.work")
    registry.register(boom, name="tests.boom")
    for spec in (
        JobSpec.build(name="tick", task="tests.work", cron="*/30 * * * *", source=JobSource.CODE),
        JobSpec.build(
            name="flaky",
            task="tests.boom",
            cron="0 * * * *",
            retries=1,
            retry_backoff="1m",
            source=JobSource.CODE,
        ),
    ):
        store.save_job(spec, now=start)
    engine = Engine(
        store,
        {"default": RecordingExecutor(clock=clock, auto_run=True)},
        registry=registry,
        clock=clock,
        replica_id="r1",
        config=EngineConfig(poll_interval=3600.0),
    )
    engine.loop(until=datetime(2026, 3, 1, 1, 10, tzinfo=UTC))
    engine.close()

    half_hours = [start + timedelta(minutes=30 * step) for step in range(1, 7)]
    assert calls == half_hours
    flaky = sorted(
        (run.scheduled_for, run.attempt, run.status.value)
        for run in store.list_runs(job_name="flaky")
    )
    assert flaky == [(slot, attempt, "failed") for slot in half_hours[1::2] for attempt in (1, 2)]
    # Each run in the partition of its slot, a retry beside its first attempt.
    assert database.rows(
        "SELECT tableoid::regclass::text, count(*) FROM scheduler_run GROUP BY 1 ORDER BY 1"
    ) == [("scheduler_run_2026_02", 5), ("scheduler_run_2026_03", 7)]
    assert store.prune(now=clock.now(), keep_last=1, max_age=None) == 10
    assert database.rows(
        "SELECT tableoid::regclass::text, count(*) FROM scheduler_run GROUP BY 1 ORDER BY 1"
    ) == [("scheduler_run_2026_03", 2)]


# -- undoing it ---------------------------------------------------------------------
def test_unpartitioning_gives_back_the_plain_table_with_every_run(database: Database) -> None:
    record_history(database.new_store())
    original = schema(database)
    database.run_script()
    store = database.new_store()
    added = store.add_run("sync", new_run(datetime(2031, 1, 1, tzinfo=UTC)))  # DEFAULT
    rows, following = all_runs(database), next_id(database)
    assert following == added.id + 1

    notices = database.run_script(UNPARTITION_SCRIPT)

    assert notices[-1] == (
        f"scheduler_run is one table again: {len(rows)} runs kept, next id {following}"
    )
    assert relkind(database) == "r"
    assert all_runs(database) == rows
    assert next_id(database) == following
    assert schema(database) == original
    assert database.value("SELECT to_regclass('scheduler_run_default')") is None
    assert database.value("SELECT to_regproc('scheduler_run_create_partitions')") is None
    store = database.new_store()
    assert store.add_run("sync", new_run(NOW + HOUR)).id == following
    with pytest.raises(DuplicateRun):
        store.add_run("report", new_run(NOW))
    assert database.run_script(UNPARTITION_SCRIPT) == [
        "scheduler_run is not partitioned: nothing to undo"
    ]
