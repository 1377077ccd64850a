"""Deliberately broken stores: the simulation must catch each within a few seeds.

Each is the memory store with one promise of the store contract taken out.
They exist only to show that the simulation can fail; nothing else uses them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import datetime

from scheduler.model.runs import ClaimedRun, NewRun
from scheduler.stores.base import (
    Planner,
    Retrier,
    RunEnd,
    RunStart,
    SlotPlan,
    Store,
    StoredJob,
    Transitions,
)
from scheduler.stores.memory.state import Slot, State
from scheduler.testing import MemoryStore

from .runner import MODES

__all__ = ["CANARIES", "ClaimsWithoutAdvancing", "NoUniqueSlot", "StartsTwice"]


class ClaimsWithoutAdvancing(MemoryStore):
    """Commits a claim's runs but leaves each job's ``next_run_at`` where it was."""

    def claim_due(
        self, *, now: datetime, replica_id: str, limit: int, plan: Planner
    ) -> list[ClaimedRun]:
        def stuck(job: StoredJob, busy: bool, at: datetime) -> SlotPlan:
            return replace(plan(job, busy, at), next_run_at=job.next_run_at)

        return super().claim_due(now=now, replica_id=replica_id, limit=limit, plan=stuck)


class _Unchecked(State):
    def check_unique(self, rows: Iterable[tuple[str, NewRun]]) -> None:
        return None

    def taken(self, slot: Slot) -> bool:
        return False


class NoUniqueSlot(MemoryStore):
    """Skips the unique-slot check, and loses the update of its jobs' next slot
    in one claim out of five (a lost update): the next claim inserts the same
    slots again instead of failing."""

    def __init__(self) -> None:
        super().__init__()
        self._state = _Unchecked()
        self._claims_made = 0

    def claim_due(
        self, *, now: datetime, replica_id: str, limit: int, plan: Planner
    ) -> list[ClaimedRun]:
        self._claims_made += 1
        if self._claims_made % 5:
            return super().claim_due(now=now, replica_id=replica_id, limit=limit, plan=plan)

        def lost(job: StoredJob, busy: bool, at: datetime) -> SlotPlan:
            return replace(plan(job, busy, at), next_run_at=job.next_run_at)

        return super().claim_due(now=now, replica_id=replica_id, limit=limit, plan=lost)


class StartsTwice(MemoryStore):
    """Lets a run that already started start again (a second delivery runs it twice)."""

    def mark_running(self, run_id: int, *, worker: str, now: datetime) -> bool:
        if super().mark_running(run_id, worker=worker, now=now):
            return True
        return self.get_run(run_id).finished_at is None

    def record_transitions(
        self, starts: Sequence[RunStart], ends: Sequence[RunEnd], *, retry: Retrier | None = None
    ) -> Transitions:
        done = super().record_transitions(starts, ends, retry=retry)
        again = {
            start.run_id
            for start in starts
            if start.run_id not in done.started and self.get_run(start.run_id).finished_at is None
        }
        return replace(done, started=done.started | again)


def _mode(cls: type[MemoryStore]) -> Callable[[], AbstractContextManager[Store]]:
    @contextmanager
    def fresh() -> Iterator[Store]:
        yield cls()

    return fresh


#: The canaries, as store modes of :data:`~.runner.MODES` (``--store canary-...``).
CANARIES = {
    "canary-no-advance": ClaimsWithoutAdvancing,
    "canary-no-unique": NoUniqueSlot,
    "canary-starts-twice": StartsTwice,
}
for _name, _cls in CANARIES.items():
    MODES[_name] = _mode(_cls)
