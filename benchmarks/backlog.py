"""Workload: two replicas share a backlog, and one of them stops in the middle of it.

A backlog of N one-off jobs, all due, waits in a PostgreSQL database (as after
an outage).  Two ``tickwork run`` processes, each with a pool of 4 threads,
start on it at the same moment; each run sleeps ``--task-seconds``.  A
replica claims only what its pool can start soon, so the two should split the
backlog and drain it at the speed of their 8 workers together:

* **share**: the runs each replica started, as a fraction of the backlog
  (the promise: each between 35% and 65%), and the drain's wall time;
* **stop**: the same, but the first replica gets SIGTERM once a third of the
  backlog has finished.  The runs it had claimed and not started go back to
  pending (counted as ``released``) and the other replica runs them: at most
  the runs that were running when it stopped end ``cancelled`` or ``lost``.

``tests/chaos/test_shared_backlog.py`` runs :func:`drain` and asserts those
promises; this script prints the numbers as JSON.

    python -m benchmarks.backlog --jobs 2000
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

WORKLOAD = "backlog"
WORKERS = 4
TASKS = """
import time
from scheduler.tasks.registry import job

@job
def work(seconds: float) -> None:
    time.sleep(seconds)
"""
_TERMINAL = ("succeeded", "failed", "timed_out", "skipped", "missed", "lost", "cancelled")


@dataclass(slots=True)
class Drain:
    """What a drain of the backlog by replicas ``a`` and ``b`` did."""

    runs: int
    seconds: float
    started: dict[str, int]  # by replica
    statuses: dict[str, int]  # every run row, by status
    released: int  # runs replica a gave back at its SIGTERM
    running_at_stop: int | None  # runs a had started and not finished when stopped
    runs_per_job: dict[int, int] = field(default_factory=dict)  # how many jobs had N runs

    def share(self, replica: str) -> float:
        return self.started.get(replica, 0) / self.runs


def fill(url: str, runs: int, *, task_seconds: float) -> None:
    """Store ``runs`` one-off jobs that are all due now."""
    from scheduler.model.jobs import JobSpec
    from scheduler.model.policies import JobSource
    from scheduler.stores.sqlalchemy import SQLAlchemyStore

    now = datetime.now(UTC)
    store = SQLAlchemyStore(url)
    store.create_schema()
    specs = [
        JobSpec.build(
            name=f"backlog-{index:05d}",
            task="backlog_tasks.work",
            at=now - timedelta(seconds=1),
            kwargs={"seconds": task_seconds},
        )
        for index in range(runs)
    ]
    store.sync_jobs(specs, source=JobSource.CODE, now=now - timedelta(seconds=5))
    store.dispose()


def drain(
    url: str,
    workdir: Path,
    runs: int,
    *,
    task_seconds: float = 0.02,
    stop_after: float | None = None,
    timeout: float = 120.0,
) -> Drain:
    """Fill the backlog, start replicas ``a`` and ``b``, wait until every run
    ended; with ``stop_after`` (a fraction), SIGTERM ``a`` once that much of
    the backlog finished."""
    (workdir / "backlog_tasks.py").write_text(TASKS)
    fill(url, runs, task_seconds=task_seconds)
    database = _psycopg_url(url)
    started = time.monotonic()
    logs = {name: (workdir / f"replica-{name}.log").open("w") for name in ("a", "b")}
    replicas = {name: _start(url, workdir, name, log) for name, log in logs.items()}
    running_at_stop = None
    try:
        if stop_after is not None:
            _wait(database, lambda ended, _: ended >= stop_after * runs, replicas, timeout)
            running_at_stop = _running(database, "a")
            replicas["a"].send_signal(signal.SIGTERM)
            replicas["a"].wait(timeout=60)
        _wait(database, lambda ended, total: ended == total >= runs, replicas, timeout)
        seconds = time.monotonic() - started
    finally:
        for process in replicas.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in replicas.values():
            process.wait(timeout=60)
        for log in logs.values():
            log.close()
    released = _released((workdir / "replica-a.log").read_text())
    return _measured(database, runs, seconds, released, running_at_stop)


def _start(url: str, workdir: Path, name: str, log: IO[str]) -> subprocess.Popen[str]:
    command = [
        sys.executable, "-m", "scheduler", "run", "--database", url,
        "--pythonpath", str(workdir), "--import", "backlog_tasks",
        "--executor", "thread", "--max-workers", str(WORKERS),
        "--replica-id", name, "--shutdown-grace", "30", "--log-level", "INFO",
    ]  # fmt: skip
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command, stdout=log, stderr=subprocess.STDOUT, text=True, env=dict(os.environ)
    )


def _psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _query(database: str, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(database, autocommit=True) as connection:
        return connection.execute(sql, params).fetchall()  # type: ignore[arg-type]


def _wait(
    database: str, done: Any, replicas: dict[str, subprocess.Popen[str]], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        [(ended, total)] = _query(
            database,
            "SELECT count(*) FILTER (WHERE status = ANY(%s)), count(*) FROM scheduler_run",
            [list(_TERMINAL)],
        )
        if done(ended, total):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{ended} of {total} runs ended after {timeout:g} s")
        if all(process.poll() is not None for process in replicas.values()):
            raise RuntimeError(f"both replicas exited with {ended} of {total} runs ended")
        time.sleep(0.05)


def _running(database: str, replica: str) -> int:
    sql = "SELECT count(*) FROM scheduler_run WHERE replica_id = %s AND status = 'running'"
    return int(_query(database, sql, [replica])[0][0])


def _released(log: str) -> int:
    marker = "gave "
    for line in log.splitlines():
        if marker in line and "claimed runs that had not started back" in line:
            return int(line.split(marker, 1)[1].split()[0])
    return 0


def _measured(
    database: str, runs: int, seconds: float, released: int, running_at_stop: int | None
) -> Drain:
    started = _query(
        database,
        "SELECT replica_id, count(*) FROM scheduler_run "
        "WHERE started_at IS NOT NULL GROUP BY replica_id",
    )
    statuses = _query(database, "SELECT status, count(*) FROM scheduler_run GROUP BY status")
    per_job = _query(
        database,
        "SELECT n, count(*) FROM (SELECT count(*) AS n FROM scheduler_run GROUP BY job_id) "
        "AS counts GROUP BY n",
    )
    return Drain(
        runs=runs,
        seconds=round(seconds, 2),
        started={str(replica): int(count) for replica, count in started},
        statuses={str(status): int(count) for status, count in statuses},
        released=released,
        running_at_stop=running_at_stop,
        runs_per_job={int(n): int(count) for n, count in per_job},
    )


def _case(scenario: str, runs: int, task_seconds: float, workdir: Path) -> dict[str, Any]:
    from .common import case_result, throwaway_database

    stop = 1 / 3 if scenario == "stop" else None
    with throwaway_database("postgresql", workdir) as database:
        result = drain(
            database.sqlalchemy_url, workdir, runs, task_seconds=task_seconds, stop_after=stop
        )
    values = asdict(result)
    values["share_a"] = round(result.share("a"), 3)
    values["share_b"] = round(result.share("b"), 3)
    values["runs_per_second"] = round(runs / result.seconds, 1)
    return case_result(
        WORKLOAD, "tickwork-postgresql", runs, status="ok", scenario=scenario, **values
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", default="2000", help="backlog sizes, comma-separated")
    parser.add_argument("--task-seconds", type=float, default=0.02)
    parser.add_argument("--systems", default="tickwork-postgresql", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    from tempfile import TemporaryDirectory

    from .common import postgres_reachable

    cases = []
    unreachable, began = postgres_reachable(), time.perf_counter()
    for runs in (int(size) for size in args.jobs.split(",")):
        for scenario in ("share", "stop"):
            if unreachable:
                from .common import not_measured

                cases.append(not_measured(WORKLOAD, "tickwork-postgresql", runs, unreachable))
                continue
            with TemporaryDirectory(prefix="tickwork-backlog-") as directory:
                cases.append(_case(scenario, runs, args.task_seconds, Path(directory)))
            print(json.dumps(cases[-1]), file=sys.stderr, flush=True)
    seconds = round(time.perf_counter() - began, 1)
    print(json.dumps({"workload": WORKLOAD, "seconds": seconds, "cases": cases}), flush=True)


if __name__ == "__main__":
    main()
