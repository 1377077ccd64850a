"""The engine with an executor that runs work outside the scheduler process (Celery's kind).

Such an executor returns an external id from ``submit`` and never reports back
to the engine: its worker records the run's end in the store itself.  The
engine must keep the id (recovery relies on it), must not keep the run in
memory, and must accept task names the executor's own system knows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.engine import Engine, EngineConfig
from scheduler.executors.base import ExecutorCapabilities, RunReporter
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import ClaimedRun, RunStatus
from scheduler.tasks.registry import RegisteredTask, TaskRegistry
from scheduler.testing import FakeClock, MemoryStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _never_called() -> None:
    raise AssertionError("a named task is sent by name, never called in the scheduler")


class OutsideExecutor:
    """Hands runs to an imaginary remote system that knows the task ``remote.known``."""

    name = "outside"
    capabilities = ExecutorCapabilities(supports_queue=True)

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []

    def submit(self, claimed: ClaimedRun, task: RegisteredTask, reporter: RunReporter) -> str:
        self.sent.append((claimed.run.id, task.name))
        return f"remote-{claimed.run.id}"

    def named_task(self, name: str) -> RegisteredTask | None:
        return RegisteredTask(name=name, func=_never_called) if name == "remote.known" else None

    def shutdown(self, *, wait: bool, timeout: float | None) -> list[int]:
        return []

    def active_count(self) -> int:
        return 0

    def capacity(self) -> None:
        return None


def _world(task: str) -> tuple[Engine, MemoryStore, OutsideExecutor, FakeClock]:
    clock = FakeClock(T0)
    store = MemoryStore()
    registry = TaskRegistry()
    registry.register(lambda: None, name="ours.registered")
    spec = JobSpec.build(name="j", task=task, every="1m", source=JobSource.CODE)
    store.save_job(spec, now=T0 - timedelta(minutes=1))
    executor = OutsideExecutor()
    engine = Engine(store, {"default": executor}, registry=registry, clock=clock, replica_id="r1")
    return engine, store, executor, clock


def test_the_external_id_is_stored_and_the_run_not_kept_in_memory() -> None:
    engine, store, executor, _ = _world("ours.registered")
    report = engine.tick()
    [run] = store.list_runs()
    assert report.dispatched == 1
    assert executor.sent == [(run.id, "ours.registered")]
    assert (run.status, run.executor, run.external_id) == (
        RunStatus.QUEUED,
        "default",
        f"remote-{run.id}",
    )
    assert engine.dispatcher.in_flight == frozenset()  # its worker reports to the store


def test_a_dead_replica_leaves_its_handed_out_runs_to_their_workers() -> None:
    engine, store, _, clock = _world("ours.registered")
    engine.tick()
    store.stop_replica("r1", now=clock.now())
    other = Engine(store, {"default": OutsideExecutor()}, clock=clock, replica_id="r2")
    clock.advance(timedelta(seconds=30))
    other.tick()
    [run] = store.list_runs(status=RunStatus.QUEUED)
    assert run.replica_id == "r1"


def test_a_task_name_the_executor_knows_is_sent_by_name() -> None:
    engine, store, executor, _ = _world("remote.known")
    engine.tick()
    [run] = store.list_runs()
    assert executor.sent == [(run.id, "remote.known")]
    assert run.status is RunStatus.QUEUED


def test_a_task_name_nobody_knows_fails_the_run() -> None:
    engine, store, executor, _ = _world("remote.unknown")
    engine.tick()
    [run] = store.list_runs()
    assert executor.sent == []
    assert run.status is RunStatus.FAILED
    assert "task 'remote.unknown' is not registered" in run.error


def test_a_shutdown_leaves_handed_out_runs_to_their_workers() -> None:
    engine, store, _, _ = _world("ours.registered")
    engine.config = EngineConfig(shutdown_grace=0.0)
    engine.tick()
    engine.close()
    assert [run.status for run in store.list_runs()] == [RunStatus.QUEUED]


def test_a_run_no_worker_starts_is_lost_after_the_start_timeout_and_retried() -> None:
    clock = FakeClock(T0)
    store = MemoryStore()
    registry = TaskRegistry()
    registry.register(lambda: None, name="ours.registered")
    spec = JobSpec.build(
        name="j", task="ours.registered", cron="0 * * * *", retries=1, source=JobSource.CODE
    )
    store.save_job(spec, now=T0 - timedelta(minutes=1))  # due at 09:00
    config = EngineConfig(start_timeout=timedelta(minutes=10))
    engine = Engine(
        store, {"default": OutsideExecutor()}, registry=registry, clock=clock, config=config
    )
    engine.tick()  # 09:00: handed to a queue no worker reads
    clock.advance(timedelta(minutes=10))
    engine.tick()
    [run] = store.list_runs()
    assert run.status is RunStatus.QUEUED  # not past the timeout yet
    clock.advance(timedelta(seconds=10))
    engine.tick()
    first, retry = sorted(store.list_runs(), key=lambda run: run.attempt)
    assert (first.status, first.error) == (
        RunStatus.LOST,
        "not started by a worker of executor default within 10m of being handed over",
    )
    assert (retry.attempt, retry.scheduled_for) == (2, T0)


def test_a_run_whose_worker_went_silent_is_lost_by_recovery_and_retried() -> None:
    """What docs/how-to/run-jobs-on-celery.md says of a whole worker gone: the
    scheduler's recovery records the run lost, and the job's retries apply."""
    clock = FakeClock(T0)
    store = MemoryStore()
    registry = TaskRegistry()
    registry.register(lambda: None, name="ours.registered")
    spec = JobSpec.build(
        name="j", task="ours.registered", cron="0 * * * *", retries=1, source=JobSource.CODE
    )
    store.save_job(spec, now=T0 - timedelta(minutes=1))  # due at 09:00
    engine = Engine(store, {"default": OutsideExecutor()}, registry=registry, clock=clock)
    engine.tick()  # 09:00: handed to a worker
    [run] = store.list_runs()
    assert store.mark_running(run.id, worker="worker-1:42", now=T0)  # the worker starts it
    clock.advance(timedelta(seconds=61))  # then goes silent for more than stale_after
    engine.tick()
    first, retry = sorted(store.list_runs(), key=lambda run: run.attempt)
    assert first.status is RunStatus.LOST
    assert (retry.attempt, retry.trigger.value, retry.status) == (2, "retry", RunStatus.PENDING)
