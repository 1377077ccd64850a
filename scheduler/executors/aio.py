"""Run coroutine jobs concurrently on one event loop, in a thread of its own.

:class:`AsyncioExecutor` (configured as ``asyncio``; the module is not named
``asyncio`` so it cannot shadow the standard library) starts one event loop
in a dedicated thread and runs each task there as an asyncio task, at most
``max_concurrency`` at once.  Hundreds of jobs that mostly wait on the network
cost one thread.

* **Timeouts are enforced by cancellation.**  A run past its job's
  ``timeout`` is recorded ``timed_out`` and its coroutine cancelled
  (:class:`asyncio.CancelledError` at its current ``await``).  A coroutine
  that blocks the loop without awaiting cannot be cancelled, and blocks every
  other job too: such work belongs on the process executor.
* **Plain functions** are accepted, so any registered task can run here: each
  runs on a thread of its own (:mod:`scheduler.executors.interruptible`),
  counted in ``max_concurrency``, never on the loop.  At its timeout a
  :class:`TimeoutError` is raised in that thread, which stops Python code but
  not a call blocked inside C until that call returns.
* A run past its timeout holds its place until it has really stopped; the
  ones that have not yet are counted in :attr:`AsyncioExecutor.leaked_runs`.
* **Shutdown** withdraws waiting runs (``cancelled``), gives running ones the
  engine's grace, then cancels the rest and returns their ids, which the engine
  records ``lost``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass

from ..clock import Clock
from ..errors import DuplicateRun
from ..model.runs import ClaimedRun, Outcome, RunStatus
from ..tasks.registry import RegisteredTask
from .aio_runs import Work, start_work
from .base import (
    ExecutorCapabilities,
    ExecutorClosed,
    RunReporter,
    clock_option,
    pool_capacity,
    positive_int_option,
)
from .entries import Entry, EntryState
from .invoke import worker_id

__all__ = ["AsyncioExecutor"]

logger = logging.getLogger(__name__)


@dataclass(slots=True, eq=False, kw_only=True)
class _Entry(Entry):
    work: Work | None = None


class AsyncioExecutor:
    """One event loop in its own thread; at most ``max_concurrency`` runs at once."""

    name = "asyncio"
    capabilities = ExecutorCapabilities(enforces_timeout=True, runs_in_process=True)

    def __init__(self, *, max_concurrency: int = 100, clock: Clock | None = None) -> None:
        self._max = positive_int_option("max_concurrency", max_concurrency)
        self._clock = clock_option(clock)
        self._lock = threading.Lock()
        self._entries: dict[int, _Entry] = {}  # accepted, not yet reported ended
        self._leaked = 0
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._slots: asyncio.Semaphore | None = None

    @property
    def max_concurrency(self) -> int:
        """The most runs at once."""
        return self._max

    @property
    def leaked_runs(self) -> int:
        """Runs past their timeout that have not stopped yet (a coroutine that
        swallowed its cancellation, a plain function blocked in C); each holds
        its place in ``max_concurrency`` until it does."""
        with self._lock:
            return self._leaked

    def submit(self, claimed: ClaimedRun, task: RegisteredTask, reporter: RunReporter) -> str:
        """Schedule the run on the loop and return ``""`` at once.

        Raises :class:`~scheduler.executors.base.ExecutorClosed` after
        :meth:`shutdown` and :class:`~scheduler.errors.DuplicateRun` if the same
        run is already waiting or running here.
        """
        entry = _Entry(claimed=claimed, task=task, reporter=reporter)
        with self._lock:
            if self._closed:
                raise ExecutorClosed(
                    f"asyncio executor is shut down; run {entry.run_id} not queued"
                )
            if entry.run_id in self._entries:
                raise DuplicateRun(f"run {entry.run_id} is already queued or running here")
            self._entries[entry.run_id] = entry
            loop = self._started_loop()
        asyncio.run_coroutine_threadsafe(self._run(entry), loop)
        return ""

    def shutdown(self, *, wait: bool, timeout: float | None) -> list[int]:
        """Stop accepting runs, withdraw the waiting ones, wait for the rest, cancel the late.

        Waiting runs are reported ``cancelled``.  With ``wait``, running ones get
        up to ``timeout`` seconds (``None``: no limit); those still running then
        are cancelled and their ids returned.
        """
        with self._lock:
            self._closed = True
            withdrawn = [e for e in self._entries.values() if e.state is EntryState.QUEUED]
            for entry in withdrawn:
                entry.state = EntryState.CANCELLED
                del self._entries[entry.run_id]
            running = list(self._entries.values())
        for entry in withdrawn:
            self._report(entry, _ended(RunStatus.CANCELLED, self._clock, _CANCELLED))
        if wait:
            _wait_all(running, timeout)
        late = self._abandon_running()
        _wait_all(late, _STOP_GRACE)  # a cancelled coroutine usually ends at once
        self._stop_loop()
        return [entry.run_id for entry in late]

    def active_count(self) -> int:
        """Runs waiting or running whose end has not been reported yet."""
        with self._lock:
            return len(self._entries)

    def capacity(self) -> int:
        """Free places plus a small buffer (:func:`~scheduler.executors.base.pool_capacity`)."""
        with self._lock:
            return pool_capacity(self._max, len(self._entries))

    # -- the loop's thread ----------------------------------------------------------
    def _started_loop(self) -> asyncio.AbstractEventLoop:
        """The loop, started on first use (called with the lock held)."""
        if self._loop is None:
            loop = asyncio.new_event_loop()
            ready = threading.Event()
            self._thread = threading.Thread(
                target=self._serve, args=(loop, ready), name="tickwork-asyncio", daemon=True
            )
            self._thread.start()
            ready.wait()
            self._loop = loop
        return self._loop

    def _serve(self, loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        self._slots = asyncio.Semaphore(self._max)
        loop.call_soon(ready.set)
        try:
            loop.run_forever()
            pending = asyncio.all_tasks(loop)
            for task in pending:  # runs given up at shutdown that have not stopped
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()

    async def _run(self, entry: _Entry) -> None:
        assert self._slots is not None  # noqa: S101 - made before the loop runs
        try:
            async with self._slots:
                try:
                    await self._run_in_slot(entry)
                except Exception as error:  # a bug here must not leave the run running
                    logger.exception("the asyncio executor failed on run %s", entry.run_id)
                    message = (
                        f"the asyncio executor could not run it: {type(error).__name__}: {error}"
                    )
                    await self._finish(entry, _ended(RunStatus.FAILED, self._clock, message))
        finally:
            self._forget(entry)

    async def _run_in_slot(self, entry: _Entry) -> None:
        with self._lock:
            if entry.state is not EntryState.QUEUED:  # withdrawn by shutdown()
                return
            entry.state = EntryState.RUNNING
        if not await asyncio.to_thread(self._started, entry):
            return
        work = entry.work = start_work(entry.claimed, entry.task, self._clock)
        timeout = entry.claimed.job.policy.timeout
        seconds = None if timeout is None else timeout.total_seconds()
        done, _ = await asyncio.wait({work.future}, timeout=seconds)
        if done:
            outcome = work.future.result()
            if outcome is not None:  # None: stopped by shutdown(), which gave the run up
                await self._finish(entry, outcome)
            return
        await self._finish(entry, _timed_out(entry, self._clock, seconds or 0.0))
        await self._wait_stopped(entry, work)

    async def _wait_stopped(self, entry: _Entry, work: Work) -> None:
        """Stop the timed-out work and keep its place until it has really stopped."""
        work.stop()
        with self._lock:
            self._leaked += 1
        try:
            await asyncio.wait({work.future})
        finally:
            with self._lock:
                self._leaked -= 1
        logger.info("run %s stopped after its timeout", entry.run_id, extra=_extra(entry))

    async def _finish(self, entry: _Entry, outcome: Outcome) -> None:
        with self._lock:
            if entry.state is not EntryState.RUNNING:  # abandoned by shutdown()
                return
            entry.state = EntryState.DONE
        if outcome.status is RunStatus.TIMED_OUT:
            logger.warning("run %s timed out; stopping it", entry.run_id, extra=_extra(entry))
        await asyncio.to_thread(self._report, entry, outcome)

    def _started(self, entry: _Entry) -> bool:
        try:
            return entry.reporter.started(entry.run_id, worker=worker_id())
        except Exception:
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

    # -- shutdown ---------------------------------------------------------------------
    def _abandon_running(self) -> list[_Entry]:
        with self._lock:
            late = list(self._entries.values())
            for entry in late:
                entry.state = EntryState.ABANDONED
                del self._entries[entry.run_id]
        loop = self._loop
        for entry in late:
            work = entry.work
            if work is not None and loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(work.stop)
        return sorted(late, key=lambda entry: entry.run_id)

    def _stop_loop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(loop.stop)
        except RuntimeError:  # closed meanwhile
            return
        thread.join(5.0)


#: How long shutdown waits for runs it cancelled to stop before it stops the loop.
_STOP_GRACE = 1.0
_CANCELLED = "cancelled: the asyncio executor shut down before the run started"


def _ended(status: RunStatus, clock: Clock, error: str) -> Outcome:
    return Outcome(status=status, finished_at=clock.now(), error=error)


def _timed_out(entry: _Entry, clock: Clock, seconds: float) -> Outcome:
    how = "cancelled its coroutine" if entry.task.is_async else "interrupted its thread"
    return _ended(
        RunStatus.TIMED_OUT,
        clock,
        f"TimeoutError: still running {seconds:g}s after it started; the asyncio executor {how}",
    )


def _wait_all(entries: list[_Entry], timeout: float | None) -> None:
    deadline = None if timeout is None else time.monotonic() + timeout
    for entry in entries:
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        entry.returned.wait(remaining)


def _extra(entry: _Entry) -> dict[str, object]:
    return {"run_id": entry.run_id, "job_name": entry.claimed.job.name, "executor": "asyncio"}
