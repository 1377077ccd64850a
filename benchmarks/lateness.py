"""Workload 4, lateness: how long after its slot each run is handed over.

1,000 jobs, each due every ``--period`` seconds (default 180), their first
slots on whole seconds spread evenly over the period, so that 5 or 6 runs fall
due every second: a modest, steady load.  Lateness is (handed over - slot) for
every run whose slot falls in the first ``--window`` seconds (default 30, about
170 runs); the scheduler holds all 1,000 jobs throughout.  Measuring a slice
of the period, not all of it, keeps the run short without changing the load
each second sees; ``--window 180`` measures every job once.

    python -m benchmarks.lateness --window 30
"""

from __future__ import annotations

import contextlib
import math
import time
from typing import Any

from .common import (
    Result,
    case_result,
    database_kind,
    emit,
    percentile,
    rounded,
    run_cases,
    serve_case,
    throwaway_database,
    wait_until,
    workload_arguments,
)
from .systems import open_harness

WORKLOAD = "lateness"


def measure(
    system: str, jobs: int, period: int, window: float, lead: float, tail: float, workdir: Any
) -> Result:
    kind = database_kind(system)
    databases = (
        contextlib.nullcontext(None) if kind == "memory" else throwaway_database(kind, workdir)
    )
    with databases as database:
        harness = open_harness(system, database)
        first = math.ceil(time.time() + lead)
        slots = [(f"job-{i:06d}", float(first + (i * period) // jobs)) for i in range(jobs)]
        measured = {name: slot for name, slot in slots if slot < first + window}
        harness.fill_spread(slots, period)
        harness.start()
        if time.time() > first - 0.2:
            raise RuntimeError(
                f"storing the jobs and starting took more than {lead} s; raise --lead"
            )
        wait_until(first + window + tail)
        items = harness.handovers.snapshot()
        harness.stop()
        details = harness.details()
    late: dict[str, float] = {}
    for item in items:
        slot = measured.get(item.job)
        if slot is not None and item.job not in late:
            late[item.job] = item.at - slot
    values = list(late.values())
    return case_result(
        WORKLOAD,
        system,
        jobs,
        status="complete" if len(late) == len(measured) else "incomplete",
        period_seconds=period,
        window_seconds=window,
        runs_measured=len(measured),
        handed_over=len(late),
        not_handed_over=len(measured) - len(late),
        p50_ms=_ms(percentile(values, 0.50)),
        p99_ms=_ms(percentile(values, 0.99)),
        max_ms=_ms(max(values, default=None)),
        min_ms=_ms(min(values, default=None)),
        **details,
        notes=harness.notes,
    )


def _ms(seconds: float | None) -> float | None:
    return rounded(None if seconds is None else seconds * 1000, 1)


def main() -> None:
    parser = workload_arguments(__doc__ or WORKLOAD, default_jobs=(1000,))
    parser.add_argument("--period", type=int, default=180, help="seconds between a job's runs")
    parser.add_argument("--window", type=float, default=30.0, help="seconds of slots measured")
    parser.add_argument(
        "--lead", type=float, default=2.0, help="seconds from start-up to the first slot"
    )
    parser.add_argument(
        "--tail",
        type=float,
        default=3.0,
        help="seconds a run may be late and still be counted (default: %(default)s)",
    )
    args = parser.parse_args()
    if args.case:
        serve_case(
            args,
            WORKLOAD,
            lambda workdir: measure(
                args.case,
                int(args.jobs),
                args.period,
                args.window,
                args.lead,
                args.tail,
                workdir,
            ),
        )
    extra = ["--period", str(args.period), "--window", str(args.window)]
    extra += ["--lead", str(args.lead), "--tail", str(args.tail)]
    emit(run_cases(WORKLOAD, "benchmarks.lateness", args, extra=extra))


if __name__ == "__main__":
    main()
