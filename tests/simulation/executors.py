"""Simulated executors: runs take simulated time, and can be lost, late, doubled or hung.

:class:`LocalExecutor` runs work inside its replica (like the thread
executor: it dies with the replica, and observes timeouts without stopping the
work).  :class:`RemoteExecutor` hands the run id to :class:`Workers` outside
every replica (like Celery): they load the run, mark it running, beat its
heartbeat, and record the outcome with the engine's own
:func:`~scheduler.engine.recording.record_outcome`.  Both log every
execution in the :class:`~.ledger.Ledger` at the instant its side effect
happens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from scheduler.engine.recording import record_outcome
from scheduler.errors import StoreUnavailable
from scheduler.executors.base import ExecutorCapabilities, ExecutorClosed, RunReporter
from scheduler.model.runs import ClaimedRun, Outcome, RunStatus
from scheduler.monitoring.hooks import RunHooks
from scheduler.stores.base import Store
from scheduler.tasks.registry import RegisteredTask
from scheduler.workers.run import claimed_run

from .ledger import Execution, Ledger, work_of
from .plan import Fault, FaultKind

__all__ = ["Host", "LocalExecutor", "RemoteExecutor", "Workers"]

#: Seconds between two heartbeats of a run on a remote worker.
WORKER_BEAT = 10.0
#: A remote worker retries recording an outcome after these delays, then gives up.
RECORD_RETRIES = (1.0, 2.0, 4.0, 8.0)


class Host(Protocol):
    """What the executors need from the simulation."""

    seed: int
    ledger: Ledger
    now: float  # true seconds since the start

    def at(self, seconds: float, action: Callable[[], None], owner: tuple[int, int]) -> None:
        """Do ``action`` at true time ``seconds``, unless ``owner`` (replica, life) died."""

    def clock_of(self, replica: int) -> datetime:
        """What replica ``replica``'s clock says now (workers: ``-1``, true time)."""

    def run_fault(self, replica: int, claimed: ClaimedRun, remote: bool) -> Fault | None:
        """The run fault that strikes this hand-over, if one is due."""

    def note(self, line: str, job: str = "") -> None:
        """Add ``line`` to the trace."""


@dataclass(slots=True)
class _Local:
    claimed: ClaimedRun
    reporter: RunReporter
    fault: Fault | None
    started_at: datetime | None = None


class LocalExecutor:
    """Runs inside replica ``replica`` (life ``life``); observes timeouts."""

    name = "sim-local"
    capabilities = ExecutorCapabilities(runs_in_process=True, observes_timeout=True)

    def __init__(self, host: Host, replica: int, life: int) -> None:
        self._host = host
        self._owner = (replica, life)
        self._open: dict[int, _Local] = {}
        self._closed = False

    def submit(self, claimed: ClaimedRun, task: RegisteredTask, reporter: RunReporter) -> str:
        if self._closed:
            raise ExecutorClosed("simulated executor shut down")
        host, run_id = self._host, claimed.run.id
        fault = host.run_fault(self._owner[0], claimed, remote=False)
        self._open[run_id] = _Local(claimed, reporter, fault)
        host.at(host.now + 0.5, lambda: self._start(run_id), self._owner)
        if fault is not None and fault.kind is FaultKind.REPORT_TWICE:
            host.at(host.now + 1.5, lambda: self._start(run_id, again=True), self._owner)
        return ""

    def _start(self, run_id: int, *, again: bool = False) -> None:
        entry = self._open.get(run_id)
        if entry is None:
            return
        host, run = self._host, entry.claimed.run
        where = f"replica{self._owner[0]}"
        if not entry.reporter.started(run_id, worker=where):
            if not again:
                self._open.pop(run_id, None)
            return
        entry.started_at = host.clock_of(self._owner[0])
        host.ledger.executed(
            Execution(run_id, run.job_name, run.scheduled_for, run.attempt, where, host.now)
        )
        host.note(f"{where} starts run {run_id}{' again' if again else ''}", run.job_name)
        if again:
            return
        seconds, ok = work_of(
            host.seed, entry.claimed.job.task, run.job_name, run.scheduled_for, run.attempt
        )
        kind = entry.fault.kind if entry.fault is not None else None
        if kind is FaultKind.RUN_HANG:
            return  # never ends by itself: check_timeouts reports it
        status = RunStatus.SUCCEEDED if ok else RunStatus.FAILED
        end = host.now + seconds
        report = end + (entry.fault.seconds if kind is FaultKind.REPORT_LATE and entry.fault else 0)
        finished_at = entry.started_at + timedelta(seconds=seconds)
        outcome = Outcome(status=status, finished_at=finished_at, error="" if ok else "sim failure")
        host.at(report, lambda: self._finish(run_id, outcome), self._owner)
        if kind is FaultKind.REPORT_TWICE:
            host.at(report + 1.0, lambda: _report_end(entry.reporter, run_id, outcome), self._owner)

    def _finish(self, run_id: int, outcome: Outcome) -> None:
        entry = self._open.pop(run_id, None)
        if entry is not None:
            _report_end(entry.reporter, run_id, outcome)

    def check_timeouts(self, now: datetime) -> list[int]:
        expired = [
            run_id
            for run_id, entry in self._open.items()
            if entry.started_at is not None
            and entry.claimed.job.policy.timeout is not None
            and now - entry.started_at >= entry.claimed.job.policy.timeout
        ]
        for run_id in expired:
            entry = self._open.pop(run_id)
            outcome = Outcome(status=RunStatus.TIMED_OUT, finished_at=now, error="sim timeout")
            _report_end(entry.reporter, run_id, outcome)
        return expired

    def shutdown(self, *, wait: bool, timeout: float | None) -> list[int]:
        self._closed = True
        return list(self._open)

    def active_count(self) -> int:
        return len(self._open)

    def capacity(self) -> None:
        return None


class RemoteExecutor:
    """Hands runs to :class:`Workers` outside the replica; like Celery, returns an external id."""

    name = "sim-remote"
    capabilities = ExecutorCapabilities()

    def __init__(self, host: Host, workers: Workers, replica: int) -> None:
        self._host = host
        self._workers = workers
        self._replica = replica

    def submit(self, claimed: ClaimedRun, task: RegisteredTask, reporter: RunReporter) -> str:
        fault = self._host.run_fault(self._replica, claimed, remote=True)
        self._workers.deliver(claimed.run.id, fault)
        return f"msg-{claimed.run.id}"

    def shutdown(self, *, wait: bool, timeout: float | None) -> list[int]:
        return []

    def active_count(self) -> int:
        return 0

    def capacity(self) -> None:
        return None


class Workers:
    """Worker processes outside the replicas, sharing ``store`` (which sees outages)."""

    OWNER = (-1, 0)

    def __init__(self, host: Host, store: Store, hooks: RunHooks) -> None:
        self._host = host
        self._store = store
        self._hooks = hooks
        self._beating: set[int] = set()

    def deliver(self, run_id: int, fault: Fault | None) -> None:
        host = self._host
        kind = fault.kind if fault is not None else None
        if kind is FaultKind.RUN_LOST and run_id % 2:
            host.note(f"message of run {run_id} lost")
            return  # the message never reaches a worker
        host.at(host.now + 1.0, lambda: self._execute(run_id, fault), self.OWNER)
        if kind is FaultKind.REPORT_TWICE:
            host.at(host.now + 2.0, lambda: self._execute(run_id, None), self.OWNER)

    def _execute(self, run_id: int, fault: Fault | None) -> None:
        host, store = self._host, self._store
        now = host.clock_of(-1)
        try:
            claimed = claimed_run(store, run_id)
            if claimed is None or not store.mark_running(run_id, worker="worker", now=now):
                return
        except StoreUnavailable:
            return  # the task failed before it started: recovery sees it never started
        run = claimed.run
        host.ledger.executed(
            Execution(run_id, run.job_name, run.scheduled_for, run.attempt, "worker", host.now)
        )
        host.note(f"worker starts run {run_id}", run.job_name)
        seconds, ok = work_of(
            host.seed, claimed.job.task, run.job_name, run.scheduled_for, run.attempt
        )
        kind = fault.kind if fault is not None else None
        if kind is FaultKind.RUN_LOST:
            return  # the worker dies mid-run: no beat, no report
        self._beating.add(run_id)
        host.at(host.now + WORKER_BEAT, lambda: self._beat(run_id), self.OWNER)
        late = fault.seconds if kind is FaultKind.REPORT_LATE and fault is not None else 0.0
        status = RunStatus.SUCCEEDED if ok else RunStatus.FAILED
        finished = Outcome(
            status=status, finished_at=now + timedelta(seconds=seconds), error="" if ok else "sim"
        )
        host.at(host.now + seconds + late, lambda: self._record(claimed, finished, 0), self.OWNER)
        if kind is FaultKind.REPORT_TWICE:
            then = host.now + seconds + late + 1.0
            host.at(then, lambda: self._record(claimed, finished, len(RECORD_RETRIES)), self.OWNER)

    def _beat(self, run_id: int) -> None:
        if run_id not in self._beating:
            return
        try:
            self._store.beat_runs([run_id], now=self._host.clock_of(-1))
        except StoreUnavailable:
            pass
        self._host.at(self._host.now + WORKER_BEAT, lambda: self._beat(run_id), self.OWNER)

    def _record(self, claimed: ClaimedRun, outcome: Outcome, tries: int) -> None:
        self._beating.discard(claimed.run.id)
        try:
            record_outcome(self._store, claimed, outcome, hooks=self._hooks)
        except StoreUnavailable:
            if tries < len(RECORD_RETRIES):
                self._beating.add(claimed.run.id)
                when = self._host.now + RECORD_RETRIES[tries]
                self._host.at(when, lambda: self._record(claimed, outcome, tries + 1), self.OWNER)


def _report_end(reporter: RunReporter, run_id: int, outcome: Outcome) -> None:
    """Report an end and write it at once: the group commit's timer runs on real
    time, which would write ends at moments the seed does not decide."""
    reporter.finished(run_id, outcome)
    flush = getattr(reporter, "flush_reports", None)
    if flush is not None:
        flush()
