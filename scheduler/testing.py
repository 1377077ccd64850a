"""Test doubles for code that uses Tickwork, and for Tickwork's own tests.

* :class:`FakeClock`: time that moves only when told (``sleep`` advances it),
  so nothing ever waits for a schedule in real time;
* :class:`RecordingExecutor`: accepts runs and holds them until the test
  finishes them, so overlap, timeouts and lost work can be staged exactly;
* :class:`~scheduler.stores.memory.MemoryStore`: the in-memory store.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .clock import ensure_aware_utc
from .executors.base import ExecutorCapabilities, RunReporter
from .executors.invoke import execute, worker_id
from .model.jobs import JSONValue
from .model.runs import ClaimedRun, Outcome, RunStatus
from .stores.memory import MemoryStore
from .tasks.registry import RegisteredTask

__all__ = ["FakeClock", "MemoryStore", "RecordingExecutor", "Submission"]


class FakeClock:
    """A clock that starts at ``start`` and moves only by :meth:`advance`,
    :meth:`set` or :meth:`sleep`.  Thread-safe."""

    #: Its :meth:`sleep` moves the clock on at once: nothing waits in real time.
    real_time = False

    def __init__(self, start: datetime | str = datetime(2026, 1, 1, tzinfo=UTC)) -> None:
        if isinstance(start, str):
            start = datetime.fromisoformat(start)
        self._now = ensure_aware_utc(start, "start")
        self._lock = threading.Lock()
        self.slept: list[float] = []

    def now(self) -> datetime:
        """The clock's current instant, aware UTC."""
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        """Advance by ``seconds`` (not at all if negative) and note them in ``slept``."""
        self.slept.append(seconds)
        self.advance(timedelta(seconds=max(0.0, seconds)))

    def advance(self, delta: timedelta | float) -> datetime:
        """Move forward by ``delta`` (a timedelta or seconds); the new instant."""
        if not isinstance(delta, timedelta):
            delta = timedelta(seconds=delta)
        with self._lock:
            self._now += delta
            return self._now

    def set(self, instant: datetime | str) -> None:
        """Jump to ``instant``: an aware datetime, or an ISO 8601 string with an offset."""
        if isinstance(instant, str):
            instant = datetime.fromisoformat(instant)
        with self._lock:
            self._now = ensure_aware_utc(instant, "instant")


@dataclass(slots=True)
class Submission:
    """One run handed to a :class:`RecordingExecutor`."""

    claimed: ClaimedRun
    task: RegisteredTask
    reporter: RunReporter


class RecordingExecutor:
    """An executor that records what it is given and runs nothing by itself.

    ``auto_run=True`` executes each run inline at submission, like the
    immediate executor; otherwise the test calls :meth:`start`,
    :meth:`complete` or :meth:`run_pending` when it wants.  With ``workers``,
    its :meth:`capacity` is that many runs not completed yet at once, so the
    engine claims no more; without, it sets no limit.  What it reports
    is written before its methods return: it flushes the engine's group
    commit (``flush_reports()``), where a test would otherwise wait for it.
    """

    capabilities = ExecutorCapabilities(runs_in_process=True)

    def __init__(
        self,
        name: str = "default",
        *,
        clock: FakeClock | None = None,
        auto_run: bool = False,
        workers: int | None = None,
    ) -> None:
        self.name = name
        self.clock = clock or FakeClock()
        self.auto_run = auto_run
        self.workers = workers
        self.submissions: list[Submission] = []
        self._open: dict[int, Submission] = {}
        self._closed = False

    def submit(self, claimed: ClaimedRun, task: RegisteredTask, reporter: RunReporter) -> str:
        if self._closed:
            raise RuntimeError("executor is shut down")
        submission = Submission(claimed=claimed, task=task, reporter=reporter)
        self.submissions.append(submission)
        self._open[claimed.run.id] = submission
        if self.auto_run:
            self.run(claimed.run.id)
        return ""

    @property
    def run_ids(self) -> list[int]:
        """The ids of every run submitted so far, in order."""
        return [s.claimed.run.id for s in self.submissions]

    def start(self, run_id: int) -> bool:
        """Report the run as started, as a worker would."""
        return self._open[run_id].reporter.started(run_id, worker=worker_id())

    def complete(
        self,
        run_id: int,
        status: RunStatus = RunStatus.SUCCEEDED,
        *,
        result: JSONValue = None,
        error: str = "",
    ) -> None:
        """Report an outcome without executing anything."""
        submission = self._open.pop(run_id)
        outcome = Outcome(status=status, finished_at=self.clock.now(), result=result, error=error)
        _reported(submission.reporter, run_id, outcome)

    def run(self, run_id: int) -> None:
        """Really execute the run's task now, inline, and report it."""
        submission = self._open[run_id]
        if not self.start(run_id):
            self._open.pop(run_id)
            return
        outcome = execute(submission.claimed, submission.task, clock=self.clock)
        self._open.pop(run_id)
        _reported(submission.reporter, run_id, outcome)

    def run_pending(self) -> None:
        """:meth:`run` every run that has not been completed yet."""
        for run_id in list(self._open):
            self.run(run_id)

    def shutdown(self, *, wait: bool, timeout: float | None) -> list[int]:
        self._closed = True
        return list(self._open)

    def active_count(self) -> int:
        return len(self._open)

    def capacity(self) -> int | None:
        """``workers`` minus the runs not completed yet (no buffer); None without ``workers``."""
        return None if self.workers is None else max(0, self.workers - len(self._open))


def _reported(reporter: RunReporter, run_id: int, outcome: Outcome) -> None:
    """Report the end, and write it at once where the reporter gathers reports."""
    reporter.finished(run_id, outcome)
    flush = getattr(reporter, "flush_reports", None)
    if callable(flush):
        flush()
