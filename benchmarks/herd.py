"""Workload 1, the thundering herd: N jobs on ``* * * * *``, all due at one instant.

Measured: the time from the due instant until the last of the N runs has been
handed over (to Tickwork's executor, to Celery's in-memory broker, to
APScheduler's thread pool), the rate that makes, and what the database shows
afterwards.  A system that has not handed everything over within ``--budget``
seconds is cut short and reported with the count it reached.

    python -m benchmarks.herd --jobs 1000,10000 --systems tickwork-postgresql
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from .common import (
    Result,
    case_result,
    case_workdir,
    database_kind,
    emit,
    guarded,
    rounded,
    run_cases,
    since,
    throwaway_database,
    workload_arguments,
)
from .systems import open_harness

WORKLOAD = "herd"
#: Seconds between starting a scheduler and the instant its jobs fall due.
LEAD = 2.0


def measure(system: str, jobs: int, budget: float, workdir: Any) -> Result:
    kind = database_kind(system)
    databases = (
        contextlib.nullcontext(None) if kind == "memory" else throwaway_database(kind, workdir)
    )
    with databases as database:
        harness = open_harness(system, database)
        started = time.perf_counter()
        harness.fill_herd(jobs)
        filled = since(started)
        due = harness.start_herd(LEAD)
        complete = harness.handovers.wait_for(jobs, until=due + budget)
        items = harness.handovers.snapshot()
        statements, wakeups = harness.statements.read(), harness.wakeups.read()
        stopping = harness.stop()
        recorded = harness.recorded()
        details = harness.details()
    handed = [item.at - due for item in items]
    last = max(handed, default=None)
    elapsed = last if complete and last is not None else budget
    return case_result(
        WORKLOAD,
        system,
        jobs,
        status="complete" if complete else "cut short",
        seconds=rounded(last) if complete else None,
        handed_over=len(items),
        runs_per_second=round(len(items) / elapsed, 1) if elapsed > 0 else None,
        first_handover_seconds=rounded(min(handed, default=None)),
        budget_seconds=budget,
        recorded=recorded,
        statements=statements,
        wakeups=wakeups,
        fill_seconds=round(filled, 2),
        **stopping,
        **details,
        notes=harness.notes,
    )


def main() -> None:
    parser = workload_arguments(__doc__ or WORKLOAD, default_jobs=(1000, 10000, 100000))
    args = parser.parse_args()
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
    emit(run_cases(WORKLOAD, "benchmarks.herd", args))


if __name__ == "__main__":
    main()
