"""What :meth:`~scheduler.stores.base.RunQueue.record_transitions` takes and gives:
the starts and ends of many runs, written together (group commit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ...model.runs import Outcome

__all__ = ["RunEnd", "RunStart", "Transitions"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStart:
    """Run ``run_id`` started on ``worker`` (``host:pid``) at ``at``, as
    :meth:`~scheduler.stores.base.RunQueue.mark_running` records it."""

    run_id: int
    worker: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class RunEnd:
    """Run ``run_id`` ended as ``outcome``, as
    :meth:`~scheduler.stores.base.RunQueue.mark_finished` records it; with
    ``retry``, the store asks its retrier for the run's next attempt."""

    run_id: int
    outcome: Outcome
    retry: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Transitions:
    """What one :meth:`~scheduler.stores.base.RunQueue.record_transitions` did:
    the runs it started and the runs it ended (those reports that moved their run)."""

    started: frozenset[int] = frozenset()
    ended: frozenset[int] = frozenset()
