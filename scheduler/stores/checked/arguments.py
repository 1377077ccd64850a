"""The argument rules every store applies, each written once.

:class:`~scheduler.stores.checked.CheckedStore` applies them before a store's
verbs run, so the verbs see only checked, normalised values: instants aware
and in UTC, new runs valid, outcomes terminal.  A naive instant is refused
with a :class:`ValueError` that names the argument (``now``,
``finished_at``, ``scheduled_for``, ``next_run_at``), before anything is
written.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime

from ...clock import ensure_aware_utc
from ...errors import DuplicateRun, InvalidJob
from ...model.jobs import JobSpec
from ...model.policies import JobSource
from ...model.runs import TERMINAL_STATUSES, NewRun, Outcome, Run, RunStatus
from ..protocol.batches import RunStart
from ..protocol.values import Planner, Retrier, SlotPlan, StoredJob
from ..rules import DUPLICATE_SLOT

__all__ = [
    "checked_planner",
    "checked_retrier",
    "checked_start",
    "finished",
    "pending_run",
    "refuse_repeated_names",
    "run_status",
    "specs_of",
]


def specs_of(specs: Iterable[JobSpec], source: JobSource) -> Iterator[JobSpec]:
    """``specs``, synced together as ``source``, each as of ``source``, read
    lazily: :class:`InvalidJob` when a name comes a second time."""
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise InvalidJob(f"job {spec.name!r} is declared twice in one {source.value} sync")
        seen.add(spec.name)
        yield spec if spec.source is source else replace(spec, source=source)


def refuse_repeated_names(specs: Iterable[JobSpec], source: JobSource) -> None:
    """:class:`InvalidJob` if two of ``specs``, synced together as ``source``, share a name."""
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise InvalidJob(f"job {spec.name!r} is declared twice in one {source.value} sync")
        seen.add(spec.name)


def checked_planner(plan: Planner) -> Planner:
    """``plan``, with each plan it makes checked: its runs valid new runs of the
    job (:meth:`~scheduler.model.runs.NewRun.checked`), no slot and attempt
    asked for twice (:class:`~scheduler.errors.DuplicateRun`: a broken
    planner, not a slot some earlier claim took), its next slot in UTC."""

    def checked(job: StoredJob, has_active_run: bool, now: datetime) -> SlotPlan:
        chosen = plan(job, has_active_run, now)
        name = job.spec.name
        runs = tuple(new.checked(name) for new in chosen.runs)
        _refuse_repeated_slots(name, runs)
        following = chosen.next_run_at
        if following is not None and following.tzinfo is not UTC:
            following = ensure_aware_utc(following, "next_run_at")
        if following is chosen.next_run_at and all(map(operator.is_, runs, chosen.runs)):
            return chosen  # the planner's usual output: nothing to rebuild
        return SlotPlan(runs=runs, next_run_at=following)

    return checked


def _refuse_repeated_slots(job_name: str, runs: Iterable[NewRun]) -> None:
    seen: set[tuple[datetime, int]] = set()
    for new in runs:
        slot = (new.scheduled_for, new.attempt)
        if slot in seen:
            raise DuplicateRun(
                f"{DUPLICATE_SLOT}: the plan of job {job_name!r} asks for slot "
                f"{new.scheduled_for.isoformat()}, attempt {new.attempt}, twice"
            )
        seen.add(slot)


def checked_retrier(retry: Retrier | None) -> Retrier | None:
    """``retry``, with each attempt it asks for checked as a new run of the lost run's job."""
    if retry is None:
        return None

    def checked(lost: Run, job: JobSpec) -> NewRun | None:
        new = retry(lost, job)
        return None if new is None else new.checked(lost.job_name)

    return checked


def pending_run(job_name: str, new: NewRun) -> NewRun:
    """``new`` checked as a run that :meth:`~scheduler.stores.base.RunQueue.add_run`
    may insert: a valid new run, and pending."""
    new = new.checked(job_name)
    if new.status is not RunStatus.PENDING:
        raise ValueError(f"job {job_name!r}: add_run creates pending runs, got {new.status}")
    return new


def finished(outcome: Outcome) -> Outcome:
    """``outcome`` checked as how a run ended: a terminal status, ``finished_at`` in UTC."""
    if outcome.status not in TERMINAL_STATUSES:
        raise ValueError(f"a run finishes in a terminal status, got {outcome.status}")
    finished_at = ensure_aware_utc(outcome.finished_at, "finished_at")
    return (
        outcome if finished_at is outcome.finished_at else replace(outcome, finished_at=finished_at)
    )


def run_status(status: RunStatus | str | None) -> RunStatus | None:
    """A status filter as a :class:`RunStatus` (given as one, or as its value)."""
    return None if status is None else RunStatus(status)


def checked_start(start: RunStart, index: int) -> RunStart:
    """``start`` with its instant in UTC; ValueError, naming ``starts[index]``, if naive."""
    at = ensure_aware_utc(start.at, f"starts[{index}].at")
    return start if at is start.at else replace(start, at=at)
