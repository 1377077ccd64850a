"""An idle wake-up costs the same few indexed queries at 100 jobs and at 100,000.

The design promises that the cost of a wake-up grows with the number of due
runs, never with the number of jobs.  Here nothing is due for an hour; the
statements one wake-up sends (``next_wake`` + ``claim_due`` + ``claim_pending``)
are counted with a ``before_cursor_execute`` listener, and the database is
asked how it would run each one: no full scan of the job table.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, String, cast, event, func, insert, literal, select

from scheduler.model.jobs import JobSpec
from scheduler.stores.base import SlotPlan, StoredJob
from scheduler.stores.sqlalchemy import SQLAlchemyStore
from scheduler.stores.sqlalchemy.schema import UTCDateTime, job_table, run_table

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)
#: The most statements an idle wake-up may send, on any database.
MAX_IDLE_STATEMENTS = 6


def _never(job: StoredJob, has_active_run: bool, now: datetime) -> SlotPlan:
    raise AssertionError(f"nothing is due, yet {job.spec.name} was planned")


Statement = tuple[str, Any]


def _idle_wake_up(store: SQLAlchemyStore) -> tuple[datetime | None, list[Statement]]:
    """One wake-up with nothing due, and the statements it sent."""
    sent: list[Statement] = []

    def record(_conn: Connection, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        wake = store.next_wake()
        claimed = store.claim_due(now=NOW, replica_id="r1", limit=1000, plan=_never)
        claimed += store.claim_pending(now=NOW, replica_id="r1", limit=1000)
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    assert claimed == []
    return wake, sent


def _add_jobs(store: SQLAlchemyStore, total: int) -> None:
    """``total`` hourly jobs, none due before ``NOW + 1h``, each with one finished run.

    The first job is saved through the store; the database copies its row
    under new names in one ``INSERT ... SELECT``, which takes a moment where
    building 100,000 specs one by one would take a minute.  The run history
    makes sure the run-table queries are indexed too.
    """
    spec = JobSpec.build(name="job-0", task="app.tasks.report", cron="0 * * * *")
    assert store.save_job(spec, now=NOW).next_run_at == NOW + HOUR
    counter = select(literal(1).label("i")).cte("counter", recursive=True)
    counter = counter.union_all(select(counter.c.i + 1).where(counter.c.i < total - 1))
    template = job_table.alias("template")
    copied = [column.name for column in job_table.c if column.name != "id"]
    renamed = literal("job-") + cast(counter.c.i, String)
    copies = select(*[renamed if name == "name" else template.c[name] for name in copied])
    copies = copies.select_from(counter.join(template, template.c.name == "job-0"))
    finished = literal(NOW - HOUR, UTCDateTime())
    history = select(
        job_table.c.id,
        finished,
        finished,
        literal(1),
        literal("schedule"),
        literal("succeeded"),
        finished,
        literal(""),
        literal(""),
        literal(""),
        literal(""),
        literal(""),
        literal(""),
    )
    history_columns = [
        "job_id", "scheduled_for", "due_at", "attempt", "trigger", "status",
        "finished_at", "error", "traceback", "executor", "external_id", "replica_id", "worker",
    ]  # fmt: skip
    with store.engine.begin() as conn:
        if conn.dialect.name == "mysql":  # MariaDB stops a recursive query at 1,000 rows
            conn.exec_driver_sql(f"SET SESSION max_recursive_iterations = {total}")
        conn.execute(insert(job_table).from_select(copied, copies))
        conn.execute(insert(run_table).from_select(history_columns, history))
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE scheduler_job")
            conn.exec_driver_sql("ANALYZE scheduler_run")
        if conn.dialect.name == "mysql":
            conn.exec_driver_sql("ANALYZE TABLE scheduler_job, scheduler_run").all()
    with store.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(job_table)) == total
        assert conn.scalar(select(func.count()).select_from(run_table)) == total


def _plan(store: SQLAlchemyStore, statement: Statement) -> str:
    text, parameters = statement
    if text.upper().startswith("BEGIN"):
        return ""
    explain = "EXPLAIN QUERY PLAN " if store.engine.dialect.name == "sqlite" else "EXPLAIN "
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(explain + text, parameters).mappings().all()
    if store.engine.dialect.name == "mysql":  # a row per table read, and how (type)
        return "\n".join(f"{r['table']} type={r['type']} key={r['key']} {r['Extra']}" for r in rows)
    return "\n".join(str(list(row.values())[-1]) for row in rows)


def _full_scans(plan: str) -> list[str]:
    """Plan lines that read a whole table (SQLite: SCAN; PostgreSQL: Seq Scan;
    MariaDB: type ALL, or an index read from end to end, type index)."""
    return [
        line
        for line in plan.splitlines()
        if "SCAN scheduler_" in line
        or "Seq Scan" in line
        or (line.startswith("scheduler_") and (" type=ALL " in line or " type=index " in line))
    ]


def test_idle_wake_up_is_a_few_statements_whatever_the_number_of_jobs(
    sql_store: SQLAlchemyStore,
) -> None:
    counts = {}
    plans: list[str] = []
    for total in (100, 100_000):
        sql_store.drop_schema()
        sql_store.create_schema()
        _add_jobs(sql_store, total)
        _idle_wake_up(sql_store)  # the first connection also asks the server about itself
        wake, sent = _idle_wake_up(sql_store)
        assert wake == NOW + HOUR
        counts[total] = len(sent)
        plans = [_plan(sql_store, statement) for statement in sent]
    assert counts[100] == counts[100_000] <= MAX_IDLE_STATEMENTS, counts
    assert [line for plan in plans for line in _full_scans(plan)] == [], "\n\n".join(plans)
