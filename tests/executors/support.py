"""Test doubles for the executor tests: a settable clock, a recording reporter, runs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from scheduler.model.jobs import JobSpec, JSONValue
from scheduler.model.runs import ClaimedRun, Outcome, Run, RunStatus, Trigger
from scheduler.tasks.registry import RegisteredTask

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WAIT = 10.0  # seconds: only ever reached when a test is about to fail


class SetClock:
    """A clock that says whatever the test last set; sleeping is not allowed."""

    real_time = False

    def __init__(self, now: datetime = T0) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        raise AssertionError("executors must not sleep on the clock")


class RecordingReporter:
    """Records what an executor reports, and lets a test wait for a run's end."""

    def __init__(self, *, start: bool = True) -> None:
        self.start = start
        self.events: list[tuple[str, int, object]] = []
        self._lock = threading.Lock()
        self._started: dict[int, threading.Event] = {}
        self._finished: dict[int, threading.Event] = {}

    def started(self, run_id: int, *, worker: str) -> bool:
        with self._lock:
            self.events.append(("started", run_id, worker))
        self._event(self._started, run_id).set()
        return self.start

    def finished(self, run_id: int, outcome: Outcome) -> None:
        with self._lock:
            self.events.append(("finished", run_id, outcome))
        self._event(self._finished, run_id).set()

    def outcomes(self, run_id: int) -> list[Outcome]:
        with self._lock:
            found = [o for kind, rid, o in self.events if kind == "finished" and rid == run_id]
        return [o for o in found if isinstance(o, Outcome)]

    def kinds(self, run_id: int) -> list[str]:
        with self._lock:
            return [kind for kind, rid, _ in self.events if rid == run_id]

    def wait_started(self, run_id: int) -> None:
        assert self._event(self._started, run_id).wait(WAIT), f"run {run_id} never started"

    def wait_finished(self, run_id: int) -> Outcome:
        finished = self._event(self._finished, run_id)
        assert finished.wait(WAIT), f"run {run_id} was never reported finished"
        (outcome,) = self.outcomes(run_id)
        return outcome

    def _event(self, events: dict[int, threading.Event], run_id: int) -> threading.Event:
        with self._lock:
            return events.setdefault(run_id, threading.Event())


def claimed(
    run_id: int = 1,
    *,
    args: list[JSONValue] | None = None,
    timeout: timedelta | None = None,
    **options: Any,
) -> ClaimedRun:
    """A claimed run of a job named ``job-<run_id>`` (every minute, task ``tests.task``)."""
    spec = JobSpec.build(
        name=f"job-{run_id}",
        task="tests.task",
        every="1m",
        args=args or [],
        timeout=timeout,
        **options,
    )
    run = Run(
        id=run_id,
        job_name=spec.name,
        scheduled_for=T0,
        due_at=T0,
        attempt=1,
        trigger=Trigger.SCHEDULE,
        status=RunStatus.QUEUED,
    )
    return ClaimedRun(run=run, job=spec)


def task(func: Callable[..., Any], *, takes_context: bool = False) -> RegisteredTask:
    return RegisteredTask(name="tests.task", func=func, takes_context=takes_context)


def blocking() -> tuple[RegisteredTask, threading.Event, threading.Event]:
    """A task that signals ``entered`` and then waits for ``release``; returns "done"."""
    entered, release = threading.Event(), threading.Event()

    def hold() -> str:
        entered.set()
        assert release.wait(WAIT), "the test never released the task"
        return "done"

    return task(hold), entered, release
