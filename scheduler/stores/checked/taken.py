"""Slots a claim found taken: logged, and told to a planner that listens.

A claim skips a planned slot that already has a run (an edit or resume made
with a clock behind the replica's, or a manual run, set the job back to it).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ..protocol.values import Planner, TakenSlot, TakenSlotsListener

__all__ = ["report_taken"]

logger = logging.getLogger("scheduler.stores")


def report_taken(taken: Sequence[TakenSlot], replica_id: str, plan: Planner) -> None:
    """Log each planned slot a claim skipped because it had a run; tell ``plan``."""
    for job_name, slot, attempt in taken:
        logger.warning(
            "replica %s skipped job %s slot %s attempt %d: it already has a run "
            "(an edit or resume made with a clock behind this replica's, or a "
            "manual run, set the job back to it); the job moves past it",
            replica_id,
            job_name,
            slot.isoformat(),
            attempt,
            extra={
                "replica_id": replica_id,
                "job": job_name,
                "scheduled_for": slot.isoformat(),
                "attempt": attempt,
            },
        )
    listener: object = plan  # a planner is a callable, and may be a listener too
    if isinstance(listener, TakenSlotsListener):
        listener.slots_taken(taken)
