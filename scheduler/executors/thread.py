"""Run tasks on a bounded pool of threads inside the scheduler process.

Timeouts are *observed*, not enforced: Python cannot stop a thread.  A run
still going once its job's ``timeout`` has elapsed is reported ``timed_out``
by :meth:`ThreadExecutor.check_timeouts`; its thread is left to finish, the
outcome it produces later is dropped (the run already ended), and it keeps its
worker slot until it returns, so the pool never runs more than ``max_workers``
tasks at once.  Such a thread is *leaked* until it returns: it is counted in
:attr:`ThreadExecutor.leaked_threads` and logged, so a task that never returns
shows.  To stop the work at its timeout, use the process executor
(:class:`scheduler.executors.process.ProcessExecutor`).

The engine calls :meth:`~ThreadExecutor.check_timeouts` with its own ``now``
on every tick; ``timeout_check_interval`` starts a watcher
thread that does it instead, for use without the engine.

Worker threads are daemons: a task that never returns must not keep the
process alive after :meth:`~ThreadExecutor.shutdown` gave up waiting for it.
Its run is among the ids ``shutdown`` returns, which the engine records ``lost``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from ..clock import Clock
from ..errors import DuplicateRun
from ..model.runs import ClaimedRun, Outcome, RunStatus
from ..tasks.registry import RegisteredTask
from .base import (
    ExecutorCapabilities,
    ExecutorClosed,
    ExecutorConfigError,
    RunReporter,
    clock_option,
    pool_capacity,
    positive_int_option,
)
from .entries import Entry, EntryState
from .invoke import execute, failure, worker_id

__all__ = ["ThreadExecutor"]

logger = logging.getLogger(__name__)


@dataclass(slots=True, eq=False, kw_only=True)
class _Entry(Entry):
    started_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        timeout = self.claimed.job.policy.timeout
        if self.state is not EntryState.RUNNING or self.started_at is None or timeout is None:
            return False
        return now >= self.started_at + timeout


class ThreadExecutor:
    """A pool of at most ``max_workers`` threads; observes timeouts."""

    name = "thread"
    capabilities = ExecutorCapabilities(observes_timeout=True, runs_in_process=True)

    def __init__(
        self,
        *,
        max_workers: int = 4,
        clock: Clock | None = None,
        timeout_check_interval: float | None = None,
    ) -> None:
        self._max_workers = positive_int_option("max_workers", max_workers)
        self._clock = clock_option(clock)
        interval = _interval_option(timeout_check_interval)
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[_Entry | None] = queue.SimpleQueue()
        self._entries: dict[int, _Entry] = {}  # accepted, not yet reported ended
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._leaked = 0  # threads still running a task past its timeout
        self._stop_watching = threading.Event()
        if interval is not None:
            threading.Thread(
                target=self._watch, args=(interval,), name="tickwork-timeouts", daemon=True
            ).start()

    @property
    def max_workers(self) -> int:
        """The most tasks this pool runs at once."""
        return self._max_workers

    @property
    def leaked_threads(self) -> int:
        """Worker threads still running a task whose run timed out.

        Each holds its worker slot until its task returns; one that never does
        is lost to the pool for good.  A number that keeps growing means tasks
        that hang: give their jobs the process executor, which stops them.
        """
        with self._lock:
            return self._leaked

    def submit(self, claimed: ClaimedRun, task: RegisteredTask, reporter: RunReporter) -> str:
        """Queue the run for the pool and return ``""`` at once.

        Raises :class:`~scheduler.executors.base.ExecutorClosed` after
        :meth:`shutdown` and :class:`~scheduler.errors.DuplicateRun` if the same
        run is already queued or running here.
        """
        entry = _Entry(claimed=claimed, task=task, reporter=reporter)
        with self._lock:
            if self._closed:
                raise ExecutorClosed(f"thread executor is shut down; run {entry.run_id} not queued")
            if entry.run_id in self._entries:
                raise DuplicateRun(f"run {entry.run_id} is already queued or running here")
            self._entries[entry.run_id] = entry
            if len(self._threads) < self._max_workers:
                self._start_worker()
        self._queue.put(entry)
        return ""

    def check_timeouts(self, now: datetime) -> list[int]:
        """Report every run past its job's timeout at ``now`` as ``timed_out``.

        Returns their ids.  Their threads carry on; what they return is dropped.
        """
        with self._lock:
            expired = [entry for entry in self._entries.values() if entry.expired(now)]
            for entry in expired:
                entry.state = EntryState.TIMED_OUT
                del self._entries[entry.run_id]
            self._leaked += len(expired)
            leaked = self._leaked
        for entry in expired:
            logger.warning(
                "run %s of job %s timed out; its thread is left to finish (threads held by "
                "timed-out tasks: %d of %d); the process executor would stop it",
                entry.run_id,
                entry.claimed.job.name,
                leaked,
                self._max_workers,
                extra={**_extra(entry), "event": "thread_leaked", "leaked_threads": leaked},
            )
            self._report(entry, _timed_out(entry, now))
        return [entry.run_id for entry in expired]

    def shutdown(self, *, wait: bool, timeout: float | None) -> list[int]:
        """Stop accepting runs, withdraw the queued ones, optionally wait for the rest.

        Queued runs are reported ``cancelled``.  With ``wait``, waits up to
        ``timeout`` seconds (``None``: without limit) for running tasks, then
        returns the ids of those still running.
        """
        with self._lock:
            first = not self._closed
            self._closed = True
            withdrawn = [e for e in self._entries.values() if e.state is EntryState.QUEUED]
            for entry in withdrawn:
                entry.state = EntryState.CANCELLED
                del self._entries[entry.run_id]
            running = list(self._entries.values())
        if first:
            self._stop_watching.set()
            for _ in self._threads:
                self._queue.put(None)
        for entry in withdrawn:
            self._report(entry, _cancelled(self._clock.now()))
        if wait:
            _wait_all(running, timeout)
        with self._lock:
            return sorted(self._entries)

    def active_count(self) -> int:
        """Runs queued or running whose end has not been reported yet."""
        with self._lock:
            return len(self._entries)

    def capacity(self) -> int:
        """Free workers plus a small buffer (:func:`~scheduler.executors.base.pool_capacity`)."""
        with self._lock:
            return pool_capacity(self._max_workers, len(self._entries))

    def _start_worker(self) -> None:
        thread = threading.Thread(
            target=self._work, name=f"tickwork-thread-{len(self._threads) + 1}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _work(self) -> None:
        while (entry := self._queue.get()) is not None:
            self._run(entry)

    def _run(self, entry: _Entry) -> None:
        with self._lock:
            if entry.state is not EntryState.QUEUED:  # withdrawn by shutdown()
                return
            entry.state = EntryState.RUNNING
        if not self._started(entry):
            self._forget(entry)
            return
        with self._lock:
            entry.started_at = self._clock.now()
        try:
            outcome = execute(entry.claimed, entry.task, clock=self._clock)
        except KeyboardInterrupt as error:  # raised by the task: Ctrl-C never reaches a worker
            outcome = failure(error, finished_at=self._clock.now())
        with self._lock:
            late = entry.state is EntryState.TIMED_OUT
            entry.state = EntryState.DONE
            if late:
                self._leaked -= 1
            leaked = self._leaked
        if late:
            logger.info(
                "run %s of job %s returned after timing out; its %s outcome is ignored",
                entry.run_id,
                entry.claimed.job.name,
                outcome.status.value,
                extra={**_extra(entry), "event": "thread_returned", "leaked_threads": leaked},
            )
        else:
            self._report(entry, outcome)
        self._forget(entry)

    def _started(self, entry: _Entry) -> bool:
        try:
            return entry.reporter.started(entry.run_id, worker=worker_id())
        except Exception:
            # The store is unreachable; recovery finds the run later.  Not running
            # it is safer than running work whose start was never recorded.
            logger.exception(
                "could not record the start of run %s", entry.run_id, extra=_extra(entry)
            )
            return False

    def _report(self, entry: _Entry, outcome: Outcome) -> None:
        try:
            entry.reporter.finished(entry.run_id, outcome)
        except Exception:
            logger.exception(
                "could not record the end of run %s", entry.run_id, extra=_extra(entry)
            )

    def _forget(self, entry: _Entry) -> None:
        with self._lock:
            if self._entries.get(entry.run_id) is entry:
                del self._entries[entry.run_id]
        entry.returned.set()

    def _watch(self, interval: float) -> None:
        while not self._stop_watching.wait(interval):
            try:
                self.check_timeouts(self._clock.now())
            except Exception:  # keep watching; the next round may succeed
                logger.exception("checking thread executor timeouts failed")


def _interval_option(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    raise ExecutorConfigError(
        f"OPTIONS: timeout_check_interval: expected a number of seconds above 0 or None, "
        f"got {value!r}"
    )


def _timed_out(entry: _Entry, now: datetime) -> Outcome:
    timeout = entry.claimed.job.policy.timeout
    assert timeout is not None  # noqa: S101 - only entries with a timeout expire
    return Outcome(
        status=RunStatus.TIMED_OUT,
        finished_at=now,
        error=(
            f"TimeoutError: still running {timeout.total_seconds():g}s after it started; "
            "the thread executor cannot stop a thread, so the task was left to finish "
            "and its outcome ignored"
        ),
    )


def _cancelled(now: datetime) -> Outcome:
    return Outcome(
        status=RunStatus.CANCELLED,
        finished_at=now,
        error="cancelled: the thread executor shut down before the run started",
    )


def _wait_all(entries: list[_Entry], timeout: float | None) -> None:
    deadline = None if timeout is None else time.monotonic() + timeout
    for entry in entries:
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        entry.returned.wait(remaining)


def _extra(entry: _Entry) -> dict[str, object]:
    return {"run_id": entry.run_id, "job_name": entry.claimed.job.name, "executor": "thread"}
