"""execute(): one run of one task, whatever the task does, becomes an Outcome."""

from __future__ import annotations

import asyncio
import math
import os
import socket
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scheduler.executors.invoke import execute, worker_id
from scheduler.model.jobs import JobSpec, JSONValue
from scheduler.model.runs import ClaimedRun, Outcome, Run, RunContext, RunStatus, Trigger
from scheduler.tasks.registry import RegisteredTask

SLOT = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
NOW = SLOT + timedelta(hours=5)  # run late, after an outage


class StoppedClock:
    """A clock that always says ``NOW``."""

    real_time = False

    def now(self) -> datetime:
        return NOW

    def sleep(self, seconds: float) -> None:
        raise AssertionError("execute() must not sleep")


def claimed(args: list[JSONValue] | None = None, **kwargs: JSONValue) -> ClaimedRun:
    spec = JobSpec.build(
        name="daily-report", task="reports.daily", cron="0 1 * * *", args=args or [], kwargs=kwargs
    )
    run = Run(
        id=41,
        job_name=spec.name,
        scheduled_for=SLOT,
        due_at=SLOT,
        attempt=2,
        trigger=Trigger.RETRY,
        status=RunStatus.RUNNING,
    )
    return ClaimedRun(run=run, job=spec)


def run(
    func: Callable[..., Any],
    job: ClaimedRun | None = None,
    *,
    takes_context: bool = False,
    max_result_bytes: int = 65_536,
) -> Outcome:
    task = RegisteredTask(name="reports.daily", func=func, takes_context=takes_context)
    return execute(job or claimed(), task, clock=StoppedClock(), max_result_bytes=max_result_bytes)


def test_success_records_the_result_and_the_clock_time() -> None:
    outcome = run(lambda a, b, scale: (a + b) * scale, claimed([2, 3], scale=10))
    assert outcome == Outcome(status=RunStatus.SUCCEEDED, finished_at=NOW, result=50)


def test_the_result_is_what_json_gives_back() -> None:
    outcome = run(lambda: {"rows": (1, 2), "ok": True, "note": None, "é": 1.5})
    assert outcome.result == {"rows": [1, 2], "ok": True, "note": None, "é": 1.5}


def test_the_task_gets_copies_of_its_arguments() -> None:
    job = claimed([[1]], options={"retry": [1]})

    def meddle(items: list[int], options: dict[str, list[int]]) -> None:
        items.append(2)
        options["retry"].append(2)

    assert run(meddle, job).status is RunStatus.SUCCEEDED
    assert job.job.args == ([1],)
    assert job.job.kwargs == {"options": {"retry": [1]}}


def test_an_exception_is_a_failed_run_with_its_traceback() -> None:
    def explode() -> None:
        raise ValueError("no data for 2026-03-29")

    outcome = run(explode)
    assert (outcome.status, outcome.finished_at) == (RunStatus.FAILED, NOW)
    assert outcome.error == "ValueError: no data for 2026-03-29"
    assert outcome.traceback.startswith("Traceback (most recent call last):")
    assert 'in explode\n    raise ValueError("no data for 2026-03-29")' in outcome.traceback
    assert outcome.traceback.endswith("ValueError: no data for 2026-03-29\n")


def test_system_exit_from_a_task_is_a_failed_run() -> None:
    outcome = run(lambda: sys.exit(3))
    assert (outcome.status, outcome.error) == (RunStatus.FAILED, "SystemExit: 3")


def test_keyboard_interrupt_is_the_operators_and_goes_through() -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(interrupted)


def test_a_wrong_call_signature_is_a_failed_run() -> None:
    outcome = run(lambda: None, claimed([1]))
    assert outcome.status is RunStatus.FAILED
    assert outcome.error.startswith("TypeError: ")


def test_an_async_task_runs_to_completion() -> None:
    async def fetch(count: int) -> list[int]:
        await asyncio.sleep(0)
        return list(range(count))

    assert run(fetch, claimed([3])).result == [0, 1, 2]


def test_an_async_task_failure_is_a_failed_run() -> None:
    async def fetch() -> None:
        await asyncio.sleep(0)
        raise ConnectionError("feed unreachable")

    outcome = run(fetch)
    assert (outcome.status, outcome.error) == (
        RunStatus.FAILED,
        "ConnectionError: feed unreachable",
    )
    assert "in fetch" in outcome.traceback


def test_an_async_task_cancelling_itself_is_a_failed_run() -> None:
    async def give_up() -> None:
        raise asyncio.CancelledError

    assert run(give_up).error == "CancelledError: "


def test_an_async_task_runs_even_when_called_inside_a_running_loop() -> None:
    threads: list[threading.Thread] = []

    async def fetch() -> str:
        threads.append(threading.current_thread())
        return "fetched"

    async def engine() -> Outcome:
        return run(fetch)  # a synchronous call made from a coroutine

    outcome = asyncio.run(engine())
    assert outcome.result == "fetched"
    assert threads != [threading.current_thread()]  # its own loop, in a helper thread


def test_a_callable_returning_an_awaitable_is_awaited() -> None:
    class Fetcher:
        async def __call__(self) -> int:
            return 7

    assert run(Fetcher()).result == 7


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        ({1, 2}, "a set is not a JSON value"),
        ([1, datetime(2026, 1, 1)], "a datetime is not a JSON value"),
        ({"ratio": math.nan}, "nan is not a JSON number"),
        (math.inf, "inf is not a JSON number"),
        ({(1, 2): "pair"}, "a tuple is not a JSON object key"),
    ],
)
def test_a_result_that_is_not_json_is_a_failed_run(result: object, reason: str) -> None:
    outcome = run(lambda: result)
    assert outcome == Outcome(
        status=RunStatus.FAILED, finished_at=NOW, error=f"result is not JSON: {reason}"
    )


def test_a_result_that_contains_itself_is_a_failed_run() -> None:
    loop: list[object] = []
    loop.append(loop)
    outcome = run(lambda: loop)
    assert outcome.error == "result is not JSON: it is nested too deeply (or contains itself)"


def test_a_result_larger_than_the_limit_is_a_failed_run() -> None:
    outcome = run(lambda: "é" * 30, max_result_bytes=50)  # 60 bytes of UTF-8, plus quotes
    assert outcome == Outcome(
        status=RunStatus.FAILED,
        finished_at=NOW,
        error="result is 62 bytes, more than the limit of 50",
    )


def test_a_result_exactly_at_the_limit_is_kept() -> None:
    outcome = run(lambda: "x" * 48, max_result_bytes=50)
    assert (outcome.status, outcome.result) == (RunStatus.SUCCEEDED, "x" * 48)


def test_a_task_that_takes_context_knows_which_slot_it_is_for() -> None:
    received: list[RunContext] = []

    def report(*, context: RunContext, region: str) -> str:
        received.append(context)
        return f"{region} {context.scheduled_for.date()}"

    outcome = run(report, claimed(region="eu"), takes_context=True)
    assert outcome.result == "eu 2026-03-29"
    assert received == [
        RunContext(
            run_id=41, job_name="daily-report", scheduled_for=SLOT, attempt=2, trigger=Trigger.RETRY
        )
    ]


def test_context_is_passed_to_async_tasks_too() -> None:
    async def report(context: RunContext) -> int:
        return context.attempt

    assert run(report, takes_context=True).result == 2


def test_no_context_unless_asked_for() -> None:
    assert run(lambda **kwargs: sorted(kwargs), claimed(region="eu")).result == ["region"]


def test_a_context_kwarg_clashing_with_the_context_is_a_failed_run() -> None:
    outcome = run(lambda context: None, claimed(context="mine"), takes_context=True)
    assert outcome.status is RunStatus.FAILED
    assert outcome.error == (
        "TypeError: task 'reports.daily' takes its run context as 'context', "
        "but the job's kwargs already have a 'context' key"
    )


def test_worker_id_is_host_and_pid() -> None:
    assert worker_id() == f"{socket.gethostname()}:{os.getpid()}"
