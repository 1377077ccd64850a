"""Worker heartbeats: how a run executed outside the scheduler shows it is still alive.

While a worker process executes runs, one daemon thread refreshes their
``heartbeat_at`` every ``interval`` seconds, all of them in one store call.
When the process dies (SIGKILL, out of memory, its machine gone) the beats
stop, and the scheduler's recovery marks the runs ``lost`` once they are
older than its ``stale_after`` (60 seconds by default): no run stays
``running`` for ever.  The interval must therefore be well under half of the
scheduler's ``stale_after``; the default of 10 seconds matches the scheduler's
own heartbeat.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..clock import Clock, SystemClock
from ..stores.base import Store

__all__ = ["DEFAULT_HEARTBEAT_INTERVAL", "RunHeartbeat"]

logger = logging.getLogger(__name__)

#: Seconds between two beats of the runs a worker process is executing.
DEFAULT_HEARTBEAT_INTERVAL = 10.0


class RunHeartbeat:
    """Beats the runs this process is executing, from one thread per process.

    ``store`` is called for the store to write to (each process has its own).
    The thread starts with the first run and, after a fork, again in the child,
    which inherits the parent's bookkeeping but not its threads.
    """

    def __init__(
        self,
        store: Callable[[], Store],
        *,
        interval: float = DEFAULT_HEARTBEAT_INTERVAL,
        clock: Clock | None = None,
    ) -> None:
        if not interval > 0:
            raise ValueError(f"heartbeat interval must be above 0 seconds, got {interval!r}")
        self.interval = float(interval)
        self._store = store
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._runs: set[int] = set()
        self._pid: int | None = None
        self._wake = threading.Event()

    @contextmanager
    def beating(self, run_id: int, *, now: bool = True) -> Iterator[None]:
        """Beat ``run_id`` every interval (and at once, with ``now``) until the block ends."""
        self.add(run_id, now=now)
        try:
            yield
        finally:
            self.discard(run_id)

    def add(self, run_id: int, *, now: bool = True) -> None:
        """Start beating ``run_id``; with ``now``, beat it right away too.

        The first beat may wait for the interval when the run has an external
        id: recovery then judges it by its start until it beats.
        """
        if now:
            self._store().beat_runs([run_id], now=self._clock.now())
        with self._lock:
            self._ensure_thread()
            self._runs.add(run_id)

    def discard(self, run_id: int) -> None:
        """Stop beating ``run_id`` (it ended, or it was never ours)."""
        with self._lock:
            self._runs.discard(run_id)

    def close(self) -> None:
        """Stop this process's beating thread (the runs it beat are forgotten)."""
        with self._lock:
            self._runs.clear()
        self._wake.set()

    def beating_now(self) -> list[int]:
        """The runs this process beats, sorted."""
        with self._lock:
            return sorted(self._runs)

    def _ensure_thread(self) -> None:
        pid = os.getpid()
        if self._pid == pid:
            return
        if self._pid is not None:  # a forked child: the parent's runs are not ours
            self._runs.clear()
        self._pid = pid
        thread = threading.Thread(target=self._beat_forever, name="tickwork-heartbeat", daemon=True)
        thread.start()

    def _beat_forever(self) -> None:
        while not self._wake.wait(self.interval):
            runs = self.beating_now()
            if not runs:
                continue
            try:
                self._store().beat_runs(runs, now=self._clock.now())
            except Exception:  # keep beating: the store may be back next time
                logger.exception(
                    "could not record the heartbeat of runs %s", runs, extra={"run_ids": runs}
                )
