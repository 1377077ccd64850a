"""Benchmark: 10,000 runs due at once, handed to Celery and executed by real workers.

Usage (from the repository root, with the celery and sqlalchemy extras)::

    python benchmarks/celery_dispatch.py [--runs 10000] [--broker URL] [--database URL]
                                         [--workers 1] [--concurrency 2] [--no-execute]

It saves ``--runs`` one-off jobs that are all due now, starts ``--workers``
Celery worker processes (this same file is their app: ``celery -A
benchmarks.celery_dispatch worker``), then lets one engine claim and hand the
runs over until nothing is left, and waits until every run has ended.  It
prints one JSON object:

* ``handover_s`` and ``handover_runs_per_s``: from the first wake-up until
  every run was claimed, marked queued, published and its task id stored;
* ``publish_runs_per_s``: the publishing alone (``CeleryExecutor.submit``);
* ``completion_s``: from the first wake-up until the last run ended, and the
  count of runs per final status.

Defaults: Redis db 12 on 127.0.0.1:6379 and a fresh SQLite file (pass
``--database postgresql://postgres@127.0.0.1:5432/DB`` for PostgreSQL; the
tables are created, and the benchmark's jobs are removed afterwards).  The
queue is a fresh one, deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from celery import Celery  # noqa: E402

import scheduler.workers.celery  # noqa: E402
from scheduler.executors.celery import CeleryExecutor  # noqa: E402
from scheduler.tasks.registry import job  # noqa: E402

BROKER_ENV = "TICKWORK_BENCH_BROKER"


@job(name="benchmarks.celery_dispatch.noop")
def noop(index: int) -> int:
    return index


class TimedExecutor(CeleryExecutor):
    """Counts the time spent publishing, to tell it from the store's share."""

    sent = 0
    publishing = 0.0

    def submit(self, *args: Any, **kwargs: Any) -> str:
        started = time.perf_counter()
        try:
            return super().submit(*args, **kwargs)
        finally:
            self.publishing += time.perf_counter() - started
            self.sent += 1


def make_app(broker: str) -> Celery:
    app = Celery("tickwork_bench", broker=broker)
    app.conf.update(worker_hijack_root_logger=False, broker_connection_retry_on_startup=True)
    return app


# The workers' app (celery -A benchmarks.celery_dispatch worker).
app = make_app(os.environ.get(BROKER_ENV, "memory://"))
if os.environ.get("TICKWORK_DATABASE") and __name__ != "__main__":
    scheduler.workers.celery.install(app)


def main() -> None:
    args = _arguments()
    logging.basicConfig(level=logging.WARNING)
    from scheduler.stores.sqlalchemy import SQLAlchemyStore

    tmp = Path(tempfile.mkdtemp(prefix="tickwork-bench-"))
    database = args.database or f"sqlite:///{tmp}/bench.sqlite3"
    queue = f"tickwork-bench-{uuid.uuid4().hex[:8]}"
    store = SQLAlchemyStore(database)
    store.create_schema()
    names = _save_jobs(store, args.runs)
    workers = [] if args.no_execute else _start_workers(args, database, queue, tmp)
    try:
        result = _measure(store, args, queue, expect_end=not args.no_execute)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
        _cleanup(store, names, args.broker, queue)
    result.update(
        runs=args.runs,
        broker=args.broker.split("@")[-1],
        database=store.engine.dialect.name,
        workers=0 if args.no_execute else args.workers,
        concurrency=args.concurrency,
        python=platform.python_version(),
        celery=_version("celery"),
    )
    print(json.dumps(result, indent=2))


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--database", help="SQLAlchemy URL (default: a fresh SQLite file)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--concurrency", type=int, default=2, help="pool size per worker")
    parser.add_argument("--no-execute", action="store_true", help="hand over only, no workers")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after (seconds)")
    return parser.parse_args()


def _save_jobs(store: Any, count: int) -> list[str]:
    from scheduler.model.jobs import JobSpec
    from scheduler.model.policies import JobSource

    now = datetime.now(UTC)
    prefix = f"bench-{uuid.uuid4().hex[:6]}"
    specs = [
        JobSpec.build(
            name=f"{prefix}-{index:05d}",
            task="benchmarks.celery_dispatch.noop",
            kwargs={"index": index},
            at=now - timedelta(seconds=0.5),
            source=JobSource.CODE,
        )
        for index in range(count)
    ]
    store.sync_jobs(specs, source=JobSource.CODE, now=now - timedelta(seconds=1))
    return [spec.name for spec in specs]


def _start_workers(
    args: argparse.Namespace, database: str, queue: str, tmp: Path
) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, BROKER_ENV: args.broker, "TICKWORK_DATABASE": database}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    workers = []
    for index in range(args.workers):
        log = tmp / f"worker-{index}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "benchmarks.celery_dispatch", "worker",
            "--loglevel=WARNING", f"--concurrency={args.concurrency}", "--queues", queue,
            "--hostname", f"{queue}-{index}@%h", "--without-gossip", "--without-mingle",
            "--without-heartbeat",
        ]  # fmt: skip
        with log.open("wb") as out:
            workers.append(  # the command is built from constants and integers above
                subprocess.Popen(  # noqa: S603
                    command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
                )
            )
    return workers


def _measure(
    store: Any, args: argparse.Namespace, queue: str, *, expect_end: bool
) -> dict[str, Any]:
    from scheduler.engine import Engine, EngineConfig

    executor = TimedExecutor(app=make_app(args.broker), queue=queue)
    engine = Engine(
        store, {"default": executor}, replica_id=f"bench-{queue}", config=EngineConfig()
    )
    started = time.perf_counter()
    while engine.tick().claimed:
        pass
    handover = time.perf_counter() - started
    statuses: Counter[str] = Counter()
    completion = None
    if expect_end:
        deadline = started + args.timeout
        while time.perf_counter() < deadline:
            statuses = _statuses(store)
            if not (statuses["pending"] or statuses["queued"] or statuses["running"]):
                completion = time.perf_counter() - started
                break
            time.sleep(0.2)  # polling the run table, not waiting for a schedule
    else:
        statuses = _statuses(store)
    executor.shutdown(wait=False, timeout=None)
    return {
        "handover_s": round(handover, 3),
        "handover_runs_per_s": round(args.runs / handover),
        "publish_runs_per_s": round(executor.sent / executor.publishing),
        "completion_s": None if completion is None else round(completion, 3),
        "statuses": dict(sorted(statuses.items())),
    }


def _statuses(store: Any) -> Counter[str]:
    from sqlalchemy import func, select

    from scheduler.stores.sqlalchemy.schema import run_table

    with store.engine.connect() as conn:
        rows = conn.execute(
            select(run_table.c.status, func.count()).group_by(run_table.c.status)
        ).all()
    return Counter(dict(rows))


def _cleanup(store: Any, names: list[str], broker: str, queue: str) -> None:
    from kombu import Exchange, Queue
    from sqlalchemy import delete

    from scheduler.stores.sqlalchemy.schema import job_table

    with store.engine.begin() as conn:
        for start in range(0, len(names), 5000):
            conn.execute(delete(job_table).where(job_table.c.name.in_(names[start : start + 5000])))
    store.dispose()
    with make_app(broker).connection_for_write() as conn:
        channel = conn.default_channel
        Queue(queue, Exchange(queue), routing_key=queue).bind(channel).delete()
        Exchange(queue).bind(channel).delete()


def _version(distribution: str) -> str:
    from importlib.metadata import version

    return version(distribution)


if __name__ == "__main__":
    main()
