"""A replica's housekeeping: its heartbeat, recovering what dead replicas left, pruning.

Each of these runs now and then, not on every wake-up: the heartbeat and the
recovery every ``heartbeat_interval``, the prune every ``prune_interval``.
:class:`Housekeeping` remembers when it last did each, so the loop can ask it
on every wake-up and it acts only when its interval has passed.  It never
reads a clock: every call takes the instant it acts at.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta

from ..errors import JobNotFound
from ..model.words import plural
from ..monitoring.hooks import RunHooks
from ..monitoring.hooks import hooks as default_hooks
from ..stores.base import RecoveryReport, Store
from .recording import announce_end, retry_for
from .settings import EngineConfig

__all__ = ["Housekeeping"]

logger = logging.getLogger(__name__)


class Housekeeping:
    """The periodic chores of replica ``replica_id`` on ``store``, paced by ``config``.

    Every method raises :class:`~scheduler.errors.StoreUnavailable` when the
    store cannot be reached; the caller decides what to do about it.
    """

    def __init__(
        self,
        store: Store,
        *,
        replica_id: str,
        config: EngineConfig,
        hooks: RunHooks | None = None,
    ) -> None:
        self.store = store
        self.replica_id = replica_id
        self.config = config
        self.hooks = default_hooks if hooks is None else hooks
        self._last_heartbeat: datetime | None = None
        self._last_recover: datetime | None = None
        self._last_prune: datetime | None = None

    def begin(self, now: datetime) -> int:
        """Close a previous life of this replica id, and recover its runs.

        A replica that crashed and restarts with the same id would otherwise
        hide the runs it left behind from recovery for ever: its fresh
        heartbeats would make them look alive.  Returns how many runs were
        recovered.
        """
        self.store.stop_replica(self.replica_id, now=now)
        return self._recovered(self._recover(now))

    def tend(self, now: datetime) -> int:
        """Heartbeat, then recover stopped replicas' runs, each if its interval
        has passed since it was last done; how many runs were recovered."""
        self.heartbeat_if_due(now)
        return self.recover_if_due(now)

    def heartbeat_if_due(self, now: datetime) -> bool:
        """Record that this replica is alive, unless it did within ``heartbeat_interval``."""
        if not _due(self._last_heartbeat, self.config.heartbeat_interval, now):
            return False
        self.store.heartbeat(
            self.replica_id, hostname=socket.gethostname(), pid=os.getpid(), now=now
        )
        self._last_heartbeat = now
        return True

    def recover_if_due(self, now: datetime) -> int:
        """Recover the runs of replicas and workers that stopped, once per
        ``heartbeat_interval``; how many runs were released or lost.

        A failed attempt counts as done: the next one waits for the interval.
        """
        if not _due(self._last_recover, self.config.heartbeat_interval, now):
            return 0
        self._last_recover = now
        return self._recovered(self._recover(now))

    def prune_if_due(self, now: datetime) -> tuple[int, int]:
        """Prune history by the retention settings, once per ``prune_interval``:
        how many runs and how many replicas were deleted.

        A failed attempt counts as done: the next one waits for the interval.
        """
        if not _due(self._last_prune, self.config.prune_interval, now):
            return 0, 0
        self._last_prune = now
        return self._prune_runs(now), self._prune_replicas(now)

    def stop(self, now: datetime) -> None:
        """Record that this replica stopped, so others recover what it left at once."""
        self.store.stop_replica(self.replica_id, now=now)

    def _recover(self, now: datetime) -> RecoveryReport:
        return self.store.recover(
            now=now,
            stale_after=self.config.stale_after,
            retry=retry_for,
            start_timeout=self.config.start_timeout,
        )

    def _recovered(self, report: RecoveryReport) -> int:
        """Log what recovery did, and tell the hooks of each run it recorded lost."""
        count = _log_recovery(report)
        if self.hooks:
            for run_id in report.lost:
                self._announce_lost(run_id)
        return count

    def _announce_lost(self, run_id: int) -> None:
        try:
            run = self.store.get_run(run_id)
            job = self.store.get_job(run.job_name).spec
        except (LookupError, JobNotFound):  # pruned or removed since: nothing to tell
            return
        announce_end(run, job, will_retry=retry_for(run, job) is not None, hooks=self.hooks)

    def _prune_runs(self, now: datetime) -> int:
        retention = self.config.retention
        if retention.keep_last is None and retention.max_age is None:
            return 0
        return self.store.prune(now=now, keep_last=retention.keep_last, max_age=retention.max_age)

    def _prune_replicas(self, now: datetime) -> int:
        max_age = self.config.retention.replica_max_age
        if max_age is None:
            return 0
        return self.store.prune_replicas(now=now, older_than=max_age)


def _log_recovery(report: RecoveryReport) -> int:
    count = len(report.released) + len(report.lost)
    if count:
        logger.warning(
            "recovered %s of stopped replicas, silent workers or no worker at all "
            "(%d released, %d lost, %d retried)",
            plural(count, "run"),
            len(report.released),
            len(report.lost),
            len(report.retries),
            extra={
                "event": "recovered",
                "released": list(report.released),
                "lost": list(report.lost),
                "retries": list(report.retries),
            },
        )
    return count


def _due(last: datetime | None, interval: timedelta, now: datetime) -> bool:
    return last is None or now - last >= interval
