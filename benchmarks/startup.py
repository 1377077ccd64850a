"""Workload 3, start-up: the time and peak memory to start a scheduler with N jobs.

The jobs are stored first (as in idle: none due within the hour); then a
fresh Python process starts the scheduler on them and reports when its first
wake-up has completed, counted three ways: from the moment the process was
launched, from the end of its imports, and the peak resident memory (RSS) it
reached by then.  A MemoryJobStore has nothing stored to start from, so that
process adds its N jobs itself, as an application declaring them in code would.

    python -m benchmarks.startup --jobs 10000,100000
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
    case_workdir,
    database_kind,
    emit,
    guarded,
    peak_rss_mib,
    rss_mib,
    run_cases,
    throwaway_database,
    workload_arguments,
)
from .idle import quiet_cron, wait_ready

WORKLOAD = "startup"


def measure(system: str, jobs: int, budget: float, workdir: Path) -> Result:
    from .systems import open_harness

    kind = database_kind(system)
    databases = (
        contextlib.nullcontext(None) if kind == "memory" else throwaway_database(kind, workdir)
    )
    with databases as database:
        if database is not None:
            filler = open_harness(system, database)
            filler.fill_quiet(jobs, quiet_cron())
            filler.stop()
            del filler
        command = [sys.executable, "-m", "benchmarks.startup", "--start", system]
        command += ["--jobs", str(jobs), "--budget", str(budget), "--workdir", str(workdir)]
        if database is not None:
            command += ["--database", database.name]
        launched = time.time()
        child = subprocess.run(  # noqa: S603 - our own interpreter and module
            [*command, "--launched", repr(launched)],
            capture_output=True,
            text=True,
            check=False,
            timeout=budget + 60,
        )
    try:
        started: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        tail = child.stderr.strip().splitlines()[-10:]
        raise RuntimeError(f"the start-up process failed: {tail}") from None
    return case_result(WORKLOAD, system, jobs, **started)


def start(args: argparse.Namespace, imported: float) -> Result:
    """In the fresh process: start the scheduler and wait for its first wake-up."""
    from .systems import open_harness

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
    peak = peak_rss_mib()
    details = harness.details()
    harness.stop()
    return {
        "status": "complete" if ready else "not ready",
        "seconds": round(finished - args.launched, 3),
        "seconds_after_imports": round(finished - began, 3),
        "imports_seconds": round(imported - args.launched, 3),
        "peak_rss_mib": round(peak, 1),
        "rss_after_imports_mib": round(baseline, 1),
        **details,
        "notes": harness.notes,
    }


def main() -> None:
    parser = workload_arguments(__doc__ or WORKLOAD, default_jobs=(1000, 10000, 100000))
    parser.add_argument("--start", metavar="SYSTEM", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--launched", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.start:
        emit(start(args, _import_peer(args.start)))
        return
    if args.case:
        jobs = int(args.jobs)
        with case_workdir(args) as workdir:
            emit(
                guarded(
                    lambda: measure(args.case, jobs, args.budget, workdir),
                    WORKLOAD,
                    args.case,
                    jobs,
                )
            )
        return
    emit(run_cases(WORKLOAD, "benchmarks.startup", args))


def _import_peer(system: str) -> float:
    """Import the system's modules; return when the imports were done.

    The time to launch Python and import is reported apart: it does not
    depend on the number of jobs.
    """
    with contextlib.suppress(ImportError):
        if system.startswith("tickwork"):
            import scheduler.engine
            import scheduler.stores.sqlalchemy  # noqa: F401
        elif system.startswith("celery-beat"):
            import celery.beat  # noqa: F401
            import django  # noqa: F401
        else:
            import apscheduler.schedulers.background  # noqa: F401
    return time.time()


if __name__ == "__main__":
    main()
