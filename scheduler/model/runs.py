"""Runs: one row per fired slot, from the slot a planner asks for to the outcome recorded.

A run is created when the engine claims a due slot and ends in exactly one
terminal status.  ``(job, scheduled_for, attempt)`` is unique, in every store:
that constraint, not a lock, is what makes a second firing impossible.
The statuses and triggers are in :mod:`scheduler.model.statuses` and
importable from here too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from ..clock import ensure_aware_utc
from .jobs import JobSpec, JSONValue
from .statuses import (
    ACTIVE_STATUSES,
    NEW_RUN_STATUSES,
    NOT_STARTED_PREFIX,
    TERMINAL_STATUSES,
    RunStatus,
    Trigger,
    not_started_error,
    not_started_suffix,
)

__all__ = [
    "ACTIVE_STATUSES",
    "NEW_RUN_STATUSES",
    "NOT_STARTED_PREFIX",
    "TERMINAL_STATUSES",
    "ClaimedRun",
    "NewRun",
    "Outcome",
    "Run",
    "RunContext",
    "RunStatus",
    "Trigger",
    "not_started_error",
    "not_started_suffix",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class NewRun:
    """A run the planner wants created for a job, before it has an id.

    ``due_at`` is when it may be handed over: ``scheduled_for`` plus the job's
    jitter, or later for a retry.  Only ``PENDING``, ``MISSED`` and ``SKIPPED``
    are valid statuses here.
    """

    scheduled_for: datetime
    due_at: datetime
    attempt: int = 1
    trigger: Trigger = Trigger.SCHEDULE
    status: RunStatus = RunStatus.PENDING
    #: The run of the upstream job whose end started this one (trigger ``chain``).
    upstream_run_id: int | None = None

    def checked(self, job_name: str) -> NewRun:
        """This run with its instants in UTC; :class:`ValueError` naming the
        job if its status is not one a new run may have or its attempt is below 1."""
        if self.status not in NEW_RUN_STATUSES:
            allowed = ", ".join(sorted(status.value for status in NEW_RUN_STATUSES))
            raise ValueError(f"job {job_name!r}: a new run must be {allowed}, got {self.status}")
        if self.attempt < 1:
            raise ValueError(f"job {job_name!r}: attempt must be 1 or more, got {self.attempt}")
        if self.scheduled_for.tzinfo is UTC and self.due_at.tzinfo is UTC:
            return self  # the planner's usual output: nothing to convert
        return replace(
            self,
            scheduled_for=ensure_aware_utc(self.scheduled_for, "scheduled_for"),
            due_at=ensure_aware_utc(self.due_at, "due_at"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """A stored run, as read back from a store."""

    id: int
    job_name: str
    scheduled_for: datetime
    due_at: datetime
    attempt: int
    trigger: Trigger
    status: RunStatus
    claimed_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result: JSONValue = None
    error: str = ""
    traceback: str = ""
    executor: str = ""
    external_id: str = ""
    replica_id: str = ""
    worker: str = ""
    #: When a worker outside the scheduler last said it is still executing the
    #: run (see :meth:`~scheduler.stores.base.RunQueue.beat_runs`); ``None`` for
    #: runs executed inside a scheduler replica.
    heartbeat_at: datetime | None = None
    #: The upstream run whose end started this run (trigger ``chain``); ``None``
    #: for every other run.  Unique per job: the slot key of a chained run.
    upstream_run_id: int | None = None

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish, once both are known."""
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimedRun:
    """A run this replica claimed and must hand over, with its job's definition."""

    run: Run
    job: JobSpec


@dataclass(frozen=True, slots=True, kw_only=True)
class RunContext:
    """What a task that asks for its context receives as ``context=``.

    ``scheduled_for`` is the slot, not the moment it ran: a daily report run
    late after an outage still knows which day it is for.
    """

    run_id: int
    job_name: str
    scheduled_for: datetime
    attempt: int
    trigger: Trigger


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """How an execution ended, as an executor reports it."""

    status: RunStatus
    finished_at: datetime
    result: JSONValue = None
    error: str = ""
    traceback: str = ""
