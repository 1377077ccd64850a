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
* ``scheduler.W002`` ``HISTORY`` keeps every run for ever;
* ``scheduler.W004`` a job has a timeout its executor only observes (the thread executor):
  the run is recorded ``timed_out`` but the work goes on.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import suppress
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

from ..clock import SystemClock
from ..config.loaded import Survey
from ..config.reader import survey_schedules
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
_DEFAULT_EXECUTOR = "default"  # what a job without "executor:" runs on (JobSpec)


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
    """Every problem of the schedules file in one pass: its own (E005) and, for every
    job that names them readably, even one with problems of its own, an
    unregistered task (E006) and an executor not configured (E007); then what
    only a fully read job can be checked for (E009, W001, W004).  Each message
    starts with ``file:line:column``."""
    if found.schedules is None:
        return []
    keep = "the scheduler refuses to start with it, and a running one keeps its last good set"
    survey = survey_schedules(found.schedules, default_timezone=found.timezone)
    messages: list[checks.CheckMessage] = [
        checks.Error(str(issue), hint=f"Fix the schedules file; {keep}.", id="scheduler.E005")
        for issue in survey.issues
    ]
    known = _KnownTasks(patterns)
    for name, named in survey.declared.items():
        task = named.get("task")
        if task is not None and not known.is_known(task):
            problem = f"task {task!r} is not registered: {UNREGISTERED_HINT}"
            messages.append(
                checks.Error(
                    _at(survey, name, "task", problem),
                    hint=f"Register the task; {keep}.",
                    id="scheduler.E006",
                )
            )
        executor = named.get("executor", _DEFAULT_EXECUTOR)
        if executor not in found.executors:
            messages.append(_unconfigured(found, survey, name, executor))
    for spec in survey.schedules.jobs:
        messages += _executor_fit(survey, spec, executors)
    return messages


def _at(survey: Survey, job: str, key: str, message: str) -> str:
    """``message`` located where ``key`` of ``job`` is written: ``file:line:column: path:``."""
    return str(survey.schedules.issue(job, key, message))


def _unconfigured(
    found: SchedulerSettings, survey: Survey, job: str, executor: str
) -> checks.CheckMessage:
    configured = ", ".join(map(repr, found.executors))
    return checks.Error(
        _at(
            survey,
            job,
            "executor",
            f"no executor named {executor!r} in SCHEDULER['EXECUTORS'] (configured: {configured})",
        ),
        hint="Configure it in SCHEDULER['EXECUTORS'], or name one that is.",
        id="scheduler.E007",
    )


def _executor_fit(
    survey: Survey, spec: JobSpec, executors: dict[str, Executor]
) -> list[checks.CheckMessage]:
    executor = executors.get(spec.executor)
    if executor is None:  # not configured (E007), or not buildable (E003)
        return []
    messages: list[checks.CheckMessage] = []
    if isinstance(executor, JobChecker):
        messages += [
            checks.Error(
                _at(survey, spec.name, "queue", _unprefixed(spec, problem)),
                hint="Every run of this job would fail when it is handed over: use a queue "
                "the backend accepts, or add it to the backend's QUEUES in Django's TASKS.",
                id="scheduler.E009",
            )
            for problem in executor.job_problems(spec)
        ]
    messages += [
        checks.Warning(
            _at(survey, spec.name, "", _unprefixed(spec, problem)),
            hint="Use an executor that can, or drop the setting from the job. Queues: Celery "
            "and django.tasks. Timeouts: Celery and the process executor stop the run, the "
            "thread executor records it timed_out; django.tasks backends cannot do either.",
            id="scheduler.W001",
        )
        for problem in capability_problems(spec, spec.executor, executor)
    ]
    messages += _observed_timeout(survey, spec, executor)
    return messages


def _unprefixed(spec: JobSpec, problem: str) -> str:
    """An executor's message without its ``job 'name': `` prefix, which the location says."""
    return problem.removeprefix(f"job {spec.name!r}: ")


def _observed_timeout(
    survey: Survey, spec: JobSpec, executor: Executor
) -> list[checks.CheckMessage]:
    caps = executor.capabilities
    if spec.policy.timeout is None or caps.enforces_timeout or not caps.observes_timeout:
        return []
    return [
        checks.Warning(
            _at(
                survey,
                spec.name,
                "timeout",
                f"timeout is only observed by executor {spec.executor!r} ({executor.name}): "
                "a run past it is recorded timed_out, but its task keeps running (Python "
                "cannot stop a thread) and holds a worker until it returns",
            ),
            hint="To stop the work at the timeout, run the job on the process executor: "
            "{'BACKEND': 'scheduler.executors.process.ProcessExecutor'} in "
            "SCHEDULER['EXECUTORS'].",
            id="scheduler.W004",
        )
    ]


class _KnownTasks(TaskRegistry):
    """Registered in the global registry, or matched by the checked ``TASKS`` patterns."""

    def __init__(self, patterns: TaskRegistry) -> None:
        super().__init__()
        self._checked = patterns

    def is_known(self, name: str) -> bool:
        return default_registry.is_known(name) or self._checked.is_known(name)
