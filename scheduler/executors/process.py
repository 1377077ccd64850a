"""Run each task in a child process from a bounded pool, so a timeout really stops it.

:class:`ProcessExecutor` keeps at most ``max_workers`` children, started with
``forkserver`` (or ``spawn``; never a ``fork`` of the threaded scheduler) and
reused from run to run.  Each child imports the task's module and resolves
the task through its own registry, with the allow-list patterns of the
scheduler's (:mod:`scheduler.executors.process_child`), so a task that cannot
be imported there fails its run saying why.

* **Timeouts are enforced.**  When a run passes its job's ``timeout``, its
  child gets SIGTERM, then SIGKILL after ``kill_grace`` seconds; once it is
  gone the run is recorded ``timed_out`` and the next run gets a fresh child.
* **A child that dies** (``os._exit``, a signal, the kernel's OOM killer)
  makes its run ``failed`` with the exit code or the signal; the slot gets a
  fresh child.  No run is left ``running``.
* **Memory**: ``max_memory`` (bytes, or ``"512M"``, ``"2G"``) caps each
  child's address space (``RLIMIT_AS``); a job's own ``max_memory`` caps it
  further while its run lasts (the lower of the two holds).  A task that
  passes it gets a :class:`MemoryError` and fails.
* **Shutdown** withdraws queued runs (``cancelled``), lets running ones finish
  within the grace the engine gives, then kills their children and returns
  their ids, which the engine records ``lost``, as for the other executors.

Deadlines are kept in real time (a child runs in real time whatever the
scheduler's clock says); recorded instants come from the executor's clock.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from dataclasses import dataclass

from ..clock import Clock
from ..errors import DuplicateRun
from ..model.runs import ClaimedRun, Outcome, RunStatus
from ..tasks.registry import RegisteredTask
from ..tasks.registry import registry as default_registry
from .base import (
    ExecutorCapabilities,
    ExecutorClosed,
    RunReporter,
    clock_option,
    pool_capacity,
    positive_int_option,
)
from .entries import Entry, EntryState
from .invoke import DEFAULT_MAX_RESULT_BYTES
from .process_child import ChildConfig, ChildRun
from .process_children import Child, Died, Returned, TimedOut, describe_exit, start_context
from .process_options import grace_option, memory_option, start_method_option, text_option

__all__ = ["ProcessExecutor"]

logger = logging.getLogger(__name__)


@dataclass(slots=True, eq=False, kw_only=True)
class _Entry(Entry):
    child: Child | None = None


class ProcessExecutor:
    """A pool of at most ``max_workers`` child processes; enforces timeouts."""

    name = "process"
    capabilities = ExecutorCapabilities(enforces_timeout=True, limits_memory=True)

    def __init__(
        self,
        *,
        max_workers: int = 4,
        clock: Clock | None = None,
        kill_grace: float = 5.0,
        max_memory: int | str | None = None,
        start_method: str | None = None,
        initializer: str | None = None,
    ) -> None:
        self._max_workers = positive_int_option("max_workers", max_workers)
        self._clock = clock_option(clock)
        self._grace = grace_option("kill_grace", kill_grace)
        self._max_memory = memory_option(max_memory)
        self._context = start_context(start_method_option(start_method))
        self._initializer = text_option("initializer", initializer)
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[_Entry | None] = queue.SimpleQueue()
        self._entries: dict[int, _Entry] = {}  # accepted, not yet reported ended
        self._threads: list[threading.Thread] = []
        self._closed = False

    @property
    def max_workers(self) -> int:
        """The most children (and so runs) at once."""
        return self._max_workers

    @property
    def initializer(self) -> str | None:
        """The dotted path each child calls once before its first run, or ``None``."""
        return self._initializer

    @property
    def max_memory(self) -> int | None:
        """Each child's address-space limit in bytes, or ``None``."""
        return self._max_memory

    def submit(self, claimed: ClaimedRun, task: RegisteredTask, reporter: RunReporter) -> str:
        """Queue the run for the pool and return ``""`` at once.

        Raises :class:`~scheduler.executors.base.ExecutorClosed` after
        :meth:`shutdown` and :class:`~scheduler.errors.DuplicateRun` if the same
        run is already queued or running here.
        """
        entry = _Entry(claimed=claimed, task=task, reporter=reporter)
        with self._lock:
            if self._closed:
                raise ExecutorClosed(
                    f"process executor is shut down; run {entry.run_id} not queued"
                )
            if entry.run_id in self._entries:
                raise DuplicateRun(f"run {entry.run_id} is already queued or running here")
            self._entries[entry.run_id] = entry
            if len(self._threads) < self._max_workers:
                self._start_slot()
        self._queue.put(entry)
        return ""

    def shutdown(self, *, wait: bool, timeout: float | None) -> list[int]:
        """Stop accepting runs, withdraw the queued ones, wait for the rest, kill the late.

        Queued runs are reported ``cancelled``.  With ``wait``, running tasks
        get up to ``timeout`` seconds (``None``: no limit); the children of
        those still running then are killed, and their ids returned.
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
            for _ in self._threads:
                self._queue.put(None)
        for entry in withdrawn:
            self._report(entry, _ended(RunStatus.CANCELLED, self._clock, _CANCELLED))
        if wait:
            _wait_all(running, timeout)
        late = self._abandon_running()
        for thread in self._threads:  # each stops its idle child on its way out
            thread.join(self._grace)
        return late

    def active_count(self) -> int:
        """Runs queued or running whose end has not been reported yet."""
        with self._lock:
            return len(self._entries)

    def capacity(self) -> int:
        """Free workers plus a small buffer (:func:`~scheduler.executors.base.pool_capacity`)."""
        with self._lock:
            return pool_capacity(self._max_workers, len(self._entries))

    def _abandon_running(self) -> list[int]:
        with self._lock:
            late = list(self._entries.values())
            for entry in late:
                entry.state = EntryState.ABANDONED
                del self._entries[entry.run_id]
        for entry in late:
            if entry.child is not None:
                entry.child.kill()
        _wait_all(late, self._grace)  # their slots reap the children
        return sorted(entry.run_id for entry in late)

    def _start_slot(self) -> None:
        number = len(self._threads) + 1
        thread = threading.Thread(
            target=self._work, args=(number,), name=f"tickwork-process-{number}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _work(self, number: int) -> None:
        child: Child | None = None
        while (entry := self._queue.get()) is not None:
            try:
                child = self._run(entry, child, number)
            except Exception as error:  # a bug here must not leave the run running
                logger.exception("the process executor failed on run %s", entry.run_id)
                if child is not None:
                    child.stop(self._grace)
                child = None
                self._give_up(entry, error)
            finally:
                self._forget(entry)
        if child is not None:
            child.close(self._grace)

    def _give_up(self, entry: _Entry, error: Exception) -> None:
        with self._lock:
            ended = entry.state in (EntryState.DONE, EntryState.ABANDONED)
            entry.state = EntryState.DONE
        if not ended:
            message = f"the process executor could not run it: {type(error).__name__}: {error}"
            self._report(entry, _ended(RunStatus.FAILED, self._clock, message))

    def _run(self, entry: _Entry, child: Child | None, number: int) -> Child | None:
        """Run one entry on ``child`` (a fresh one if needed); the child to reuse, if any."""
        with self._lock:
            if entry.state is not EntryState.QUEUED:  # withdrawn by shutdown()
                return child
            entry.state = EntryState.RUNNING
        if child is None or not child.alive():
            try:
                child = Child(self._context, self._child_config(), f"tickwork-process-{number}")
            except Exception as error:  # no process could be started: this run fails
                logger.exception("could not start a child process", extra=_extra(entry))
                self._report(entry, _ended(RunStatus.FAILED, self._clock, _no_child(error)))
                return None
        entry.child = child
        if not self._started(entry, child):
            return child
        happened = child.run(self._message(entry), _seconds(entry), self._grace)
        self._finish(entry, child, happened)
        return child if isinstance(happened, Returned) else None

    def _finish(self, entry: _Entry, child: Child, happened: Returned | Died | TimedOut) -> None:
        with self._lock:
            abandoned = entry.state is EntryState.ABANDONED
            entry.state = EntryState.DONE
        if abandoned:  # shutdown() gave up on it and returned its id
            return
        if isinstance(happened, Returned):
            values = happened.values
            outcome = Outcome(
                status=RunStatus(values["status"]),
                finished_at=self._clock.now(),
                result=values["result"],
                error=values["error"],
                traceback=values["traceback"],
            )
        elif isinstance(happened, Died):
            outcome = _ended(
                RunStatus.FAILED, self._clock, describe_exit(happened.exitcode, child.pid)
            )
            logger.warning("run %s: %s", entry.run_id, outcome.error, extra=_extra(entry))
        else:
            outcome = _ended(RunStatus.TIMED_OUT, self._clock, _timed_out(entry, happened))
            logger.warning("run %s timed out and was stopped", entry.run_id, extra=_extra(entry))
        self._report(entry, outcome)

    def _child_config(self) -> ChildConfig:
        return ChildConfig(
            sys_path=tuple(sys.path), max_memory=self._max_memory, initializer=self._initializer
        )

    def _message(self, entry: _Entry) -> ChildRun:
        task = entry.task
        return ChildRun(
            claimed=entry.claimed,
            task_name=task.name,
            module=getattr(task.func, "__module__", "") or "",
            takes_context=task.takes_context,
            patterns=tuple(default_registry.patterns()),
            max_result_bytes=DEFAULT_MAX_RESULT_BYTES,
            max_memory=entry.claimed.job.policy.max_memory,
        )

    def _started(self, entry: _Entry, child: Child) -> bool:
        try:
            return entry.reporter.started(entry.run_id, worker=child.worker)
        except Exception:
            # The store is unreachable; recovery finds the run later.
            logger.exception("could not record the start of run %s", entry.run_id)
            return False

    def _report(self, entry: _Entry, outcome: Outcome) -> None:
        try:
            entry.reporter.finished(entry.run_id, outcome)
        except Exception:
            logger.exception("could not record the end of run %s", entry.run_id)

    def _forget(self, entry: _Entry) -> None:
        with self._lock:
            if self._entries.get(entry.run_id) is entry:
                del self._entries[entry.run_id]
        entry.returned.set()


_CANCELLED = "cancelled: the process executor shut down before the run started"


def _ended(status: RunStatus, clock: Clock, error: str) -> Outcome:
    return Outcome(status=status, finished_at=clock.now(), error=error)


def _seconds(entry: _Entry) -> float | None:
    timeout = entry.claimed.job.policy.timeout
    return None if timeout is None else timeout.total_seconds()


def _timed_out(entry: _Entry, happened: TimedOut) -> str:
    seconds = _seconds(entry) or 0.0
    return (
        f"TimeoutError: still running {seconds:g}s after it started; the process executor "
        f"stopped its child process with {happened.signal_used.name}"
    )


def _no_child(error: Exception) -> str:
    return f"could not start a child process for the run: {type(error).__name__}: {error}"


def _wait_all(entries: list[_Entry], timeout: float | None) -> None:
    deadline = None if timeout is None else time.monotonic() + timeout
    for entry in entries:
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        entry.returned.wait(remaining)


def _extra(entry: _Entry) -> dict[str, object]:
    return {"run_id": entry.run_id, "job_name": entry.claimed.job.name, "executor": "process"}
