"""The monitor of one replica: feeds its :class:`~.metrics.Metrics` and :class:`~.health.Health`.

It hears three things:

* the run hooks (:mod:`scheduler.monitoring.hooks`): runs started and ended
  in this process, skipped and missed slots, recoveries;
* every wake-up of the engine (give :meth:`Monitor.after_tick` to the
  engine's ``after_tick``): whether the store answered, the claim's time,
  the heartbeat, and the runs handed to outside workers;
* the store itself, read every ``refresh_interval`` seconds by
  :meth:`Monitor.refresh` (one :meth:`~scheduler.stores.base.RunHistory.overview`
  call): job counts, the due backlog, and the final state of the runs handed
  to outside workers, which are counted here, once, when they end (the rule
  is in :mod:`scheduler.monitoring.metrics`).  While the store is down it is
  read every second, and the engine is woken as soon as it answers, so a
  replica backing off from an outage is healthy again within about a second
  of the database's return.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from ..clock import Clock
from ..errors import StoreUnavailable
from ..model.runs import TERMINAL_STATUSES, ClaimedRun, Run
from ..stores.base import RunHistory, StoreOverview
from .events import RunEvent
from .health import DEFAULT_SLACK, Health, HealthReport
from .hooks import RunHooks
from .metrics import Metrics, job_label

__all__ = ["Monitor", "TickFacts"]

logger = logging.getLogger(__name__)

#: Seconds between reads of the store while it is unavailable.
_PROBE_INTERVAL = 1.0


class TickFacts(Protocol):
    """What the monitor reads from a wake-up's report (the engine's ``TickReport``)."""

    @property
    def now(self) -> datetime: ...
    @property
    def retry_in(self) -> float | None: ...
    @property
    def claim_seconds(self) -> float | None: ...
    @property
    def heartbeat_at(self) -> datetime | None: ...
    @property
    def error(self) -> str: ...
    @property
    def handed_out(self) -> Sequence[ClaimedRun]: ...
    @property
    def commit_batches(self) -> Sequence[int]: ...


class Monitor:
    """Metrics and health of the replica whose engine uses ``store``, ``hooks`` and ``clock``.

    ``on_store_back`` (set it to the engine's ``wake``) is called when the
    store answers again after an outage.  Call :meth:`attach` to start hearing the hooks and
    :meth:`start` to read the store in the background; :meth:`close` undoes both.
    """

    def __init__(
        self,
        store: RunHistory,
        *,
        hooks: RunHooks,
        clock: Clock,
        heartbeat_interval: timedelta,
        slack: timedelta = DEFAULT_SLACK,
        refresh_interval: float = 5.0,
        on_store_back: Callable[[], object] | None = None,
    ) -> None:
        if refresh_interval <= 0:
            raise ValueError(f"refresh_interval must be positive, got {refresh_interval}")
        self.store, self.hooks, self.clock = store, hooks, clock
        self.refresh_interval = refresh_interval
        self.metrics = Metrics(hook_errors=lambda: hooks.errors)
        self.health = Health(heartbeat_interval=heartbeat_interval, slack=slack)
        self.on_store_back = on_store_back
        self._lock = threading.Lock()
        self._outside: dict[int, str] = {}  # run id -> job label, handed to outside workers
        self._started: set[int] = set()  # runs started in this process, not ended
        # Runs the hooks counted since the last wake-up's report: a worker running
        # inside this process (an eager backend) may end a run while it is handed
        # over, before its external id is stored and before the report lists it.
        self._counted: set[int] = set()
        self._closing = threading.Event()
        self._read_now = threading.Event()  # ends the refresh loop's wait early
        self._ticked = False
        self._thread: threading.Thread | None = None
        self.metrics.in_flight.set_function(self._in_flight)
        # Registered and removed as these very objects: hooks are removed by identity.
        self._hooks = (self.run_started, self.run_finished)

    # -- hooks ------------------------------------------------------------------
    def attach(self) -> None:
        """Hear the run hooks."""
        self.hooks.on_started(self._hooks[0])
        self.hooks.on_finished(self._hooks[1])

    def run_started(self, event: RunEvent) -> None:
        """A run started in this process (a hook)."""
        if event.external_id:  # an outside worker's run: counted from the run table
            return
        if event.run_id is not None:
            with self._lock:
                self._started.add(event.run_id)
        self.metrics.started(event.lateness, event.trigger)

    def run_finished(self, event: RunEvent) -> None:
        """A run ended, or a slot was skipped or missed, in this process (a hook)."""
        with self._lock:
            if event.external_id or event.run_id in self._outside:
                return  # counted by the replica that handed it over, from the run table
            if event.run_id is not None:
                self._started.discard(event.run_id)
                self._counted.add(event.run_id)
        self.metrics.ended(job_label(event.job), event.status, event.duration)

    # -- the engine's wake-ups ----------------------------------------------------
    def after_tick(self, report: TickFacts) -> None:
        """What one wake-up of the engine says (its ``after_tick``)."""
        if report.retry_in is not None:
            self.health.store_failed(report.now, report.error or "a wake-up could not reach it")
        else:
            self.health.store_answered(report.now)
        if report.claim_seconds is not None:
            self.metrics.claim.observe(report.claim_seconds)
        for size in report.commit_batches:
            self.metrics.commit_batch.observe(size)
        if report.heartbeat_at is not None:
            self.health.heartbeat(report.heartbeat_at)
            self.metrics.heartbeat_at(report.heartbeat_at)
        self.metrics.store_up.set(int(self.health.store_up))
        if not self._ticked:  # the first wake-up, after the schedules file was synced
            self._ticked = True
            self._read_now.set()
        with self._lock:
            self._outside.update(
                (c.run.id, job_label(c.job))
                for c in report.handed_out
                if c.run.id not in self._counted
            )
            self._counted.clear()

    # -- reading the store --------------------------------------------------------
    def refresh(self) -> bool:
        """Read the store's overview once; whether it answered."""
        now = self.clock.now()
        was_up = self.health.store_up
        with self._lock:
            ids = sorted(self._outside.keys() | self._started)
        try:
            overview = self.store.overview(now=now, run_ids=ids)
        except StoreUnavailable as error:
            self.health.store_failed(now, str(error))
            self.metrics.store_up.set(0)
            return False
        self.health.store_answered(now)
        self.metrics.store_up.set(1)
        self._apply(overview, ids)
        self.metrics.apply_pending()  # however seldom it is scraped
        if not was_up and self.on_store_back is not None:
            self.on_store_back()
        return True

    def healthz(self) -> HealthReport:
        """The health of this replica now."""
        return self.health.check(self.clock.now())

    def start(self) -> None:
        """Read the store every ``refresh_interval`` seconds in a daemon thread."""
        self._thread = threading.Thread(target=self._refresh_loop, name="tickwork-monitor")
        self._thread.daemon = True
        self._thread.start()

    def close(self) -> None:
        """Stop reading the store and hearing the hooks."""
        self._closing.set()
        self._read_now.set()
        for hook in self._hooks:
            self.hooks.remove(hook)
        if self._thread is not None:
            self._thread.join(timeout=10)

    # -- internals ----------------------------------------------------------------
    def _refresh_loop(self) -> None:
        while not self._closing.is_set():
            try:
                up = self.refresh()
            except Exception:  # a monitor must never take the replica down
                logger.exception("could not read the store's overview for the metrics")
                up = False
            self._read_now.wait(self.refresh_interval if up else _PROBE_INTERVAL)
            self._read_now.clear()

    def _apply(self, overview: StoreOverview, asked: Sequence[int]) -> None:
        self.metrics.overview(overview.jobs_by_state, overview.due_backlog)
        found = {run.id: run for run in overview.runs}
        ended: list[tuple[str, Run]] = []
        with self._lock:
            for run_id in asked:
                run = found.get(run_id)
                if run is not None and run.status not in TERMINAL_STATUSES:
                    continue
                label = self._outside.pop(run_id, None)
                self._started.discard(run_id)  # ended (its hook counts it) or pruned
                if label is not None and run is not None:
                    ended.append((label, run))
        for label, run in ended:
            duration = None if run.duration is None else timedelta(seconds=run.duration)
            self.metrics.ended(label, run.status, duration)
            if run.started_at is not None:
                self.metrics.started(run.started_at - run.scheduled_for, run.trigger)

    def _in_flight(self) -> float:
        with self._lock:
            return float(len(self._outside) + len(self._started))
