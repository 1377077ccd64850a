"""``python -m benchmarks``: every workload, every system, one JSON file and one table.

``make bench`` runs this in its own environment (``nox -s bench``), where the
peers are installed.  Each workload script runs its cases one after the
other, each in a fresh process; their results go to
``benchmarks/results/latest.json`` and, as tables, to
``benchmarks/results/latest.md``, which is also printed.

    python -m benchmarks                      # the full run (about 12 minutes)
    python -m benchmarks --quick              # tiny sizes: checks that everything runs
    python -m benchmarks --only herd,floor    # some workloads only
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from .common import SYSTEMS, machine, postgres_reachable, utcnow
from .report import markdown

RESULTS = Path(__file__).parent / "results"
TICKWORK = ["tickwork-postgresql", "tickwork-sqlite"]
PEERS = ["celery-beat-postgresql", "apscheduler-postgresql", "apscheduler-sqlite"]
IN_MEMORY = ["apscheduler-memory"]

#: What the full run measures: sizes, systems and each script's own options.
FULL: dict[str, dict[str, Any]] = {
    "herd": {
        "jobs": [1000, 10000, 100000],
        "systems": [*TICKWORK, "tickwork-mariadb", *PEERS, *IN_MEMORY],
        # 20 s, 40 s for 100,000 jobs.  The two left out would be cut short as
        # at 10,000 and cost a minute each (django-celery-beat spends half a
        # minute loading 100,000 tasks: see the start-up table).
        "options": [
            *("--budget", "20", "--budget-per-thousand", "0.4"),
            *("--skip", "apscheduler-sqlite:100000", "--skip", "celery-beat-postgresql:100000"),
        ],
    },
    "startup": {
        "jobs": [10000, 100000],
        # APScheduler's SQL job store reads no job at start on SQLite either.
        "systems": [*TICKWORK, "celery-beat-postgresql", "apscheduler-postgresql", *IN_MEMORY],
        "options": ["--window", "10", "--budget", "90"],
    },
    "lateness": {
        "jobs": [1000],
        "systems": [*TICKWORK, "celery-beat-postgresql", "apscheduler-postgresql", *IN_MEMORY],
        "options": ["--period", "180", "--window", "20"],
    },
    "edit": {
        "jobs": [10000],
        "systems": [*TICKWORK, "celery-beat-postgresql", "apscheduler-postgresql", *IN_MEMORY],
        "options": ["--edits", "5", "--budget", "10"],
    },
    "floor": {"jobs": [1000, 10000, 100000], "systems": [], "options": []},
    # A 100,000-job file and 100,000 specs through the API; 1,000,000 with
    # ``python -m benchmarks.reconcile --jobs 1000000 --kinds api``.
    "reconcile": {"jobs": [100000], "systems": [], "options": ["--kinds", "file,api"]},
    # Two replicas of 4 threads drain 2,000 due runs; then again, one stopped midway.
    "backlog": {"jobs": [2000], "systems": [], "options": []},
    # One wake-up with nothing due, timed with time.process_time (Tickwork only).
    "idle": {"jobs": [1000, 1000000], "systems": TICKWORK, "options": []},
    # The claim's run insert on PostgreSQL against COPY through a temporary table.
    "insert_paths": {"jobs": [10, 100, 1000, 10000], "systems": [], "options": []},
    # 10 minutes for 60,000 jobs on 3 executors plus 10,000 on 3, 3 minutes each.
    "steady": {
        "jobs": [10000, 60000],
        "systems": ["tickwork-postgresql"],
        "options": ["--executors", "immediate,thread,process", "--duration", "180"],
    },
}

#: The same, at sizes that only show that everything runs (the smoke test uses it).
QUICK: dict[str, dict[str, Any]] = {
    "herd": {"jobs": [20], "systems": list(SYSTEMS), "options": ["--budget", "30"]},
    "startup": {"jobs": [20], "systems": list(SYSTEMS), "options": ["--window", "1"]},
    "lateness": {
        "jobs": [20],
        "systems": list(SYSTEMS),
        "options": ["--period", "4", "--window", "2"],
    },
    "edit": {"jobs": [20], "systems": list(SYSTEMS), "options": ["--edits", "1", "--budget", "4"]},
    "floor": {"jobs": [20], "systems": [], "options": []},
    "reconcile": {"jobs": [20], "systems": [], "options": ["--kinds", "file,api"]},
    "backlog": {"jobs": [40], "systems": [], "options": []},
    "idle": {"jobs": [20], "systems": TICKWORK, "options": ["--wakeups", "5", "--warmup", "2"]},
    "insert_paths": {"jobs": [20], "systems": [], "options": ["--repeat", "1"]},
    "steady": {
        "jobs": [120],
        "systems": ["tickwork-postgresql"],
        "options": ["--executors", "immediate", "--duration", "4", "--window", "2"],
    },
}
PEER_PACKAGES = (
    "tickwork",
    "django-celery-beat",
    "celery",
    "kombu",
    "Django",
    "APScheduler",
    "SQLAlchemy",
    "psycopg",
    "croniter",
)


def run_workload(name: str, plan: dict[str, Any], systems: list[str] | None) -> dict[str, Any]:
    """Run one workload script and return the JSON document it prints."""
    chosen = [s for s in plan["systems"] if systems is None or s in systems]
    command = [sys.executable, "-m", f"benchmarks.{name}"]
    command += ["--jobs", ",".join(map(str, plan["jobs"])), *plan["options"]]
    if chosen:
        command += ["--systems", ",".join(chosen)]
    print(f"== {name}: {' '.join(command[2:])}", file=sys.stderr, flush=True)
    completed = subprocess.run(  # noqa: S603 - our own interpreter and module
        command, stdout=subprocess.PIPE, text=True, check=False
    )
    try:
        result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        result = {"workload": name, "error": f"exited with {completed.returncode}", "cases": []}
    return result


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for package in PEER_PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    import sqlite3

    found["sqlite"] = sqlite3.sqlite_version
    found["postgresql"] = _postgres_version()
    return found


def _postgres_version() -> str | None:
    if postgres_reachable():
        return None
    import psycopg

    from .common import POSTGRES_ADMIN_URL

    with psycopg.connect(POSTGRES_ADMIN_URL) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return None if row is None else str(row[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check that all runs")
    parser.add_argument("--only", help="comma-separated workloads (default: all)")
    parser.add_argument("--systems", help="comma-separated systems (default: each workload's)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where latest.json/.md go")
    args = parser.parse_args()
    plans = QUICK if args.quick else FULL
    chosen = args.only.split(",") if args.only else list(plans)
    systems = args.systems.split(",") if args.systems else None
    started = time.perf_counter()
    document: dict[str, Any] = {
        "generated_at": utcnow().isoformat(timespec="seconds"),
        "command": " ".join(["python -m benchmarks", *sys.argv[1:]]),
        "quick": args.quick,
        "machine": machine(),
        "versions": versions(),
        "workloads": {},
    }
    for name in chosen:
        document["workloads"][name] = run_workload(name, plans[name], systems)
    document["seconds"] = round(time.perf_counter() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    table = markdown(document)
    (args.out / "latest.md").write_text(table, encoding="utf-8")
    print(table)
    print(f"Wrote {args.out / 'latest.json'} and {args.out / 'latest.md'}", file=sys.stderr)


if __name__ == "__main__":
    main()
