"""The engine: wake, claim what is due, hand it over, record what happened.

The engine knows two protocols, :class:`~scheduler.stores.base.Store` and
:class:`~scheduler.executors.base.Executor`, and a clock.  It keeps no job in
memory: every wake-up asks the store for what is due now, so its cost grows
with the due runs, not with the number of jobs, and several engines (replicas)
can share one database.

One wake-up (:meth:`Engine.tick`):

1. heartbeat, and now and then recover the runs of replicas that stopped;
2. claim due jobs (the store creates their runs with the planner's decisions,
   already ``queued`` to their executors, and advances ``next_run_at``, in one
   transaction), then claim pending runs that came due (retries, jittered
   runs, manual runs);
3. hand each claimed run to its executor, as soon as its claim committed;
4. let executors that can observe timeouts record them; prune history now and then.

Between wake-ups it sleeps until the next due instant or the poll interval,
whichever is sooner.  On a store that can notify changes (PostgreSQL) the
sleep also ends as soon as another process saves, pauses or resumes a job or
adds a run.  A store that becomes unreachable makes it log and retry with
capped backoff; it never exits because the database blinked.
"""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..clock import Clock, SystemClock, is_real_time
from ..errors import StoreUnavailable, TaskNotRegistered
from ..executors.base import Executor, TimeoutObserver, resolve_task
from ..model.runs import ClaimedRun, Outcome, RunStatus
from ..stores.base import ChangeListener, NotifiesChanges, Store
from ..tasks.registry import RegisteredTask, TaskRegistry
from ..tasks.registry import registry as default_registry
from .housekeeping import Housekeeping
from .planning import SlotPlanner
from .recording import record_outcome
from .settings import EngineConfig, Retention

__all__ = ["Engine", "EngineConfig", "Retention", "TickReport"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class TickReport:
    """What one wake-up did."""

    now: datetime
    claimed: int = 0
    dispatched: int = 0
    recovered: int = 0
    pruned: int = 0  # runs
    pruned_replicas: int = 0
    next_wake: datetime | None = None  # not asked after a full batch
    full_batch: bool = False
    retry_in: float | None = None  # set when the store was unavailable


class Engine:
    """The scheduler loop.  Build one per process; see :meth:`run` and :meth:`tick`.

    ``before_tick`` callables run at the start of every wake-up with the
    current instant (the standalone runner reconciles a changed schedules file
    there).  The engine is itself the :class:`~scheduler.executors.base.RunReporter`
    its executors report to.

    Its ``housekeeping`` (a :class:`~scheduler.engine.housekeeping.Housekeeping`,
    built from the store, replica id and config given here) keeps the
    replica's heartbeat, recovers what stopped replicas left, and prunes.
    """

    def __init__(
        self,
        store: Store,
        executors: Mapping[str, Executor],
        *,
        registry: TaskRegistry | None = None,
        clock: Clock | None = None,
        replica_id: str | None = None,
        config: EngineConfig | None = None,
        before_tick: Sequence[Callable[[datetime], object]] = (),
    ) -> None:
        self.store = store
        self.executors = dict(executors)
        self.registry = registry if registry is not None else default_registry
        self.clock = clock if clock is not None else SystemClock()
        self.replica_id = replica_id or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self.config = config or EngineConfig()
        self.housekeeping = Housekeeping(store, replica_id=self.replica_id, config=self.config)
        self._planner = SlotPlanner(grace=self.config.grace)
        self._before_tick = tuple(before_tick)
        self._inflight: dict[int, ClaimedRun] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._failures = 0
        self._unrecorded: list[tuple[int, ClaimedRun | None, Outcome]] = []
        self._listener: ChangeListener | None = None

    # -- the loop -------------------------------------------------------------
    def run(self, *, once: bool = False, until: datetime | None = None) -> None:
        """:meth:`loop` until stopped (or once, or until ``until``), then :meth:`close`."""
        logger.info(
            "scheduler replica %s starting",
            self.replica_id,
            extra={"event": "replica_started", "replica": self.replica_id},
        )
        try:
            self._begin()
            if not once:
                self._listen()
            self.loop(once=once, until=until)
            if once:
                self._drain()
        finally:
            self.close()

    def _listen(self) -> None:
        """Let other processes' changes end a sleep early, where the store can
        tell (PostgreSQL) and time is real: a fake clock's sleep takes no time."""
        if is_real_time(self.clock) and isinstance(self.store, NotifiesChanges):
            self._listener = self.store.listen_for_changes()

    def _begin(self) -> None:
        """Close a previous life of this replica id first (see
        :meth:`Housekeeping.begin`); a store that is down at start leaves the
        recovery to the first wake-up that reaches it."""
        try:
            self.housekeeping.begin(self.clock.now())
        except StoreUnavailable:
            logger.warning("store unavailable at start; recovery will run once it is back")

    def _drain(self) -> None:
        """After a single wake-up (``--once``), wait for the work it handed over,
        instead of cancelling what a bounded pool has not started yet.
        SIGTERM still cuts it short.  Only real clocks have real work to wait for."""
        if not is_real_time(self.clock):
            return
        while not self._stopping.is_set() and any(
            executor.active_count() for executor in self.executors.values()
        ):
            self._watch_timeouts(self.clock.now())
            self._wait(0.05)

    def loop(self, *, once: bool = False, until: datetime | None = None) -> None:
        """Tick and sleep until :meth:`stop`, after one tick if ``once``, or
        until the clock reaches ``until``.  Leaves executors running."""
        while not self._stopping.is_set():
            report = self._safe_tick()
            now = self.clock.now()
            if once or (until is not None and now >= until):
                return
            delay = self._delay(report)
            if until is not None:
                delay = min(delay, (until - now).total_seconds())
            self._wait(delay)

    def stop(self) -> None:
        """Ask the loop to stop claiming and return; safe from a signal handler."""
        self._stopping.set()
        listener = self._listener
        if listener is not None:
            listener.interrupt()

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` has been called."""
        return self._stopping.is_set()

    def tick(self) -> TickReport:
        """One wake-up; raises :class:`~scheduler.errors.StoreUnavailable` if the store is down."""
        now = self.clock.now()
        for hook in self._before_tick:  # e.g. reconcile a schedules file that changed
            hook(now)
        self._flush_unrecorded()
        recovered = self.housekeeping.tend(now)
        self._planner.reset()
        claimed = self.store.claim_due(
            now=now, replica_id=self.replica_id, limit=self.config.batch_size, plan=self._planner
        )
        room = self.config.batch_size - len(claimed)
        if room > 0:
            claimed += self.store.claim_pending(now=now, replica_id=self.replica_id, limit=room)
        dispatched = self._dispatch_all(claimed)
        self._watch_timeouts(now)
        pruned, pruned_replicas = self.housekeeping.prune_if_due(now)
        full_batch = len(claimed) >= self.config.batch_size
        return TickReport(
            now=now,
            claimed=len(claimed),
            dispatched=dispatched,
            recovered=recovered,
            pruned=pruned,
            pruned_replicas=pruned_replicas,
            # After a full batch the next wake-up is now, whatever is due next.
            next_wake=None if full_batch else self.store.next_wake(),
            full_batch=full_batch,
        )

    def close(self) -> None:
        """Let running work finish within the shutdown grace; record the rest as lost."""
        now = self.clock.now()
        busy = sum(executor.active_count() for executor in self.executors.values())
        if busy:
            logger.info(
                "stopping: no new runs; %d runs still going get %gs to finish",
                busy,
                self.config.shutdown_grace,
                extra={"event": "stopping", "replica": self.replica_id, "active": busy},
            )
        for name, executor in self.executors.items():
            still_running = executor.shutdown(wait=True, timeout=self.config.shutdown_grace)
            for run_id in still_running:
                self._lose(
                    run_id,
                    f"scheduler stopped; executor {name!r} did not finish it "
                    f"within the {self.config.shutdown_grace:g}s shutdown grace",
                )
        try:
            self._flush_unrecorded()
            self.housekeeping.stop(self.clock.now())
        except StoreUnavailable:
            logger.warning(
                "could not record the shutdown of replica %s (%d outcomes unrecorded); "
                "recovery by another replica will mark its runs lost",
                self.replica_id,
                len(self._unrecorded),
            )
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        logger.info(
            "scheduler replica %s stopped",
            self.replica_id,
            extra={"event": "replica_stopped", "replica": self.replica_id, "at": now.isoformat()},
        )

    # -- reporting (called by executors, possibly from worker threads) ----------
    def started(self, run_id: int, *, worker: str) -> bool:
        """A worker is about to run ``run_id``; False means it must not."""
        try:
            return self.store.mark_running(run_id, worker=worker, now=self.clock.now())
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

    def finished(self, run_id: int, outcome: Outcome) -> None:
        """Record how ``run_id`` ended (and schedule its retry, if any).

        If the store is unavailable the outcome is kept and recorded on the
        next wake-up that reaches it, so no run stays ``running`` for ever.
        """
        with self._lock:
            claimed = self._inflight.pop(run_id, None)
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

    def _record(self, run_id: int, claimed: ClaimedRun | None, outcome: Outcome) -> None:
        if claimed is None:  # e.g. a late result after a timeout was recorded
            self.store.mark_finished(run_id, outcome)
        else:
            record_outcome(self.store, claimed, outcome)

    def _flush_unrecorded(self) -> None:
        with self._lock:
            waiting, self._unrecorded = self._unrecorded, []
        for index, (run_id, claimed, outcome) in enumerate(waiting):
            try:
                self._record(run_id, claimed, outcome)
            except StoreUnavailable:
                with self._lock:
                    self._unrecorded[:0] = waiting[index:]
                raise

    # -- internals --------------------------------------------------------------
    def _safe_tick(self) -> TickReport:
        try:
            report = self.tick()
        except StoreUnavailable as error:
            self._failures += 1
            delay = min(self.config.max_backoff, self.config.poll_interval * 2**self._failures)
            logger.error(
                "store unavailable (%s); retrying in %.1fs",
                error,
                delay,
                extra={"event": "store_unavailable", "replica": self.replica_id, "retry_in": delay},
            )
            return TickReport(now=self.clock.now(), retry_in=delay)
        if self._failures:
            logger.info("store reachable again", extra={"event": "store_recovered"})
            self._failures = 0
        return report

    def _delay(self, report: TickReport) -> float:
        if report.retry_in is not None:
            return report.retry_in  # backing off from an unavailable store
        if report.full_batch:
            return 0.0  # more is due right now
        poll = self.config.poll_interval
        if report.next_wake is None:
            return poll
        until_due = (report.next_wake - self.clock.now()).total_seconds()
        if until_due <= 0:  # due but not claimable (locked elsewhere, waiting to queue)
            return poll if report.claimed == 0 else 0.0
        return min(poll, until_due)

    def _wait(self, seconds: float) -> None:
        """Wait between wake-ups.  A clock in real time is waited on through
        something :meth:`stop` (and, with a listener, a change) can cut short;
        any other clock is asked to sleep, which a fake clock does at once."""
        if not is_real_time(self.clock):
            self.clock.sleep(seconds)
        elif self._listener is not None:
            self._listener.wait(seconds)  # ends early on a change, or on stop()
        else:
            self._stopping.wait(seconds)  # wakes at once on stop()

    def _dispatch_all(self, claimed: list[ClaimedRun]) -> int:
        """Hand every claimed run to its executor.  The claim stored them
        ``queued`` already, in its own transaction: nothing to write first."""
        now = self.clock.now()
        batches: dict[str, list[tuple[ClaimedRun, RegisteredTask]]] = defaultdict(list)
        for item in claimed:
            task = self._task_for(item, now)
            if task is not None:
                batches[item.job.executor].append((item, task))
        handed = 0
        for name, batch in batches.items():
            with self._lock:
                self._inflight.update((item.run.id, item) for item, _ in batch)
            external_ids: dict[int, str] = {}
            for item, task in batch:
                external_id = self._submit(self.executors[name], item, task, now)
                if external_id is not None:
                    handed += 1
                    if external_id:
                        external_ids[item.run.id] = external_id
            self._handed_out(external_ids)
        return handed

    def _handed_out(self, external_ids: dict[int, str]) -> None:
        """Runs now executed outside this process (a Celery worker records their
        end): remember their external ids, and stop tracking them here."""
        if not external_ids:
            return
        with self._lock:
            for run_id in external_ids:
                self._inflight.pop(run_id, None)
        self.store.set_external_ids(external_ids)

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
        record_outcome(
            self.store, claimed, Outcome(status=RunStatus.FAILED, finished_at=now, error=message)
        )

    def _lose(self, run_id: int, message: str) -> None:
        self.finished(
            run_id, Outcome(status=RunStatus.LOST, finished_at=self.clock.now(), error=message)
        )

    def _watch_timeouts(self, now: datetime) -> None:
        for executor in self.executors.values():
            if executor.capabilities.observes_timeout and isinstance(executor, TimeoutObserver):
                executor.check_timeouts(now)


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
