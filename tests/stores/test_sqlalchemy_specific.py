"""What only the SQLAlchemy store has to get right: types, names, URLs and locks.

The behaviour every store shares is pinned by ``tests/contract``; these tests
cover the SQL underneath it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Connection, DateTime, create_engine, event, inspect, text, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError, StatementError

from scheduler.errors import DuplicateRun, StoreUnavailable
from scheduler.model.jobs import JobSpec
from scheduler.model.runs import NewRun, RunStatus
from scheduler.stores.base import (
    ChangeListener,
    NotifiesChanges,
    RecoveryReport,
    SlotPlan,
    StoredJob,
)
from scheduler.stores.sqlalchemy import SQLAlchemyStore
from scheduler.stores.sqlalchemy.schema import job_table, run_table

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)
BERLIN_WINTER = timezone(timedelta(hours=1))


def hourly(name: str, **options: Any) -> JobSpec:
    return JobSpec.build(name=name, task="app.tasks.report", cron="0 * * * *", **options)


def fire_once(job: StoredJob, has_active_run: bool, now: datetime) -> SlotPlan:
    """One pending run for the due slot; next slot an hour later."""
    assert job.next_run_at is not None
    return SlotPlan(
        runs=(NewRun(scheduled_for=job.next_run_at, due_at=job.next_run_at),),
        next_run_at=job.next_run_at + HOUR,
    )


# -- instants ----------------------------------------------------------------------


def test_instants_come_back_aware_in_utc(sql_store: SQLAlchemyStore) -> None:
    start = datetime(2026, 3, 1, 10, 30, 0, 123456, tzinfo=BERLIN_WINTER)
    saved = sql_store.save_job(hourly("report", start=start), now=NOW - HOUR)
    job = sql_store.get_job("report")
    instants = [job.spec.start, job.next_run_at, job.created_at, job.updated_at]
    assert all(instant is not None and instant.tzinfo is UTC for instant in instants)
    assert job.spec.start == start
    assert job.spec.start.isoformat() == "2026-03-01T09:30:00.123456+00:00"  # type: ignore[union-attr]
    assert job == saved
    slot = datetime(2026, 3, 1, 13, tzinfo=BERLIN_WINTER)
    run = sql_store.add_run("report", NewRun(scheduled_for=slot, due_at=slot))
    stored = sql_store.get_run(run.id)
    assert stored.scheduled_for.tzinfo is UTC
    assert stored.scheduled_for.isoformat() == "2026-03-01T12:00:00+00:00"
    assert stored == run


#: A spec that sets every field a job row stores.
EVERYTHING = JobSpec.build(
    name="everything",
    task="app.tasks.report",
    cron="H 2 * * 1-5",
    timezone="Europe/Berlin",
    args=[1, 2.5, "drei", None, [True], {"x": "ü"}],
    kwargs={"to": ["ops@example.com"], "nested": {"deep": [1, {"k": None}]}},
    enabled=False,
    start=datetime(2026, 1, 1, tzinfo=UTC),
    end=datetime(2027, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    catchup="all",
    max_catchup=7,
    catchup_window=timedelta(hours=6),
    overlap="queue",
    jitter=timedelta(seconds=0.25),
    timeout=timedelta(minutes=5, microseconds=1),
    retries=3,
    retry_backoff=timedelta(seconds=1.5),
    retry_backoff_max=timedelta(minutes=10),
    executor="celery",
    queue="reports",
    description="Weekday report, hashed minute",
    source="admin",
)


#: An interval job with an anchor, and a one-off job.
OTHER_KINDS = (
    JobSpec.build(
        name="interval",
        task="app.tasks.poll",
        every="1h30m",
        start=datetime(2026, 2, 1, 0, 7, tzinfo=UTC),
    ),
    JobSpec.build(name="one-off", task="app.tasks.remind", at=NOW + timedelta(days=3)),
)


@pytest.mark.parametrize(
    "spec",
    [EVERYTHING, *OTHER_KINDS],
    ids=["cron-with-every-option", "every-with-anchor", "at"],
)
def test_every_field_of_a_spec_survives_the_database(
    sql_store: SQLAlchemyStore, spec: JobSpec
) -> None:
    saved = sql_store.save_job(spec, now=NOW)
    fresh = SQLAlchemyStore(str(sql_store.engine.url.render_as_string(hide_password=False)))
    try:
        job = fresh.get_job(spec.name)  # built from the columns, not from a cache
    finally:
        fresh.dispose()
    assert job.spec == spec
    assert job.definition_hash == spec.definition_hash() == saved.definition_hash
    assert job == saved
    assert sql_store.save_job(spec, now=NOW + HOUR) == saved  # unchanged: not rewritten


def test_sqlite_keeps_instants_as_utc_text_that_sorts(sqlite_url: str) -> None:
    store = SQLAlchemyStore(sqlite_url)
    store.create_schema()
    try:
        start = datetime(2026, 3, 1, 10, 30, tzinfo=BERLIN_WINTER)
        store.save_job(hourly("report", start=start), now=NOW)
        with store.engine.connect() as conn:
            raw = conn.execute(text("SELECT start_at, next_run_at FROM scheduler_job")).one()
        assert tuple(raw) == ("2026-03-01 09:30:00.000000", "2026-03-01 13:00:00.000000")
    finally:
        store.dispose()


def test_naive_instants_are_refused_on_the_way_in(sql_store: SQLAlchemyStore) -> None:
    sql_store.save_job(hourly("report"), now=NOW)
    naive = datetime(2026, 3, 1, 12)
    with pytest.raises(ValueError, match="timezone-aware"):
        sql_store.save_job(hourly("other"), now=naive)
    with pytest.raises(StatementError) as raised, sql_store.engine.begin() as conn:
        conn.execute(update(job_table).values(next_run_at=naive))
    assert isinstance(raised.value.orig, ValueError)


# -- the schema ----------------------------------------------------------------------

JOB_COLUMNS = [
    "id", "name", "task", "args", "kwargs", "cron", "every_seconds", "anchor_at", "run_at",
    "timezone", "enabled", "start_at", "end_at", "catchup", "max_catchup",
    "catchup_window_seconds", "overlap", "jitter_seconds", "timeout_seconds", "retries",
    "retry_backoff_seconds", "retry_backoff_max_seconds", "executor", "queue", "description",
    "source", "definition_hash", "next_run_at", "paused_at", "removed_at", "version",
    "created_at", "updated_at", "notify", "max_memory_bytes", "calendar", "solar",
    "chain_after", "chain_when", "chain_upstreams",
]  # fmt: skip
JOB_NULLABLE = {
    "cron", "every_seconds", "anchor_at", "run_at", "start_at", "end_at",
    "catchup_window_seconds", "timeout_seconds", "queue", "next_run_at", "paused_at",
    "removed_at", "notify", "max_memory_bytes", "calendar", "solar", "chain_after",
    "chain_when", "chain_upstreams",
}  # fmt: skip
RUN_COLUMNS = [
    "id", "job_id", "scheduled_for", "due_at", "attempt", "trigger", "status", "claimed_at",
    "started_at", "finished_at", "duration_seconds", "result", "error", "traceback",
    "executor", "external_id", "replica_id", "worker", "heartbeat_at", "upstream_run_id",
    "chained_at",
]  # fmt: skip
RUN_NULLABLE = {
    "claimed_at", "started_at", "finished_at", "duration_seconds", "result", "heartbeat_at",
    "upstream_run_id", "chained_at",
}  # fmt: skip
REPLICA_COLUMNS = ["id", "hostname", "pid", "started_at", "heartbeat_at", "stopped_at"]
INSTANT_COLUMNS = {
    "scheduler_job": {
        "anchor_at", "run_at", "start_at", "end_at", "next_run_at", "paused_at", "removed_at",
        "created_at", "updated_at",
    },
    "scheduler_run": {
        "scheduled_for", "due_at", "claimed_at", "started_at", "finished_at", "heartbeat_at",
        "chained_at",
    },
    "scheduler_replica": {"started_at", "heartbeat_at", "stopped_at"},
}  # fmt: skip


def test_schema_has_exactly_the_names_the_django_app_reproduces(
    sql_store: SQLAlchemyStore,
) -> None:
    inspector = inspect(sql_store.engine)
    assert sorted(inspector.get_table_names()) == [
        "scheduler_job",
        "scheduler_job_upstream",
        "scheduler_replica",
        "scheduler_run",
    ]
    columns = {
        table: {column["name"]: column for column in inspector.get_columns(table)}
        for table in ("scheduler_job", "scheduler_run", "scheduler_replica")
    }
    assert list(columns["scheduler_job"]) == JOB_COLUMNS
    assert list(columns["scheduler_run"]) == RUN_COLUMNS
    assert list(columns["scheduler_replica"]) == REPLICA_COLUMNS
    nullable = {name for name, column in columns["scheduler_job"].items() if column["nullable"]}
    assert nullable == JOB_NULLABLE
    nullable = {name for name, column in columns["scheduler_run"].items() if column["nullable"]}
    assert nullable == RUN_NULLABLE

    for table in ("scheduler_job", "scheduler_run", "scheduler_replica"):
        assert inspector.get_pk_constraint(table)["constrained_columns"] == ["id"]
    assert _unique(inspector, "scheduler_job") == {"scheduler_job_name_uniq": ["name"]}
    # MariaDB and MySQL report the upstream run's unique index as a constraint too.
    unique = _unique(inspector, "scheduler_run")
    unique.pop("scheduler_run_upstream_uniq", None)
    assert unique == {"scheduler_run_slot_uniq": ["job_id", "scheduled_for", "attempt"]}
    assert _indexes(inspector, "scheduler_job") == {
        "scheduler_job_due_idx": ["enabled", "next_run_at"],
        "scheduler_job_chain_idx": ["chain_after"],
    }
    assert _indexes(inspector, "scheduler_run") == {
        "scheduler_run_pending_idx": ["status", "due_at"],
        "scheduler_run_history_idx": ["job_id", "scheduled_for"],
        "scheduler_run_replica_idx": ["replica_id", "status"],
        "scheduler_run_active_idx": ["job_id", "status"],  # partial: runs that have not ended
        "scheduler_run_window_idx": ["scheduled_for", "job_id", "status"],
        "scheduler_run_chain_idx": ["job_id", "chained_at", "finished_at"],
    }
    unique_indexes = {
        index["name"]: index["column_names"]
        for index in inspector.get_indexes("scheduler_run")
        if index["unique"] and index["name"] != "scheduler_run_slot_uniq"
    }
    assert unique_indexes == {"scheduler_run_upstream_uniq": ["job_id", "upstream_run_id"]}
    [foreign_key] = inspector.get_foreign_keys("scheduler_run")
    assert foreign_key["constrained_columns"] == ["job_id"]
    assert (foreign_key["referred_table"], foreign_key["referred_columns"]) == (
        "scheduler_job",
        ["id"],
    )
    assert foreign_key["options"].get("ondelete") == "CASCADE"

    # A join's upstreams: one row each, found by name.
    upstream = "scheduler_job_upstream"
    assert [column["name"] for column in inspector.get_columns(upstream)] == [
        "id",
        "job_id",
        "position",
        "name",
    ]
    assert _unique(inspector, upstream) == {"scheduler_job_upstream_uniq": ["job_id", "name"]}
    assert _indexes(inspector, upstream) == {"scheduler_job_upstream_idx": ["name"]}
    [foreign_key] = inspector.get_foreign_keys(upstream)
    assert (foreign_key["constrained_columns"], foreign_key["referred_table"]) == (
        ["job_id"],
        "scheduler_job",
    )
    assert foreign_key["options"].get("ondelete") == "CASCADE"

    if sql_store.engine.dialect.name == "postgresql":
        for table, names in INSTANT_COLUMNS.items():
            for name in names:
                kind = columns[table][name]["type"]
                assert isinstance(kind, DateTime) and kind.timezone, (table, name)
        assert str(columns["scheduler_job"]["id"]["type"]) == "BIGINT"
        assert str(columns["scheduler_run"]["job_id"]["type"]) == "BIGINT"


def _unique(inspector: Any, table: str) -> dict[str, list[str]]:
    found = inspector.get_unique_constraints(table)
    return {constraint["name"]: constraint["column_names"] for constraint in found}


def _indexes(inspector: Any, table: str) -> dict[str, list[str]]:
    # PostgreSQL reports the indexes behind unique constraints too.
    found = [index for index in inspector.get_indexes(table) if not index["unique"]]
    return {index["name"]: index["column_names"] for index in found}


def test_drop_schema_removes_the_tables_and_create_schema_is_idempotent(
    sql_store: SQLAlchemyStore,
) -> None:
    sql_store.create_schema()
    sql_store.drop_schema()
    assert inspect(sql_store.engine).get_table_names() == []
    sql_store.create_schema()
    assert sql_store.list_jobs() == []


# -- URLs and engines -------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://tick:secret@db.example:5433/tickwork",
        "postgres://tick:secret@db.example:5433/tickwork",
        "postgresql+psycopg://tick:secret@db.example:5433/tickwork",
    ],
)
def test_postgresql_urls_mean_psycopg_3(url: str) -> None:
    store = SQLAlchemyStore(url)  # builds the engine; connects only when used
    try:
        parsed = store.engine.url
        assert parsed.drivername == "postgresql+psycopg"
        assert (parsed.username, parsed.password) == ("tick", "secret")
        assert (parsed.host, parsed.port, parsed.database) == ("db.example", 5433, "tickwork")
        assert "secret" not in repr(store)
    finally:
        store.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize(("given", "threshold"), [("0", 0), ("7", 7), ("none", None)])
def test_a_postgresql_url_can_set_psycopgs_prepare_threshold(
    postgres_url: str, given: str, threshold: int | None
) -> None:
    store = SQLAlchemyStore(f"{postgres_url}?prepare_threshold={given}")
    try:
        store.create_schema()
        store.save_job(JobSpec.build(name="a", task="app.tasks.a", every=60), now=NOW)
        assert store.get_job("a").spec.name == "a"
        with store.engine.connect() as conn:
            driver = conn.connection.driver_connection
            assert driver is not None and driver.prepare_threshold == threshold
        assert "prepare_threshold" not in store.engine.url.query
    finally:
        store.dispose()


@pytest.mark.parametrize("given", ["soon", "-1", "2.5"])
def test_a_prepare_threshold_that_is_no_whole_number_is_refused_by_name(given: str) -> None:
    with pytest.raises(ValueError, match=f"prepare_threshold must be a whole number.*'{given}'"):
        SQLAlchemyStore(f"postgresql://tick@db.example/tickwork?prepare_threshold={given}")


def test_an_engine_can_be_passed_in(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    store = SQLAlchemyStore(sqlite_url, engine=engine)
    try:
        assert store.engine is engine
        store.create_schema()
        store.save_job(hourly("report"), now=NOW)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_an_in_memory_sqlite_database_is_one_database() -> None:
    store = SQLAlchemyStore("sqlite://")
    try:
        store.create_schema()
        store.save_job(hourly("report"), now=NOW)
        assert [job.spec.name for job in store.list_jobs()] == ["report"]
    finally:
        store.dispose()


# -- SQLite: the write lock ------------------------------------------------------------


@pytest.fixture
def two_sqlite_stores(sqlite_url: str) -> Iterator[tuple[SQLAlchemyStore, SQLAlchemyStore]]:
    first, second = SQLAlchemyStore(sqlite_url), SQLAlchemyStore(sqlite_url)
    first.create_schema()
    first.save_job(hourly("report"), now=NOW - HOUR)
    try:
        yield first, second
    finally:
        first.dispose()
        second.dispose()


def statements_of(store: SQLAlchemyStore) -> list[str]:
    """A list that fills with every statement ``store`` sends from now on."""
    sent: list[str] = []

    def record(_conn: Connection, _cursor: object, statement: str, *_: object) -> None:
        sent.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    return sent


def test_sqlite_claims_begin_immediate_and_reads_take_no_lock(
    two_sqlite_stores: tuple[SQLAlchemyStore, SQLAlchemyStore],
) -> None:
    store, _ = two_sqlite_stores
    sent = statements_of(store)
    assert store.next_wake() == NOW
    assert not any(statement.startswith("BEGIN") for statement in sent)
    sent.clear()
    store.claim_due(now=NOW, replica_id="r1", limit=10, plan=fire_once)
    assert sent[0] == "BEGIN IMMEDIATE"
    assert sent.count("BEGIN IMMEDIATE") == 1


class BlockingPlanner:
    """Plans like :func:`fire_once`, but first waits, inside the claim, to be released."""

    def __init__(self) -> None:
        self.inside = threading.Event()
        self.release = threading.Event()

    def __call__(self, job: StoredJob, has_active_run: bool, now: datetime) -> SlotPlan:
        self.inside.set()
        assert self.release.wait(10), "the test never released the planner"
        return fire_once(job, has_active_run, now)


def test_a_second_sqlite_writer_waits_for_the_first_instead_of_claiming_too(
    two_sqlite_stores: tuple[SQLAlchemyStore, SQLAlchemyStore],
) -> None:
    first, second = two_sqlite_stores
    blocking = BlockingPlanner()
    results: dict[str, list[Any]] = {}

    def claim(store: SQLAlchemyStore, name: str, plan: Any) -> None:
        results[name] = store.claim_due(now=NOW, replica_id=name, limit=10, plan=plan)

    holder = threading.Thread(target=claim, args=(first, "first", blocking))
    holder.start()
    assert blocking.inside.wait(10)
    waiter = threading.Thread(target=claim, args=(second, "second", fire_once))
    waiter.start()
    waiter.join(0.5)
    assert waiter.is_alive(), "the second writer did not wait for the write lock"
    # Readers are not blocked by the writer (WAL).
    assert second.get_job("report").next_run_at == NOW
    blocking.release.set()
    holder.join(10)
    waiter.join(10)
    assert [c.run.scheduled_for for c in results["first"]] == [NOW]
    assert results["second"] == []
    assert [run.replica_id for run in second.list_runs()] == ["first"]
    assert second.get_job("report").next_run_at == NOW + HOUR


def test_a_sqlite_writer_gives_up_when_its_busy_timeout_runs_out(
    two_sqlite_stores: tuple[SQLAlchemyStore, SQLAlchemyStore],
) -> None:
    first, _ = two_sqlite_stores
    impatient_engine = create_engine(first.engine.url, connect_args={"timeout": 0.05})
    impatient = SQLAlchemyStore(str(first.engine.url), engine=impatient_engine)
    blocking = BlockingPlanner()
    holder = threading.Thread(
        target=first.claim_due,
        kwargs={"now": NOW, "replica_id": "first", "limit": 10, "plan": blocking},
    )
    holder.start()
    try:
        assert blocking.inside.wait(10)
        # Transient by nature: the engine backs off and tries again.
        with pytest.raises(StoreUnavailable, match="database is locked") as caught:
            impatient.claim_due(now=NOW, replica_id="impatient", limit=10, plan=fire_once)
        assert isinstance(caught.value.__cause__, OperationalError)
    finally:
        blocking.release.set()
        holder.join(10)
        impatient_engine.dispose()
    assert [run.replica_id for run in first.list_runs()] == ["first"]


def test_a_missing_table_is_an_error_of_the_schema_not_an_outage(
    sql_store: SQLAlchemyStore,
) -> None:
    # sqlite3 raises OperationalError for "no such table" too: waiting would not help.
    with sql_store.engine.begin() as conn:
        conn.execute(text("DROP TABLE scheduler_replica"))
    with pytest.raises(SQLAlchemyError, match="scheduler_replica") as caught:
        sql_store.heartbeat("r1", hostname="h", pid=1, now=NOW)
    assert not isinstance(caught.value, StoreUnavailable)


def test_only_postgresql_can_listen_for_changes(sql_store: SQLAlchemyStore) -> None:
    assert isinstance(sql_store, NotifiesChanges)
    listener = sql_store.listen_for_changes()
    try:
        if sql_store.engine.dialect.name != "postgresql":
            assert listener is None  # nothing to listen to: engines poll
        else:
            assert isinstance(listener, ChangeListener)
    finally:
        if listener is not None:
            listener.close()


# -- duplicates and the spec cache ---------------------------------------------------


def test_a_claim_leaves_a_taken_slot_out_and_the_constraint_still_refuses_a_second_run(
    sql_store: SQLAlchemyStore,
) -> None:
    # The claim's insert skips the slot b's run holds (the constraint's own
    # conflict clause, or a read first on MariaDB); add_run, asking outright,
    # is refused by the constraint itself.
    for name in ("a", "b"):
        sql_store.save_job(hourly(name), now=NOW - HOUR)
    sql_store.add_run("b", NewRun(scheduled_for=NOW, due_at=NOW))
    claimed = sql_store.claim_due(now=NOW, replica_id="r1", limit=10, plan=fire_once)
    assert [c.run.job_name for c in claimed] == ["a"]
    runs = sorted((run.job_name, run.replica_id) for run in sql_store.list_runs())
    assert runs == [("a", "r1"), ("b", "")]
    assert {job.next_run_at for job in sql_store.list_jobs()} == {NOW + HOUR}
    with pytest.raises(DuplicateRun) as raised:
        sql_store.add_run("b", NewRun(scheduled_for=NOW, due_at=NOW))
    assert isinstance(raised.value.__cause__, IntegrityError)


def test_specs_are_rebuilt_when_another_replica_changes_the_job(database_url: str) -> None:
    here, there = SQLAlchemyStore(database_url), SQLAlchemyStore(database_url)
    here.create_schema()
    seen: list[JobSpec] = []

    def record(job: StoredJob, has_active_run: bool, now: datetime) -> SlotPlan:
        seen.append(job.spec)
        return SlotPlan(runs=(), next_run_at=job.next_run_at)

    try:
        here.save_job(hourly("report"), now=NOW - HOUR)
        here.claim_due(now=NOW, replica_id="r1", limit=10, plan=record)
        here.claim_due(now=NOW, replica_id="r1", limit=10, plan=record)
        assert seen[0] is seen[1]  # built once, then served from the cache
        changed = there.save_job(hourly("report", description="now with words"), now=NOW - HOUR)
        here.claim_due(now=NOW, replica_id="r1", limit=10, plan=record)
        assert seen[2] == changed.spec
        assert seen[2].description == "now with words"
    finally:
        here.dispose()
        there.dispose()


def test_marking_a_run_finished_records_its_duration(sql_store: SQLAlchemyStore) -> None:
    from scheduler.model.runs import Outcome

    sql_store.save_job(hourly("report"), now=NOW - HOUR)
    [claimed] = sql_store.claim_due(now=NOW, replica_id="r1", limit=10, plan=fire_once)
    assert sql_store.mark_running(claimed.run.id, worker="host:1", now=NOW)
    finished = Outcome(status=RunStatus.SUCCEEDED, finished_at=NOW + timedelta(seconds=2.5))
    sql_store.mark_finished(claimed.run.id, finished)
    with sql_store.engine.connect() as conn:
        duration = conn.execute(text("SELECT duration_seconds FROM scheduler_run")).scalar()
    assert duration == 2.5
    assert sql_store.get_run(claimed.run.id).duration == 2.5


def test_a_pending_run_a_dead_replica_had_claimed_is_released(sql_store: SQLAlchemyStore) -> None:
    """Claims queue their runs, but a database may hold a run claimed and left
    ``pending`` (by an earlier version): it was never handed over, so recovery
    gives it back to the due-queue."""
    sql_store.save_job(hourly("report"), now=NOW - HOUR)
    run = sql_store.add_run("report", NewRun(scheduled_for=NOW - HOUR, due_at=NOW - HOUR))
    with sql_store.engine.begin() as conn:
        conn.execute(
            update(run_table)
            .where(run_table.c.id == run.id)
            .values(replica_id="dead", claimed_at=NOW - HOUR)
        )
    report = sql_store.recover(now=NOW, stale_after=timedelta(minutes=1))
    assert report == RecoveryReport(released=(run.id,))
    assert sql_store.get_run(run.id) == run
    [again] = sql_store.claim_pending(now=NOW, replica_id="live", limit=10)
    assert (again.run.id, again.run.status, again.run.replica_id) == (
        run.id,
        RunStatus.QUEUED,
        "live",
    )
