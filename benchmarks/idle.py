"""Workload 2, idle cost: N jobs, none due for more than an hour.

Each scheduler is started, allowed its first wake-up, and then watched for
``--window`` seconds: the CPU time its process uses and the SQL statements it
sends, both scaled to one minute.  The promise under test is that an idle
scheduler's cost does not grow with the number of jobs.

    python -m benchmarks.idle --jobs 1000,100000 --window 20
"""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from .common import (
    Result,
    case_result,
    case_workdir,
    cpu_seconds,
    database_kind,
    emit,
    guarded,
    rss_mib,
    run_cases,
    throwaway_database,
    wait_until,
    workload_arguments,
)
from .systems import Harness, open_harness

WORKLOAD = "idle"


def quiet_cron(now: datetime | None = None) -> str:
    """A daily cron expression whose next slot is 90 to 91 minutes away."""
    slot = (now or datetime.now(UTC)) + timedelta(minutes=91)
    return f"{slot.minute} {slot.hour} * * *"


def wait_ready(harness: Harness, budget: float) -> bool:
    """Wait until the scheduler has finished its first wake-up."""
    deadline = time.time() + budget
    while harness.wakeups.read() < 1:
        if time.time() > deadline:
            return False
        time.sleep(0.01)
    return True


def measure(system: str, jobs: int, budget: float, window: float, workdir: Any) -> Result:
    kind = database_kind(system)
    databases = (
        contextlib.nullcontext(None) if kind == "memory" else throwaway_database(kind, workdir)
    )
    with databases as database:
        harness = open_harness(system, database)
        harness.fill_quiet(jobs, quiet_cron())
        harness.start()
        ready = wait_ready(harness, budget)
        wait_until(time.time() + 1.0)  # let start-up work settle
        cpu, statements, wakeups = cpu_seconds(), harness.statements.read(), harness.wakeups.read()
        began = time.time()
        wait_until(began + window)
        elapsed = time.time() - began
        cpu = cpu_seconds() - cpu
        statements = harness.statements.read() - statements
        wakeups = harness.wakeups.read() - wakeups
        handed = harness.handovers.count()
        resident = rss_mib()
        harness.stop()
        details = harness.details()
    per_minute = 60 / elapsed
    return case_result(
        WORKLOAD,
        system,
        jobs,
        status="complete" if ready else "not ready",
        window_seconds=round(elapsed, 2),
        cpu_seconds_per_minute=round(cpu * per_minute, 3),
        statements_per_minute=round(statements * per_minute, 1),
        wakeups_per_minute=round(wakeups * per_minute, 1),
        statements_per_wakeup=round(statements / wakeups, 2) if wakeups else None,
        cpu_ms_per_wakeup=round(1000 * cpu / wakeups, 2) if wakeups else None,
        handed_over=handed,
        rss_mib=round(resident, 1),
        **details,
        notes=harness.notes,
    )


def main() -> None:
    parser = workload_arguments(__doc__ or WORKLOAD, default_jobs=(1000, 10000, 100000))
    parser.add_argument("--window", type=float, default=20.0, help="seconds watched per case")
    args = parser.parse_args()
    if args.case:
        jobs = int(args.jobs)
        with case_workdir(args) as workdir:
            emit(
                guarded(
                    lambda: measure(args.case, jobs, args.budget, args.window, workdir),
                    WORKLOAD,
                    args.case,
                    jobs,
                )
            )
        return
    emit(run_cases(WORKLOAD, "benchmarks.idle", args, extra=["--window", str(args.window)]))


if __name__ == "__main__":
    main()
