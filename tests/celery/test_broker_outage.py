"""A broker that is down when runs are handed over: the runs fail and are retried by
their job's policy, the scheduler keeps running, and once the broker is back the
retries reach the worker.

The outage is real: the Redis test stops and restarts a ``redis-server`` of its
own; the other test points the executor at a port where nothing listens.  The
engine runs on a fake clock, so a retry's backoff passes without sleeping.
"""

from __future__ import annotations

from tests.celery.conftest import require_celery

require_celery()

import shutil
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scheduler.engine import Engine
from scheduler.executors.celery import CeleryExecutor
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import RunStatus, Trigger
from scheduler.stores.sqlalchemy import SQLAlchemyStore
from scheduler.testing import FakeClock
from tests.conftest import _service_missing

from .harness import WAIT, new_world, wait_until
from .worker_app import make_app

# Both bound how long a tick with the broker down takes (10 s).
pytestmark = [pytest.mark.celery, pytest.mark.serial, pytest.mark.one_leg]

TASKS = "tests.celery.worker_app"
BACKOFF = timedelta(seconds=30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class RedisServer:
    """A redis-server of this test's own, on a port of its own."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            _service_missing("redis-server", FileNotFoundError("redis-server is not on PATH"))
        self.process = subprocess.Popen(
            [str(binary), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(self._up, f"redis-server on port {self.port}")
        return self

    def _up(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=WAIT)
            self.process = None


def job(name: str, task: str, now: datetime, **options: object) -> JobSpec:
    at = now - timedelta(seconds=0.5)
    return JobSpec.build(
        name=name, task=task, at=at, retries=1, retry_backoff=BACKOFF, source=JobSource.CODE,
        **options,  # type: ignore[arg-type]
    )  # fmt: skip


def test_runs_handed_to_a_stopped_redis_are_retried_once_it_is_back(tmp_path: Path) -> None:
    redis = RedisServer(free_port()).start()
    clock = FakeClock(datetime.now(UTC))
    world, close = new_world(
        tmp_path, f"redis://127.0.0.1:{redis.port}/0", clock=clock, broker_retry_after=0.5
    )
    try:
        for name in ("first", "second"):
            world.store.save_job(
                job(name, f"{TASKS}.add", clock.now(), kwargs={"a": 1, "b": 1}),
                now=clock.now() - timedelta(seconds=1),
            )
        redis.stop()
        started = time.monotonic()
        report = world.engine.tick()
        assert time.monotonic() - started < 10  # one connection attempt, not one per run
        assert (report.claimed, report.dispatched) == (2, 0)
        for name in ("first", "second"):
            failed = world.run_of(name)
            assert failed.status is RunStatus.FAILED
            assert "Celery broker unavailable" in failed.error
            retry = world.run_of(name, attempt=2)
            assert (retry.status, retry.trigger) == (RunStatus.PENDING, Trigger.RETRY)
            assert retry.due_at == failed.finished_at + BACKOFF
        assert world.engine.tick().claimed == 0  # no spinning on the failures

        redis.start()
        clock.advance(BACKOFF)
        wait_until(lambda: world.engine.tick().dispatched, "the retries to be handed over")
        for name in ("first", "second"):
            run = wait_until(
                lambda name=name: (
                    (r := world.run_of(name, attempt=2)).status is RunStatus.SUCCEEDED and r
                ),
                f"the retry of {name} to succeed",
            )
            assert run.result == {"sum": 2}
    finally:
        close()
        world.executor.app.pool.force_close_all()  # this redis-server's pool only
        redis.stop()


@pytest.mark.parametrize(
    "scheme", ["redis://127.0.0.1:{port}/0", "amqp://guest:guest@127.0.0.1:{port}//"]
)
def test_a_broker_nobody_listens_on_fails_runs_fast_and_schedules_retries(
    tmp_path: Path, scheme: str
) -> None:
    store = SQLAlchemyStore(f"sqlite:///{tmp_path}/runs.sqlite3")
    store.create_schema()
    clock = FakeClock(datetime.now(UTC))
    executor = CeleryExecutor(app=make_app(scheme.format(port=free_port())), clock=clock)
    engine = Engine(store, {"default": executor}, clock=clock, replica_id="outage")
    names = [f"job-{index}" for index in range(50)]
    for name in names:
        store.save_job(
            job(name, f"{TASKS}.add", clock.now()), now=clock.now() - timedelta(seconds=1)
        )
    try:
        started = time.monotonic()
        report = engine.tick()
        elapsed = time.monotonic() - started
        runs = store.list_runs(limit=200)
    finally:
        executor.shutdown(wait=False, timeout=None)
        executor.app.pool.force_close_all()  # kombu's pool for this URL only: no one else's
        store.dispose()
    assert (report.claimed, report.dispatched) == (50, 0)
    assert elapsed < 10  # Celery's publish retries cost about a second, once
    assert sorted((r.attempt, r.status) for r in runs) == sorted(
        [(1, RunStatus.FAILED)] * 50 + [(2, RunStatus.PENDING)] * 50
    )
