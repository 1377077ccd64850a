"""How a claim's runs reach PostgreSQL: the crossover between INSERT ... unnest and COPY.

A claim must insert its runs in the transaction that advances its jobs, and a
run whose slot already exists must be dealt with at the insert (today it is
refused; it may be skipped), so ``COPY`` cannot write into ``scheduler_run``
itself: one conflicting row would fail the whole ``COPY``.  The way it could
serve is ``COPY`` into a temporary table, then ``INSERT ... SELECT ... ON
CONFLICT ... RETURNING`` from it.  Measured here against the store's own insert
(``INSERT ... SELECT ... FROM unnest(arrays) RETURNING``), with every column as
an array (as before 0.1's herd work) and with the batch's constant columns sent
once, for batches of 10 to 10,000 runs, each committed: the median of
``--repeat`` batches, wall time and CPU time of this process.

    python -m benchmarks.insert_paths --jobs 10,100,1000,10000
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .common import case_workdir, emit, postgres_reachable, throwaway_database, workload_arguments

WORKLOAD = "insert-paths"
Row = Mapping[str, Any]


def _columns() -> list[str]:
    from scheduler.stores.sqlalchemy import bulk

    return [column.name for column in bulk._PER_RUN]


def _rows(ids: Sequence[int], slot: datetime) -> list[Row]:
    """A herd's runs of one slot, claimed: what the store inserts."""
    claimed = slot + timedelta(milliseconds=5)
    return [
        {
            "job_id": job_id,
            "scheduled_for": slot,
            "due_at": slot,
            "attempt": 1,
            "trigger": "schedule",
            "status": "queued",
            "claimed_at": claimed,
            "finished_at": None,
            "executor": "default",
            "replica_id": "r1",
            "upstream_run_id": None,  # a scheduled run follows no other
        }
        for job_id in ids
    ]


def _unnest(conn: Any, rows: Sequence[Row], *, hoist: bool) -> list[Any]:
    from scheduler.stores.sqlalchemy import bulk

    columns = {name: [row[name] for row in rows] for name in _columns()}
    constant = frozenset(
        name
        for name, values in columns.items()
        if hoist and name != "job_id" and bulk.same_values(values)
    )
    params = {name: values[0] if name in constant else values for name, values in columns.items()}
    return list(conn.execute(bulk._postgresql_insert(constant), params).fetchall())


def _copy_then_insert(conn: Any, rows: Sequence[Row]) -> list[Any]:
    from scheduler.stores.sqlalchemy import bulk

    names = ", ".join(f'"{name}"' for name in _columns())
    cursor = conn.cursor()
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS new_run ON COMMIT DELETE ROWS "  # noqa: S608
        f"AS SELECT {names} FROM scheduler_run WITH NO DATA"
    )
    with cursor.copy(f"COPY new_run ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[name] for name in _columns()])
    cursor.execute(
        f"INSERT INTO scheduler_run ({bulk._COLUMN_LIST}) "  # noqa: S608 - names from the schema
        f"SELECT {names}, {bulk._BLANKS} FROM new_run ON CONFLICT DO NOTHING "
        "RETURNING id, job_id, scheduled_for, attempt, replica_id"
    )
    return list(cursor.fetchall())


PATHS: dict[str, Callable[[Any, Sequence[Row]], list[Any]]] = {
    "unnest_every_column_an_array": lambda conn, rows: _unnest(conn, rows, hoist=False),
    "unnest_constants_once": lambda conn, rows: _unnest(conn, rows, hoist=True),
    "copy_to_temp_then_insert": _copy_then_insert,
}


def measure(sizes: Sequence[int], repeat: int, workdir: Path) -> list[dict[str, Any]]:
    import psycopg

    from .systems.tickwork import TickworkHarness

    results = []
    with throwaway_database("postgresql", workdir) as database:
        harness = TickworkHarness(database)
        harness.fill_herd(max(sizes))
        harness.store.dispose()
        url = database.sqlalchemy_url.replace("postgresql+psycopg", "postgresql")
        with psycopg.connect(url) as conn:
            ids = [row[0] for row in conn.execute("SELECT id FROM scheduler_job ORDER BY id")]
            conn.commit()
            slot = datetime(2026, 1, 1, tzinfo=UTC)
            for size in sizes:
                for name, path in PATHS.items():
                    walls, cpus = [], []
                    for _ in range(repeat):
                        slot += timedelta(minutes=1)
                        rows = _rows(ids[:size], slot)
                        cpu, wall = time.process_time(), time.perf_counter()
                        inserted = path(conn, rows)
                        conn.commit()
                        cpus.append(time.process_time() - cpu)
                        walls.append(time.perf_counter() - wall)
                        if len(inserted) != size:
                            raise RuntimeError(f"{name} inserted {len(inserted)} of {size}")
                    results.append(
                        {
                            "rows": size,
                            "path": name,
                            "wall_ms": round(1000 * statistics.median(walls), 2),
                            "cpu_ms": round(1000 * statistics.median(cpus), 2),
                        }
                    )
    return results


def main() -> None:
    parser = workload_arguments(__doc__ or WORKLOAD, default_jobs=(10, 100, 1000, 10000))
    parser.add_argument("--repeat", type=int, default=5, help="batches per size and path")
    args = parser.parse_args()
    started = time.perf_counter()
    unreachable = postgres_reachable()
    sizes = [int(size) for size in args.jobs.split(",")]
    document: dict[str, Any] = {"workload": WORKLOAD, "batches": []}
    if unreachable:
        document["error"] = unreachable
    else:
        with case_workdir(args) as workdir:
            document["batches"] = measure(sizes, args.repeat, workdir)
    document["seconds"] = round(time.perf_counter() - started, 1)
    emit(document)


if __name__ == "__main__":
    main()
