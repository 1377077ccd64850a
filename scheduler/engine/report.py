"""What one wake-up of the engine did (:class:`TickReport`), how long to wait
after it (:func:`next_delay`), and how much the next one may claim
(:func:`claim_limit`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from ..executors.base import Executor
from ..model.runs import ClaimedRun

__all__ = ["TickReport", "claim_limit", "next_delay"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TickReport:
    """What one wake-up did."""

    now: datetime
    claimed: int = 0
    #: Slots this wake-up's claim skipped because each already had a run (see
    #: :meth:`~scheduler.stores.base.RunQueue.claim_due`): a job an edit made
    #: with a clock behind this replica's set back to a slot already claimed.
    taken_slots: int = 0
    dispatched: int = 0
    recovered: int = 0
    pruned: int = 0  # runs
    pruned_replicas: int = 0
    next_wake: datetime | None = None  # not asked after a full batch
    full_batch: bool = False
    retry_in: float | None = None  # set when the store was unavailable
    claim_seconds: float | None = None  # how long the claim took, when it answered
    heartbeat_at: datetime | None = None  # when this wake-up recorded a heartbeat
    error: str = ""  # why the store was unavailable
    #: The runs handed to workers outside this process (given an external id).
    handed_out: tuple[ClaimedRun, ...] = ()
    #: The sizes (starts plus ends) of the group commits written since the last report.
    commit_batches: tuple[int, ...] = ()


def next_delay(report: TickReport, poll: float, now: datetime) -> float:
    """Seconds to wait after ``report`` before the next wake-up (at most ``poll``)."""
    if report.retry_in is not None:
        return report.retry_in  # backing off from an unavailable store
    if report.full_batch:
        return 0.0  # more is due right now
    if report.next_wake is None:
        return poll
    until_due = (report.next_wake - now).total_seconds()
    if until_due <= 0:  # due but not claimable (locked elsewhere, waiting to queue)
        return poll if report.claimed == 0 else 0.0
    return min(poll, until_due)


def claim_limit(executors: Mapping[str, Executor], batch_size: int, by_capacity: bool) -> int:
    """``batch_size``, or less when every executor has a capacity: their sum.

    One executor without a limit (Celery, inline) lifts it: a claim cannot
    tell in advance which executor its runs go to.  So does a single wake-up
    (``by_capacity`` False: ``run(once=True)``), which waits for all it claimed.
    """
    capacities = [executor.capacity() for executor in executors.values()]
    if not by_capacity or not capacities or None in capacities:
        return batch_size
    return min(batch_size, sum(c for c in capacities if c is not None))
