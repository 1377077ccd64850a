"""System checks: ``manage.py check`` reports what would stop the scheduler, before it runs.

Ids (the settings reference lists them with examples):

* ``scheduler.E001`` ``SCHEDULER`` is not a dict, or has a key it does not know;
* ``scheduler.E002`` a value of the wrong kind (a duration, a count, a path, a database);
* ``scheduler.E003`` ``EXECUTORS``: not a dict, no ``default``, or an entry that cannot be built;
* ``scheduler.E004`` ``TASKS``: not a list, or a pattern too broad or malformed;
* ``scheduler.E005`` the schedules file has errors (each one, located);
* ``scheduler.E006`` a job in the schedules file names a task nobody registered;
* ``scheduler.E007`` a job in the schedules file names an executor that is not configured;
* ``scheduler.E008`` ``USE_TZ`` is off (the scheduler works in aware instants only);
* ``scheduler.E009`` a job in the schedules file asks for something its executor refuses
  outright (a queue its django.tasks backend does not list);
* ``scheduler.E010`` ``NOTIFIERS``: not a dict, or an entry that cannot be built, and
  ``scheduler.E011`` a job in the schedules file names a notifier that is not configured
  (both in :mod:`scheduler.django.notifications`, with ``scheduler.W003``: mail to no ADMINS);
* ``scheduler.W001`` a job asks for something its executor cannot do (a queue, a timeout);
* ``scheduler.W002`` ``HISTORY`` keeps every run for ever.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import suppress
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

from ..clock import SystemClock
from ..config.reader import read_schedules
from ..config.reconcile import unregistered_tasks
from ..errors import ConfigError
from ..executors.base import (
    Executor,
    ExecutorConfigError,
    JobChecker,
    build_executor,
    capability_problems,
)
from ..model.jobs import JobSpec
from ..tasks.registry import TaskRegistrationError, TaskRegistry
from ..tasks.registry import registry as default_registry
from .discovery import UNREGISTERED_HINT, discover_tasks
from .settings import SchedulerSettings, read_settings

__all__ = ["check_scheduler"]

_WHERE = "settings.SCHEDULER"


@checks.register("scheduler")
def check_scheduler(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Every problem with the scheduler's settings and schedules file."""
    if app_configs is not None and not any(app.label == "scheduler" for app in app_configs):
        return []
    found, problems = read_settings()
    messages: list[checks.CheckMessage] = [
        checks.Error(problem.message, hint=problem.hint, obj=_WHERE, id=problem.id)
        for problem in problems
    ]
    if not settings.USE_TZ:
        messages.append(
            checks.Error(
                "USE_TZ is False; the scheduler stores and compares aware instants only",
                hint="Set USE_TZ = True (the default since Django 5.0).",
                id="scheduler.E008",
            )
        )
    executors = dict(_executors(found, messages))
    registry = _registry(found, messages)
    messages += _schedules(found, executors, registry)
    if found.keep_last is None and found.max_age is None:
        messages.append(
            checks.Warning(
                "SCHEDULER['HISTORY'] keeps every run for ever; the run table will only grow",
                hint='Set "HISTORY": {"KEEP_LAST": 1000, "MAX_AGE": "30d"}, or prune with '
                "manage.py scheduler_prune.",
                obj=_WHERE,
                id="scheduler.W002",
            )
        )
    return messages


def _executors(
    found: SchedulerSettings, messages: list[checks.CheckMessage]
) -> Iterator[tuple[str, Executor]]:
    """Build each configured executor once, to see that it can be; then shut it down."""
    for name, entry in found.executors.items():
        try:
            executor = build_executor(name, entry, clock=SystemClock())
        except ExecutorConfigError as error:
            messages.append(
                checks.Error(
                    f"SCHEDULER['EXECUTORS']: {error}",
                    hint="BACKEND is the dotted path of an executor class, such as "
                    "'scheduler.executors.thread.ThreadExecutor'; OPTIONS are its arguments.",
                    obj=_WHERE,
                    id="scheduler.E003",
                )
            )
            continue
        with suppress(Exception):  # shutting down a never-used executor is housekeeping
            executor.shutdown(wait=False, timeout=0)
        yield name, executor


def _registry(found: SchedulerSettings, messages: list[checks.CheckMessage]) -> TaskRegistry:
    """The discovered tasks and the valid ``TASKS`` patterns, without touching the global
    registry's patterns (a check must not change what the scheduler may run)."""
    patterns = TaskRegistry()
    for pattern in found.tasks:
        try:
            patterns.allow(pattern)
        except TaskRegistrationError as error:
            messages.append(
                checks.Error(
                    f"SCHEDULER['TASKS']: {error}",
                    hint="Patterns are dotted paths with fnmatch wildcards under a named "
                    "package, such as 'myapp.jobs.*'.",
                    obj=_WHERE,
                    id="scheduler.E004",
                )
            )
    discover_tasks()
    return patterns


def _schedules(
    found: SchedulerSettings, executors: dict[str, Executor], patterns: TaskRegistry
) -> list[checks.CheckMessage]:
    if found.schedules is None:
        return []
    keep = "the scheduler refuses to start with it, and a running one keeps its last good set"
    try:
        schedules = read_schedules(found.schedules, default_timezone=found.timezone)
    except ConfigError as error:
        return [
            checks.Error(str(issue), hint=f"Fix the schedules file; {keep}.", id="scheduler.E005")
            for issue in error.issues
        ]
    known = _KnownTasks(patterns)
    messages: list[checks.CheckMessage] = [
        checks.Error(str(issue), hint=f"Register the task; {keep}.", id="scheduler.E006")
        for issue in unregistered_tasks(schedules, known, hint=UNREGISTERED_HINT)
    ]
    for spec in schedules.jobs:
        messages += _executor_fit(found, spec, executors)
    return messages


def _executor_fit(
    found: SchedulerSettings, spec: JobSpec, executors: dict[str, Executor]
) -> list[checks.CheckMessage]:
    if spec.executor not in found.executors:
        configured = ", ".join(map(repr, found.executors))
        return [
            checks.Error(
                f"{found.schedules}: jobs.{spec.name}.executor: no executor named "
                f"{spec.executor!r} in SCHEDULER['EXECUTORS'] (configured: {configured})",
                hint="Configure it in SCHEDULER['EXECUTORS'], or name one that is.",
                id="scheduler.E007",
            )
        ]
    executor = executors.get(spec.executor)
    if executor is None:  # already reported as E003
        return []
    messages: list[checks.CheckMessage] = []
    if isinstance(executor, JobChecker):
        messages += [
            checks.Error(
                f"{found.schedules}: jobs.{spec.name}: {problem}",
                hint="Every run of this job would fail when it is handed over: use a queue "
                "the backend accepts, or add it to the backend's QUEUES in Django's TASKS.",
                id="scheduler.E009",
            )
            for problem in executor.job_problems(spec)
        ]
    messages += [
        checks.Warning(
            problem,
            hint="Use an executor that can, or drop the setting from the job. Queues: Celery "
            "and django.tasks. Timeouts: Celery stops the run, the thread executor records "
            "it timed_out; django.tasks backends cannot do either.",
            id="scheduler.W001",
        )
        for problem in capability_problems(spec, spec.executor, executor)
    ]
    return messages


class _KnownTasks(TaskRegistry):
    """Registered in the global registry, or matched by the checked ``TASKS`` patterns."""

    def __init__(self, patterns: TaskRegistry) -> None:
        super().__init__()
        self._checked = patterns

    def is_known(self, name: str) -> bool:
        return default_registry.is_known(name) or self._checked.is_known(name)
