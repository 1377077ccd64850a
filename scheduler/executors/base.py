"""The executor boundary: how a claimed run is carried out, and what each way can promise.

An executor receives a :class:`~scheduler.model.runs.ClaimedRun` with its resolved
task and a :class:`RunReporter`, and reports the run's start and end through
the reporter, so the run history is complete whichever executor ran it.

Executors are configured like Django's DATABASES or TASKS, one named entry per
executor::

    SCHEDULER = {
        "EXECUTORS": {
            "default": {
                "BACKEND": "scheduler.executors.thread.ThreadExecutor",
                "OPTIONS": {"max_workers": 8},
            },
        },
    }

:func:`build_executor` turns one entry into an executor by calling
``Backend(clock=clock, **OPTIONS)``; a backend checks its options in its
constructor and raises :class:`ExecutorConfigError`.  What a backend can do is
declared once, in :class:`ExecutorCapabilities`, and a job is checked against
it with :func:`capability_problems` when the configuration is loaded.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from ..clock import Clock, SystemClock
from ..errors import SchedulerError, TaskNotRegistered
from ..model.jobs import JobSpec
from ..model.runs import ClaimedRun, Outcome
from ..tasks.registry import RegisteredTask, TaskRegistry

__all__ = [
    "Executor",
    "ExecutorCapabilities",
    "ExecutorClosed",
    "ExecutorConfigError",
    "JobChecker",
    "NamedTaskSender",
    "RunReporter",
    "TimeoutObserver",
    "build_executor",
    "capability_problems",
    "clock_option",
    "is_known_task",
    "pool_capacity",
    "positive_int_option",
    "resolve_task",
]

_CONFIG_KEYS = ("BACKEND", "OPTIONS")


class ExecutorConfigError(SchedulerError, ValueError):
    """An executor entry in the settings that cannot be used; the message names it."""


class ExecutorClosed(SchedulerError, RuntimeError):
    """A run was submitted to an executor that has been shut down."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutorCapabilities:
    """What an executor can promise; every flag defaults to ``False``."""

    #: It can stop a run that passes its job's ``timeout`` (Celery time limits,
    #: a child process).
    enforces_timeout: bool = False
    #: It notices a run that passes its job's ``timeout`` and records it
    #: ``timed_out``, even if the work itself carries on.  An executor with this
    #: flag also implements :class:`TimeoutObserver`.
    observes_timeout: bool = False
    #: The work runs inside the scheduler process and dies with it: recovery
    #: marks such runs ``lost`` when their replica stops heartbeating.
    runs_in_process: bool = False
    #: ``submit`` carries the run out and reports its end before returning
    #: (the immediate executor).  With group commit on, the engine writes the
    #: starts of several such runs in one write before handing them over
    #: (:mod:`scheduler.engine.inline`).
    runs_inline: bool = False
    #: It honours the job's ``queue`` (routing to a named queue).
    supports_queue: bool = False
    #: It honours a priority when handing work over.
    supports_priority: bool = False
    #: It can cap the memory of a run at its job's ``max_memory`` (a child
    #: process's ``RLIMIT_AS``).
    limits_memory: bool = False


class RunReporter(Protocol):
    """How an executor tells the engine what happened; the engine's
    :class:`~scheduler.engine.dispatch.Dispatcher` writes it to the store.

    Executors may call it from worker threads, so implementations must be
    thread-safe.
    """

    def started(self, run_id: int, *, worker: str) -> bool:
        """The run is about to execute on ``worker`` (``host:pid``).

        Returns ``False`` when it must not execute (a duplicate delivery, or
        the run was cancelled); the executor then drops it without calling
        :meth:`finished`.
        """
        ...

    def finished(self, run_id: int, outcome: Outcome) -> None:
        """The run ended as ``outcome``.  A run already ended is left as it was."""
        ...


@runtime_checkable
class Executor(Protocol):
    """Carries out claimed runs.

    Built by :func:`build_executor` as ``Backend(clock=clock, **OPTIONS)``.
    """

    @property
    def name(self) -> str:
        """A short label of the kind of executor (``"thread"``), for logs.

        The engine records a run's executor by its configured alias
        (``"default"``), not by this label.
        """
        ...

    @property
    def capabilities(self) -> ExecutorCapabilities:
        """What this executor can promise."""
        ...

    def submit(self, claimed: ClaimedRun, task: RegisteredTask, reporter: RunReporter) -> str:
        """Hand ``claimed`` over for execution and return its external id.

        The id is ``""`` for executors that run in this process.  Returns
        without waiting for the task, except in the immediate executor.
        Raises :class:`ExecutorClosed` after :meth:`shutdown`.
        """
        ...

    def shutdown(self, *, wait: bool, timeout: float | None) -> list[int]:
        """Stop accepting runs; with ``wait``, wait up to ``timeout`` seconds
        (``None``: no limit) for running work.

        Returns the ids of the runs still running; the engine records them
        ``lost``.  Runs accepted but not started are withdrawn and reported
        ``cancelled`` by the executor itself.
        """
        ...

    def active_count(self) -> int:
        """How many accepted runs have not been reported finished yet."""
        ...

    def capacity(self) -> int | None:
        """How many more runs it could start soon: its free workers plus a small
        buffer (:func:`pool_capacity`), never below 0; ``None`` when it sets no
        limit of its own (a broker's workers, an inline executor).

        The engine claims no more runs than its executors' capacities add up
        to, so replicas share a backlog instead of one claiming it all.
        """
        ...


@runtime_checkable
class TimeoutObserver(Protocol):
    """An executor that can notice runs past their job's ``timeout``.

    The engine calls :meth:`check_timeouts` on every tick for each executor
    whose capabilities say ``observes_timeout``.
    """

    def check_timeouts(self, now: datetime) -> list[int]:
        """Report every run past its timeout at ``now`` as ``timed_out``; return their ids."""
        ...


@runtime_checkable
class NamedTaskSender(Protocol):
    """An executor that can also run tasks the registry does not know, by a name
    its own system already knows: a Celery task name, sent to the broker as is.

    The security boundary moves with it: such a name is accepted only when the
    executor's system already has a task of that name (for Celery, a task the
    configured app knows); nothing is ever imported from it here.
    """

    def named_task(self, name: str) -> RegisteredTask | None:
        """A stand-in for the task called ``name``, or ``None`` if unknown.

        Its ``func`` is never called in the scheduler: :meth:`Executor.submit`
        recognises the stand-in and sends the name.
        """
        ...


@runtime_checkable
class JobChecker(Protocol):
    """An executor whose own system refuses some job settings outright: a
    django.tasks backend accepts only the queues its ``QUEUES`` lists.

    Checked when the configuration is loaded, beside :func:`capability_problems`;
    unlike those, these problems would fail every run of the job at hand-over.
    """

    def job_problems(self, spec: JobSpec) -> list[str]:
        """What in ``spec`` the executor would refuse; each message names the job and field."""
        ...


def pool_capacity(workers: int, active: int) -> int:
    """The capacity of a pool of ``workers`` with ``active`` runs accepted:
    its free workers plus a buffer of half the pool (at least two), so a
    worker that frees up finds its next run already claimed while the engine
    claims more.  The buffer is what a shutdown gives back unstarted."""
    return max(0, workers + max(2, workers // 2) - active)


def resolve_task(registry: TaskRegistry, name: str, executor: object) -> RegisteredTask:
    """The registered task called ``name``; failing that, ``executor``'s own task of
    that name when it is a :class:`NamedTaskSender` that knows it.

    Raises :class:`~scheduler.errors.TaskNotRegistered` as
    :meth:`TaskRegistry.resolve` does when neither knows the name.
    """
    try:
        return registry.resolve(name)
    except TaskNotRegistered:
        if isinstance(executor, NamedTaskSender):
            named = executor.named_task(name)
            if named is not None:
                return named
        raise


def is_known_task(registry: TaskRegistry, name: str, executor: object) -> bool:
    """Whether :func:`resolve_task` may find ``name``; imports nothing of ours."""
    if registry.is_known(name):
        return True
    return isinstance(executor, NamedTaskSender) and executor.named_task(name) is not None


def build_executor(name: str, config: Mapping[str, Any], *, clock: Clock) -> Executor:
    """Build the executor configured as ``name`` from ``{"BACKEND": ..., "OPTIONS": {...}}``.

    Raises :class:`ExecutorConfigError`, naming the executor, for unknown keys,
    a missing or unimportable ``BACKEND``, options the backend does not
    accept or rejects, and a backend that does not build an :class:`Executor`.
    """
    where = f"executor {name!r}"
    backend, options = _read_config(where, config)
    factory = _import_backend(where, backend)
    _check_options(where, backend, factory, options)
    try:
        executor = factory(clock=clock, **options)
    except ExecutorConfigError as error:
        raise ExecutorConfigError(f"{where}: {error}") from None
    except TypeError as error:
        raise ExecutorConfigError(
            f"{where}: {backend} rejected its OPTIONS: {type(error).__name__}: {error}"
        ) from error
    if not isinstance(executor, Executor) or not isinstance(
        getattr(executor, "capabilities", None), ExecutorCapabilities
    ):
        raise ExecutorConfigError(
            f"{where}: BACKEND {backend!r} built a {type(executor).__name__}, which is not "
            "an Executor (it needs name, capabilities, submit(), shutdown() and active_count())"
        )
    return executor


def capability_problems(spec: JobSpec, executor_name: str, executor: Executor) -> list[str]:
    """What ``spec`` asks for that ``executor`` (configured as ``executor_name``) cannot do.

    An empty list means the job fits.  Each message names the job, the field
    and the executor; the caller decides whether a problem is an error.
    """
    caps = executor.capabilities
    where = f"job {spec.name!r}"
    problems = []
    if spec.queue is not None and not caps.supports_queue:
        problems.append(
            f"{where}: queue {spec.queue!r} is set, but executor {executor_name!r} "
            f"({executor.name}) has no queues; the queue is ignored"
        )
    if spec.policy.timeout is not None and not (caps.enforces_timeout or caps.observes_timeout):
        problems.append(
            f"{where}: timeout is set, but executor {executor_name!r} ({executor.name}) "
            "can neither stop a run nor notice that it ran too long; the timeout is ignored"
        )
    if spec.policy.max_memory is not None and not caps.limits_memory:
        problems.append(
            f"{where}: max_memory is set, but executor {executor_name!r} ({executor.name}) "
            "cannot limit a run's memory; the limit is ignored (the process executor can)"
        )
    return problems


def positive_int_option(option: str, value: object) -> int:
    """``value`` if it is an integer of at least 1, else :class:`ExecutorConfigError`."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise ExecutorConfigError(
        f"OPTIONS: {option}: expected an integer of at least 1, got {value!r}"
    )


def clock_option(value: object) -> Clock:
    """The clock to use: ``value``, or the system clock when it is ``None``."""
    if value is None:
        return SystemClock()
    if isinstance(value, Clock):
        return value
    raise ExecutorConfigError(f"clock: expected a Clock with now() and sleep(), got {value!r}")


def _read_config(where: str, config: object) -> tuple[str, dict[str, Any]]:
    if not isinstance(config, Mapping):
        raise ExecutorConfigError(
            f"{where}: expected a dict with 'BACKEND' and optionally 'OPTIONS', got {config!r}"
        )
    unknown = sorted(map(repr, set(config) - set(_CONFIG_KEYS)))
    if unknown:
        raise ExecutorConfigError(
            f"{where}: unknown keys {', '.join(unknown)}; expected 'BACKEND' and 'OPTIONS'"
        )
    backend = config.get("BACKEND")
    if not isinstance(backend, str) or "." not in backend:
        raise ExecutorConfigError(
            f"{where}: BACKEND: expected a dotted path such as "
            f"'scheduler.executors.thread.ThreadExecutor', got {backend!r}"
        )
    options = config.get("OPTIONS") or {}
    if not isinstance(options, Mapping) or not all(isinstance(key, str) for key in options):
        raise ExecutorConfigError(
            f"{where}: OPTIONS: expected a dict with string keys, got {options!r}"
        )
    if "clock" in options:
        raise ExecutorConfigError(
            f"{where}: OPTIONS: 'clock' cannot be configured; the scheduler passes its own"
        )
    return backend, dict(options)


def _import_backend(where: str, backend: str) -> Callable[..., Any]:
    module_name, attribute = backend.rsplit(".", 1)
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # anything the module raises while it runs
        raise ExecutorConfigError(
            f"{where}: BACKEND {backend!r}: cannot import module {module_name!r}: "
            f"{type(error).__name__}: {error}"
        ) from error
    factory: object = getattr(module, attribute, None)
    if factory is None:
        raise ExecutorConfigError(
            f"{where}: BACKEND {backend!r}: module {module_name!r} has no attribute {attribute!r}"
        )
    if not callable(factory):
        raise ExecutorConfigError(
            f"{where}: BACKEND {backend!r}: {attribute!r} is of type "
            f"{type(factory).__name__}, not an executor class"
        )
    return factory


def _check_options(
    where: str, backend: str, factory: Callable[..., Any], options: Mapping[str, Any]
) -> None:
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):  # no signature to read (some builtins)
        return
    if any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters):
        return
    keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    accepted = {p.name for p in parameters if p.kind in keyword}
    if "clock" not in accepted:
        raise ExecutorConfigError(
            f"{where}: BACKEND {backend!r} does not take a clock= argument; "
            "executors are built as Backend(clock=..., **OPTIONS)"
        )
    unknown = sorted(set(options) - accepted)
    if unknown:
        known = ", ".join(map(repr, sorted(accepted - {"clock"}))) or "none"
        raise ExecutorConfigError(
            f"{where}: OPTIONS: {backend} does not accept {', '.join(map(repr, unknown))}; "
            f"its options are: {known}"
        )
