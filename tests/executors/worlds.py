"""The worlds of the executor contract: every kind of executor, set up as it runs for real.

A world is what the contract's tests need of one kind of executor: a store, the
executor, an engine handing the store's due runs to it (and recording what an
in-process executor reports), the worker process the executor sends runs to,
if it has one, and a few helpers.  The tests are written once against
:class:`World` and run in every world of :data:`WORLDS`.

Worlds are built once per test module (workers are slow to start) and shared
by its tests, which keep out of each other's way: each test saves jobs of its
own (unique names) whose tasks write to a log file of its own.

To put a new executor under the contract, add one entry to :data:`WORLDS`: a
function that builds its world as a context manager (see the ones below).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from scheduler.engine import Engine
from scheduler.executors.aio import AsyncioExecutor
from scheduler.executors.base import Executor, resolve_task
from scheduler.executors.immediate import ImmediateExecutor
from scheduler.executors.process import ProcessExecutor
from scheduler.executors.thread import ThreadExecutor
from scheduler.model.jobs import JobSpec, JSONValue
from scheduler.model.policies import JobSource
from scheduler.model.runs import TERMINAL_STATUSES, ClaimedRun, Run
from scheduler.stores.base import Store

if TYPE_CHECKING:
    from scheduler.stores.sqlalchemy import SQLAlchemyStore

REPO = Path(__file__).resolve().parents[2]
WAIT = 30.0  # seconds: only ever reached when a test is about to fail


def wait_until(
    check: Callable[[], Any], what: str, timeout: float = WAIT, *, every: float = 0.02
) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:g}s waiting for {what}")
        time.sleep(every)


@dataclass(frozen=True)
class TaskLog:
    """The file a contract task appends a JSON line to each time it runs."""

    path: Path

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines()]

    def events(self) -> list[str]:
        return [entry["event"] for entry in self.entries()]


@dataclass
class WorkerProcess:
    """A worker program in its own session (so its children die with it), logging to a file."""

    command: Sequence[str]
    env: dict[str, str]
    ready: str  # printed once it takes work
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        env = {
            # The worker is a program under test, not test code: its warnings are
            # not errors, and it is configured by its own settings alone.
            **{
                key: value
                for key, value in os.environ.items()
                if key not in ("PYTHONWARNINGS", "DJANGO_SETTINGS_MODULE")
            },
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            **self.env,
        }
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                list(self.command), cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        try:
            wait_until(self._ready, f"{self.command[2]} to be ready")
        except BaseException:
            self.stop()
            raise
        return self

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the worker exited:\n{self.output()}")
        return self.ready in self.output()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=WAIT)


@dataclass(eq=False, kw_only=True)
class World:
    """One kind of executor with everything it needs to run a job for real."""

    kind: str
    store: Store
    #: The executor under test; the engine hands runs to it as ``"default"``.
    executor: Executor
    engine: Engine
    #: Builds another executor like :attr:`executor` (to shut one down, say).
    new_executor: Callable[[], Executor]
    #: The process the executor sends runs to; ``None`` for in-process executors.
    worker: WorkerProcess | None = None

    def save_job(
        self,
        task: Callable[..., Any],
        *,
        due: bool = True,
        args: Sequence[JSONValue] = (),
        kwargs: dict[str, JSONValue] | None = None,
        **options: Any,
    ) -> JobSpec:
        """Save a one-off job of the ``@job`` function ``task`` under a name of its own.

        ``due``: it came due half a second ago (as if saved just before), so the
        next wake-up of the engine claims it; otherwise it is due tomorrow.
        """
        name = f"{task.__name__}-{uuid.uuid4().hex[:12]}"
        now = datetime.now(UTC)
        at = now - timedelta(seconds=0.5) if due else now + timedelta(days=1)
        spec = JobSpec.build(
            name=name,
            task=getattr(task, "task_name"),  # noqa: B009  (set by @job; not in a Callable's type)
            at=at,
            args=list(args),
            kwargs=kwargs or {},
            source=JobSource.CODE,
            **options,
        )
        self.store.save_job(spec, now=min(now, at) - timedelta(seconds=1))
        return spec

    def hand_over(self, spec: JobSpec) -> Run:
        """One wake-up of the engine: it claims the due job and hands its run over.

        Returns the run as stored right after (an in-process executor may have
        finished it already, a remote one probably not).
        """
        self.engine.tick()
        run = self.run_of(spec)
        assert run is not None, f"the engine did not claim {spec.name}"
        return run

    @contextmanager
    def handing_over(self, spec: JobSpec) -> Iterator[None]:
        """:meth:`hand_over` in a thread of its own, for as long as the block runs:
        an executor that runs tasks inline blocks that thread, not the test.
        Leaving the block waits for the wake-up to return."""
        failures: list[BaseException] = []

        def tick() -> None:
            try:
                self.engine.tick()
            except BaseException as error:  # reported in the test's thread
                failures.append(error)

        thread = threading.Thread(target=tick, name=f"hand-over-{spec.name}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            thread.join(WAIT)
        assert not thread.is_alive(), "the engine's wake-up did not return"
        if failures:
            raise failures[0]

    def run_of(self, spec: JobSpec, attempt: int = 1) -> Run | None:
        found = [run for run in self.store.list_runs(job_name=spec.name) if run.attempt == attempt]
        assert len(found) <= 1, found
        return found[0] if found else None

    def runs_of(self, spec: JobSpec) -> list[Run]:
        """Every run of the job, first attempt first."""
        return sorted(self.store.list_runs(job_name=spec.name), key=lambda run: run.attempt)

    def wait_ended(self, spec: JobSpec, attempt: int = 1, timeout: float = WAIT) -> Run:
        """Wake the engine up again and again, as its loop would, until the job's run
        (``attempt``) has ended; returns it.  The engine hands over retries that
        come due, and notices timeouts where its executor observes them."""

        def ended() -> Run | None:
            self.engine.tick()
            run = self.run_of(spec, attempt)
            return run if run is not None and run.status in TERMINAL_STATUSES else None

        what = f"attempt {attempt} of {spec.name} to end"
        result: Run = wait_until(ended, what, timeout, every=0.05)
        return result

    def hand_over_again(self, run: Run) -> str:
        """Hand ``run`` to the executor once more, as a duplicate delivery would;
        returns what :meth:`~scheduler.executors.base.Executor.submit` returns."""
        job = self.store.get_job(run.job_name).spec
        claimed = ClaimedRun(run=self.store.get_run(run.id), job=job)
        task = resolve_task(self.engine.registry, job.task, self.executor)
        return self.executor.submit(claimed, task, self.engine.dispatcher)

    def wait_dropped(self, run: Run) -> None:
        """Wait until the executor has dealt with a hand-over of ``run`` that it must
        refuse: its worker said so, or (in process) nothing is active any more."""
        worker = self.worker
        if worker is None:
            wait_until(lambda: self.executor.active_count() == 0, "the executor to be idle")
            return
        line = f"run {run.id} of {run.job_name} was delivered again"
        wait_until(lambda: line in worker.output(), f"the worker to log {line!r}")


@dataclass(frozen=True)
class Setup:
    """What a world may use: pytest's request (for fixtures) and a directory of its own."""

    request: pytest.FixtureRequest
    tmp: Path


WorldFactory = Callable[[Setup], AbstractContextManager[World]]


@dataclass(frozen=True)
class Kind:
    """One entry of :data:`WORLDS`: how to build the world, and the marks of its tests."""

    build: WorldFactory
    marks: tuple[pytest.MarkDecorator, ...] = ()


def _engine(kind: str, store: Store, executor: Executor) -> Engine:
    return Engine(
        store, {"default": executor}, replica_id=f"contract-{kind}-{uuid.uuid4().hex[:6]}"
    )


def _sqlalchemy_store(url: str) -> SQLAlchemyStore:
    from scheduler.stores.sqlalchemy import SQLAlchemyStore

    store = SQLAlchemyStore(url)
    store.create_schema()
    return store


# -- in process --------------------------------------------------------------------


def _in_process(kind: str, make: Callable[[], Executor]) -> WorldFactory:
    @contextmanager
    def build(setup: Setup) -> Iterator[World]:
        store = _sqlalchemy_store(f"sqlite:///{setup.tmp}/runs.sqlite3")
        executor = make()
        engine = _engine(kind, store, executor)
        try:
            yield World(kind=kind, store=store, executor=executor, engine=engine, new_executor=make)
        finally:
            engine.close()
            store.dispose()

    return build


# -- Celery, with a real worker on a real broker ------------------------------------


def _celery_worker_command(queue: str) -> list[str]:
    """A prefork worker of two processes (a time limit needs a pool process to stop)."""
    return [
        sys.executable, "-m", "celery", "-A", "tests.executors.contract_celery_app", "worker",
        "--loglevel=INFO", "--pool=prefork", "--concurrency=2", "--queues", queue,
        "--hostname", f"{queue}@%h", "--prefetch-multiplier=1",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip


def _celery(broker: str) -> WorldFactory:
    @contextmanager
    def build(setup: Setup) -> Iterator[World]:
        from tests.celery.conftest import require_celery

        require_celery()
        from scheduler.executors.celery import CeleryExecutor
        from tests.celery.harness import BROKERS, _delete_queue, reachable
        from tests.executors.contract_celery_app import make_app

        url = BROKERS[broker]
        reachable(url)
        database = f"sqlite:///{setup.tmp}/runs.sqlite3"  # shared by the worker and the engine
        store = _sqlalchemy_store(database)
        queue = f"tickwork-contract-{uuid.uuid4().hex[:10]}"
        worker = WorkerProcess(
            command=_celery_worker_command(queue),
            env={"TICKWORK_TEST_BROKER": url, "TICKWORK_DATABASE": database},
            ready=" ready.",
            log=setup.tmp / "celery-worker.log",
        )
        app = make_app(url)

        def make() -> CeleryExecutor:
            return CeleryExecutor(app=app, queue=queue)

        executor = make()
        engine = _engine(f"celery-{broker}", store, executor)
        try:
            worker.start()
            yield World(
                kind=f"celery-{broker}",
                store=store,
                executor=executor,
                engine=engine,
                new_executor=make,
                worker=worker,
            )
        finally:
            worker.stop()
            engine.close()
            _delete_queue(executor, queue)
            store.dispose()

    return build


# -- django.tasks ------------------------------------------------------------------

DB_WORKER_COMMAND = [
    sys.executable, "-m", "django", "db_worker", "--queue-name", "default",
    "--interval", "0.05", "--no-startup-delay", "--no-reload", "--verbosity", "2",
]  # fmt: skip


@contextmanager
def _django_database(setup: Setup) -> Iterator[str]:
    """The alias of a Django database of this world's own, with the app's tables."""
    from tests.django_databases import pointed_at

    template: Path = setup.request.getfixturevalue("_django_sqlite_template")
    blocker = setup.request.getfixturevalue("django_db_blocker")
    path = setup.tmp / "django.sqlite3"
    shutil.copyfile(template, path)
    with blocker.unblock(), pointed_at("sqlite", str(path)) as alias:
        yield alias


@contextmanager
def _django_tasks_immediate(setup: Setup) -> Iterator[World]:
    """Django's ImmediateBackend: the wrapper task runs inside ``enqueue``, in this process,
    and records the run in the store the Django app gives workers (this world's)."""
    from tests.djtasks.conftest import require_backend

    require_backend()
    from django.conf import settings
    from django.test import override_settings

    import scheduler.django.tasks as wrapper
    from scheduler.django.store import DjangoStore
    from scheduler.executors.django_tasks import DjangoTasksExecutor
    from scheduler.workers import store as worker_stores

    backend = f"{wrapper.tasks_framework().__name__}.backends.immediate.ImmediateBackend"
    tasks = {**settings.TASKS, "contract-immediate": {"BACKEND": backend}}
    before = worker_stores.default_store_factory()
    with (
        _django_database(setup) as alias,
        override_settings(TASKS=tasks),
        pytest.MonkeyPatch.context() as patch,
    ):
        # What the Django app registers when it is ready, on this world's database,
        # and a worker side of the wrapper made afresh to use it.
        worker_stores.set_default_store_factory(
            lambda: DjangoStore(using=alias), origin="the Django app"
        )
        patch.setattr(wrapper, "_side", None)
        store = DjangoStore(using=alias)

        def make() -> Executor:
            return DjangoTasksExecutor(backend="contract-immediate")

        executor = make()
        engine = _engine("django-tasks-immediate", store, executor)
        try:
            yield World(
                kind="django-tasks-immediate",
                store=store,
                executor=executor,
                engine=engine,
                new_executor=make,
            )
        finally:
            engine.close()
            side = wrapper._side
            if side is not None:
                side.heartbeat.close()
            store.dispose()
            if before is None:
                worker_stores.set_default_store_factory(None, origin="")
            else:
                worker_stores.set_default_store_factory(before.factory, origin=before.origin)


@contextmanager
def _django_tasks_database(setup: Setup) -> Iterator[World]:
    """django-tasks-db: runs enqueued as rows of this world's database, executed by a
    ``manage.py db_worker`` that records them there through the Django store."""
    from tests.djtasks.conftest import require_backend

    require_backend()
    from django.core.management import call_command

    from scheduler.django.store import DjangoStore
    from scheduler.executors.django_tasks import DjangoTasksExecutor
    from tests.djtasks.harness import database_settings
    from tests.djtasks.routing import TasksRouter

    with _django_database(setup) as alias:
        TasksRouter.alias = alias  # django-tasks-db's table, in this database
        store = DjangoStore(using=alias)
        try:
            call_command(
                "migrate", "django_tasks_database", database=alias, verbosity=0, interactive=False
            )
            worker = WorkerProcess(
                command=DB_WORKER_COMMAND,
                env={
                    "DJANGO_SETTINGS_MODULE": "tests.executors.contract_worker_settings",
                    "TICKWORK_TEST_DJANGO_DB": json.dumps(database_settings(alias)),
                },
                ready="Starting worker",
                log=setup.tmp / "db-worker.log",
            )

            def make() -> Executor:
                return DjangoTasksExecutor(backend="default")

            executor = make()
            engine = _engine("django-tasks-database", store, executor)
            worker.start()
            try:
                yield World(
                    kind="django-tasks-database",
                    store=store,
                    executor=executor,
                    engine=engine,
                    new_executor=make,
                    worker=worker,
                )
            finally:
                worker.stop()
                engine.close()
        finally:
            store.dispose()
            TasksRouter.alias = "default"


#: Every executor under the contract, by the name its tests show.
WORLDS: dict[str, Kind] = {
    "immediate": Kind(_in_process("immediate", ImmediateExecutor)),
    "thread": Kind(_in_process("thread", lambda: ThreadExecutor(max_workers=2))),
    "process": Kind(_in_process("process", lambda: ProcessExecutor(max_workers=2))),
    "asyncio": Kind(_in_process("asyncio", lambda: AsyncioExecutor(max_concurrency=4))),
    "celery-redis": Kind(_celery("redis"), marks=(pytest.mark.celery,)),
    "celery-rabbitmq": Kind(_celery("rabbitmq"), marks=(pytest.mark.celery,)),
    "django-tasks-immediate": Kind(_django_tasks_immediate),
    "django-tasks-database": Kind(_django_tasks_database),
}
