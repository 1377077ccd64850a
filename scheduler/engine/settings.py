"""The engine's settings: how often it wakes, how it claims, how long it
trusts replicas and workers, and how much history it keeps.

:class:`EngineConfig` is what ``tickwork run`` flags and the Django
``SCHEDULER`` setting become; its defaults suit most installations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from .planning import DEFAULT_GRACE

__all__ = ["EngineConfig", "Retention"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Retention:
    """How much history to keep: the newest ``keep_last`` runs per job, and/or
    no run older than ``max_age``; replicas gone for more than
    ``replica_max_age`` are forgotten.  ``None`` switches a limit off."""

    keep_last: int | None = 1000
    max_age: timedelta | None = timedelta(days=30)
    replica_max_age: timedelta | None = timedelta(days=7)


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineConfig:
    """Tuning knobs; the defaults suit most installations."""

    #: The longest the engine sleeps between wake-ups, in seconds; it wakes
    #: sooner when a run is due, or when the store notifies a change.
    poll_interval: float = 1.0
    #: The most runs one wake-up claims; the next wake-up follows at once.
    batch_size: int = 1000
    #: How late a job's newest due slot may be claimed and still fire on time
    #: (trigger ``schedule``).  A later one, and every older slot due in the
    #: same claim (a backlog), is late: the job's catch-up policy decides
    #: whether it fires (trigger ``catchup``) or is recorded ``missed``.
    grace: timedelta = DEFAULT_GRACE
    #: How often the replica records that it is alive, and looks for the
    #: runs of replicas and workers that are not.
    heartbeat_interval: timedelta = timedelta(seconds=10)
    #: How long without a heartbeat before a replica, or a worker outside the
    #: scheduler, counts as dead; more than twice ``heartbeat_interval``.
    stale_after: timedelta = timedelta(seconds=60)
    #: How long a run handed to workers outside the scheduler (Celery,
    #: django.tasks) may wait for one to start it before it is recorded
    #: ``lost`` (and retried by its job's policy); ``None`` waits for ever.
    start_timeout: timedelta | None = timedelta(hours=1)
    #: When the engine closes, how many seconds running work gets to finish
    #: before it is recorded ``lost``.
    shutdown_grace: float = 30.0
    #: Group commit: the longest, in seconds, that the end of a run executed
    #: in this process waits to be written together with others (a start is
    #: written at once, with whatever else waits, and shares the write with
    #: the starts of other workers).  0 writes each start and each end in a
    #: transaction of its own.
    group_commit: float = 0.05
    #: How much run history to keep.
    retention: Retention = field(default_factory=Retention)
    #: How often old history is pruned.
    prune_interval: timedelta = timedelta(hours=1)
    #: The longest wait, in seconds, before trying again to reach a store that
    #: is unavailable; from ``poll_interval``, the wait doubles with each
    #: failed attempt up to this.
    max_backoff: float = 30.0

    def __post_init__(self) -> None:
        if self.poll_interval <= 0 or self.batch_size < 1:
            raise ValueError("poll_interval must be positive and batch_size at least 1")
        if not 0 <= self.group_commit <= 10:
            raise ValueError(
                f"group_commit must be between 0 and 10 seconds, got {self.group_commit!r}"
            )
        if self.start_timeout is not None and self.start_timeout <= timedelta(0):
            raise ValueError(f"start_timeout must be positive or None, got {self.start_timeout}")
        if self.stale_after <= 2 * self.heartbeat_interval:
            raise ValueError(
                f"stale_after ({self.stale_after}) must exceed twice the heartbeat "
                f"interval ({self.heartbeat_interval}), or live replicas look dead"
            )
