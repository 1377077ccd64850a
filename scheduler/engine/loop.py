"""The engine: wake, claim what is due, hand it over, record what happened.

The engine knows two protocols, :class:`~scheduler.stores.base.Store` and
:class:`~scheduler.executors.base.Executor`, and a clock.  It keeps no job in
memory: every wake-up asks the store for what is due now, so its cost grows
with the due runs, not with the number of jobs, and several engines (replicas)
can share one database.

One wake-up (:meth:`Engine.tick`):

1. heartbeat, and now and then recover the runs of replicas that stopped
   (:mod:`.housekeeping`);
2. claim due jobs (the store creates their runs with the planner's decisions,
   already ``queued`` to their executors, and advances ``next_run_at``, in one
   transaction), then claim pending runs that came due (retries, jittered
   runs, manual runs);
3. hand each claimed run to its executor, as soon as its claim committed
   (:mod:`.dispatch`, which also records how each run ends);
4. let executors that can observe timeouts record them; prune history now and then.

Between wake-ups it sleeps until the next due instant or the poll interval,
whichever is sooner.  On a store that can notify changes (PostgreSQL), with a
clock in real time, the sleep also ends as soon as another process saves,
pauses or resumes a job or adds a run.  A store that becomes unreachable makes
it log and retry with capped backoff; it never exits because the database blinked.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from ..clock import Clock, SystemClock, is_real_time
from ..errors import StoreUnavailable
from ..executors.base import Executor
from ..model.runs import ClaimedRun
from ..model.words import plural
from ..monitoring.events import RunEvent
from ..monitoring.hooks import RunHooks
from ..monitoring.hooks import hooks as default_hooks
from ..stores.base import ChangeListener, NotifiesChanges, Store
from ..tasks.registry import TaskRegistry
from ..tasks.registry import registry as default_registry
from .dispatch import Dispatcher
from .housekeeping import Housekeeping
from .planning import SlotPlanner
from .report import TickReport, claim_limit, next_delay
from .settings import EngineConfig, Retention

__all__ = ["Engine", "EngineConfig", "Retention", "TickReport"]

logger = logging.getLogger(__name__)


class Engine:
    """The scheduler loop.  Build one per process; see :meth:`run` and :meth:`tick`.

    ``before_tick`` callables run at the start of every wake-up with the
    current instant (the standalone runner reconciles a changed schedules file
    there); ``after_tick`` callables get every wake-up's :class:`TickReport`,
    including the one of a wake-up that found the store unavailable
    (``retry_in`` set), which is how metrics and health probes follow the
    loop.  ``hooks`` hear of every run this engine records
    (:mod:`scheduler.monitoring.hooks`; the process's hooks by default).

    The engine owns two parts, built from what it is given here:

    * ``dispatcher``, a :class:`~scheduler.engine.dispatch.Dispatcher`, hands
      claimed runs to the executors and records how they end; it is the
      :class:`~scheduler.executors.base.RunReporter` its executors report to;
    * ``housekeeping``, a :class:`~scheduler.engine.housekeeping.Housekeeping`,
      keeps the replica's heartbeat, recovers what stopped replicas left, and
      prunes history.

    Both are built once, here: to run with another store, clock or config,
    build another engine rather than replacing those attributes.
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
        after_tick: Sequence[Callable[[TickReport], object]] = (),
        hooks: RunHooks | None = None,
    ) -> None:
        self.store = store
        self.executors = dict(executors)
        self.registry = registry if registry is not None else default_registry
        self.clock = clock if clock is not None else SystemClock()
        self.replica_id = replica_id or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self.config = config or EngineConfig()
        self.hooks = default_hooks if hooks is None else hooks
        self.dispatcher = Dispatcher(
            store,
            self.executors,
            registry=self.registry,
            clock=self.clock,
            hooks=self.hooks,
            on_finished=self._freed,
            group_commit=self.config.group_commit,
        )
        self.housekeeping = Housekeeping(
            store, replica_id=self.replica_id, config=self.config, hooks=self.hooks
        )
        self._planner = SlotPlanner(grace=self.config.grace)
        self._before_tick = tuple(before_tick)
        self._after_tick = tuple(after_tick)
        self._stopping = threading.Event()
        self._forced = threading.Event()  # stop now: no shutdown grace
        self._woken = threading.Event()
        self._failures = 0
        self._held_back = False  # the last claim took all the executors' capacity
        self._starved = False  # ... and more was due: a run that ends wakes the loop
        self._by_capacity = True  # False for a single wake-up that waits for all it claims
        self._begin_pending = False  # a start that found the store down
        self._listener: ChangeListener | None = None

    def run(self, *, once: bool = False, until: datetime | None = None) -> None:
        """:meth:`loop` until stopped (or once, or until ``until``), then :meth:`close`."""
        logger.info(
            "scheduler replica %s starting",
            self.replica_id,
            extra={"event": "replica_started", "replica": self.replica_id},
        )
        self._by_capacity = not once  # --once claims all that is due, then waits for it
        try:
            self._begin()
            if not once:
                self._listen()
            self.loop(once=once, until=until)
            if once:
                self._drain()
        finally:
            self.close()

    def loop(self, *, once: bool = False, until: datetime | None = None) -> None:
        """Tick and sleep until :meth:`stop`, after one tick if ``once``, or
        until the clock reaches ``until``.  Leaves executors running."""
        while not self._stopping.is_set():
            report = self._safe_tick()
            self._report(report)
            now = self.clock.now()
            if once or (until is not None and now >= until):
                return
            delay = next_delay(report, self.config.poll_interval, self.clock.now())
            if until is not None:
                delay = min(delay, (until - now).total_seconds())
            self._wait(delay)

    def stop(self, *, force: bool = False) -> None:
        """Ask the loop to stop claiming and return; safe from a signal handler.

        With ``force``, :meth:`close` does not wait for running work (or stops
        waiting, if it already is): the runs still going are recorded ``lost``.
        """
        if force:
            self._forced.set()
        self._stopping.set()
        self.wake()

    def wake(self) -> None:
        """End the current wait between wake-ups (a poll, or a backoff from an
        unavailable store) so the next wake-up starts at once; for monitoring
        that saw the store answer again.  Safe from any thread."""
        self._woken.set()
        listener = self._listener
        if listener is not None:
            listener.interrupt()

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` has been called."""
        return self._stopping.is_set()

    @property
    def forced(self) -> bool:
        """Whether :meth:`stop` was called with ``force``."""
        return self._forced.is_set()

    def tick(self) -> TickReport:
        """One wake-up; raises :class:`~scheduler.errors.StoreUnavailable` if the store is down."""
        now = self.clock.now()
        for hook in self._before_tick:  # e.g. reconcile a schedules file that changed
            hook(now)
        if self._begin_pending:  # before a heartbeat makes the previous life look alive
            self.housekeeping.begin(now)
            self._begin_pending = False
        self.dispatcher.flush_outcomes()
        beat = self.housekeeping.heartbeat_if_due(now)
        recovered = self.housekeeping.recover_if_due(now)
        started = time.perf_counter()
        claimed, idle, wake = self._claim(now)
        claim_seconds = time.perf_counter() - started
        dispatched = self.dispatcher.dispatch(claimed)
        self.dispatcher.watch_timeouts(now)
        pruned, pruned_replicas = self.housekeeping.prune_if_due(now)
        full_batch = len(claimed) >= self.config.batch_size
        # After a full batch the next wake-up is now, whatever is due next; when
        # nothing was due, the store's answer before the claim still holds.
        # A run that ended in this wake-up and has chains to follow is due now.
        next_wake = None if full_batch else wake if idle else self.store.next_work().at
        # Held back while more is due: the next run to end wakes the loop.
        self._starved = self._held_back and next_wake is not None and next_wake <= now
        return TickReport(
            now=now,
            claimed=len(claimed),
            taken_slots=self._planner.taken,
            dispatched=dispatched,
            recovered=recovered,
            pruned=pruned,
            pruned_replicas=pruned_replicas,
            next_wake=next_wake,
            full_batch=full_batch,
            claim_seconds=claim_seconds,
            heartbeat_at=now if beat else None,
            handed_out=self.dispatcher.take_handed_out(),
            commit_batches=self.dispatcher.take_commit_batches(),
        )

    def close(self) -> None:
        """Let running work finish within the shutdown grace (cut short by a
        forced :meth:`stop`); record the rest as lost."""
        now = self.clock.now()
        self._log_stopping()
        self.dispatcher.shutdown(
            self.config.shutdown_grace, cut_short=self._forced, replica_id=self.replica_id
        )
        self._sign_off()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        logger.info(
            "scheduler replica %s stopped",
            self.replica_id,
            extra={"event": "replica_stopped", "replica": self.replica_id, "at": now.isoformat()},
        )

    # -- internals --------------------------------------------------------------
    def _begin(self) -> None:
        """Close a previous life of this replica id first (see
        ``Housekeeping.begin``); a store that is down at start leaves it to
        the first wake-up that reaches the store."""
        try:
            self.housekeeping.begin(self.clock.now())
        except StoreUnavailable:
            self._begin_pending = True
            logger.warning("store unavailable at start; recovery will run once it is back")

    def _listen(self) -> None:
        """Let other processes' changes end a sleep early, where the store can
        tell (PostgreSQL) and time is real: a fake clock's sleep takes no time."""
        if is_real_time(self.clock) and isinstance(self.store, NotifiesChanges):
            self._listener = self.store.listen_for_changes()

    def _drain(self) -> None:
        """After a single wake-up (``--once``), wait for the work it handed over,
        instead of cancelling what a bounded pool has not started yet.
        SIGTERM still cuts it short.  Only real clocks have real work to wait for."""
        if not is_real_time(self.clock):
            return
        while not self._stopping.is_set() and self.dispatcher.active_count():
            self.dispatcher.watch_timeouts(self.clock.now())
            self._wait(0.05)

    def _claim(self, now: datetime) -> tuple[list[ClaimedRun], bool, datetime | None]:
        """Claim due jobs' runs, then due pending runs, up to one batch in all,
        and no more than the executors can start soon (:func:`~.report.claim_limit`).

        The store is asked first when it next has work (one indexed read).  When
        that is never or later than ``now``, the wake-up is idle: nothing is
        claimed, no claim transaction is opened, and that answer is the next
        wake.  Chains are followed only when an end waits for them."""
        self._planner.reset()
        work = self.store.next_work()
        wake = work.at
        if wake is None or wake > now:
            self._held_back = False
            return [], True, wake
        if work.chain_ends is not None:
            # Runs of chained jobs whose upstream ended: created pending and
            # due now, for the claim of pending runs below to hand over.  A
            # busy replica without chains to follow skips this transaction.
            self.store.follow_chains(now=now, limit=self.config.batch_size)
        limit = claim_limit(self.executors, self.config.batch_size, self._by_capacity)
        claimed = self.store.claim_due(
            now=now, replica_id=self.replica_id, limit=limit, plan=self._planner
        )
        self._announce_settled(now)  # committed: the missed and skipped rows exist
        room = limit - len(claimed)
        if room > 0:
            claimed += self.store.claim_pending(now=now, replica_id=self.replica_id, limit=room)
        self._held_back = limit < self.config.batch_size and len(claimed) >= limit
        return claimed, False, None

    def _freed(self) -> None:
        """A run ended: if the last claim was held back by capacity, claim again now."""
        if self._starved:
            self._starved = False
            self.wake()

    def _announce_settled(self, now: datetime) -> None:
        """Tell the hooks of the slots the claim just recorded missed or skipped."""
        if not self.hooks:
            return
        for spec, new in self._planner.settled():
            event = RunEvent(
                job=spec,
                run_id=None,
                status=new.status,
                scheduled_for=new.scheduled_for,
                due_at=new.due_at,
                attempt=new.attempt,
                trigger=new.trigger,
                finished_at=now,
                replica_id=self.replica_id,
                executor=spec.executor,
            )
            self.hooks.emit_finished(event)

    def _report(self, report: TickReport) -> None:
        for callback in self._after_tick:
            try:
                callback(report)
            except Exception:  # a broken probe must not stop the scheduler
                logger.exception("after_tick callback %r raised", callback)

    def _log_stopping(self) -> None:
        busy = self.dispatcher.active_count()
        if busy and not self.forced:
            logger.info(
                "stopping: no new runs; %s still going %s %gs to finish",
                plural(busy, "run"),
                "gets" if busy == 1 else "get",
                self.config.shutdown_grace,
                extra={"event": "stopping", "replica": self.replica_id, "active": busy},
            )

    def _sign_off(self) -> None:
        """Record the outcomes still kept, then that this replica stopped."""
        try:
            self.dispatcher.flush_outcomes()
            self.housekeeping.stop(self.clock.now())
        except StoreUnavailable:
            logger.warning(
                "could not record the shutdown of replica %s (%s unrecorded); "
                "recovery by another replica will mark its runs lost",
                self.replica_id,
                plural(self.dispatcher.unrecorded, "outcome"),
            )

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
            return TickReport(now=self.clock.now(), retry_in=delay, error=str(error))
        if self._failures:
            logger.info("store reachable again", extra={"event": "store_recovered"})
            self._failures = 0
        return report

    def _wait(self, seconds: float) -> None:
        """Wait between wake-ups.  A clock in real time is waited on through
        something :meth:`stop` (and, with a listener, a change) can cut short;
        any other clock is asked to sleep, which a fake clock does at once."""
        if not is_real_time(self.clock):
            self.clock.sleep(seconds)
        elif self._listener is not None:
            self._listener.wait(seconds)  # ends early on a change, or on stop()
        else:
            self._woken.wait(seconds)  # wakes at once on stop() or wake()
            self._woken.clear()
