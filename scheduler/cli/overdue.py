"""Jobs whose next run is overdue, and what that says about the scheduler.

A job's ``next_run_at`` moves forward only when a scheduler replica claims
its slot.  A next run further in the past than the grace (how late a slot may
be claimed and still fire on time) means that no replica claimed it: most
often none is running.  ``tickwork jobs`` marks such jobs and says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from ..engine.settings import EngineConfig
from ..model.words import plural
from ..stores.base import ReplicaInfo, StoredJob

__all__ = ["GRACE", "STALE_AFTER", "overdue_by", "overdue_note", "span"]

#: The scheduler's own defaults: a slot later than ``GRACE`` was not claimed
#: on time; a replica silent for longer than ``STALE_AFTER`` is not alive.
GRACE = EngineConfig().grace
STALE_AFTER = EngineConfig().stale_after


def overdue_by(job: StoredJob, now: datetime, grace: timedelta = GRACE) -> timedelta | None:
    """How long ``job``'s next run is past due at ``now``, if by more than
    ``grace``; ``None`` for a job that is on time or does not fire."""
    if not job.active or job.removed_at is not None or job.next_run_at is None:
        return None
    late = now - job.next_run_at
    return late if late > grace else None


def overdue_note(
    overdue: int,
    replicas: Sequence[ReplicaInfo],
    now: datetime,
    stale_after: timedelta = STALE_AFTER,
) -> str | None:
    """The line under the jobs table when ``overdue`` jobs are overdue; ``None`` if none is."""
    if not overdue:
        return None
    late = f"{plural(overdue, 'job')} overdue"
    alive = [info for info in replicas if info.alive(now, stale_after)]
    if alive:
        return (
            f"{late} although {plural(len(alive), 'scheduler replica')} "
            f"{'is' if len(alive) == 1 else 'are'} alive: it may be behind or unable to "
            "claim them; see `tickwork status` and its log"
        )
    return (
        f"{late}: no scheduler seems to be running ({_why(replicas, now)}); "
        "start one with `tickwork run`"
    )


def _why(replicas: Sequence[ReplicaInfo], now: datetime) -> str:
    if not replicas:
        return "none has ever sent a heartbeat to this database"
    last = max(info.heartbeat_at for info in replicas)
    return f"the last heartbeat was {span(now - last)} ago"


def span(delta: timedelta) -> str:
    """``delta`` in at most two units: ``45 s``, ``3 min``, ``2 h 5 min``, ``4 days 2 h``."""
    seconds = int(delta.total_seconds())
    units = [("day", 86_400), ("h", 3_600), ("min", 60), ("s", 1)]
    parts: list[str] = []
    for name, size in units:
        value, seconds = divmod(seconds, size)
        if value or (not parts and size == 1):
            parts.append(plural(value, name) if name == "day" else f"{value} {name}")
        if parts and (len(parts) == 2 or not value):
            break
    return " ".join(parts[:2])
