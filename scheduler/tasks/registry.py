"""Which callables may be scheduled: the security boundary.

A job names its task by a string, and strings come from YAML files, the
database and the admin.  A string is only ever turned into a callable here,
and only when it is

* **registered**: decorated with :func:`job` or passed to
  :meth:`TaskRegistry.register`; or
* **allow-listed**: matched by a pattern given to :meth:`TaskRegistry.allow`
  (``SCHEDULER["TASKS"]`` in Django settings).

Anything else raises :class:`~scheduler.errors.TaskNotRegistered` *before*
any import, so a user who can edit schedules cannot reach ``os.system``.

Allow-listing is explicit trust; :mod:`scheduler.tasks.allowlist` holds its rules.
Register such callables explicitly with :func:`job` when they are meant to run.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar, Unpack, cast, overload

from ..errors import InvalidJob, SchedulerError, TaskNotRegistered
from ..model.jobs import JobSpec
from . import allowlist
from .keywords import DeferKeywords, keyword_signature

if TYPE_CHECKING:
    from .calls import DeferredCall

__all__ = [
    "JobFunction",
    "RegisteredTask",
    "TaskRegistrationError",
    "TaskRegistry",
    "job",
    "registry",
]

P = ParamSpec("P")
R = TypeVar("R", covariant=True)


class TaskRegistrationError(SchedulerError, ValueError):
    """A task or allow pattern that cannot be registered (bad name, name clash)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisteredTask:
    """A callable that may be scheduled, under the name jobs use for it.

    ``takes_context`` asks for a :class:`~scheduler.model.runs.RunContext` as the
    ``context=`` keyword argument.  ``is_async`` is derived from ``func``.
    """

    name: str
    func: Callable[..., Any]
    takes_context: bool = False
    is_async: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_async", inspect.iscoroutinefunction(self.func))


class TaskRegistry:
    """Registered tasks and allow-listed patterns; safe to use from several threads."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._tasks: dict[str, RegisteredTask] = {}
        self._imported: dict[str, RegisteredTask] = {}
        self._patterns: list[str] = []

    def register(
        self,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        takes_context: bool = False,
    ) -> RegisteredTask:
        """Make ``func`` schedulable as ``name`` (default: ``module.qualname``).

        Registering the same callable again with the same options is a no-op.
        Raises :class:`TaskRegistrationError` if ``func`` is not callable, the
        name is not a dotted path of identifiers, or the name is already taken
        by a different callable or with a different ``takes_context``.
        """
        if not callable(func):
            raise TaskRegistrationError(f"cannot register {func!r}: it is not callable")
        task_name = _checked_name(func, name)
        task = RegisteredTask(name=task_name, func=func, takes_context=takes_context)
        with self._lock:
            existing = self._tasks.get(task_name)
            if existing is not None and existing != task:
                raise TaskRegistrationError(_clash(existing, task))
            self._tasks[task_name] = task
        return task

    def allow(self, pattern: str) -> None:
        """Allow-list the dotted paths matching ``pattern`` (``"myapp.tasks.*"``).

        The first component must be a plain package name: ``"*"``, ``"**"`` and
        ``"*.tasks.*"`` raise :class:`TaskRegistrationError`.  Nothing is
        imported until a matching name is resolved.
        """
        problem = allowlist.pattern_problem(pattern)
        if problem is not None:
            raise TaskRegistrationError(problem)
        with self._lock:
            if pattern not in self._patterns:
                self._patterns.append(pattern)

    def patterns(self) -> list[str]:
        """The allow-listed patterns, in the order they were added."""
        with self._lock:
            return list(self._patterns)

    def names(self) -> list[str]:
        """The names of the registered tasks, sorted (allow-listed ones are not listed)."""
        with self._lock:
            return sorted(self._tasks)

    def is_known(self, name: str) -> bool:
        """Whether ``name`` is registered or allow-listed; never imports anything."""
        with self._lock:
            return name in self._tasks or name in self._imported or self._allowed(name)

    def resolve(self, name: str) -> RegisteredTask:
        """The task called ``name``, importing an allow-listed module if needed.

        Raises :class:`~scheduler.errors.TaskNotRegistered` when the name is
        neither registered nor allowed (nothing is imported then), when its
        module fails to import (chained to the import error), or when the
        attribute is missing, private, not callable or defined elsewhere.
        """
        with self._lock:
            found = self._tasks.get(name) or self._imported.get(name)
            allowed = found is None and self._allowed(name)
        if found is not None:
            return found
        if not allowed:
            raise TaskNotRegistered(_not_registered(name))
        return self._import(name)

    def validate(self, spec: JobSpec) -> RegisteredTask:
        """Check that ``spec`` can run: its task resolves and its kwargs fit it.

        Raises :class:`~scheduler.errors.TaskNotRegistered` as :meth:`resolve`
        does, and :class:`~scheduler.errors.InvalidJob` when the task takes its
        context but the job's kwargs already have a ``context`` key.
        """
        task = self.resolve(spec.task)
        if task.takes_context and "context" in spec.kwargs:
            raise InvalidJob(
                f"job {spec.name!r}: kwargs: 'context' is reserved, because task "
                f"{task.name!r} receives its run context under that name"
            )
        return task

    def _allowed(self, name: str) -> bool:
        return allowlist.matches(name, self._patterns)

    def _import(self, name: str) -> RegisteredTask:
        module = allowlist.import_module_of(name)
        with self._lock:
            if name in self._tasks:  # importing ran the module's @job decorators
                return self._tasks[name]
        func = allowlist.defined_callable(name, module)
        with self._lock:
            return self._imported.setdefault(name, RegisteredTask(name=name, func=func))


def _checked_name(func: Callable[..., Any], name: str | None) -> str:
    if name is None:
        module = getattr(func, "__module__", None)
        qualname = getattr(func, "__qualname__", None)
        name = f"{module}.{qualname}"
        if module is None or qualname is None or not allowlist.is_dotted(name):
            raise TaskRegistrationError(
                f"cannot derive a task name for {func!r} (got {name!r}): a nested "
                "function, lambda or callable object needs an explicit name=..."
            )
    if not isinstance(name, str) or not all(part.isidentifier() for part in name.split(".")):
        raise TaskRegistrationError(
            f"task name {name!r} is not valid: expected a dotted path of identifiers "
            "such as 'app.tasks.send'"
        )
    return name


def _clash(existing: RegisteredTask, new: RegisteredTask) -> str:
    if existing.func is new.func:
        return (
            f"task {new.name!r} is already registered with takes_context="
            f"{existing.takes_context}; cannot register it again with "
            f"takes_context={new.takes_context}"
        )
    return (
        f"task name {new.name!r} is already registered for {_describe(existing.func)}; "
        f"cannot register {_describe(new.func)} under the same name"
    )


def _describe(func: Callable[..., Any]) -> str:
    module = getattr(func, "__module__", "?")
    qualname = getattr(func, "__qualname__", type(func).__qualname__)
    return f"{module}.{qualname}"


def _not_registered(name: str) -> str:
    module = name.rsplit(".", 1)[0] if "." in name else name
    return (
        f"task {name!r} is not registered: decorate the function with "
        "@job (from scheduler import job), or allow-list its module in "
        f"SCHEDULER['TASKS'] (for example {module + '.*'!r})"
    )


class JobFunction(Protocol[P, R]):
    """A function decorated with :func:`job`: callable as before, plus two attributes."""

    #: The name jobs use for the task.
    task_name: str

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...

    @keyword_signature(DeferKeywords)
    def defer(self, **keywords: Unpack[DeferKeywords]) -> DeferredCall:
        """Run the task once, later: :func:`scheduler.tasks.defer.defer` with this task
        and the same keywords (:class:`~scheduler.tasks.keywords.DeferKeywords`)."""
        ...


#: The registry that :func:`job` registers into unless given another.
registry = _DEFAULT = TaskRegistry()

#: What :func:`job` gives a function besides ``task_name``: each entry maps the
#: registration to attributes to set.  The registry holds tasks only;
#: :mod:`scheduler.tasks.defer` adds ``defer`` here when it is imported, which
#: ``import scheduler`` always does before any ``@job`` can run.
_JOB_ATTRIBUTES: list[Callable[[RegisteredTask], Mapping[str, object]]] = []


def add_job_attributes(extend: Callable[[RegisteredTask], Mapping[str, object]]) -> None:
    """Let every later :func:`job` set the attributes ``extend(task)`` returns."""
    _JOB_ATTRIBUTES.append(extend)


@overload
def job(func: Callable[P, R], /) -> JobFunction[P, R]: ...


@overload
def job(
    *,
    name: str | None = None,
    takes_context: bool = False,
    registry: TaskRegistry | None = None,
) -> Callable[[Callable[P, R]], JobFunction[P, R]]: ...


def job(
    func: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    takes_context: bool = False,
    registry: TaskRegistry | None = None,
) -> JobFunction[P, R] | Callable[[Callable[P, R]], JobFunction[P, R]]:
    """Register a function as a schedulable task: ``@job`` or ``@job(name=...)``.

    The function itself is returned, so it stays callable as before; it
    gains a ``task_name`` attribute holding the name jobs use for it, and a
    ``defer()`` method that runs it once, later (see
    :func:`scheduler.tasks.defer.defer`).  Registers into the module's default
    :data:`registry` unless ``registry`` is given.  Raises
    :class:`TaskRegistrationError` as :meth:`TaskRegistry.register` does.
    """
    target = registry if registry is not None else _DEFAULT

    def decorate(function: Callable[P, R]) -> JobFunction[P, R]:
        task = target.register(function, name=name, takes_context=takes_context)
        function.__dict__["task_name"] = task.name
        for extend in _JOB_ATTRIBUTES:
            function.__dict__.update(extend(task))
        return cast("JobFunction[P, R]", function)

    return decorate if func is None else decorate(func)
