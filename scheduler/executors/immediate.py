"""Run each task inline, inside :meth:`ImmediateExecutor.submit`: for tests and development.

``submit`` returns only when the run has ended and been reported, so the
engine's tick takes as long as its tasks.  Nothing is enforced or observed:
a job's timeout is ignored, and a task that never returns blocks the scheduler.
"""

from __future__ import annotations

import threading

from ..clock import Clock
from ..model.runs import ClaimedRun
from ..tasks.registry import RegisteredTask
from .base import ExecutorCapabilities, ExecutorClosed, RunReporter, clock_option
from .invoke import execute, worker_id

__all__ = ["ImmediateExecutor"]


class ImmediateExecutor:
    """Runs each task in the thread that submits it."""

    name = "immediate"
    capabilities = ExecutorCapabilities(runs_in_process=True, runs_inline=True)

    def __init__(self, *, clock: Clock | None = None) -> None:
        self._clock = clock_option(clock)
        self._lock = threading.Lock()
        self._active: set[int] = set()
        self._closed = False

    def submit(self, claimed: ClaimedRun, task: RegisteredTask, reporter: RunReporter) -> str:
        """Start, execute and finish the run before returning ``""``.

        Raises :class:`~scheduler.executors.base.ExecutorClosed` after
        :meth:`shutdown`; whatever the reporter raises propagates.
        """
        run_id = claimed.run.id
        with self._lock:
            if self._closed:
                raise ExecutorClosed(f"immediate executor is shut down; run {run_id} not started")
            self._active.add(run_id)
        try:
            if reporter.started(run_id, worker=worker_id()):
                reporter.finished(run_id, execute(claimed, task, clock=self._clock))
        finally:
            with self._lock:
                self._active.discard(run_id)
        return ""

    def shutdown(self, *, wait: bool, timeout: float | None) -> list[int]:
        """Refuse further runs; returns the runs other threads are executing right now.

        There is nothing to wait for: a run ends before its ``submit`` returns.
        """
        with self._lock:
            self._closed = True
            return sorted(self._active)

    def active_count(self) -> int:
        """Runs being executed inline right now (by any thread)."""
        with self._lock:
            return len(self._active)

    def capacity(self) -> None:
        """No limit: each run is executed inside the wake-up that claimed it."""
        return None
