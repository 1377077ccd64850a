"""Benchmark: the asyncio executor's concurrency and the process executor's timeouts.

Usage (from the repository root)::

    python benchmarks/executors.py [--coroutines 200] [--sleep 1] [--timeouts 20]
                                   [--timeout 2] [--workers 4] [--runs 100]

Everything goes through a real engine on the in-memory store, and prints one
JSON object:

* ``asyncio``: ``--coroutines`` jobs whose coroutine sleeps ``--sleep``
  seconds, all due at once, on an asyncio executor with ``max_concurrency``
  equal to their number: ``wall_s`` from the wake-up that hands them over
  until the last one ended (ideal: ``--sleep``), and ``overhead_s`` beyond it;
* ``process_timeouts``: ``--timeouts`` runs of a task sleeping 30 s with a
  ``--timeout`` on a process executor of ``--timeouts`` children: for each,
  how long after its start it was recorded ``timed_out`` (min, median, max;
  ideal: ``--timeout``), and whether every child pid is gone afterwards;
* ``process_throughput``: ``--runs`` trivial runs on ``--workers`` children:
  runs per second, children reused.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from scheduler.engine import Engine  # noqa: E402
from scheduler.executors.aio import AsyncioExecutor  # noqa: E402
from scheduler.executors.base import Executor  # noqa: E402
from scheduler.executors.process import ProcessExecutor  # noqa: E402
from scheduler.model.jobs import JobSpec  # noqa: E402
from scheduler.model.policies import JobSource  # noqa: E402
from scheduler.model.runs import TERMINAL_STATUSES, Run  # noqa: E402
from scheduler.stores.memory import MemoryStore  # noqa: E402
from scheduler.tasks.registry import job  # noqa: E402


@job(name="benchmarks.executors.nap")
async def nap(seconds: float) -> None:
    await asyncio.sleep(seconds)


@job(name="benchmarks.executors.hang")
def hang() -> None:
    time.sleep(30)


@job(name="benchmarks.executors.noop")
def noop() -> int:
    return os.getpid()


def run_all(executor: Executor, task: str, count: int, **options: Any) -> tuple[float, list[Run]]:
    """Save ``count`` jobs of ``task`` due now; hand them over as the executor
    has room for them; wait for every end."""
    store = MemoryStore()
    now = datetime.now(UTC)
    for number in range(count):
        spec = JobSpec.build(
            name=f"bench-{number}",
            task=task,
            at=now - timedelta(seconds=0.5),
            source=JobSource.CODE,
            **options,
        )
        store.save_job(spec, now=now - timedelta(seconds=1))
    engine = Engine(store, {"default": executor}, replica_id="bench-executors")
    try:
        began = time.perf_counter()
        while True:
            engine.tick()  # claims what the executor has room for (its capacity)
            runs = store.list_runs(limit=count + 1)
            if len(runs) == count and all(run.status in TERMINAL_STATUSES for run in runs):
                break
            time.sleep(0.01)
        return time.perf_counter() - began, runs
    finally:
        engine.close()
        executor.shutdown(wait=True, timeout=5)


def asyncio_case(coroutines: int, sleep: float) -> dict[str, Any]:
    executor = AsyncioExecutor(max_concurrency=coroutines)
    wall, runs = run_all(
        executor, "benchmarks.executors.nap", coroutines, kwargs={"seconds": sleep}
    )
    return {
        "coroutines": coroutines,
        "sleep_s": sleep,
        "wall_s": round(wall, 3),
        "overhead_s": round(wall - sleep, 3),
        "statuses": sorted({run.status.value for run in runs}),
    }


def timeouts_case(count: int, timeout: float) -> dict[str, Any]:
    executor = ProcessExecutor(max_workers=count, kill_grace=1.0)
    wall, runs = run_all(executor, "benchmarks.executors.hang", count, timeout=timeout)
    after = [
        (run.finished_at - run.started_at).total_seconds()
        for run in runs
        if run.finished_at is not None and run.started_at is not None
    ]
    pids = [int(run.worker.rsplit(":", 1)[1]) for run in runs]
    return {
        "runs": count,
        "timeout_s": timeout,
        "wall_s": round(wall, 3),
        "timed_out_after_s": {
            "min": round(min(after), 3),
            "median": round(statistics.median(after), 3),
            "max": round(max(after), 3),
        },
        "statuses": sorted({run.status.value for run in runs}),
        "children_left": sum(Path(f"/proc/{pid}").exists() for pid in pids),
    }


def throughput_case(runs: int, workers: int) -> dict[str, Any]:
    executor = ProcessExecutor(max_workers=workers)
    wall, done = run_all(executor, "benchmarks.executors.noop", runs)
    return {
        "runs": runs,
        "workers": workers,
        "wall_s": round(wall, 3),
        "runs_per_s": round(runs / wall, 1),
        "children_used": len({run.result for run in done}),
        "statuses": sorted({run.status.value for run in done}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--coroutines", type=int, default=200)
    parser.add_argument("--sleep", type=float, default=1.0)
    parser.add_argument("--timeouts", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    document = {
        "benchmark": "executors",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "asyncio": asyncio_case(args.coroutines, args.sleep),
        "process_timeouts": timeouts_case(args.timeouts, args.timeout),
        "process_throughput": throughput_case(args.runs, args.workers),
    }
    print(json.dumps(document))


if __name__ == "__main__":
    main()
