"""Hand runs to a Django tasks backend: the scheduler side of Tickwork on ``django.tasks``.

``submit`` enqueues the wrapper task ``scheduler.django.tasks.execute_run``
with the run id as its only argument on the configured backend (an alias of
Django's ``TASKS`` setting) and returns the backend's result id, which the
run keeps as its external id.  The backend's worker does the rest (see
:mod:`scheduler.django.tasks`): it marks the run running, executes the
registered task with heartbeats, and records the outcome.

Django 6 has the framework as ``django.tasks``; on Django 5.2 the
``django-tasks`` backport provides the same API, and is used when Django has
none.  This module needs a configured Django project; the core never imports it.

What the backend says it can do is checked once, when the executor is built
(by ``manage.py check`` and by ``run_scheduler``):

* ``queue`` (and a job's ``queue``) becomes the task's ``queue_name``, and
  must be among the backend's ``QUEUES`` when it lists some;
* ``priority`` is accepted only when the backend ``supports_priority``;
* ``supports_defer`` is not needed: the scheduler hands a run over when it is
  due, after jitter and retry back-off, so nothing is enqueued for later;
* no backend of the framework can stop a task or notice that it runs too
  long, so a job's ``timeout`` is not enforced (``manage.py check`` warns).

When the backend refuses the enqueue (its database or broker is down),
``submit`` raises :class:`EnqueueFailed`: the engine records the run
``failed``, the job's retry policy applies, and the scheduler keeps running.
"""

from __future__ import annotations

import threading
from typing import Any

from ..clock import Clock
from ..errors import SchedulerError
from ..model.jobs import JobSpec
from ..model.runs import ClaimedRun
from ..tasks.registry import RegisteredTask
from .base import (
    ExecutorCapabilities,
    ExecutorClosed,
    ExecutorConfigError,
    RunReporter,
    clock_option,
)

__all__ = ["DjangoTasksExecutor", "EnqueueFailed"]

_IMMEDIATE_BACKENDS = frozenset(
    {
        "django.tasks.backends.immediate.ImmediateBackend",
        "django_tasks.backends.immediate.ImmediateBackend",
    }
)


class EnqueueFailed(SchedulerError, ConnectionError):
    """The Django tasks backend refused to enqueue a run; the run was not handed over."""


class DjangoTasksExecutor:
    """Enqueues each run's wrapper task on the Django tasks backend ``backend``."""

    name = "django_tasks"

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        backend: str = "default",
        queue: str | None = None,
        priority: int | None = None,
    ) -> None:
        self._clock = clock_option(clock)
        self.alias = _alias_option(backend)
        self.backend = _backend(self.alias)
        self.queue = _queue_option(queue)
        self.priority = _priority_option(priority, self.backend, self.alias)
        self._task = self._bind(self.queue, where="OPTIONS: queue")
        self.capabilities = ExecutorCapabilities(
            supports_queue=True,
            supports_priority=bool(self.backend.supports_priority),
            runs_in_process=_dotted(type(self.backend)) in _IMMEDIATE_BACKENDS,
        )
        self._lock = threading.Lock()
        self._by_queue: dict[str, Any] = {}
        self._closed = False

    # -- Executor ---------------------------------------------------------------
    def submit(self, claimed: ClaimedRun, task: RegisteredTask, reporter: RunReporter) -> str:
        """Enqueue the run's wrapper task; return the backend's result id.

        Raises :class:`~scheduler.executors.base.ExecutorClosed` after
        :meth:`shutdown`, and :class:`EnqueueFailed` when the backend refuses.
        """
        run_id = claimed.run.id
        with self._lock:
            if self._closed:
                raise ExecutorClosed(f"django_tasks executor is shut down; run {run_id} not sent")
        try:
            result = self._task_for(claimed.job).enqueue(run_id)
        except Exception as error:  # whatever the backend raises: its store, its broker
            raise EnqueueFailed(
                f"django.tasks backend {self.alias!r} did not enqueue run {run_id}: "
                f"{type(error).__name__}: {error}"
            ) from error
        return str(result.id)

    def shutdown(self, *, wait: bool, timeout: float | None) -> list[int]:
        """Stop enqueueing.  Enqueued runs belong to the backend's workers: none is reported."""
        with self._lock:
            self._closed = True
        return []

    def active_count(self) -> int:
        """Always 0: nothing the executor enqueued runs in it afterwards."""
        return 0

    def capacity(self) -> None:
        """No limit here: the tasks backend queues what its workers have not taken yet."""
        return None

    # -- configuration ------------------------------------------------------------
    def job_problems(self, spec: JobSpec) -> list[str]:
        """What the backend would refuse in ``spec`` at every hand-over (its queue)."""
        if spec.queue is None:
            return []
        try:
            self._bind(spec.queue, where=f"job {spec.name!r}: queue")
        except ExecutorConfigError as error:
            return [str(error)]
        return []

    # -- internals ----------------------------------------------------------------
    def _task_for(self, job: JobSpec) -> Any:
        if job.queue is None or job.queue == self.queue:
            return self._task
        with self._lock:
            bound = self._by_queue.get(job.queue)
        if bound is None:
            bound = self._bind(job.queue, where=f"job {job.name!r}: queue")
            with self._lock:
                self._by_queue[job.queue] = bound
        return bound

    def _bind(self, queue: str | None, *, where: str) -> Any:
        """The wrapper bound to the backend, ``queue`` and the priority; validated."""
        from ..django.tasks import framework_module, wrapper_task

        changes: dict[str, Any] = {"backend": self.alias}
        if queue is not None:
            changes["queue_name"] = queue
        if self.priority is not None:
            changes["priority"] = self.priority
        try:
            return wrapper_task().using(**changes)
        except framework_module("exceptions").TaskException as error:
            queues = sorted(self.backend.queues)
            allowed = f" (its QUEUES: {', '.join(map(repr, queues))})" if queues else ""
            raise ExecutorConfigError(
                f"{where}: django.tasks backend {self.alias!r}{allowed} refuses the wrapper "
                f"task: {error}"
            ) from error


def _dotted(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _alias_option(value: object) -> str:
    if isinstance(value, str) and value:
        return value
    raise ExecutorConfigError(
        f"OPTIONS: backend: expected the alias of a backend in Django's TASKS setting, "
        f"got {value!r}"
    )


def _backend(alias: str) -> Any:
    from django.core.exceptions import ImproperlyConfigured

    from ..django.tasks import TasksFrameworkMissing, tasks_framework

    try:
        framework = tasks_framework()
    except TasksFrameworkMissing as error:
        raise ExecutorConfigError(str(error)) from None
    try:
        return framework.task_backends[alias]
    except ImproperlyConfigured as error:  # an unknown alias, or a BACKEND that will not import
        configured = ", ".join(map(repr, framework.task_backends.settings)) or "none"
        raise ExecutorConfigError(
            f"OPTIONS: backend: {alias!r} is not a usable backend of Django's TASKS setting "
            f"(configured: {configured}): {error}"
        ) from error


def _queue_option(value: object) -> str | None:
    if value is None or (isinstance(value, str) and value):
        return value
    raise ExecutorConfigError(f"OPTIONS: queue: expected a queue name or None, got {value!r}")


def _priority_option(value: object, backend: Any, alias: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ExecutorConfigError(
            f"OPTIONS: priority: expected a whole number from -100 to 100, got {value!r}"
        )
    if not backend.supports_priority:
        raise ExecutorConfigError(
            f"OPTIONS: priority: django.tasks backend {alias!r} "
            f"({_dotted(type(backend))}) does not support priorities; remove the option"
        )
    return value
