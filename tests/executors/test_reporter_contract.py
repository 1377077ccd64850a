"""What the in-process executors report to their RunReporter, run unchanged against each one.

The half of the executor contract that only executors running tasks in this
process have: the ``started``/``finished`` events the engine records for them.
The contract every executor passes, in-process or not, is checked in the run
table by ``test_contract.py``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator

import pytest

from scheduler.executors.base import Executor, ExecutorCapabilities, ExecutorClosed
from scheduler.executors.immediate import ImmediateExecutor
from scheduler.executors.thread import ThreadExecutor
from scheduler.model.runs import RunStatus

from .support import T0, RecordingReporter, SetClock, claimed, task

FACTORIES: dict[str, Callable[[SetClock], Executor]] = {
    "immediate": lambda clock: ImmediateExecutor(clock=clock),
    "thread": lambda clock: ThreadExecutor(max_workers=2, clock=clock),
}


@pytest.fixture(params=sorted(FACTORIES))
def executor(request: pytest.FixtureRequest) -> Iterator[Executor]:
    built = FACTORIES[request.param](SetClock())
    yield built
    built.shutdown(wait=True, timeout=5)


def test_is_an_executor_with_capabilities(executor: Executor) -> None:
    assert isinstance(executor, Executor)
    assert isinstance(executor.capabilities, ExecutorCapabilities)
    assert executor.name in FACTORIES


def test_a_successful_run_is_started_then_finished(executor: Executor) -> None:
    reporter = RecordingReporter()
    external_id = executor.submit(claimed(1, args=[2, 3]), task(lambda a, b: a + b), reporter)
    outcome = reporter.wait_finished(1)
    assert external_id == ""
    assert reporter.kinds(1) == ["started", "finished"]
    assert reporter.events[0] == ("started", 1, f"{socket.gethostname()}:{os.getpid()}")
    assert (outcome.status, outcome.result, outcome.finished_at) == (RunStatus.SUCCEEDED, 5, T0)


def test_a_failing_run_is_reported_failed(executor: Executor) -> None:
    reporter = RecordingReporter()

    def broken() -> None:
        raise LookupError("no such customer")

    executor.submit(claimed(1), task(broken), reporter)
    outcome = reporter.wait_finished(1)
    assert outcome.status is RunStatus.FAILED
    assert outcome.error == "LookupError: no such customer"
    assert "in broken" in outcome.traceback


def test_a_run_the_reporter_refuses_is_not_executed(executor: Executor) -> None:
    calls: list[int] = []
    refusing = RecordingReporter(start=False)
    executor.submit(claimed(1), task(lambda: calls.append(1)), refusing)
    refusing.wait_started(1)
    assert executor.shutdown(wait=True, timeout=5) == []  # waits for the worker to drop it
    assert calls == []
    assert refusing.kinds(1) == ["started"]
    assert executor.active_count() == 0


def test_nothing_is_accepted_after_shutdown(executor: Executor) -> None:
    assert executor.shutdown(wait=True, timeout=5) == []
    with pytest.raises(ExecutorClosed, match="shut down"):
        executor.submit(claimed(1), task(lambda: None), RecordingReporter())
    assert executor.active_count() == 0
