"""Workload 7, steady state: jobs due once a minute at spread seconds, for minutes.

``--jobs`` jobs (default 10,000 and 60,000: 167 and 1,000 runs a second), each
every 60 s, their slots spread over the whole seconds of the minute, run a
no-op task on PostgreSQL through the real engine and a real executor
(``--executors``: ``immediate``; ``thread`` with ``--workers`` threads,
default 16; ``process`` with ``--workers`` children), for ``--duration``
seconds (default 180).  The engine is ``tickwork run``'s: default settings,
group commit on (``--group-commit`` seconds, 0 for a transaction per start and
per end).

Reported per case: runs finished per second; every run counted in the run
table (slots due in the measured span, rows recorded, rows by status, slots
without a row); and start lateness (started minus slot) p50/p99/max per
``--window`` seconds (default 30) of slots, so a backlog that grows shows as
a lateness that grows from window to window.

    python -m benchmarks.steady --jobs 60000 --executors immediate --duration 180
"""

from __future__ import annotations

import argparse
import math
import threading
import time
from collections import Counter as Tally
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scheduler.engine import Engine, EngineConfig
from scheduler.executors.base import Executor
from scheduler.executors.immediate import ImmediateExecutor
from scheduler.executors.process import ProcessExecutor
from scheduler.executors.thread import ThreadExecutor
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.monitoring.events import RunEvent
from scheduler.monitoring.hooks import RunHooks
from scheduler.stores.sqlalchemy import SQLAlchemyStore

from .common import (
    Result,
    case_result,
    cpu_seconds,
    emit,
    parse_list,
    percentile,
    rounded,
    run_cases,
    serve_case,
    throwaway_database,
    workload_arguments,
)
from .noop import TASK
from .systems.tickwork import ShiftedClock

WORKLOAD = "steady"
PERIOD = 60
EXECUTORS = ("immediate", "thread", "process")


class Starts:
    """Each run's slot, recorded start and the instant its worker began it,
    heard from the run hooks (after its start is written, as its task is
    about to be called)."""

    def __init__(self, clock: ShiftedClock) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        # (slot, started_at as recorded, begun), engine-clock seconds
        self.started: list[tuple[float, float, float]] = []
        self.finished = 0

    def on_started(self, event: RunEvent) -> None:
        begun = self.clock.now().timestamp()
        if event.started_at is not None:
            slot = event.scheduled_for.timestamp()
            with self.lock:
                self.started.append((slot, event.started_at.timestamp(), begun))

    def on_finished(self, event: RunEvent) -> None:
        with self.lock:
            self.finished += 1


def build_executor(kind: str, workers: int, clock: ShiftedClock) -> Executor:
    if kind == "immediate":
        return ImmediateExecutor(clock=clock)
    if kind == "thread":
        return ThreadExecutor(max_workers=workers, clock=clock)
    if kind == "process":
        return ProcessExecutor(max_workers=workers, clock=clock)
    raise SystemExit(f"unknown executor {kind!r}; choose from {', '.join(EXECUTORS)}")


def measure(args: argparse.Namespace, workdir: Path) -> Result:
    jobs = int(args.jobs)
    with throwaway_database("postgresql", workdir) as database:
        store = SQLAlchemyStore(database.sqlalchemy_url)
        store.create_schema()
        base = datetime(2030, 1, 1, tzinfo=UTC)  # slots far ahead; the clock is shifted to them
        filled = time.perf_counter()
        specs = [
            JobSpec.build(
                name=f"job-{i:06d}",
                task=TASK,
                every=PERIOD,
                start=base + timedelta(seconds=(i * PERIOD) // jobs),
            )
            for i in range(jobs)
        ]
        store.sync_jobs(specs, source=JobSource.CODE, now=base - timedelta(hours=1))
        fill_seconds = time.perf_counter() - filled
        try:
            return _run(args, store, jobs, base, fill_seconds)
        finally:
            store.dispose()


def _run(
    args: argparse.Namespace, store: SQLAlchemyStore, jobs: int, base: datetime, fill: float
) -> Result:
    first = time.time() + args.lead
    clock = ShiftedClock(base - datetime.fromtimestamp(first, UTC))
    starts, hooks = Starts(clock), RunHooks()
    hooks.on_started(starts.on_started)
    hooks.on_finished(starts.on_finished)
    executor = build_executor(args.executor, args.workers, clock)
    config = EngineConfig(group_commit=args.group_commit)
    engine = Engine(store, {"default": executor}, clock=clock, config=config, hooks=hooks)
    thread = threading.Thread(target=engine.run, name="steady-engine", daemon=True)
    cpu = cpu_seconds()
    thread.start()
    end = first + args.duration
    time.sleep(max(0.0, end - time.time()))
    cpu = cpu_seconds() - cpu
    finished_in_span = starts.finished
    engine.stop()
    stopping = time.perf_counter()
    thread.join(timeout=120)
    stop_seconds = time.perf_counter() - stopping
    slots_due = _slots_due(jobs, args.duration)
    span_end = base + timedelta(seconds=args.duration)
    counted = _count(store, span_end)
    succeeded = counted["rows_by_status"].get("succeeded", 0)
    counted["slots_without_a_row"] = slots_due - counted["rows_recorded"]
    windows = _windows(starts.started, base.timestamp(), args.window, args.duration)
    autovacuum = _autovacuum(store)
    return case_result(
        WORKLOAD,
        "tickwork-postgresql",
        jobs,
        status="complete" if succeeded == slots_due else "incomplete",
        executor=args.executor,
        workers=args.workers if args.executor != "immediate" else 1,
        group_commit_seconds=args.group_commit,
        duration_seconds=args.duration,
        offered_runs_per_second=round(jobs / PERIOD, 1),
        finished_runs_per_second=round(finished_in_span / args.duration, 1),
        slots_due=slots_due,
        **counted,
        lateness_windows=windows,
        cpu_seconds_per_run_ms=rounded(1000 * cpu / max(finished_in_span, 1), 3),
        fill_seconds=round(fill, 1),
        stop_seconds=round(stop_seconds, 1),
        server_autovacuum=autovacuum,
        notes=[] if autovacuum == "on" else [_NO_AUTOVACUUM],
    )


_NO_AUTOVACUUM = (
    "the server runs without autovacuum: the run and job tables keep every dead row "
    "version and have no statistics, which a production server would not"
)


def _autovacuum(store: SQLAlchemyStore) -> str:
    """The server's ``autovacuum`` setting: its absence shows in a run of minutes."""
    with store.engine.connect() as conn:
        return str(conn.exec_driver_sql("SHOW autovacuum").scalar_one())


def _slots_due(jobs: int, duration: float) -> int:
    """Slots in [base, base + duration): each job's first slot is within the first minute."""
    return sum(
        math.ceil((duration - (i * PERIOD) // jobs) / PERIOD)
        for i in range(jobs)
        if (i * PERIOD) // jobs < duration
    )


def _count(store: SQLAlchemyStore, span_end: datetime) -> dict[str, Any]:
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT status, count(*) FROM scheduler_run WHERE scheduled_for < %(end)s "
            "GROUP BY status",
            {"end": span_end},
        ).all()
    by_status = {str(status): int(count) for status, count in rows}
    return {"rows_recorded": sum(by_status.values()), "rows_by_status": by_status}


def _windows(
    started: list[tuple[float, float, float]], base: float, window: float, duration: float
) -> list[dict[str, Any]]:
    """Start lateness (recorded ``started_at`` minus slot) per window of slots,
    so a growing backlog grows from window to window; ``begun_p99_ms`` is the
    same from the instant the worker began the run (an inline executor's
    starts are written a chunk at a time, ahead of the run)."""
    by_window: dict[int, list[tuple[float, float]]] = {}
    for slot, at, begun in started:
        index = int((slot - base) // window)
        if 0 <= index and slot - base < duration:
            by_window.setdefault(index, []).append((at - slot, begun - slot))
    counts = Tally({index: len(values) for index, values in by_window.items()})
    windows = []
    for index, pairs in sorted(by_window.items()):
        late = [recorded for recorded, _ in pairs]
        windows.append(
            {
                "from_second": round(index * window),
                "runs_started": counts[index],
                "p50_ms": _ms(percentile(late, 0.50)),
                "p99_ms": _ms(percentile(late, 0.99)),
                "max_ms": _ms(max(late, default=None)),
                "begun_p99_ms": _ms(percentile([begun for _, begun in pairs], 0.99)),
            }
        )
    return windows


def _ms(seconds: float | None) -> float | None:
    return rounded(None if seconds is None else seconds * 1000, 1)


def main() -> None:
    parser = workload_arguments(__doc__ or WORKLOAD, default_jobs=(10000, 60000))
    parser.set_defaults(systems="tickwork-postgresql")
    parser.add_argument("--executors", default=",".join(EXECUTORS), help="comma-separated")
    parser.add_argument("--executor", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=16, help="threads or child processes")
    parser.add_argument("--duration", type=float, default=180.0, help="seconds measured")
    parser.add_argument("--window", type=float, default=30.0, help="seconds per lateness window")
    parser.add_argument("--lead", type=float, default=3.0, help="seconds before the first slot")
    parser.add_argument("--group-commit", type=float, default=EngineConfig().group_commit)
    args = parser.parse_args()
    if args.case:
        serve_case(args, WORKLOAD, lambda workdir: measure(args, workdir))
    started = time.perf_counter()
    cases: list[Result] = []
    for executor in parse_list(args.executors):
        extra = ["--executor", executor, "--workers", str(args.workers)]
        extra += ["--duration", str(args.duration), "--window", str(args.window)]
        extra += ["--lead", str(args.lead), "--group-commit", str(args.group_commit)]
        done = run_cases(WORKLOAD, "benchmarks.steady", args, extra=extra)
        for case in done["cases"]:
            case.setdefault("executor", executor)
        cases += done["cases"]
    emit({"workload": WORKLOAD, "seconds": round(time.perf_counter() - started, 1), "cases": cases})


if __name__ == "__main__":
    main()
