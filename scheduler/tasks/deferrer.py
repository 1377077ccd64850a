"""A :class:`Deferrer` writes deferred calls into one store, and cancels them.

:func:`~scheduler.tasks.defer.defer` builds one for each call (or asks the
default factory for one); tests and integrations build their own, with a
fake clock or a commit hook.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any, Unpack

from ..clock import Clock, SystemClock
from ..errors import InvalidJob
from ..model.jobs import JobSpec, validate_field
from ..model.runs import Run
from ..schedules.kinds import Once
from ..stores.base import Store, StoredJob
from .calls import DeferredCall, Delivery
from .cancellation import NOT_STARTED, Cancellation, already_done, cancellation, never_ran
from .keywords import DeferrerKeywords, keyword_signature
from .oneoff import checked_run_at, is_deferred, one_off_job
from .registry import RegisteredTask, TaskRegistry
from .registry import registry as default_registry

__all__ = ["DeferredCall", "Deferrer", "TaskRef"]

logger = logging.getLogger(__name__)

#: A task as :func:`~scheduler.tasks.defer.defer` accepts it: its name, its ``@job``
#: function, or its registration.
TaskRef = str | RegisteredTask | Callable[..., Any]

_MICROSECOND = timedelta(microseconds=1)


class Deferrer:
    """Writes deferred calls into ``store``, and cancels them.

    ``registry`` says which tasks exist (default: the one ``@job`` fills);
    ``clock`` gives "now" for ``delay`` and for the checks on ``run_at``;
    ``timezone`` is the zone the jobs are shown in (their instant is UTC).
    With ``after_commit``, a write is handed to it instead of done at once:
    it is called with a function to call once the caller's transaction has
    committed (Django's ``transaction.on_commit``), and never if it rolls back.
    """

    def __init__(
        self,
        store: Store,
        *,
        registry: TaskRegistry | None = None,
        clock: Clock | None = None,
        after_commit: Callable[[Callable[[], None]], object] | None = None,
        timezone: str = "UTC",
    ) -> None:
        self.store = store
        self.registry = registry if registry is not None else default_registry
        self.clock = clock if clock is not None else SystemClock()
        self.after_commit = after_commit
        self.timezone = validate_field("timezone", timezone)

    def __repr__(self) -> str:
        waits = ", on commit" if self.after_commit is not None else ""
        return f"Deferrer({self.store!r}{waits})"

    @keyword_signature(DeferrerKeywords)
    def defer(self, task: TaskRef, **keywords: Unpack[DeferrerKeywords]) -> DeferredCall:
        """Run ``task`` once at ``run_at`` (aware) or after ``delay``, with ``args`` and ``kwargs``.

        The keywords are those of
        :class:`~scheduler.tasks.keywords.DeferrerKeywords`. Everything is
        checked before anything is written, and a problem raises
        :class:`~scheduler.errors.InvalidJob` (or
        :class:`~scheduler.errors.TaskNotRegistered`) saying which argument
        and why: give exactly one of ``run_at`` and ``delay``; ``run_at`` is
        timezone-aware, at most :data:`~scheduler.tasks.oneoff.MAX_BEHIND` in
        the past (a past ``run_at`` runs as soon as it is written) and
        :data:`~scheduler.tasks.oneoff.MAX_AHEAD` in the future; ``delay`` is
        not negative; arguments are JSON and fit the task's signature; any
        other keyword is one of the job options of
        :class:`~scheduler.tasks.keywords.DeferOptions`.
        """
        registered = self._resolve(task)
        when = checked_run_at(registered.name, keywords, self.clock.now())
        spec = one_off_job(registered, when, keywords, timezone=self.timezone)
        delivery = Delivery()

        def write() -> None:
            delivery.write(lambda: self._save(spec))

        if self.after_commit is None:
            write()
        else:
            self.after_commit(write)
        return DeferredCall(
            name=spec.name,
            task=spec.task,
            run_at=when,
            args=spec.args,
            kwargs=spec.kwargs,
            _deferrer=self,
            _delivery=delivery,
        )

    def cancel(self, name: str) -> Cancellation:
        """Make sure the deferred call ``name`` does not run, if it has not started.

        Its job is disabled and a run waiting to start is cancelled; the
        result says whether that stopped it, or that it already ran, is
        running, or was cancelled before (and then nothing changes).  Raises
        :class:`~scheduler.errors.JobNotFound` for an unknown name and
        :class:`~scheduler.errors.InvalidJob` for a job that is not a
        deferred call (pause those instead).
        """
        job = self.store.get_job(name)
        if not is_deferred(job.spec):
            raise InvalidJob(
                f"job {name!r} is not a deferred call (its source is {job.spec.source.value!r} "
                f"and it runs {job.spec.describe()}); pause it instead of cancelling it"
            )
        latest = self._latest_run(name)
        if latest is not None and latest.status not in NOT_STARTED:
            return already_done(name, latest)
        if latest is None and not job.spec.enabled:
            return cancellation(name, cancelled=False, message="was already cancelled")
        now = self.clock.now()
        if job.spec.enabled:  # from now on, no claim fires it
            self.store.save_job(replace(job.spec, enabled=False), now=now)
        latest = self._latest_run(name)  # a claim may have fired it just before
        if latest is None:
            return never_ran(job)
        if latest.status in NOT_STARTED and self.store.cancel_run(latest.id, now=now):
            withdrawn = self.store.get_run(latest.id)
            message = "cancelled before it started"
            return cancellation(name, cancelled=True, message=message, run=withdrawn)
        return already_done(name, self.store.get_run(latest.id))

    def _resolve(self, task: TaskRef) -> RegisteredTask:
        if isinstance(task, RegisteredTask):  # from @job: registered, in whichever registry
            return task
        if isinstance(task, str):
            name = task
        else:
            found = getattr(task, "task_name", None)
            if not isinstance(found, str):
                raise InvalidJob(
                    f"cannot defer {task!r}: it is not a registered task; decorate it with "
                    "@job, or give the task's name such as 'app.tasks.send'"
                )
            name = found
        return self.registry.resolve(name)

    def _save(self, spec: JobSpec) -> StoredJob:
        now = self.clock.now()
        assert isinstance(spec.schedule, Once)  # noqa: S101 - built by one_off_job
        if spec.schedule.at <= now:  # due already: its slot is the moment it is written
            spec = replace(spec, schedule=Once(now + _MICROSECOND))
        stored = self.store.save_job(spec, now=now)
        logger.info(
            "deferred call %s of %s for %s",
            spec.name,
            spec.task,
            stored.next_run_at.isoformat() if stored.next_run_at else "never",
            extra={"event": "deferred", "job": spec.name, "task": spec.task},
        )
        return stored

    def _latest_run(self, name: str) -> Run | None:
        runs = self.store.list_runs(job_name=name, limit=1)  # newest slot, newest attempt
        return runs[0] if runs else None
