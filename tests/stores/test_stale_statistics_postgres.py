"""A run's start and end stay primary-key probes when the run table has no statistics.

psycopg prepares a statement it has sent a few times, and PostgreSQL then may
use a generic plan, chosen without the parameters' values.  On a run table
filled since it was created (a server without autovacuum, or before it gets
there), the planner still believes the partial index of not-ended runs is
empty, and the start's ``status IN ('pending', 'queued')`` looked like a free
index read: the generic plan read every not-ended run's index entry, dead ones
included, on every start, and a replica in steady work slowed down as its
history grew.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from scheduler.model.jobs import JobSpec
from scheduler.model.runs import RunStatus
from scheduler.stores.sqlalchemy import SQLAlchemyStore
from scheduler.stores.sqlalchemy.batches import _NOT_STARTABLE, _PG_START
from tests.partitioned_runs import dsn
from tests.stores.test_idle_query_count import _add_jobs, _idle_wake_up, _plan

pytestmark = [pytest.mark.postgres]

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)
RUNS = 20_000


def test_a_start_reads_its_runs_by_primary_key_without_statistics(postgres_url: str) -> None:
    store = SQLAlchemyStore(postgres_url)
    store.create_schema()
    try:
        store.save_job(JobSpec.build(name="a", task="app.tasks.a", every=60), now=NOW)
    finally:
        store.dispose()
    connect = psycopg.Connection.connect
    with connect(dsn(postgres_url), autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
        # Runs written since the table was created, half of them not ended,
        # as in steady work; no ANALYZE since.
        conn.execute(
            "INSERT INTO scheduler_run (job_id, scheduled_for, due_at, attempt, trigger, "
            "status, error, traceback, executor, external_id, replica_id, worker) "
            "SELECT job.id, %(now)s + g * interval '1 minute', %(now)s, 1, 'schedule', "
            "CASE WHEN g %% 2 = 0 THEN 'queued' ELSE 'succeeded' END, '', '', 'default', '', "
            "'r1', '' FROM scheduler_job AS job, generate_series(1, %(runs)s) AS g",
            {"now": NOW, "runs": RUNS},
        )
        # The plan psycopg's prepared statement gets once it is generic.
        conn.execute("SET plan_cache_mode = force_generic_plan")
        conn.execute(f"PREPARE start_runs AS {_numbered(_PG_START)}")
        explain = "EXPLAIN EXECUTE start_runs(%s, %s, %s, %s)"
        params = ([2], [NOW], ["w"], _NOT_STARTABLE)
        plan = "\n".join(str(row[0]) for row in conn.execute(explain, params))
    assert "scheduler_run_pkey" in plan, plan
    assert "Seq Scan on scheduler_run" not in plan, plan
    for index in ("scheduler_run_active_idx", "scheduler_run_pending_idx"):
        assert index not in plan, plan


def _numbered(statement: str) -> str:
    """``statement`` with its named placeholders as ``$1``, ``$2``... in order."""
    names = re.findall(r"%\((\w+)\)b", statement)
    for number, name in enumerate(dict.fromkeys(names), start=1):
        statement = statement.replace(f"%({name})b", f"${number}")
    return statement


def test_the_statuses_a_run_cannot_start_from_are_all_but_pending_and_queued() -> None:
    assert set(_NOT_STARTABLE) == {status.value for status in RunStatus} - {"pending", "queued"}


def test_a_statement_prepared_on_a_small_table_is_planned_again_once_it_grew(
    postgres_url: str,
) -> None:
    """psycopg prepares a statement the fifth time it is sent, and PostgreSQL
    may keep one plan for it after five more: the plan a replica's statements
    get in its first seconds must not stay once the run table has grown (see
    ``connections.install_postgresql_hooks``)."""
    store = SQLAlchemyStore(postgres_url)
    store.create_schema()
    try:
        store.save_job(JobSpec.build(name="a", task="app.tasks.a", every=60), now=NOW)
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW plan_cache_mode").scalar() == "force_custom_plan"
            fill = (
                "INSERT INTO scheduler_run (job_id, scheduled_for, due_at, attempt, trigger, "
                "status, error, traceback, executor, external_id, replica_id, worker) "
                "SELECT job.id, %(now)s + g * interval '1 minute', %(now)s, 1, 'schedule', "
                "'succeeded', '', '', 'default', '', 'r1', '' "
                "FROM scheduler_job AS job, "
                "generate_series(%(first)s::integer, %(last)s::integer) AS g"
            )
            conn.exec_driver_sql(fill, {"now": NOW, "first": 1, "last": 200})
            start = {"ids": [0], "at": [NOW], "worker": ["w"], "not_startable": _NOT_STARTABLE}
            for _ in range(20):  # prepared, while the table is a few pages
                conn.exec_driver_sql(_PG_START, start).all()
            conn.exec_driver_sql(fill, {"now": NOW, "first": 201, "last": RUNS})

            [name] = conn.exec_driver_sql(
                "SELECT name FROM pg_prepared_statements WHERE statement LIKE %(like)s",
                {"like": "UPDATE scheduler_run SET status = 'running'%"},
            ).scalars()
            values = "ARRAY[0]::bigint[], ARRAY[now()], ARRAY['w'], ARRAY['running']"
            explain = f"EXPLAIN EXECUTE {name}({values})"
            plan = "\n".join(str(row[0]) for row in conn.exec_driver_sql(explain))
            conn.rollback()
    finally:
        store.dispose()
    assert "Seq Scan on scheduler_run" not in plan, plan
    assert "scheduler_run_pkey" in plan, plan


def test_the_chains_part_of_next_wake_reads_no_ended_run_without_statistics(
    postgres_url: str,
) -> None:
    """A run table filled since its last ``ANALYZE`` (a server without
    autovacuum, or one that has not got to it yet) has no statistics: the
    chains' part of ``next_wake`` must still probe the runs per upstream job,
    not scan every ended run, a cost that grew with the history."""
    sql_store = SQLAlchemyStore(postgres_url)
    sql_store.create_schema()
    try:
        _chains_plan_without_statistics(sql_store)
    finally:
        sql_store.dispose()


def _chains_plan_without_statistics(sql_store: SQLAlchemyStore) -> None:
    _add_jobs(sql_store, 5_000)  # 5,000 ended runs, none followed, and no chain
    with sql_store.engine.begin() as conn:
        conn.exec_driver_sql(
            "DELETE FROM pg_statistic WHERE starelid IN "
            "('scheduler_run'::regclass, 'scheduler_job'::regclass)"
        )
        conn.exec_driver_sql(
            "UPDATE pg_class SET reltuples = -1, relpages = 0 "
            "WHERE relname IN ('scheduler_run', 'scheduler_job')"
        )
    wake, sent = _idle_wake_up(sql_store)
    assert wake == NOW + HOUR
    plan = _plan(sql_store, sent[0])
    assert "Seq Scan on scheduler_run" not in plan, plan
    assert "scheduler_run_chain_idx" in plan, plan
