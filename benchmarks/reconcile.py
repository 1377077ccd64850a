"""Workload: reconciling a large schedules file, and syncing many jobs through the API.

Each case runs in a fresh process on a new PostgreSQL database, so its peak
resident memory (``ru_maxrss``) is its own:

* **file**: a schedules file of N jobs (five cron expressions, each job its
  own ``kwargs``) reconciled as ``tickwork run`` does at start
  (:class:`~scheduler.config.reconcile.SchedulesFile`): parsing, checking the
  tasks and the store's sync, then the same unchanged file a second time;
* **api**: N job specs built in Python, as a generator, given to the
  store's ``sync_jobs`` (which reads them a batch at a time), then the same
  specs built again; ``build`` is building them alone, without a sync.

Wall time, CPU time and peak RSS are printed for each pass; ``parse_s`` is
the CPU time of reading the file alone, with nothing remembered, measured
after both passes (so it does not raise their peak).

    python -m benchmarks.reconcile --jobs 100000 --kinds file
    python -m benchmarks.reconcile --jobs 1000000 --kinds api
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

WORKLOAD = "reconcile"
SYSTEM = "tickwork-postgresql"
CRONS = ("*/5 * * * *", "0 * * * *", "30 2 * * *", "15 */2 * * *", "0 9 * * 1-5")
TASK = "bench_tasks.noop"


def write_file(path: Path, jobs: int) -> None:
    """A schedules file of ``jobs`` jobs."""
    with path.open("w") as out:
        out.write("timezone: UTC\njobs:\n")
        for index in range(jobs):
            cron = CRONS[index % len(CRONS)]
            out.write(
                f'  job-{index:07d}:\n    task: {TASK}\n    cron: "{cron}"\n'
                f"    kwargs: {{n: {index}}}\n"
            )


def _peak_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _timed(action: Any) -> dict[str, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    report = action()
    timed: dict[str, Any] = {
        "wall_s": round(time.perf_counter() - wall, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
        "peak_rss_mib": _peak_mib(),
    }
    if hasattr(report, "added"):  # a SyncReport
        timed["added"], timed["unchanged"] = len(report.added), len(report.unchanged)
    return timed


def measure(kind: str, jobs: int, url: str, workdir: Path) -> dict[str, Any]:
    """One case, in this process: two passes of ``kind`` with ``jobs`` jobs."""
    from scheduler.stores.sqlalchemy import SQLAlchemyStore

    store = SQLAlchemyStore(url)
    store.create_schema()
    result: dict[str, Any] = {"kind": kind, "rss_before_mib": _peak_mib()}
    if kind == "file":
        path = workdir / "schedules.yaml"
        write_file(path, jobs)
        result.update(_file_passes(store, path))
    else:
        result.update(_api_passes(store, jobs))
    store.dispose()
    return result


def _file_passes(store: Any, path: Path) -> dict[str, Any]:
    from scheduler.config.reader import read_schedules
    from scheduler.config.reconcile import SchedulesFile
    from scheduler.tasks.registry import TaskRegistry

    registry = TaskRegistry()
    registry.register(lambda n: None, name=TASK)
    schedules = SchedulesFile(path=path, store=store, registry=registry)
    first = _timed(lambda: schedules.sync(datetime.now(UTC)))
    second = _timed(lambda: schedules.sync(datetime.now(UTC)))
    parse = _timed(lambda: read_schedules(path))
    return {"first": first, "unchanged": second, "parse_s": parse["cpu_s"]}


def _api_passes(store: Any, jobs: int) -> dict[str, Any]:
    from scheduler.model.jobs import JobSpec
    from scheduler.model.policies import JobSource

    def specs() -> Iterator[JobSpec]:
        for i in range(jobs):
            cron = CRONS[i % len(CRONS)]
            yield JobSpec.build(name=f"job-{i:07d}", task=TASK, cron=cron, kwargs={"n": i})

    def sync() -> Any:
        return store.sync_jobs(specs(), source=JobSource.CODE, now=datetime.now(UTC))

    def build_only() -> None:
        for _ in specs():
            pass

    first, unchanged = _timed(sync), _timed(sync)
    # What building the specs alone costs, the rest of each pass being the sync.
    return {
        "specs": "generator",
        "first": first,
        "unchanged": unchanged,
        "build": _timed(build_only),
    }


def run_case(kind: str, jobs: int) -> dict[str, Any]:
    """Measure one case in a fresh process, on a throwaway database."""
    from .common import case_result, throwaway_database

    with tempfile.TemporaryDirectory(prefix="tickwork-reconcile-") as directory:
        workdir = Path(directory)
        with throwaway_database("postgresql", workdir) as database:
            command = [sys.executable, "-m", "benchmarks.reconcile", "--case", kind]
            command += ["--jobs", str(jobs), "--url", database.sqlalchemy_url]
            command += ["--workdir", str(workdir)]
            done = subprocess.run(  # noqa: S603 - our own interpreter and module
                command, capture_output=True, text=True, check=False, timeout=1800
            )
    try:
        values = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        tail = done.stderr.strip().splitlines()[-10:]
        return case_result(WORKLOAD, SYSTEM, jobs, status="error", kind=kind, stderr_tail=tail)
    return case_result(WORKLOAD, SYSTEM, jobs, status="ok", **values)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", default="100000", help="sizes, comma-separated")
    parser.add_argument("--kinds", default="file,api", help="file, api or both")
    parser.add_argument("--systems", default=SYSTEM, help=argparse.SUPPRESS)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(measure(args.case, int(args.jobs), args.url, args.workdir)), flush=True)
        return
    from .common import not_measured, postgres_reachable

    unreachable, began = postgres_reachable(), time.perf_counter()
    cases = []
    for jobs in (int(size) for size in args.jobs.split(",")):
        for kind in args.kinds.split(","):
            if unreachable:
                cases.append(not_measured(WORKLOAD, SYSTEM, jobs, unreachable))
                continue
            cases.append(run_case(kind, jobs))
            print(json.dumps(cases[-1]), file=sys.stderr, flush=True)
    seconds = round(time.perf_counter() - began, 1)
    print(json.dumps({"workload": WORKLOAD, "seconds": seconds, "cases": cases}), flush=True)


if __name__ == "__main__":
    main()
