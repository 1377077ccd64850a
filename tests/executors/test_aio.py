"""The asyncio executor: one loop, many coroutines at once, timeouts that cancel.

Coroutines wait on events the test sets where it can; the timeouts and the
concurrency test need real time, and are kept to a second or two.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from scheduler.engine import Engine
from scheduler.executors.aio import AsyncioExecutor
from scheduler.executors.base import ExecutorCapabilities, ExecutorConfigError
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import RunStatus
from scheduler.stores.memory import MemoryStore
from scheduler.tasks.registry import TaskRegistry

from .support import WAIT, RecordingReporter, claimed, task


@pytest.fixture
def executor() -> Iterator[AsyncioExecutor]:
    made = AsyncioExecutor(max_concurrency=3)
    yield made
    made.shutdown(wait=False, timeout=0)


def test_capabilities_enforce_timeouts_in_process() -> None:
    assert AsyncioExecutor.capabilities == ExecutorCapabilities(
        enforces_timeout=True, runs_in_process=True
    )


def test_200_coroutine_jobs_sleeping_1s_finish_together_through_the_engine() -> None:
    """max_concurrency 200: all run at once, so the batch takes about one second (the
    precise figure is benchmarks/asyncio_executor.py's; here only "not one by one")."""
    registry = TaskRegistry()
    registry.register(_sleep_one_second, name="tests.sleep_one_second")
    store = MemoryStore()
    executor = AsyncioExecutor(max_concurrency=200)
    engine = Engine(store, {"default": executor}, registry=registry, replica_id="aio-200")
    now = datetime.now(UTC)
    for number in range(200):
        spec = JobSpec.build(
            name=f"sleeper-{number}",
            task="tests.sleep_one_second",
            at=now - timedelta(seconds=0.5),
            source=JobSource.CODE,
        )
        store.save_job(spec, now=now - timedelta(seconds=1))
    try:
        began = time.monotonic()
        engine.tick()
        while executor.active_count():
            assert time.monotonic() - began < 60, "the runs never ended"
            time.sleep(0.05)
        took = time.monotonic() - began
    finally:
        engine.close()
        executor.shutdown(wait=False, timeout=0)
    runs = store.list_runs(limit=1000)
    assert len(runs) == 200
    assert {run.status for run in runs} == {RunStatus.SUCCEEDED}
    assert {run.result for run in runs} == {"slept"}
    assert took < 20  # one by one would be 200 s


async def _sleep_one_second() -> str:
    await asyncio.sleep(1)
    return "slept"


def test_no_more_than_max_concurrency_run_at_once(executor: AsyncioExecutor) -> None:
    release = threading.Event()
    running, peak = [0], [0]

    async def hold() -> str:
        running[0] += 1  # all on the loop's one thread: no lock needed
        peak[0] = max(peak[0], running[0])
        while not release.is_set():
            await asyncio.sleep(0.01)
        running[0] -= 1
        return "done"

    reporter = RecordingReporter()
    for run_id in range(1, 9):
        executor.submit(claimed(run_id), task(hold), reporter)
    _wait(lambda: running[0] == 3)
    time.sleep(0.2)  # a fourth would be let in by now if it could
    assert sum(kind == "started" for kind, _, _ in reporter.events) == 3
    assert executor.active_count() == 8
    release.set()
    outcomes = [reporter.wait_finished(run_id) for run_id in range(1, 9)]
    assert {outcome.result for outcome in outcomes} == {"done"}
    assert peak[0] == 3


def test_a_coroutine_over_its_timeout_is_timed_out_and_cancelled(
    executor: AsyncioExecutor,
) -> None:
    cancelled = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    reporter = RecordingReporter()
    began = time.monotonic()
    executor.submit(claimed(1, timeout=timedelta(seconds=1)), task(forever), reporter)
    outcome = reporter.wait_finished(1)
    assert time.monotonic() - began < 5
    assert outcome.status is RunStatus.TIMED_OUT
    assert outcome.error == (
        "TimeoutError: still running 1s after it started; the asyncio executor "
        "cancelled its coroutine"
    )
    assert cancelled.wait(WAIT)
    _wait(lambda: executor.active_count() == 0 and executor.leaked_runs == 0)
    assert reporter.kinds(1) == ["started", "finished"]


def test_a_coroutine_swallowing_its_cancellation_is_counted_until_it_ends(
    executor: AsyncioExecutor,
) -> None:
    release = threading.Event()

    async def stubborn() -> str:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            while not release.is_set():  # refuses to stop, but keeps awaiting
                await asyncio.sleep(0.01)
        return "late"

    reporter = RecordingReporter()
    executor.submit(claimed(1, timeout=timedelta(seconds=0.5)), task(stubborn), reporter)
    assert reporter.wait_finished(1).status is RunStatus.TIMED_OUT
    _wait(lambda: executor.leaked_runs == 1)
    release.set()
    _wait(lambda: executor.leaked_runs == 0 and executor.active_count() == 0)
    assert [o.status for o in reporter.outcomes(1)] == [RunStatus.TIMED_OUT]  # "late" ignored


def test_a_plain_function_runs_off_the_loop_and_is_interrupted_at_its_timeout(
    executor: AsyncioExecutor,
) -> None:
    threads: list[str] = []
    stopped = threading.Event()

    def busy() -> None:
        threads.append(threading.current_thread().name)
        try:
            while True:
                time.sleep(0.01)
        except TimeoutError:
            stopped.set()
            raise

    reporter = RecordingReporter()
    executor.submit(claimed(1, timeout=timedelta(seconds=0.5)), task(busy), reporter)
    outcome = reporter.wait_finished(1)
    assert outcome.status is RunStatus.TIMED_OUT
    assert outcome.error.endswith("the asyncio executor interrupted its thread")
    assert stopped.wait(WAIT)
    assert threads == ["tickwork-asyncio-run-1"]
    _wait(lambda: executor.active_count() == 0 and executor.leaked_runs == 0)


def test_shutdown_cancels_waiting_runs_and_gives_up_running_ones() -> None:
    executor = AsyncioExecutor(max_concurrency=1)
    cancelled = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    reporter = RecordingReporter()
    executor.submit(claimed(1), task(forever), reporter)
    executor.submit(claimed(2), task(forever), reporter)
    reporter.wait_started(1)
    assert executor.shutdown(wait=True, timeout=0.2) == [1]
    assert cancelled.wait(WAIT)
    assert reporter.kinds(1) == ["started"]  # the engine records it lost
    [withdrawn] = reporter.outcomes(2)
    assert withdrawn.status is RunStatus.CANCELLED
    assert executor.active_count() == 0


@pytest.mark.parametrize("value", [0, -1, True, "200"])
def test_bad_max_concurrency_is_refused(value: object) -> None:
    with pytest.raises(ExecutorConfigError, match="max_concurrency: expected an integer of at"):
        AsyncioExecutor(max_concurrency=value)  # type: ignore[arg-type]


def _wait(check: object) -> None:
    assert callable(check)
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.01)
