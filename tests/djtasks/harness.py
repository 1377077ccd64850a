"""A real django.tasks backend for the executor's tests: django-tasks-db and its worker.

Each test gets a fresh database (SQLite file or PostgreSQL) holding the
scheduler's tables and django-tasks-db's queue table, an engine in the test
process whose :class:`~scheduler.executors.django_tasks.DjangoTasksExecutor`
enqueues into it, and a ``manage.py db_worker`` subprocess (settings
``tests.djtasks.worker_settings``) that executes the runs and records them
through the Django store.  Nothing waits for a schedule: jobs are saved
already due, the test ticks the engine, then polls rows until they reach the
expected state or a deadline passes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from scheduler.clock import Clock
from scheduler.django.store import DjangoStore
from scheduler.engine import Engine, EngineConfig
from scheduler.executors.django_tasks import DjangoTasksExecutor
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import ACTIVE_STATUSES, Run

REPO = Path(__file__).resolve().parents[2]
#: Seconds between a running run's heartbeats in the worker.
HEARTBEAT = 0.5
#: The engine's stale_after: a run not beaten for this long is lost.
STALE_AFTER = timedelta(seconds=3)
WAIT = 30.0  # seconds: only ever reached when a test is about to fail
TASKS = "tests.djtasks.tasks"
QUEUE_TABLE = "django_tasks_database_dbtaskresult"


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


def database_settings(alias: str) -> dict[str, Any]:
    """The settings dict of Django's ``alias``, for the worker's ``default``."""
    from django.db import connections

    found = connections[alias].settings_dict
    keys = ("ENGINE", "NAME", "HOST", "PORT", "USER", "PASSWORD", "OPTIONS")
    return {key: found[key] for key in keys if key in found}


@dataclass
class DbWorker:
    """A ``manage.py db_worker`` process of its own session (so it dies with its group)."""

    database: dict[str, Any]
    log: Path
    queues: str = "default,reports"
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> DbWorker:
        env = {
            # The worker is a program under test, not test code: its warnings are not errors.
            **{k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"},
            "DJANGO_SETTINGS_MODULE": "tests.djtasks.worker_settings",
            "TICKWORK_TEST_DJANGO_DB": json.dumps(self.database),
            "TICKWORK_TEST_HEARTBEAT": str(HEARTBEAT),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        }
        command = [
            sys.executable, "-m", "django", "db_worker", "--queue-name", self.queues,
            "--interval", "0.05", "--no-startup-delay", "--no-reload", "--verbosity", "2",
        ]  # fmt: skip
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        try:
            wait_until(self._ready, "the db_worker to start")
        except BaseException:
            self.stop()
            raise
        return self

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the db_worker exited:\n{self.output()}")
        return "Starting worker" in self.output()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL the worker, as the OOM killer would: nothing gets to say goodbye."""
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
    """A Django database, an engine handing runs to django-tasks-db, and its worker."""

    alias: str
    store: DjangoStore
    executor: DjangoTasksExecutor
    engine: Engine
    worker: DbWorker
    tmp: Path
    clock: Clock
    jobs: list[str] = field(default_factory=list)

    def add(self, name: str, task: str, *, due: float = 0.5, **options: Any) -> JobSpec:
        """Save a one-off job that came due ``due`` seconds ago (as if saved just before)."""
        now = self.clock.now()
        options.setdefault("source", JobSource.CODE)
        at = now - timedelta(seconds=due)
        spec = JobSpec.build(name=name, task=task, at=at, **options)
        self.store.save_job(spec, now=at - timedelta(seconds=1))
        self.jobs.append(name)
        return spec

    def dispatch(self) -> list[Run]:
        """One wake-up of the engine: claim what is due and enqueue it."""
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

    def task_results(self) -> list[Any]:
        """django-tasks-db's rows, oldest first."""
        from django_tasks_db.models import DBTaskResult

        return list(DBTaskResult.objects.using(self.alias).order_by("enqueued_at"))


def new_world(alias: str, tmp_path: Path, clock: Clock, *, worker: bool = True) -> World:
    """Everything but the worker's start, which ``worker=False`` leaves to the test."""
    from django.core.management import call_command

    import tests.djtasks.tasks  # noqa: F401  (the scheduler resolves the jobs' tasks too)
    from tests.djtasks.routing import TasksRouter

    TasksRouter.alias = alias  # before migrating: its data migrations use the router
    call_command("migrate", "django_tasks_database", database=alias, verbosity=0, interactive=False)
    store = DjangoStore(using=alias)
    executor = DjangoTasksExecutor(clock=clock, backend="default")
    engine = Engine(
        store,
        {"default": executor},
        clock=clock,
        replica_id=f"test-{tmp_path.name}",
        config=EngineConfig(heartbeat_interval=STALE_AFTER / 3.5, stale_after=STALE_AFTER),
    )
    db_worker = DbWorker(database_settings(alias), tmp_path / "worker.log")
    world = World(alias, store, executor, engine, db_worker, tmp_path, clock)
    if worker:
        db_worker.start()
    return world


def close_world(world: World) -> None:
    from tests.djtasks.routing import TasksRouter

    world.worker.stop()
    world.engine.close()
    world.store.dispose()
    TasksRouter.alias = "default"
