"""Workload 5, edit propagation: from an edit committed to its use by a running scheduler.

N jobs, none due within the hour, and a running scheduler.  Another database
connection (as Django admin or a web process would) changes one job to run
every second and commits; the delay is measured from that commit to the
first hand-over of a run of the edited job, which is when the scheduler is
seen to use the edit.  That includes waiting for the job's first slot under
its new schedule (up to a second).  Several edits, a random fraction of a
second apart, sample the schedulers' polling phases; a scheduler that has not
used an edit within ``--budget`` seconds is not sent more.

    python -m benchmarks.edit --jobs 10000 --edits 5
"""

from __future__ import annotations

import contextlib
import random
import statistics
import time
from typing import Any

from .common import (
    Result,
    case_result,
    database_kind,
    emit,
    quiet_cron,
    rounded,
    run_cases,
    serve_case,
    throwaway_database,
    wait_until,
    workload_arguments,
)
from .systems import Harness, open_harness, wait_ready

WORKLOAD = "edit"


def _delays(harness: Harness, edits: int, budget: float) -> list[float | None]:
    """Edit jobs one after another; the commit-to-hand-over delay of each (None: not used)."""
    rng = random.Random(6)  # the same pauses for every system
    delays: list[float | None] = []
    for index in range(edits):
        job = f"job-{index:06d}"
        committed = harness.edit(job)
        deadline = committed + budget
        used = None
        while used is None and time.time() < deadline:
            used = harness.handovers.first_for(job, after=committed)
            time.sleep(0.002)
        delays.append(None if used is None else used.at - committed)
        if used is None:
            break  # it did not notice this one; more edits would only wait longer
        wait_until(time.time() + rng.uniform(0.2, 1.2))
    return delays


def measure(system: str, jobs: int, edits: int, budget: float, workdir: Any) -> Result:
    kind = database_kind(system)
    databases = (
        contextlib.nullcontext(None) if kind == "memory" else throwaway_database(kind, workdir)
    )
    with databases as database:
        harness = open_harness(system, database)
        harness.fill_quiet(jobs, quiet_cron())
        harness.start()
        ready = wait_ready(harness, budget)
        wait_until(time.time() + 1.0)
        delays = _delays(harness, edits, budget) if ready else []
        harness.stop()
        details = harness.details()
    used = [delay for delay in delays if delay is not None]
    status = "complete" if ready and len(used) == len(delays) == edits else "not used"
    return case_result(
        WORKLOAD,
        system,
        jobs,
        status=status,
        edits=len(delays),
        used=len(used),
        budget_seconds=budget,
        median_seconds=rounded(statistics.median(used)) if used else None,
        max_seconds=rounded(max(used)) if used else None,
        delays_seconds=[rounded(delay) for delay in delays],
        **details,
        notes=harness.notes,
    )


def main() -> None:
    parser = workload_arguments(__doc__ or WORKLOAD, default_jobs=(10000,))
    parser.add_argument("--edits", type=int, default=5, help="edits per system")
    parser.set_defaults(budget=15.0)
    args = parser.parse_args()
    if args.case:
        serve_case(
            args,
            WORKLOAD,
            lambda workdir: measure(args.case, int(args.jobs), args.edits, args.budget, workdir),
        )
    emit(run_cases(WORKLOAD, "benchmarks.edit", args, extra=["--edits", str(args.edits)]))


if __name__ == "__main__":
    main()
