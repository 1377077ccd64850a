"""Handing claimed runs to executors, and recording how they end.

The :class:`Dispatcher` is the engine's side of the executor boundary.  The
loop gives it each batch of claimed runs; it resolves each run's task and
executor, hands the run over, and is the
:class:`~scheduler.executors.base.RunReporter` the executors report the run's
start and end to.  It records those outcomes (and the retries they cause),
and keeps the ones it could not record while the store was unavailable until
the loop asks it to try again.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from ..clock import Clock
from ..errors import StoreUnavailable, TaskNotRegistered
from ..executors.base import Executor, TimeoutObserver, resolve_task
from ..model.runs import ClaimedRun, Outcome, RunStatus
from ..monitoring.events import RunEvent
from ..monitoring.hooks import RunHooks
from ..monitoring.hooks import hooks as default_hooks
from ..stores.base import RunStart, Store
from ..tasks.registry import RegisteredTask, TaskRegistry
from .batchwrite import EndReport, TransitionWriter
from .groupcommit import GroupCommit
from .inline import Batch as _Batch
from .inline import InlineStarts, Prestarted
from .recording import record_outcome, wants_retry
from .stopping import each_executor, release_unstarted, withdrawn_unstarted, within_grace

__all__ = ["Dispatcher"]

#: Runs handed to workers outside this process, by id, with their external ids.
_External = dict[int, tuple[ClaimedRun, str]]

logger = logging.getLogger(__name__)


class Dispatcher:
    """Hands claimed runs to ``executors`` (by the names jobs give) and records
    their outcomes in ``store``; tasks come from ``registry``, instants from ``clock``.

    It is the :class:`~scheduler.executors.base.RunReporter` it passes to its
    executors: :meth:`started` and :meth:`finished` are thread-safe, as
    executors may call them from worker threads.  It remembers the runs
    handed to executors in this process until they report their end; runs
    handed to another process (those given an external id) are their
    worker's to record.
    """

    def __init__(
        self,
        store: Store,
        executors: Mapping[str, Executor],
        *,
        registry: TaskRegistry,
        clock: Clock,
        hooks: RunHooks | None = None,
        on_finished: Callable[[], object] | None = None,
        group_commit: float = 0.0,
    ) -> None:
        self.store = store
        self.executors = executors
        self.registry = registry
        self.clock = clock
        self.hooks = default_hooks if hooks is None else hooks
        self._inflight: dict[int, ClaimedRun] = {}
        self._unrecorded: list[tuple[int, ClaimedRun | None, Outcome]] = []
        self._handed_out: list[ClaimedRun] = []
        self._on_finished = on_finished
        # The runs withdrawn unstarted, collected while shutting down.
        self._withdrawn: list[tuple[int, ClaimedRun | None, Outcome]] | None = None
        self._lock = threading.Lock()
        self._writer = TransitionWriter(store, hooks=self.hooks, keep=self._keep)
        self._batch_sizes: list[int] = []
        self._group: GroupCommit[EndReport] | None = None
        if group_commit > 0:
            self._group = GroupCommit(
                self._writer, interval=group_commit, on_batch=self._batch_sizes.append
            )
        self._inline = None if self._group is None else InlineStarts(self._group, clock=clock)

    # -- the RunReporter (called by executors, possibly from worker threads) --
    def started(self, run_id: int, *, worker: str) -> bool:
        """A worker is about to run ``run_id``; False means it must not."""
        prestarted = None if self._inline is None else self._inline.take(run_id)
        now = self.clock.now() if prestarted is None else prestarted.at
        try:
            if not self._mark_running(run_id, worker, now, prestarted):
                return False
        except StoreUnavailable:
            # Not run: it could not be recorded as started, so nothing would
            # stop a second start.  Recorded lost (and retried) once the store is back.
            lost = Outcome(
                status=RunStatus.LOST,
                finished_at=self.clock.now(),
                error="not started: the database was unavailable when it was due to start",
            )
            self.finished(run_id, lost)
            return False
        self._note_start(run_id, worker, now)
        return True

    def finished(self, run_id: int, outcome: Outcome) -> None:
        """Record how ``run_id`` ended (and schedule its retry, if any).

        If the store is unavailable the outcome is kept, and recorded by the
        next :meth:`flush_outcomes` that reaches the store, so no run stays
        ``running`` for ever.
        """
        with self._lock:
            claimed = self._inflight.pop(run_id, None)
            if self._withdrawn is not None and withdrawn_unstarted(claimed, outcome):
                self._withdrawn.append((run_id, claimed, outcome))
                return
        self._finish(run_id, claimed, outcome)

    def _finish(self, run_id: int, claimed: ClaimedRun | None, outcome: Outcome) -> None:
        if self._group is not None:
            retry = claimed is not None and wants_retry(claimed, outcome)
            self._group.end(EndReport(run_id, claimed, outcome, retry))
            if self._on_finished is not None:
                self._on_finished()
            return
        try:
            self._record(run_id, claimed, outcome)
        except StoreUnavailable:
            logger.warning(
                "could not record the end of run %d (%s): store unavailable; will retry",
                run_id,
                outcome.status.value,
                extra={"event": "outcome_deferred", "run_id": run_id},
            )
            with self._lock:
                self._unrecorded.append((run_id, claimed, outcome))
        if self._on_finished is not None:
            self._on_finished()

    # -- called by the loop ---------------------------------------------------
    def dispatch(self, claimed: Sequence[ClaimedRun]) -> int:
        """Hand every claimed run to its executor; how many were handed over.

        The claim stored them ``queued`` already, in its own transaction:
        nothing is written first.  A run whose task or executor is unknown,
        or that its executor refuses, is recorded ``failed`` instead.
        """
        now = self.clock.now()
        handed = 0
        for name, batch in self._batches(claimed, now).items():
            handed += self._hand_over(self.executors[name], batch, now)
        self.flush_reports()
        return handed

    def flush_reports(self) -> None:
        """Write the starts and ends gathered for a group commit now."""
        if self._group is not None:
            self._group.flush()

    def take_commit_batches(self) -> tuple[int, ...]:
        """The sizes (starts plus ends) of the group commits written since the last call."""
        with self._lock:
            taken, self._batch_sizes[:] = tuple(self._batch_sizes), []
        return taken

    def flush_outcomes(self) -> None:
        """Record the outcomes kept while the store was unavailable, oldest first.

        Raises :class:`~scheduler.errors.StoreUnavailable` if it still is;
        the outcomes not recorded yet are kept for the next call.
        """
        self.flush_reports()  # first, so that the claim sees every run that ended
        with self._lock:
            waiting, self._unrecorded = self._unrecorded, []
        for index, (run_id, claimed, outcome) in enumerate(waiting):
            try:
                self._record(run_id, claimed, outcome)
            except StoreUnavailable:
                with self._lock:
                    self._unrecorded[:0] = waiting[index:]
                raise

    @property
    def unrecorded(self) -> int:
        """How many outcomes wait for the store to be reachable again."""
        with self._lock:
            return len(self._unrecorded)

    @property
    def in_flight(self) -> frozenset[int]:
        """The runs handed to executors in this process that have not reported their end."""
        with self._lock:
            return frozenset(self._inflight)

    def take_handed_out(self) -> tuple[ClaimedRun, ...]:
        """The runs handed to workers outside this process since the last call
        (those given an external id), for monitoring to follow; forgets them."""
        with self._lock:
            taken, self._handed_out = tuple(self._handed_out), []
        return taken

    def watch_timeouts(self, now: datetime) -> None:
        """Let each executor that observes timeouts record the runs past theirs at ``now``."""
        for executor in self.executors.values():
            if executor.capabilities.observes_timeout and isinstance(executor, TimeoutObserver):
                executor.check_timeouts(now)
        self.flush_reports()

    def active_count(self) -> int:
        """How many runs the executors have accepted and not reported finished."""
        return sum(executor.active_count() for executor in self.executors.values())

    def shutdown(
        self, grace: float, *, cut_short: threading.Event | None = None, replica_id: str = ""
    ) -> None:
        """Shut every executor down, giving running work ``grace`` seconds to
        finish; record the runs still going after it as ``lost``.

        ``cut_short``, once set (before or during the grace), ends the wait at
        once: the runs still going then are recorded ``lost`` straight away.
        The runs an executor withdraws unstarted are given back to the store
        (:meth:`~scheduler.stores.base.RunQueue.release_runs`, as claimed by
        ``replica_id``) for another replica to claim; those the store does not
        release (they started, or ended, meanwhile) are recorded ``cancelled``.
        """
        with self._lock:
            self._withdrawn = []
        late = within_grace(self.executors, grace, cut_short)
        if late is not None:
            reason = "did not finish it within the {grace:g}s shutdown grace"
        else:
            late = {
                name: executor.shutdown(wait=True, timeout=0)
                for name, executor in each_executor(self.executors)
            }
            reason = "had not finished it when told to stop now (a second stop signal)"
        for name, run_ids in late.items():
            for run_id in run_ids:
                self._lose(
                    run_id,
                    f"scheduler stopped; executor {name!r} " + reason.format(grace=grace),
                )
        self._release_withdrawn(replica_id)
        if self._group is not None:
            self._group.close()

    def _release_withdrawn(self, replica_id: str) -> None:
        """Give the runs withdrawn by the shutdown back; record the rest ``cancelled``."""
        with self._lock:
            withdrawn, self._withdrawn = self._withdrawn or [], None
        released = release_unstarted(self.store, [run_id for run_id, _, _ in withdrawn], replica_id)
        for run_id, claimed, outcome in withdrawn:
            if run_id not in released:
                self._finish(run_id, claimed, outcome)

    def _mark_running(
        self, run_id: int, worker: str, now: datetime, prestarted: Prestarted | None
    ) -> bool:
        if prestarted is not None:  # written with its chunk (an inline executor's)
            return prestarted.may_execute()
        if self._group is None:
            return self.store.mark_running(run_id, worker=worker, now=now)
        return self._group.start(RunStart(run_id=run_id, worker=worker, at=now))

    def _keep(self, ends: Sequence[EndReport]) -> None:
        """Ends a group commit could not write: recorded by :meth:`flush_outcomes`."""
        with self._lock:
            self._unrecorded.extend((end.run_id, end.claimed, end.outcome) for end in ends)

    def _note_start(self, run_id: int, worker: str, now: datetime) -> None:
        """Remember when and where ``run_id`` started, and tell the hooks."""
        with self._lock:
            claimed = self._inflight.get(run_id)
            if claimed is not None:
                run = replace(claimed.run, status=RunStatus.RUNNING, started_at=now, worker=worker)
                claimed = self._inflight[run_id] = replace(claimed, run=run)
        if claimed is not None and self.hooks:
            self.hooks.emit_started(RunEvent.of(claimed.run, claimed.job))

    def _record(self, run_id: int, claimed: ClaimedRun | None, outcome: Outcome) -> None:
        self._writer.record(EndReport(run_id, claimed, outcome, retry=False))

    def _batches(self, claimed: Sequence[ClaimedRun], now: datetime) -> dict[str, _Batch]:
        """The runs that can start, with their tasks, by executor; the others fail."""
        batches: dict[str, _Batch] = defaultdict(list)
        for item in claimed:
            task = self._task_for(item, now)
            if task is not None:
                batches[item.job.executor].append((item, task))
        return batches

    def _hand_over(self, executor: Executor, batch: _Batch, now: datetime) -> int:
        """Submit one executor's batch; how many it accepted.  An inline
        executor that took the first run gets the rest a chunk at a time, each
        chunk's starts written first (:mod:`scheduler.engine.inline`)."""
        with self._lock:
            self._inflight.update((item.run.id, item) for item, _ in batch)
        external: _External = {}
        handed = self._submit_all(executor, batch[:1], now, external)
        chunks: Iterable[_Batch] = [batch[1:]]
        if handed and self._inline is not None and executor.capabilities.runs_inline:
            chunks = self._inline.chunks(batch[1:])
        for chunk in chunks:
            handed += self._submit_all(executor, chunk, now, external)
        self._hand_out(external)
        return handed

    def _submit_all(
        self, executor: Executor, batch: _Batch, now: datetime, external: _External
    ) -> int:
        """Submit each run; how many were accepted (external ids go in ``external``)."""
        handed = 0
        for item, task in batch:
            external_id = self._submit(executor, item, task, now)
            if external_id is not None:
                handed += 1
                if external_id:
                    external[item.run.id] = (item, external_id)
        return handed

    def _hand_out(self, external: _External) -> None:
        """Runs now executed outside this process (a Celery worker records their
        end): remember their external ids, and stop tracking them here."""
        if not external:
            return
        with self._lock:
            for run_id, (item, _) in external.items():
                self._inflight.pop(run_id, None)
                self._handed_out.append(item)
        self.store.set_external_ids({run_id: ext for run_id, (_, ext) in external.items()})

    def _task_for(self, claimed: ClaimedRun, now: datetime) -> RegisteredTask | None:
        """The task to run, or None after failing a run that cannot start."""
        job = claimed.job
        try:
            task = resolve_task(self.registry, job.task, self.executors.get(job.executor))
        except TaskNotRegistered as error:
            self._fail(claimed, str(error), now)
            return None
        if job.executor not in self.executors:
            known = ", ".join(sorted(self.executors)) or "none"
            self._fail(claimed, f"no executor named {job.executor!r} (configured: {known})", now)
            return None
        return task

    def _submit(
        self, executor: Executor, claimed: ClaimedRun, task: RegisteredTask, now: datetime
    ) -> str | None:
        """Hand the run over; its external id, or None after recording that it failed."""
        run, job = claimed.run, claimed.job
        if logger.isEnabledFor(logging.INFO):  # a herd hands over thousands at once
            _log_handover(claimed, now)
        try:
            return executor.submit(claimed, task, self)
        except Exception as error:  # a broker that is down must not stop the scheduler
            logger.exception("executor %s refused run %d", job.executor, run.id)
            failure = Outcome(
                status=RunStatus.FAILED,
                finished_at=self.clock.now(),
                error=f"could not hand the run to executor {job.executor!r}: {error}",
            )
            self.finished(run.id, failure)
            return None

    def _fail(self, claimed: ClaimedRun, message: str, now: datetime) -> None:
        logger.error("run %d of %s cannot start: %s", claimed.run.id, claimed.job.name, message)
        outcome = Outcome(status=RunStatus.FAILED, finished_at=now, error=message)
        record_outcome(self.store, claimed, outcome, hooks=self.hooks)

    def _lose(self, run_id: int, message: str) -> None:
        self.finished(
            run_id, Outcome(status=RunStatus.LOST, finished_at=self.clock.now(), error=message)
        )


def _log_handover(claimed: ClaimedRun, now: datetime) -> None:
    run, job = claimed.run, claimed.job
    slot = run.scheduled_for.isoformat()
    logger.info(
        "handing run %d of %s (slot %s) to %s",
        run.id,
        job.name,
        slot,
        job.executor,
        extra={
            "event": "dispatched",
            "job": job.name,
            "run_id": run.id,
            "scheduled_for": slot,
            "executor": job.executor,
            "lateness": (now - run.scheduled_for).total_seconds(),
        },
    )
