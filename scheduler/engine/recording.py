"""Recording how a run ended, and scheduling its retry.

Shared by every place that learns an outcome: the engine's reporter for
in-process executors, the engine's recovery of a dead replica's runs (through
:func:`retry_for`, which the store calls inside its recovery transaction), and
(later) the wrapper task that runs on a Celery or django.tasks worker.  The
retry is a new run of the same slot with ``attempt + 1``, due after the job's
capped exponential backoff counted from the end of the failed attempt.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from ..errors import DuplicateRun
from ..model.jobs import JobSpec
from ..model.policies import retry_delay
from ..model.runs import ClaimedRun, NewRun, Outcome, Run, RunStatus, Trigger
from ..monitoring.events import RunEvent
from ..monitoring.hooks import RunHooks
from ..monitoring.hooks import hooks as default_hooks
from ..stores.base import Store

__all__ = [
    "RETRYABLE",
    "announce_end",
    "announce_recorded",
    "record_outcome",
    "retry_for",
    "wants_retry",
]

logger = logging.getLogger(__name__)

#: Outcomes after which a job with ``retries`` left gets another attempt.
RETRYABLE = frozenset({RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.LOST})


def record_outcome(
    store: Store, claimed: ClaimedRun, outcome: Outcome, *, hooks: RunHooks | None = None
) -> NewRun | None:
    """Store ``outcome`` for ``claimed``, with the retry it causes in the same
    transaction; return that retry, if any.

    When this call is the one that ended the run (a run already ended is left
    as it is), the ``on_run_finished`` hooks of ``hooks`` (the process's,
    by default) hear of it once the retry, if any, is stored.
    """
    run, job = claimed.run, claimed.job
    if not _finish(store, run.id, outcome, with_retry=wants_retry(claimed, outcome)):
        logger.debug(
            "run %d of %s had already ended; %s not recorded",
            run.id,
            job.name,
            outcome.status.value,
        )
        return None
    return announce_recorded(claimed, outcome, hooks=hooks)


def wants_retry(claimed: ClaimedRun, outcome: Outcome) -> bool:
    """Whether ``claimed``, ending as ``outcome``, gets another attempt by its job's policy."""
    return retry_for(_ended(claimed.run, outcome), claimed.job) is not None


def announce_recorded(
    claimed: ClaimedRun, outcome: Outcome, *, hooks: RunHooks | None = None
) -> NewRun | None:
    """Log that ``claimed`` ended as ``outcome`` (recorded, with its retry, by
    the caller) and tell the ``on_run_finished`` hooks; return that retry."""
    run, job = claimed.run, claimed.job
    ended = _ended(run, outcome)
    retry = retry_for(ended, job)
    extra = {
        "event": "finished",
        "job": job.name,
        "run_id": run.id,
        "status": outcome.status.value,
        "attempt": run.attempt,
        "scheduled_for": run.scheduled_for.isoformat(),
    }
    if outcome.status is RunStatus.SUCCEEDED:
        logger.info("run %d of %s succeeded", run.id, job.name, extra=extra)
    else:
        reason = outcome.error.splitlines()[0] if outcome.error else "no error recorded"
        logger.warning(
            "run %d of %s %s: %s", run.id, job.name, outcome.status.value, reason, extra=extra
        )
    if retry is not None:
        logger.info(
            "run %d of %s will be retried at %s (attempt %d of %d)",
            ended.id,
            job.name,
            retry.due_at.isoformat(),
            retry.attempt,
            job.policy.retries + 1,
            extra={**extra, "event": "retry_scheduled"},
        )
    announce_end(ended, job, will_retry=retry is not None, hooks=hooks)
    return retry


def _ended(run: Run, outcome: Outcome) -> Run:
    return replace(
        run,
        status=outcome.status,
        finished_at=outcome.finished_at,
        error=outcome.error,
        result=outcome.result,
        traceback=outcome.traceback,
    )


def _finish(store: Store, run_id: int, outcome: Outcome, *, with_retry: bool) -> bool:
    """Mark the run finished and, ``with_retry``, store its retry in the same
    transaction: no crash between the two can leave a failure without its retry."""
    if not with_retry:
        return store.mark_finished(run_id, outcome)
    try:
        return store.mark_finished(run_id, outcome, retry=retry_for)
    except DuplicateRun:  # another reporter already scheduled this attempt
        return store.mark_finished(run_id, outcome)


def announce_end(
    run: Run, job: JobSpec, *, will_retry: bool = False, hooks: RunHooks | None = None
) -> None:
    """Tell the ``on_run_finished`` (and ``on_run_failed``) hooks that ``run``
    ended as it says; for recorders that learnt the end some other way."""
    chosen = default_hooks if hooks is None else hooks
    if chosen:
        chosen.emit_finished(RunEvent.of(run, job, will_retry=will_retry))


def retry_for(run: Run, job: JobSpec) -> NewRun | None:
    """The next attempt of ``run``, which ended as recorded, or ``None``.

    A run that ended ``failed``, ``timed_out`` or ``lost`` is retried while
    its job has retries left (``job.retries`` counts retries, not attempts).
    This is the :data:`~scheduler.stores.base.Retrier` the engine gives to
    :meth:`~scheduler.stores.base.ReplicaStore.recover`.
    """
    if run.status not in RETRYABLE or run.attempt > job.policy.retries or run.finished_at is None:
        return None
    delay = retry_delay(run.attempt, job.policy.retry_backoff, job.policy.retry_backoff_max)
    return NewRun(
        scheduled_for=run.scheduled_for,
        due_at=run.finished_at + delay,
        attempt=run.attempt + 1,
        trigger=Trigger.RETRY,
    )
