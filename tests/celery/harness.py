"""Real Celery workers on real brokers: the harness of the ``celery`` integration tests.

Each test gets its own worker process (``celery -A tests.celery.worker_app
worker``, prefork, two pool processes), its own queue and its own SQLite
database, shared by the worker and the engine in the test process.  Nothing
waits for a schedule: jobs are saved already due, the test ticks the engine
itself, and then polls the run row until it reaches the expected state or a
deadline passes.

Brokers: Redis on ``$TICKWORK_TEST_REDIS`` (default 127.0.0.1:6379, db 13) and
RabbitMQ on ``$TICKWORK_TEST_AMQP`` (default 127.0.0.1:5672, guest/guest).  A
broker that is not reachable skips its tests, or fails them under ``CI=true``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scheduler.clock import Clock, SystemClock
from scheduler.engine import Engine, EngineConfig
from scheduler.executors.celery import CeleryExecutor
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import ACTIVE_STATUSES, Run, RunStatus
from scheduler.stores.sqlalchemy import SQLAlchemyStore
from tests.conftest import _service_missing

REPO = Path(__file__).resolve().parents[2]
BROKERS = {
    "redis": os.environ.get("TICKWORK_TEST_REDIS", "redis://127.0.0.1:6379/13"),
    "rabbitmq": os.environ.get("TICKWORK_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672//"),
}
#: Seconds between a running run's heartbeats in the test workers.
HEARTBEAT = 0.5
#: The engine's stale_after: a run not beaten for this long is lost.
STALE_AFTER = timedelta(seconds=3)
WAIT = 30.0  # seconds: only ever reached when a test is about to fail


def reachable(url: str) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port
    assert port is not None, url
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as error:
        _service_missing(f"broker {parts.scheme}://{host}:{port}", error)


def wait_until(check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:g}s waiting for {what}")
        time.sleep(0.05)


@dataclass
class Worker:
    """A ``celery worker`` process of its own session (so its pool dies with it)."""

    broker: str
    database: str
    queue: str
    log: Path
    pool: str = "prefork"
    concurrency: int = 2
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        env = {
            # The worker is a program under test, not test code: warnings such as
            # Celery's about running as root must not become errors there.  Nor is
            # it a Django project: with the tests' DJANGO_SETTINGS_MODULE, Celery
            # would set Django up and the worker would record in Django's database.
            **{
                k: v
                for k, v in os.environ.items()
                if k not in ("PYTHONWARNINGS", "DJANGO_SETTINGS_MODULE")
            },
            "TICKWORK_TEST_BROKER": self.broker,
            "TICKWORK_DATABASE": self.database,
            "TICKWORK_TEST_HEARTBEAT": str(HEARTBEAT),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        }
        command = [
            sys.executable, "-m", "celery", "-A", "tests.celery.worker_app", "worker",
            "--loglevel=INFO", f"--pool={self.pool}", f"--concurrency={self.concurrency}",
            "--queues", self.queue, "--hostname", f"{self.queue}@%h", "--prefetch-multiplier=1",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        try:
            wait_until(self._ready, f"worker {self.queue} to be ready")
        except BaseException:
            self.stop()
            raise
        return self

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the worker exited:\n{self.output()}")
        return " ready." in self.output()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once, as the OOM killer or a
        container runtime would: nothing gets to say goodbye."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=WAIT)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=WAIT)


@dataclass
class World:
    """A store, a worker on its own queue, and an engine that hands runs to it."""

    store: SQLAlchemyStore
    worker: Worker
    executor: CeleryExecutor
    engine: Engine
    tmp: Path
    jobs: list[str] = field(default_factory=list)

    def add(self, name: str, task: str, *, due: float = 0.5, **options: Any) -> JobSpec:
        """Save a one-off job that came due ``due`` seconds ago (as if saved just before)."""
        now = datetime.now(UTC)
        options.setdefault("source", JobSource.CODE)
        at = now - timedelta(seconds=due)
        spec = JobSpec.build(name=name, task=task, at=at, **options)
        self.store.save_job(spec, now=at - timedelta(seconds=1))
        self.jobs.append(name)
        return spec

    def dispatch(self) -> list[Run]:
        """One wake-up of the engine: claim what is due and hand it to the worker."""
        self.engine.tick()
        return sorted(self.store.list_runs(limit=1000), key=lambda run: run.id)

    def run_of(self, job: str, attempt: int = 1) -> Run:
        [run] = [r for r in self.store.list_runs(job_name=job) if r.attempt == attempt]
        return run

    def ended(self, job: str, timeout: float = WAIT, *, tick: bool = False) -> Run:
        """Wait until the job's first run has ended (ticking the engine, for recovery, if told)."""

        def check() -> Run | None:
            if tick:
                self.engine.tick()
            run = self.run_of(job)
            return None if run.status in ACTIVE_STATUSES else run

        result: Run = wait_until(check, f"the run of {job} to end", timeout)
        return result

    def started(self, job: str) -> Run:
        result: Run = wait_until(
            lambda: (run := self.run_of(job)).status is RunStatus.RUNNING and run,
            f"the run of {job} to start",
        )
        return result


def new_world(
    tmp_path: Path,
    broker: str,
    *,
    database: str | None = None,
    clock: Clock | None = None,
    **executor_options: Any,
) -> tuple[World, Callable[[], None]]:
    queue = f"tickwork-test-{uuid.uuid4().hex[:10]}"
    url = database or f"sqlite:///{tmp_path}/runs.sqlite3"
    store = SQLAlchemyStore(url)
    store.create_schema()
    try:
        worker = Worker(broker, url, queue, tmp_path / "worker.log").start()
    except BaseException:
        store.dispose()
        raise
    from tests.celery.worker_app import make_app

    executor_options.setdefault("queue", queue)
    clock = clock or SystemClock()
    executor = CeleryExecutor(app=make_app(broker), clock=clock, **executor_options)
    engine = Engine(
        store,
        {"default": executor},
        clock=clock,
        replica_id=f"test-{queue}",
        config=EngineConfig(heartbeat_interval=STALE_AFTER / 3.5, stale_after=STALE_AFTER),
    )
    world = World(store, worker, executor, engine, tmp_path)

    def close() -> None:
        worker.stop()
        executor.shutdown(wait=False, timeout=None)
        _delete_queue(executor, queue)
        store.dispose()

    return world, close


def _delete_queue(executor: CeleryExecutor, name: str) -> None:
    """Leave nothing behind in the broker (RabbitMQ keeps queues and exchanges)."""
    from kombu import Exchange, Queue

    try:
        with executor.app.connection_for_write() as conn:
            channel = conn.default_channel
            Queue(name, Exchange(name), routing_key=name).bind(channel).delete()
            Exchange(name).bind(channel).delete()
    except Exception as error:  # cleanup only: report, do not mask the test's result
        print(f"could not delete queue {name}: {error}", file=sys.stderr)  # noqa: T201
