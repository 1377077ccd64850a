"""Executing a run on a worker outside the scheduler: the body of a wrapper task.

A distributed executor (Celery) sends a worker nothing but the run id.  The
worker then does what an in-process executor does, against the store:

1. load the run and its job; a run that no longer exists is dropped, and a
   run that reached the worker after its job's ``catchup_window`` (counted
   from the run's due time) is ``cancelled`` instead of executed;
2. mark it ``running`` on this worker (``host:pid``).  The store refuses a
   run that already started or ended, which is how a second delivery of the
   same message is detected: it is dropped, never executed twice;
3. resolve the job's task through the registry, the same security boundary
   as in the scheduler (a name that is not registered fails the run);
4. execute it with :func:`scheduler.executors.invoke.execute`, beating the run's
   heartbeat meanwhile, so that a worker killed mid-run is noticed;
5. record the outcome with :func:`scheduler.engine.recording.record_outcome`, which
   also schedules the retry the job's policy asks for.

Nothing here knows Celery: the wrapper passes ``is_timeout``, which says
whether an exception means that the worker stopped the task at its time limit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..clock import Clock, SystemClock
from ..engine.recording import announce_end, record_outcome
from ..errors import JobNotFound, StoreUnavailable, TaskNotRegistered
from ..executors.invoke import DEFAULT_MAX_RESULT_BYTES, execute, worker_id
from ..model.runs import ClaimedRun, Outcome, RunStatus
from ..monitoring.events import RunEvent
from ..monitoring.hooks import RunHooks
from ..monitoring.hooks import hooks as default_hooks
from ..stores.base import Store
from ..tasks.registry import RegisteredTask, TaskRegistry
from .heartbeats import RunHeartbeat

__all__ = ["claimed_run", "execute_remote_run", "record_remote_outcome"]

logger = logging.getLogger(__name__)

#: Seconds between attempts to record an outcome while the store is unavailable.
RECORD_RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0)


def _never(error: BaseException) -> bool:
    return False


def execute_remote_run(
    run_id: int,
    *,
    store: Store,
    registry: TaskRegistry,
    heartbeat: RunHeartbeat,
    clock: Clock | None = None,
    is_timeout: Callable[[BaseException], bool] = _never,
    max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES,
    hooks: RunHooks | None = None,
) -> Outcome | None:
    """Execute run ``run_id`` here and record how it ended.

    The hooks (``hooks``, or this process's) hear of its start and its end
    from here, the worker: the scheduler that handed it over does not.

    Returns the recorded outcome, or ``None`` when the run was not executed:
    it does not exist any more, or it already started or ended elsewhere (a
    duplicate delivery).  Raises :class:`~scheduler.errors.StoreUnavailable`
    only before the run started; afterwards an unrecordable outcome is logged
    and the run is left to the scheduler's recovery.
    """
    clock = clock or SystemClock()
    hooks = default_hooks if hooks is None else hooks
    claimed = claimed_run(store, run_id)
    if claimed is None or _expired(store, claimed, clock, hooks):
        return None
    worker = worker_id()
    started_at = clock.now()
    if not store.mark_running(run_id, worker=worker, now=started_at):
        logger.warning(
            "run %d of %s was delivered again but already started or ended; not executed twice",
            run_id,
            claimed.job.name,
            extra={"event": "duplicate_delivery", "run_id": run_id, "job": claimed.job.name},
        )
        return None
    logger.info(
        "run %d of %s started on %s",
        run_id,
        claimed.job.name,
        worker,
        extra={"event": "started", "run_id": run_id, "job": claimed.job.name, "worker": worker},
    )
    run = replace(claimed.run, status=RunStatus.RUNNING, started_at=started_at, worker=worker)
    claimed = replace(claimed, run=run)
    if hooks:
        hooks.emit_started(RunEvent.of(run, claimed.job))
    # A run with an external id is judged by its start until its first beat, so
    # that beat can wait for the interval: one transaction less per run.
    with heartbeat.beating(run_id, now=not claimed.run.external_id):
        outcome = _outcome(claimed, registry, clock, is_timeout, max_result_bytes)
        record_remote_outcome(store, claimed, outcome, hooks=hooks)
    return outcome


def claimed_run(store: Store, run_id: int) -> ClaimedRun | None:
    """The run and its job's definition, or ``None`` (logged) if either is gone."""
    try:
        run = store.get_run(run_id)
        job = store.get_job(run.job_name)
    except (LookupError, JobNotFound) as error:
        logger.warning("run %d cannot be executed: %s", run_id, error, extra={"event": "run_gone"})
        return None
    return ClaimedRun(run=run, job=job.spec)


def _expired(store: Store, claimed: ClaimedRun, clock: Clock, hooks: RunHooks) -> bool:
    """Cancel a run whose job's catch-up window passed while it waited for a worker.

    Checked here rather than left to the broker's message expiry, which
    RabbitMQ enforces by dropping the message unseen: the run would then wait
    in ``queued`` for ever.
    """
    window = claimed.job.policy.catchup_window
    if window is None:
        return False
    deadline = claimed.run.due_at + window
    now = clock.now()
    if now <= deadline:
        return False
    if store.cancel_run(claimed.run.id, now=now):
        cancelled = replace(claimed.run, status=RunStatus.CANCELLED, finished_at=now)
        announce_end(cancelled, claimed.job, hooks=hooks)
        logger.warning(
            "run %d of %s cancelled: it reached a worker %s after its catch-up window ended",
            claimed.run.id,
            claimed.job.name,
            now - deadline,
            extra={"event": "expired", "run_id": claimed.run.id, "job": claimed.job.name},
        )
    return True


def record_remote_outcome(
    store: Store, claimed: ClaimedRun, outcome: Outcome, *, hooks: RunHooks | None = None
) -> None:
    """:func:`~scheduler.engine.recording.record_outcome`, tried again for a while if the
    store is unavailable; given up (logged) after that, since recovery will
    mark the run ``lost`` once its heartbeat is stale."""
    for delay in (*RECORD_RETRY_DELAYS, None):
        try:
            record_outcome(store, claimed, outcome, hooks=hooks)
            return
        except StoreUnavailable as error:
            if delay is None:
                logger.error(
                    "could not record the end of run %d (%s): %s; the scheduler will mark it lost",
                    claimed.run.id,
                    outcome.status.value,
                    error,
                    extra={"event": "outcome_unrecorded", "run_id": claimed.run.id},
                )
                return
            time.sleep(delay)  # a store outage, not a schedule: nothing to be woken by


def _outcome(
    claimed: ClaimedRun,
    registry: TaskRegistry,
    clock: Clock,
    is_timeout: Callable[[BaseException], bool],
    max_result_bytes: int,
) -> Outcome:
    try:
        task = registry.resolve(claimed.job.task)
    except TaskNotRegistered as error:
        return Outcome(status=RunStatus.FAILED, finished_at=clock.now(), error=str(error))
    watched = _Watched(task, is_timeout)
    outcome = execute(claimed, watched.task, clock=clock, max_result_bytes=max_result_bytes)
    if watched.timed_out and outcome.status is RunStatus.FAILED:
        timeout = claimed.job.policy.timeout
        limit = f"{timeout.total_seconds():g}s" if timeout is not None else "its"
        return replace(
            outcome,
            status=RunStatus.TIMED_OUT,
            error=f"TimeoutError: stopped by the worker at the job's {limit} timeout "
            f"({outcome.error})",
        )
    return outcome


class _Watched:
    """``task`` with its exceptions watched for a time limit, sync or async alike."""

    def __init__(self, task: RegisteredTask, is_timeout: Callable[[BaseException], bool]) -> None:
        self._func = task.func
        self._is_timeout = is_timeout
        self.timed_out = False
        self.task = RegisteredTask(
            name=task.name, func=self._call, takes_context=task.takes_context
        )

    def _call(self, *args: Any, **kwargs: Any) -> Any:
        try:
            result = self._func(*args, **kwargs)
        except BaseException as error:
            self._note(error)
            raise
        if hasattr(result, "__await__"):
            return self._awaited(result)
        return result

    async def _awaited(self, awaitable: Any) -> Any:
        try:
            return await awaitable
        except BaseException as error:
            self._note(error)
            raise

    def _note(self, error: BaseException) -> None:
        seen: set[int] = set()
        current: BaseException | None = error
        while current is not None and id(current) not in seen:
            if self._is_timeout(current):
                self.timed_out = True
                return
            seen.add(id(current))
            current = current.__cause__ or current.__context__
