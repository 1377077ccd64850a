"""Workload 1, the thundering herd: N jobs on ``* * * * *``, all due at one instant.

Measured: the time from the due instant until the last of the N runs has been
handed over (to Tickwork's executor, to Celery's in-memory broker, to
APScheduler's thread pool), the rate that makes, and what the database shows
afterwards.  Beside it, the time from the start of the wake-up that handed the
first run over (Tickwork's claim; the peers' processing of due jobs) until the
last hand-over: a small herd takes less time than a scheduler's wake-up can be
late, and measured from the due instant alone it would measure that lateness.

A system that has not handed everything over within ``--budget``
seconds (or ``--budget-per-thousand`` seconds per 1,000 jobs, if that is more)
is cut short and reported with the count it reached.

    python -m benchmarks.herd --jobs 1000,10000 --systems tickwork-postgresql
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

from . import profiling
from .common import (
    Handover,
    Result,
    case_result,
    database_kind,
    emit,
    rounded,
    run_cases,
    serve_case,
    since,
    throwaway_database,
    workload_arguments,
)
from .systems import open_harness

WORKLOAD = "herd"


def budget_for(jobs: int, budget: float, per_thousand: float) -> float:
    """Seconds a herd of ``jobs`` may take before it is cut short."""
    return max(budget, per_thousand * jobs / 1000)


def measure(system: str, jobs: int, budget: float, lead: float, workdir: Any) -> Result:
    kind = database_kind(system)
    databases = (
        contextlib.nullcontext(None) if kind == "memory" else throwaway_database(kind, workdir)
    )
    with databases as database:
        harness = open_harness(system, database)
        started = time.perf_counter()
        harness.fill_herd(jobs)
        filled = since(started)
        due = harness.start_herd(lead)
        complete = harness.handovers.wait_for(jobs, until=due + budget)
        items, details = harness.handovers.snapshot(), harness.details()
        statements, wakeups = harness.statements.read(), harness.wakeups.read()
        recorded = harness.recorded()
        # A scheduler cut short is left running: stopping it could take minutes.
        stopping, after_stop = {}, None
        if complete:
            stopping = harness.stop()
            after_stop, details = harness.recorded(), harness.details()
    handed = [item.at - due for item in items]
    last = max(handed, default=None)
    elapsed = last if complete and last is not None else budget
    claimed = _claim_seconds(harness, items, due, complete)
    return case_result(
        WORKLOAD,
        system,
        jobs,
        status="complete" if complete else "cut short",
        seconds=rounded(last) if complete else None,
        handed_over=len(items),
        runs_per_second=round(len(items) / elapsed, 1) if elapsed > 0 else None,
        first_handover_seconds=rounded(min(handed, default=None)),
        **claimed,
        budget_seconds=budget,
        recorded=recorded,
        recorded_after_stop=after_stop,
        statements=statements,
        wakeups=wakeups,
        fill_seconds=round(filled, 2),
        **stopping,
        **details,
        notes=harness.notes,
    )


def _claim_seconds(harness: Any, items: list[Handover], due: float, complete: bool) -> Result:
    """The herd timed from the start of the wake-up that handed its first run over:
    ``claim_started_seconds`` after the due instant, ``from_claim_seconds`` to the last run."""
    if not items:
        return {"claim_started_seconds": None, "from_claim_seconds": None}
    first = min(item.at for item in items)
    started = harness.claims.last_before(first)
    if started is None:
        return {"claim_started_seconds": None, "from_claim_seconds": None}
    last = max(item.at for item in items)
    return {
        "claim_started_seconds": rounded(started - due),
        "from_claim_seconds": rounded(last - started) if complete else None,
    }


def _case(args: Any, workdir: Path) -> Result:
    if args.profile:
        profiling.enable()
    jobs = int(args.jobs)
    budget = budget_for(jobs, args.budget, args.budget_per_thousand)
    result = measure(args.case, jobs, budget, args.lead, workdir)
    if args.profile:
        args.profile.write_text(profiling.report(), encoding="utf-8")
    return result


def main() -> None:
    parser = workload_arguments(__doc__ or WORKLOAD, default_jobs=(1000, 10000, 100000))
    parser.add_argument(
        "--lead", type=float, default=2.0, help="seconds from start-up to the due instant"
    )
    parser.add_argument(
        "--budget-per-thousand",
        type=float,
        default=0.0,
        help="raise the budget to this many seconds per 1,000 jobs (default: %(default)s)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="with --case: write where the scheduler's time went to this file (slows it down)",
    )
    args = parser.parse_args()
    if args.case:
        serve_case(args, WORKLOAD, lambda workdir: _case(args, workdir))
    extra = ["--lead", str(args.lead), "--budget-per-thousand", str(args.budget_per_thousand)]
    emit(run_cases(WORKLOAD, "benchmarks.herd", args, extra=extra))


if __name__ == "__main__":
    main()
