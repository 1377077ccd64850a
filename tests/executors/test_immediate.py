"""The immediate executor: everything happens inside submit()."""

from __future__ import annotations

from datetime import timedelta

from scheduler.executors.base import ExecutorCapabilities
from scheduler.executors.immediate import ImmediateExecutor
from scheduler.model.runs import RunContext, RunStatus, Trigger

from .support import T0, RecordingReporter, SetClock, claimed, task


def test_capabilities_promise_nothing_but_running_in_process_inline() -> None:
    assert ImmediateExecutor.capabilities == ExecutorCapabilities(
        runs_in_process=True, runs_inline=True
    )


def test_submit_returns_after_the_run_is_reported() -> None:
    reporter = RecordingReporter()
    seen: list[RunContext] = []

    def report(day: str, *, context: RunContext) -> str:
        seen.append(context)
        return f"report for {day}"

    executor = ImmediateExecutor(clock=SetClock())
    executor.submit(claimed(7, args=["monday"]), task(report, takes_context=True), reporter)
    # No waiting: submit() only returns once finished() has been called.
    assert reporter.kinds(7) == ["started", "finished"]
    (outcome,) = reporter.outcomes(7)
    assert (outcome.status, outcome.result) == (RunStatus.SUCCEEDED, "report for monday")
    assert seen == [
        RunContext(
            run_id=7, job_name="job-7", scheduled_for=T0, attempt=1, trigger=Trigger.SCHEDULE
        )
    ]
    assert executor.active_count() == 0


def test_active_while_a_run_executes() -> None:
    executor = ImmediateExecutor()
    counts: list[int] = []
    executor.submit(
        claimed(1), task(lambda: counts.append(executor.active_count())), RecordingReporter()
    )
    assert counts == [1]
    assert executor.active_count() == 0


def test_default_clock_is_the_system_clock() -> None:
    reporter = RecordingReporter()
    ImmediateExecutor().submit(claimed(1), task(lambda: None), reporter)
    (outcome,) = reporter.outcomes(1)
    assert outcome.finished_at.utcoffset() == timedelta(0)
