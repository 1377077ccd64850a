"""Workload 6, the floor: what the database and croniter cost with no scheduler at all.

* Inserting N run rows into Tickwork's own ``scheduler_run`` table, straight
  through the driver, in batches of 1,000 (the engine's batch size) with one
  commit per batch: ``executemany`` on SQLite (``sqlite3``) and PostgreSQL
  (psycopg 3, which pipelines it), and ``COPY`` on PostgreSQL.  The rows are
  built before the clock starts; the engine must also build them, choose
  them and advance its jobs, so this is a lower bound, not a target.
* One row per transaction, for comparison with schedulers that commit every
  run on its own.
* croniter: building an iterator, and asking it for the next time.

The summary reports each Tickwork herd as a multiple of this floor.

    python -m benchmarks.floor --jobs 1000,10000,100000
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .common import (
    Database,
    Result,
    case_workdir,
    emit,
    postgres_reachable,
    throwaway_database,
    workload_arguments,
)

WORKLOAD = "floor"
BATCH = 1000
SINGLE_ROWS = 500
RUN_COLUMNS = (
    "job_id", "scheduled_for", "due_at", "attempt", "trigger", "status", "claimed_at",
    "error", "traceback", "executor", "external_id", "replica_id", "worker",
)  # fmt: skip


@contextlib.contextmanager
def _tickwork_tables(kind: str, jobs: int, workdir: Path) -> Iterator[Database]:
    """A throwaway database with Tickwork's tables and ``jobs`` jobs to hang runs on."""
    from scheduler.model.jobs import JobSpec
    from scheduler.stores.sqlalchemy import SQLAlchemyStore

    with throwaway_database(kind, workdir) as database:
        store = SQLAlchemyStore(database.sqlalchemy_url)
        store.create_schema()
        spec = JobSpec.build(name="job-000000", task="bench.noop", cron="* * * * *")
        store.save_job(spec, now=datetime.now(UTC))
        store.dispose()
        _copy_job(database, jobs - 1)
        yield database


def _copy_job(database: Database, copies: int) -> None:
    """Copy job-000000 under ``copies`` new names, in one statement."""
    connection = _connect(database)
    cursor = connection.cursor()
    cursor.execute("SELECT * FROM scheduler_job LIMIT 0")
    names = [column[0] for column in cursor.description if column[0] != "id"]
    values = ", ".join("'job-' || i" if name == "name" else f"t.{name}" for name in names)
    insert = f"INSERT INTO scheduler_job ({', '.join(names)}) "
    select = f"SELECT {values} FROM counter, scheduler_job t WHERE t.name = 'job-000000'"  # noqa: S608
    if database.kind == "sqlite":
        counter = "SELECT 1 UNION ALL SELECT i + 1 FROM counter WHERE i < ?"
        cursor.execute(f"WITH RECURSIVE counter(i) AS ({counter}) {insert}{select}", (copies,))
    else:
        counter = "SELECT generate_series(1, %s) AS i"
        cursor.execute(f"WITH counter AS ({counter}) {insert}{select}", (copies,))
    connection.commit()
    connection.close()


def _connect(database: Database) -> Any:
    if database.kind == "sqlite":
        import sqlite3

        connection = sqlite3.connect(database.path)
        connection.execute("PRAGMA journal_mode=WAL")  # as Tickwork's store sets it
        connection.execute("PRAGMA foreign_keys=ON")
        return connection
    import psycopg

    return psycopg.connect(database.sqlalchemy_url.replace("postgresql+psycopg", "postgresql"))


def _rows(database: Database, jobs: int) -> list[tuple[Any, ...]]:
    """One pending, claimed run per job, as the engine would write it."""
    connection = _connect(database)
    ids = [row[0] for row in connection.execute("SELECT id FROM scheduler_job ORDER BY id")]
    connection.close()
    slot = datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    claimed = slot + timedelta(milliseconds=5)
    if database.kind == "sqlite":  # the text form Tickwork's store writes
        as_text = (slot.replace(tzinfo=None), claimed.replace(tzinfo=None))
        slot_value, claim_value = (value.isoformat(sep=" ") for value in as_text)
    else:
        slot_value, claim_value = slot.isoformat(), claimed.isoformat()
    fixed = ("", "", "", "", "replica-1", "")
    row = (slot_value, slot_value, 1, "schedule", "pending", claim_value, *fixed)
    return [(job_id, *row) for job_id in ids[:jobs]]


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _batches(rows: Sequence[tuple[Any, ...]]) -> Iterator[Sequence[tuple[Any, ...]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def _insert_sql(kind: str) -> str:
    marks = ", ".join(["?" if kind == "sqlite" else "%s"] * len(RUN_COLUMNS))
    return f"INSERT INTO scheduler_run ({', '.join(RUN_COLUMNS)}) VALUES ({marks})"  # noqa: S608


def _executemany(database: Database, rows: Sequence[tuple[Any, ...]]) -> float:
    connection = _connect(database)
    cursor = connection.cursor()
    sql = _insert_sql(database.kind)

    def work() -> None:
        for batch in _batches(rows):
            cursor.executemany(sql, batch)
            connection.commit()

    seconds = _timed(work)
    connection.execute("DELETE FROM scheduler_run")
    connection.commit()
    connection.close()
    return seconds


def _copy(database: Database, rows: Sequence[tuple[Any, ...]]) -> float:
    connection = _connect(database)
    statement = f"COPY scheduler_run ({', '.join(RUN_COLUMNS)}) FROM STDIN"

    def work() -> None:
        for batch in _batches(rows):
            with connection.cursor().copy(statement) as copy:
                for row in batch:
                    copy.write_row(row)
            connection.commit()

    seconds = _timed(work)
    connection.execute("DELETE FROM scheduler_run")
    connection.commit()
    connection.close()
    return seconds


def _single_rows(database: Database, rows: Sequence[tuple[Any, ...]]) -> float:
    """Rows per second when each insert is its own transaction."""
    connection = _connect(database)
    sql = _insert_sql(database.kind)
    sample = rows[:SINGLE_ROWS]

    def work() -> None:
        for row in sample:
            connection.execute(sql, row)
            connection.commit()

    seconds = _timed(work)
    connection.execute("DELETE FROM scheduler_run")
    connection.commit()
    connection.close()
    return len(sample) / seconds


def database_floor(kind: str, jobs: int, workdir: Path) -> Result:
    with _tickwork_tables(kind, jobs, workdir) as database:
        rows = _rows(database, jobs)
        result: Result = {"database": kind, "rows": len(rows)}
        seconds = _executemany(database, rows)
        result["executemany_seconds"] = round(seconds, 4)
        result["executemany_rows_per_second"] = round(len(rows) / seconds)
        if kind == "postgresql":
            seconds = _copy(database, rows)
            result["copy_seconds"] = round(seconds, 4)
            result["copy_rows_per_second"] = round(len(rows) / seconds)
        result["single_row_commits_per_second"] = round(_single_rows(database, rows))
    return result


def croniter_floor(repeat: int = 2000) -> Result:
    """Microseconds to build a croniter and to ask it for one next time; and Tickwork's Cron."""
    from croniter import croniter

    from scheduler.schedules import Cron

    start = datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)
    build = _timed(lambda: [croniter("* * * * *", start) for _ in range(repeat)])
    iterator = croniter("* * * * *", start)
    step = _timed(lambda: [iterator.get_next(datetime) for _ in range(repeat)])
    cron = Cron("* * * * *", tz="UTC")
    instants = [start + timedelta(minutes=i) for i in range(repeat)]
    ours = _timed(lambda: [cron.next_after(instant) for instant in instants])
    return {
        "croniter_build_us": round(1e6 * build / repeat, 1),
        "croniter_next_us": round(1e6 * step / repeat, 1),
        "tickwork_cron_next_after_us": round(1e6 * ours / repeat, 1),
    }


def main() -> None:
    parser = workload_arguments(__doc__ or WORKLOAD, default_jobs=(1000, 10000, 100000))
    args = parser.parse_args()
    started = time.perf_counter()
    sizes = [int(size) for size in args.jobs.split(",")]
    kinds = ["sqlite"] + ([] if postgres_reachable() else ["postgresql"])
    cases = []
    with case_workdir(args) as workdir:
        for kind in kinds:
            cases += [database_floor(kind, size, workdir) for size in sizes]
    emit(
        {
            "workload": WORKLOAD,
            "seconds": round(time.perf_counter() - started, 1),
            "inserts": cases,
            "cron": croniter_floor(),
        }
    )


if __name__ == "__main__":
    main()
