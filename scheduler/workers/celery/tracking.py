"""Celery signal handlers: what the wrapper cannot see, and runs of plain Celery tasks.

Connected by :func:`scheduler.workers.celery.install`.  They act only on tasks of the
app Tickwork was installed in whose task id is a run's (``tickwork-run-N``).

For the wrapper task (``scheduler.execute_run``), which records its own
outcome, two events happen outside it, in the worker's parent process:

* the pool process executing it died (SIGKILL, out of memory): Celery reports
  ``WorkerLostError``, and the run is recorded ``lost`` at once (the heartbeat
  would find it later anyway);
* its hard time limit passed and the pool process was killed: Celery 5.7 and
  later report ``TimeLimitExceeded``, recorded ``timed_out``.  Older versions
  send no signal; the run then ends ``lost`` by its heartbeat.

For a **plain Celery task** sent by name (a task the worker knows but that is
not registered with Tickwork), the handlers record what Celery reports:
started (``task_prerun``, with heartbeats while it runs), the return value
(``task_postrun``), and the exception and traceback (``task_failure``).

A message that expired before a worker started it (the job's catch-up window)
is recorded ``cancelled`` (``task_revoked``).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from celery import signals, states
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded, WorkerLostError

from ...clock import SystemClock
from ...executors.celery.naming import WRAPPER_TASK, run_id_of
from ...executors.invoke import returned, worker_id
from ...model.runs import Outcome, RunStatus
from ...stores.base import Store
from ..heartbeats import RunHeartbeat
from ..run import claimed_run, record_remote_outcome
from ..store import ProcessStore

__all__ = ["Tracked", "connect", "is_soft_time_limit"]

logger = logging.getLogger(__name__)

_clock = SystemClock()


def is_soft_time_limit(error: BaseException) -> bool:
    """Whether ``error`` is Celery stopping a task at its soft time limit."""
    return isinstance(error, SoftTimeLimitExceeded)


class Tracked(Protocol):
    """What the handlers need of the installation they serve
    (:class:`~scheduler.workers.celery.integration.Integration` is one)."""

    @property
    def store(self) -> ProcessStore:
        """Where the worker records runs."""
        ...

    @property
    def heartbeat(self) -> RunHeartbeat:
        """The heartbeat of the runs this worker process executes."""
        ...

    def owns(self, task: Any) -> bool:
        """Whether ``task`` is of the app Tickwork was installed in."""
        ...


def connect(integration: Tracked) -> None:
    """Connect the handlers for ``integration``'s app (strong references: they
    live as long as the process)."""
    handlers = _Handlers(integration)
    signals.task_prerun.connect(handlers.prerun, weak=False)
    signals.task_postrun.connect(handlers.postrun, weak=False)
    signals.task_failure.connect(handlers.failure, weak=False)
    signals.task_revoked.connect(handlers.revoked, weak=False)


class _Handlers:
    def __init__(self, integration: Tracked) -> None:
        self._integration = integration

    def _run_id(self, task: object, task_id: object) -> int | None:
        if not self._integration.owns(task):
            return None
        return run_id_of(task_id)

    @staticmethod
    def _plain(task: object) -> bool:
        return getattr(task, "name", None) != WRAPPER_TASK

    # -- plain tasks, in the pool process ------------------------------------
    def prerun(self, sender: object = None, task_id: object = None, **_: Any) -> None:
        run_id = self._run_id(sender, task_id)
        if run_id is None or not self._plain(sender):
            return
        store = self._integration.store.get()
        if not store.mark_running(run_id, worker=worker_id(), now=_clock.now()):
            if _celery_retry(sender) and store.get_run(run_id).status is RunStatus.RUNNING:
                self._integration.heartbeat.add(run_id)  # the run goes on, in a new attempt
                return
            # Celery gives no way to refuse a task from here: it runs, unrecorded.
            logger.warning(
                "run %d (Celery task %s) was delivered again after it started; "
                "a plain Celery task cannot be stopped, so this execution is not recorded",
                run_id,
                getattr(sender, "name", "?"),
                extra={"event": "duplicate_delivery", "run_id": run_id},
            )
            return
        self._integration.heartbeat.add(run_id)

    def postrun(
        self,
        sender: object = None,
        task_id: object = None,
        retval: object = None,
        state: object = None,
        **_: Any,
    ) -> None:
        run_id = self._run_id(sender, task_id)
        if run_id is None or not self._plain(sender):
            return
        if run_id not in self._integration.heartbeat.beating_now():
            return  # not started by this execution (a duplicate), or already recorded
        self._integration.heartbeat.discard(run_id)
        if state == states.SUCCESS:
            self._record(self._integration.store.get(), run_id, returned(retval, clock=_clock))
        # FAILURE was recorded by failure(); RETRY leaves the run running for the next attempt.

    # -- failures: the pool process (plain tasks), or the parent (both) ------
    def failure(
        self,
        sender: object = None,
        task_id: object = None,
        exception: BaseException | None = None,
        einfo: object = None,
        **_: Any,
    ) -> None:
        run_id = self._run_id(sender, task_id)
        if run_id is None or exception is None:
            return
        outcome = _failure_outcome(exception, einfo)
        if isinstance(exception, WorkerLostError | TimeLimitExceeded):
            with self._integration.store.briefly() as store:  # the worker's parent process
                self._record(store, run_id, outcome)
        elif self._plain(sender) and run_id in self._integration.heartbeat.beating_now():
            # Only the execution that started the run records it, not a duplicate.
            self._integration.heartbeat.discard(run_id)
            self._record(self._integration.store.get(), run_id, outcome)

    # -- messages revoked or expired before they started (parent process) ----
    def revoked(
        self,
        sender: object = None,
        request: object = None,
        terminated: object = False,
        expired: object = False,
        **_: Any,
    ) -> None:
        run_id = self._run_id(sender, getattr(request, "id", None))
        if run_id is None:
            return
        with self._integration.store.briefly() as store:
            if terminated:
                lost = Outcome(
                    status=RunStatus.LOST,
                    finished_at=_clock.now(),
                    error="terminated by a Celery revoke while it was running",
                )
                self._record(store, run_id, lost)
            elif store.cancel_run(run_id, now=_clock.now()):
                why = "its message expired (the job's catch-up window)" if expired else "revoked"
                logger.warning(
                    "run %d cancelled before it started: %s",
                    run_id,
                    why,
                    extra={"event": "cancelled", "run_id": run_id},
                )

    def _record(self, store: Store, run_id: int, outcome: Outcome) -> None:
        claimed = claimed_run(store, run_id)
        if claimed is not None:
            record_remote_outcome(store, claimed, outcome)


def _celery_retry(task: object) -> bool:
    """Whether ``task`` is executing one of Celery's own retries (``self.retry()``)."""
    retries = getattr(getattr(task, "request", None), "retries", 0)
    return isinstance(retries, int) and retries > 0


def _failure_outcome(exception: BaseException, einfo: object) -> Outcome:
    traceback = str(getattr(einfo, "traceback", "") or "")
    error = f"{type(exception).__name__}: {exception}"
    if isinstance(exception, WorkerLostError):
        return Outcome(
            status=RunStatus.LOST,
            finished_at=_clock.now(),
            error=f"the worker process executing it died ({error})",
            traceback=traceback,
        )
    if isinstance(exception, TimeLimitExceeded | SoftTimeLimitExceeded):
        return Outcome(
            status=RunStatus.TIMED_OUT,
            finished_at=_clock.now(),
            error=f"TimeoutError: stopped by the worker at its time limit ({error})",
            traceback=traceback,
        )
    return Outcome(
        status=RunStatus.FAILED, finished_at=_clock.now(), error=error, traceback=traceback
    )
