"""What cancelling a deferred call did: a :class:`Cancellation`, and the words for it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..model.runs import Run, RunStatus
from ..schedules.kinds import Once
from ..stores.base import StoredJob

__all__ = ["NOT_STARTED", "Cancellation", "already_done", "cancellation", "never_ran"]

logger = logging.getLogger(__name__)

#: The statuses of a run that may still be cancelled: it has not started.
NOT_STARTED = frozenset({RunStatus.PENDING, RunStatus.QUEUED})


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancellation:
    """What :meth:`~scheduler.tasks.deferrer.DeferredCall.cancel` or
    :func:`~scheduler.tasks.defer.cancel_deferred` did.

    True when this call stopped the deferred call from running (``if
    call.cancel(): ...``); ``message`` says what happened either way, and
    ``run`` is its latest run, if it has one.
    """

    name: str
    cancelled: bool
    message: str
    run: Run | None = None

    def __bool__(self) -> bool:
        return self.cancelled

    def __str__(self) -> str:
        return self.message


def cancellation(
    name: str, *, cancelled: bool, message: str, run: Run | None = None
) -> Cancellation:
    """The outcome for the deferred call ``name``; ``message`` follows its name.

    A cancellation that stopped the call is logged."""
    if cancelled:
        logger.info(
            "deferred call %s cancelled",
            name,
            extra={"event": "deferred_cancelled", "job": name},
        )
    return Cancellation(
        name=name, cancelled=cancelled, message=f"deferred call {name} {message}", run=run
    )


def already_done(name: str, run: Run) -> Cancellation:
    """Too late: ``run`` was cancelled before, is running, or ran."""
    if run.status is RunStatus.CANCELLED:
        return cancellation(name, cancelled=False, message="was already cancelled", run=run)
    if run.status is RunStatus.RUNNING:
        message = f"is running (run {run.id}, attempt {run.attempt}); it cannot be cancelled now"
    else:
        when = f" at {run.finished_at.isoformat()}" if run.finished_at else ""
        message = f"already ran: run {run.id}, attempt {run.attempt}, {run.status.value}{when}"
    return cancellation(name, cancelled=False, message=message, run=run)


def never_ran(job: StoredJob) -> Cancellation:
    """Cancelled in time: the deferred call ``job`` had no run yet."""
    assert isinstance(job.spec.schedule, Once)  # noqa: S101 - a deferred call's job
    message = f"cancelled; it was due at {job.spec.schedule.at.isoformat()} and never ran"
    return cancellation(job.spec.name, cancelled=True, message=message)
