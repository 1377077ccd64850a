"""A Celery worker started inside a Django project records runs in the Django database.

The worker (``celery -A tests.djcelery.celery_app worker`` with ``DJANGO_SETTINGS_MODULE``
set, so Celery's Django fix-up sets Django up) is given no database: it finds
the Django store that the scheduler's app registers when it is ready.  Runs
are handed to it by an engine in the test process, and by a plain
``manage.py run_scheduler --once`` whose ``SCHEDULER["EXECUTORS"]`` has a
Celery executor.  Redis is the broker; the database is SQLite or PostgreSQL.
"""

from __future__ import annotations

from tests.celery.conftest import require_celery

require_celery()

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scheduler.clock import SystemClock
from scheduler.django.store import DjangoStore
from scheduler.engine import Engine
from scheduler.executors.celery import CeleryExecutor
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import ACTIVE_STATUSES, Run, RunStatus
from tests.celery.harness import BROKERS, REPO, WAIT, Worker, reachable, wait_until
from tests.djtasks.harness import database_settings

pytestmark = pytest.mark.celery

TASK = "tests.djcelery.tasks.add"


@dataclass
class DjangoWorker(Worker):
    """A Celery worker of the Django project ``tests.djcelery``."""

    django_db: str = ""

    def start(self) -> DjangoWorker:
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("PYTHONWARNINGS",)},
            **project_env(self.broker, self.django_db, self.queue),
        }
        env.pop("TICKWORK_DATABASE", None)  # the Django app, and nothing else, says where
        command = [
            sys.executable, "-m", "celery", "-A", "tests.djcelery.celery_app", "worker",
            "--loglevel=INFO", "--pool=prefork", "--concurrency=1", "--queues", self.queue,
            "--hostname", f"{self.queue}@%h", "--without-gossip", "--without-mingle",
            "--without-heartbeat",
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


def project_env(broker: str, django_db: str, queue: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "tests.djcelery.settings",
        "TICKWORK_TEST_DJANGO_DB": django_db,
        "TICKWORK_TEST_BROKER": broker,
        "TICKWORK_TEST_QUEUE": queue,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }


@pytest.fixture
def redis() -> str:
    reachable(BROKERS["redis"])
    return BROKERS["redis"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def alias(request: pytest.FixtureRequest) -> str:
    found: str = request.getfixturevalue(f"django_{request.param}")
    return found


@pytest.fixture
def worker(alias: str, redis: str, tmp_path: Path) -> Iterator[DjangoWorker]:
    queue = f"tickwork-django-{uuid.uuid4().hex[:10]}"
    django_db = json.dumps(database_settings(alias))
    started = DjangoWorker(redis, "", queue, tmp_path / "worker.log", django_db=django_db)
    started.start()
    try:
        yield started
    finally:
        started.stop()


def save_due_job(store: DjangoStore, name: str, **options: object) -> None:
    """An hourly job with exactly one slot due (a second ago), whatever the time of day."""
    anchor = datetime.now(UTC) - timedelta(hours=1, seconds=1)
    spec = JobSpec.build(
        name=name, task=TASK, every="1h", start=anchor, source=JobSource.ADMIN, **options
    )
    store.save_job(spec, now=anchor)


def ended(store: DjangoStore, job: str) -> Run:
    def check() -> Run | None:
        runs = store.list_runs(job_name=job)
        return runs[0] if runs and runs[0].status not in ACTIVE_STATUSES else None

    found: Run = wait_until(check, f"the run of {job} to end")
    return found


def test_the_worker_records_runs_through_the_django_store(alias: str, worker: DjangoWorker) -> None:
    import tests.djcelery.tasks  # noqa: F401  (the engine resolves the task here too)
    from tests.celery.worker_app import make_app

    store = DjangoStore(using=alias)
    executor = CeleryExecutor(app=make_app(worker.broker), queue=worker.queue)
    try:
        save_due_job(store, "add", kwargs={"a": 2, "b": 3}, executor="celery")
        Engine(store, {"default": executor, "celery": executor}, clock=SystemClock()).tick()
        run = ended(store, "add")
    finally:
        executor.shutdown(wait=False, timeout=None)
        store.dispose()
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert isinstance(run.result, dict) and run.result["sum"] == 5
    assert run.worker.endswith(f":{run.result['pid']}") and run.result["pid"] != os.getpid()
    assert run.external_id == f"tickwork-run-{run.id}"
    assert "tickwork: this worker records runs in the Django app" in worker.output()


def test_run_scheduler_hands_runs_to_the_django_projects_worker(
    alias: str, worker: DjangoWorker
) -> None:
    store = DjangoStore(using=alias)
    try:
        save_due_job(store, "add-by-command", kwargs={"a": 40, "b": 2}, executor="celery")
        env = {**os.environ, **project_env(worker.broker, worker.django_db, worker.queue)}
        env.pop("PYTHONWARNINGS", None)  # a program under test: its warnings are not errors
        command = [sys.executable, "-m", "django", "run_scheduler", "--once"]
        done = subprocess.run(
            command, cwd=REPO, env=env, capture_output=True, text=True, timeout=WAIT, check=False
        )
        assert done.returncode == 0, done.stderr
        assert "handing run" in done.stderr and "to celery" in done.stderr
        run = ended(store, "add-by-command")
    finally:
        store.dispose()
    assert (run.status, run.executor) == (RunStatus.SUCCEEDED, "celery")
    assert isinstance(run.result, dict) and run.result["sum"] == 42
