"""The idle wake-up: CPU time of one Tickwork wake-up with nothing due, at N jobs.

N jobs are stored, none due within the hour (the same fill as start-up's).
Then Tickwork's engine is built on them, as ``tickwork run`` builds it, and
its wake-up (:meth:`~scheduler.engine.Engine.tick`) is called directly,
``--wakeups`` times in a row, each timed with ``time.process_time()`` (CPU of
this process: the scheduler's own, not the database server's) and with
``time.perf_counter()`` (wall time, the server's work included).  The first
``--warmup`` wake-ups are left out: they compile statements and fill caches
once per process.  The statements a wake-up sends are counted too.

Only Tickwork is measured: the start-up workload (idle CPU per minute) puts
the peers beside it; this one asks how cheap a single wake-up is.

    python -m benchmarks.idle --jobs 1000000 --systems tickwork-postgresql
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from pathlib import Path
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
    since,
    throwaway_database,
    workload_arguments,
)

WORKLOAD = "idle"
SYSTEMS = ("tickwork-postgresql", "tickwork-sqlite", "tickwork-mariadb")


def measure(system: str, jobs: int, wakeups: int, warmup: int, workdir: Path) -> Result:
    from scheduler.engine import Engine

    from .systems.tickwork import HandOver, TickworkHarness

    if system not in SYSTEMS:
        return case_result(WORKLOAD, system, jobs, status="not measured", reason="Tickwork only")
    with throwaway_database(database_kind(system), workdir) as database:
        harness = TickworkHarness(database)
        started = time.perf_counter()
        harness.fill_quiet(jobs, quiet_cron())
        filled = since(started)
        executors = {"default": HandOver(harness.handovers, timedelta(0))}
        engine = Engine(harness.store, executors, registry=harness.registry, clock=harness.clock)
        _count_statements(harness)
        cpu, wall, statements = _wakeups(engine, harness, wakeups + warmup)
        harness.stop()
    cpu, wall, statements = cpu[warmup:], wall[warmup:], statements[warmup:]
    return case_result(
        WORKLOAD,
        system,
        jobs,
        status="complete",
        wakeups=len(cpu),
        cpu_ms_median=_ms(statistics.median(cpu)),
        cpu_ms_p90=_ms(_quantile(cpu, 0.9)),
        cpu_ms_max=_ms(max(cpu)),
        wall_ms_median=_ms(statistics.median(wall)),
        statements_per_wakeup=max(statements),
        handed_over=harness.handovers.count(),
        fill_seconds=round(filled, 2),
        notes=[],
    )


def _count_statements(harness: Any) -> None:
    from .common import count_sqlalchemy_statements

    count_sqlalchemy_statements(harness.store.engine, harness.statements)


def _wakeups(engine: Any, harness: Any, count: int) -> tuple[list[float], list[float], list[int]]:
    cpu, wall, statements = [], [], []
    for _ in range(count):
        sent = harness.statements.read()
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        report = engine.tick()
        cpu.append(time.process_time() - cpu_start)
        wall.append(time.perf_counter() - wall_start)
        statements.append(harness.statements.read() - sent)
        if report.claimed:
            raise RuntimeError(f"an idle wake-up claimed {report.claimed} runs")
    return cpu, wall, statements


def _quantile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _ms(seconds: float) -> float | None:
    return rounded(1000 * seconds, 3)


def _case(args: Any, workdir: Path) -> Result:
    return measure(args.case, int(args.jobs), args.wakeups, args.warmup, workdir)


def main() -> None:
    parser = workload_arguments(__doc__ or WORKLOAD, default_jobs=(1000, 1000000))
    parser.set_defaults(systems="tickwork-postgresql,tickwork-sqlite")
    parser.add_argument("--wakeups", type=int, default=200, help="wake-ups timed (%(default)s)")
    parser.add_argument(
        "--warmup", type=int, default=20, help="wake-ups first, not timed (%(default)s)"
    )
    args = parser.parse_args()
    if args.case:
        serve_case(args, WORKLOAD, lambda workdir: _case(args, workdir))
    extra = ["--wakeups", str(args.wakeups), "--warmup", str(args.warmup)]
    emit(run_cases(WORKLOAD, "benchmarks.idle", args, extra=extra))


if __name__ == "__main__":
    main()
