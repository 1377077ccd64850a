"""Workloads 3 and 2: start-up with N jobs, then the cost of idling with them.

The N jobs are stored first, none due within the hour.  Then a fresh Python
process starts the scheduler on them:

* **start-up**: when its first wake-up has completed, counted from the moment
  the process was launched and from the end of its imports, and the peak
  resident memory (RSS) of the process by then;
* **idle**: after one more second, the same process is watched for
  ``--window`` seconds: the CPU time it uses and the SQL statements it sends,
  both per minute.  The promise under test is that an idle scheduler's cost
  does not grow with the number of jobs.

A MemoryJobStore has nothing stored to start from, so that process adds its
N jobs itself, as an application declaring them in code would.

    python -m benchmarks.startup --jobs 10000,100000 --window 15
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .common import (
    Database,
    Result,
    case_result,
    cpu_seconds,
    database_kind,
    emit,
    finish_case,
    peak_rss_mib,
    quiet_cron,
    rss_mib,
    run_cases,
    serve_case,
    throwaway_database,
    wait_until,
    workload_arguments,
)

WORKLOAD = "startup"


def measure(system: str, jobs: int, budget: float, window: float, workdir: Path) -> Result:
    """Store the jobs here, then start and watch the scheduler in a fresh process."""
    from .systems import open_harness

    kind = database_kind(system)
    databases = (
        contextlib.nullcontext(None) if kind == "memory" else throwaway_database(kind, workdir)
    )
    with databases as database:
        command = [sys.executable, "-m", "benchmarks.startup", "--start", system]
        command += ["--jobs", str(jobs), "--budget", str(budget), "--window", str(window)]
        command += ["--workdir", str(workdir)]
        if database is not None:
            filler = open_harness(system, database)
            filler.fill_quiet(jobs, quiet_cron())
            filler.stop()
            command += ["--database", database.name]
        launched = time.time()
        child = subprocess.run(  # noqa: S603 - our own interpreter and module
            [*command, "--launched", repr(launched)],
            capture_output=True,
            text=True,
            check=False,
            timeout=2 * budget + window + 60,
        )
    try:
        measured: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        tail = child.stderr.strip().splitlines()[-10:]
        raise RuntimeError(f"the scheduler process failed: {tail}") from None
    return case_result(WORKLOAD, system, jobs, **measured)


def start_and_idle(args: argparse.Namespace, imported: float) -> Result:
    """In the fresh process: start the scheduler, wait for its first wake-up, then watch it."""
    from .systems import open_harness, wait_ready

    system = args.start
    database = None
    if args.database:
        database = Database(kind=database_kind(system), name=args.database, directory=args.workdir)
    baseline = rss_mib()
    began = time.time()
    harness = open_harness(system, database, fresh=False)
    if database is None:
        harness.fill_quiet(int(args.jobs), quiet_cron())
    harness.start()
    ready = wait_ready(harness, args.budget)
    finished = time.time()
    startup = {
        "seconds": round(finished - args.launched, 3),
        "seconds_after_imports": round(finished - began, 3),
        "imports_seconds": round(imported - args.launched, 3),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "rss_after_imports_mib": round(baseline, 1),
    }
    idle = _idle(harness, args.window) if ready else {}
    harness.stop()
    return {
        "status": "complete" if ready else "not ready",
        "startup": startup,
        "idle": idle,
        **harness.details(),
        "notes": harness.notes,
    }


def _idle(harness: Any, window: float) -> dict[str, Any]:
    wait_until(time.time() + 1.0)  # let start-up work settle
    cpu, statements, wakeups = cpu_seconds(), harness.statements.read(), harness.wakeups.read()
    began = time.time()
    wait_until(began + window)
    elapsed = time.time() - began
    cpu = cpu_seconds() - cpu
    statements = harness.statements.read() - statements
    wakeups = harness.wakeups.read() - wakeups
    per_minute = 60 / elapsed
    return {
        "window_seconds": round(elapsed, 2),
        "cpu_seconds_per_minute": round(cpu * per_minute, 3),
        "statements_per_minute": round(statements * per_minute, 1),
        "wakeups_per_minute": round(wakeups * per_minute, 1),
        "statements_per_wakeup": round(statements / wakeups, 2) if wakeups else None,
        "cpu_ms_per_wakeup": round(1000 * cpu / wakeups, 2) if wakeups else None,
        "handed_over": harness.handovers.count(),
        "rss_mib": round(rss_mib(), 1),
    }


def main() -> None:
    parser = workload_arguments(__doc__ or WORKLOAD, default_jobs=(10000, 100000))
    parser.add_argument("--window", type=float, default=15.0, help="seconds of idling watched")
    parser.add_argument("--start", metavar="SYSTEM", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--launched", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.start:
        emit(start_and_idle(args, _import_system(args.start)))
        finish_case()
    if args.case:
        serve_case(
            args,
            WORKLOAD,
            lambda workdir: measure(args.case, int(args.jobs), args.budget, args.window, workdir),
        )
    emit(run_cases(WORKLOAD, "benchmarks.startup", args, extra=["--window", str(args.window)]))


def _import_system(system: str) -> float:
    """Import the system's modules and return when that was done.

    The time to launch Python and import is reported apart: it does not
    depend on the number of jobs.
    """
    if system.startswith("tickwork"):
        import scheduler.engine
        import scheduler.stores.sqlalchemy  # noqa: F401
    elif system.startswith("celery-beat"):
        import django  # noqa: F401
    else:
        import apscheduler.schedulers.background  # noqa: F401
    return time.time()


if __name__ == "__main__":
    main()
