"""A run event: one run's start or end, as the process that recorded it saw it.

Every process that records a run's start or end (the scheduler for its own
executors, its recovery and its claims; an outside worker for the runs it
executes) builds one :class:`RunEvent` and hands it to the hooks
(:mod:`scheduler.monitoring.hooks`), after the store committed the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..model.jobs import JobSpec
from ..model.runs import Run, RunStatus, Trigger

__all__ = ["PROBLEM_STATUSES", "RunEvent"]

#: The ends of a run that someone should hear about: it raised, ran past its
#: timeout, was lost with its replica or worker, or its slot was not fired.
PROBLEM_STATUSES = frozenset(
    {RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.LOST, RunStatus.MISSED}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunEvent:
    """A run that started (``status`` is ``running``) or ended (a terminal status).

    ``run_id`` is ``None`` only for a missed or skipped slot recorded by a
    claim, whose row is written without reading its id back.
    ``will_retry`` says whether the end scheduled another attempt (a failed,
    timed-out or lost run of a job with retries left); notifiers usually wait
    for the last attempt.
    """

    job: JobSpec
    run_id: int | None
    status: RunStatus
    scheduled_for: datetime
    due_at: datetime
    attempt: int
    trigger: Trigger
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str = ""
    worker: str = ""
    replica_id: str = ""
    executor: str = ""
    external_id: str = ""
    will_retry: bool = False

    @classmethod
    def of(cls, run: Run, job: JobSpec, *, will_retry: bool = False) -> RunEvent:
        """The event of ``run`` as recorded (its status, instants and error)."""
        return cls(
            job=job,
            run_id=run.id,
            status=run.status,
            scheduled_for=run.scheduled_for,
            due_at=run.due_at,
            attempt=run.attempt,
            trigger=run.trigger,
            started_at=run.started_at,
            finished_at=run.finished_at,
            error=run.error,
            worker=run.worker,
            replica_id=run.replica_id,
            executor=run.executor or job.executor,
            external_id=run.external_id,
            will_retry=will_retry,
        )

    @property
    def job_name(self) -> str:
        return self.job.name

    @property
    def finished(self) -> bool:
        """Whether this is the run's end rather than its start."""
        return self.status is not RunStatus.RUNNING

    @property
    def problem(self) -> bool:
        """Whether the run ended in one of :data:`PROBLEM_STATUSES`."""
        return self.status in PROBLEM_STATUSES

    @property
    def duration(self) -> timedelta | None:
        """How long it ran, once it ended, if it started."""
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    @property
    def lateness(self) -> timedelta | None:
        """How long after its slot it started, if it started."""
        if self.started_at is None:
            return None
        return self.started_at - self.scheduled_for
