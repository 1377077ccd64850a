"""Deferred calls: run a registered task once, later, durably.

.. code-block:: python

    call = send_reminder.defer(delay=timedelta(hours=2), kwargs={"user_id": 7})
    call.cancel()

A deferred call is a one-off job: a job of source ``code`` with a
:class:`~scheduler.schedules.Once` schedule and a generated name such as
``app.tasks.send_reminder:5f0c2a9e41d7b388``.  The scheduler claims it like
any other job, so it survives restarts, fires exactly once (the store's claim
moves ``next_run_at`` past it in the same transaction that creates its run),
is retried by its ``retries``, and shows in the admin and ``tickwork jobs``.
A call whose time passed while no scheduler ran fires once it is back.

A :class:`Deferrer` writes deferred calls into one store.  :func:`defer` and
the ``.defer()`` of ``@job`` functions find it in this order:

1. ``store=`` given: that store, written at once;
2. otherwise the default set by an integration or by :func:`set_default_store`:
   the Django app sets one that writes through the site's database when the
   current transaction commits (see ``scheduler.django.deferral``).

Nothing here imports Django: the Django app hands the core a store, its task
registry and a commit hook (``transaction.on_commit``).
"""

from __future__ import annotations

import inspect
import logging
import re
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Protocol, Unpack

from ..clock import Clock, SystemClock
from ..errors import InvalidJob, JobNotFound, SchedulerError, StoreNotConfigured
from ..model.jobs import JobSpec, JSONValue, validate_field
from ..model.policies import JobSource
from ..model.runs import Run, RunStatus
from ..schedules.durations import parse_duration
from ..schedules.kinds import Once
from ..stores.base import Store, StoredJob
from .keywords import (
    CALL_KEYS,
    DEFERRER_KEYS,
    OPTION_KEYS,
    DeferKeywords,
    DeferOptions,
    DeferrerKeywords,
    FactoryKeywords,
    keyword_signature,
    split_keywords,
)
from .registry import RegisteredTask, TaskRegistry, add_job_attributes
from .registry import registry as default_registry

__all__ = [
    "MAX_AHEAD",
    "MAX_BEHIND",
    "Cancellation",
    "DeferOptions",
    "DeferredCall",
    "Deferrer",
    "DeferrerFactory",
    "TaskRef",
    "bound_defer",
    "cancel_deferred",
    "defer",
    "is_deferred",
    "set_default_deferrer",
    "set_default_store",
]

logger = logging.getLogger(__name__)

#: The furthest ahead a call may be deferred: about ten years.
MAX_AHEAD = timedelta(days=3653)
#: How far in the past ``run_at`` may be; such a call runs as soon as it is written.
MAX_BEHIND = timedelta(days=1)

_MICROSECOND = timedelta(microseconds=1)
_NAME_LIMIT = 200
_SUFFIX_LENGTH = 16  # hex digits of a uuid4: 64 random bits
_NOT_IN_NAMES = re.compile(r"[^A-Za-z0-9_.:-]")
_NOT_STARTED = frozenset({RunStatus.PENDING, RunStatus.QUEUED})

#: A task as :func:`defer` accepts it: its name, its ``@job`` function, or its registration.
TaskRef = str | RegisteredTask | Callable[..., Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancellation:
    """What :meth:`DeferredCall.cancel` or :func:`cancel_deferred` did.

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


class _Delivery:
    """Whether a deferred call's job is ``waiting`` to be written, ``written``, or
    ``withdrawn`` before it could be.  Shared by a handle and the write waiting
    for a transaction to commit."""

    __slots__ = ("_lock", "state")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.state = "waiting"

    def write(self, save: Callable[[], object]) -> None:
        with self._lock:
            if self.state == "waiting":
                save()
                self.state = "written"

    def withdraw(self) -> str:
        """Make sure it is never written, if it is still waiting; the state it was in."""
        with self._lock:
            previous = self.state
            if previous == "waiting":
                self.state = "withdrawn"
            return previous


@dataclass(frozen=True, slots=True, kw_only=True)
class DeferredCall:
    """A deferred call, as :func:`defer` returns it.

    ``name`` is its job's name; ``run_at`` the instant asked for (aware UTC).
    Until the transaction it was deferred in commits, nothing is written
    (``written`` is False) and :meth:`cancel` simply withdraws it.
    """

    name: str
    task: str
    run_at: datetime
    args: tuple[JSONValue, ...] = ()
    kwargs: dict[str, JSONValue] = field(default_factory=dict)
    _deferrer: Deferrer = field(repr=False, compare=False)
    _delivery: _Delivery = field(repr=False, compare=False)

    @property
    def written(self) -> bool:
        """Whether its job is in the store (False while waiting for a commit)."""
        return self._delivery.state == "written"

    def cancel(self) -> Cancellation:
        """Make sure it does not run, if it has not started: see :meth:`Deferrer.cancel`."""
        previous = self._delivery.withdraw()
        if previous == "written":
            return self._deferrer.cancel(self.name)
        if previous == "waiting":
            message = "withdrawn before it was written (its transaction had not committed)"
            return _cancelled(self.name, cancelled=True, message=message)
        return _cancelled(self.name, cancelled=False, message="was already withdrawn")


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
        timezone-aware, at most :data:`MAX_BEHIND` in the past (a past
        ``run_at`` runs as soon as it is written) and :data:`MAX_AHEAD` in the
        future; ``delay`` is not negative; arguments are JSON and fit the
        task's signature; any other keyword is one of the job options of
        :class:`~scheduler.tasks.keywords.DeferOptions`.
        """
        registered = self._resolve(task)
        when = _run_at(registered.name, keywords, self.clock.now())
        spec = _spec(registered, when, keywords, timezone=self.timezone)
        delivery = _Delivery()

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
        if latest is not None and latest.status not in _NOT_STARTED:
            return _already(name, latest)
        if latest is None and not job.spec.enabled:
            return _cancelled(name, cancelled=False, message="was already cancelled")
        now = self.clock.now()
        if job.spec.enabled:  # from now on, no claim fires it
            self.store.save_job(replace(job.spec, enabled=False), now=now)
        latest = self._latest_run(name)  # a claim may have fired it just before
        if latest is None:
            return _cancelled(name, cancelled=True, message=_was_due(job))
        if latest.status in _NOT_STARTED and self.store.cancel_run(latest.id, now=now):
            withdrawn = self.store.get_run(latest.id)
            message = "cancelled before it started"
            return _cancelled(name, cancelled=True, message=message, run=withdrawn)
        return _already(name, self.store.get_run(latest.id))

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
        assert isinstance(spec.schedule, Once)  # noqa: S101 - built by _spec
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


def is_deferred(spec: JobSpec) -> bool:
    """Whether ``spec`` is a deferred call's job: a one-off job of source ``code``."""
    return spec.source is JobSource.CODE and isinstance(spec.schedule, Once)


def _cancelled(name: str, *, cancelled: bool, message: str, run: Run | None = None) -> Cancellation:
    if cancelled:
        logger.info(
            "deferred call %s cancelled",
            name,
            extra={"event": "deferred_cancelled", "job": name},
        )
    return Cancellation(
        name=name, cancelled=cancelled, message=f"deferred call {name} {message}", run=run
    )


def _already(name: str, run: Run) -> Cancellation:
    if run.status is RunStatus.CANCELLED:
        return _cancelled(name, cancelled=False, message="was already cancelled", run=run)
    if run.status is RunStatus.RUNNING:
        message = f"is running (run {run.id}, attempt {run.attempt}); it cannot be cancelled now"
    else:
        when = f" at {run.finished_at.isoformat()}" if run.finished_at else ""
        message = f"already ran: run {run.id}, attempt {run.attempt}, {run.status.value}{when}"
    return _cancelled(name, cancelled=False, message=message, run=run)


def _was_due(job: StoredJob) -> str:
    assert isinstance(job.spec.schedule, Once)  # noqa: S101 - checked by is_deferred
    return f"cancelled; it was due at {job.spec.schedule.at.isoformat()} and never ran"


# -- checking what defer() was given -------------------------------------------


def _run_at(task: str, keywords: DeferrerKeywords, now: datetime) -> datetime:
    """The instant to run at, from exactly one of ``run_at`` and ``delay``; checked."""
    run_at, delay = keywords.get("run_at"), keywords.get("delay")
    if (run_at is None) == (delay is None):
        given = "both" if run_at is not None else "neither"
        raise _refused(task, f"give exactly one of run_at=... and delay=..., got {given}")
    if delay is not None:
        return now + _delay(task, delay)
    if not isinstance(run_at, datetime):
        kind = "a date" if isinstance(run_at, date) else type(run_at).__name__
        raise _refused(task, f"run_at must be a datetime, got {kind}: {run_at!r}")
    if run_at.tzinfo is None or run_at.utcoffset() is None:
        raise _refused(
            task,
            f"run_at must be timezone-aware, got naive {run_at.isoformat()}; build it from "
            "django.utils.timezone.now() or datetime.now(UTC), or give it a zone "
            "with .replace(tzinfo=ZoneInfo('Europe/Berlin'))",
        )
    if run_at < now - MAX_BEHIND:
        raise _refused(
            task,
            f"run_at {run_at.isoformat()} is more than {MAX_BEHIND.days} day in the past "
            f"(now is {now.isoformat()}); is it a local time with the wrong zone?",
        )
    if run_at > now + MAX_AHEAD:
        raise _refused(
            task, f"run_at {run_at.isoformat()} is more than about ten years ahead; refused"
        )
    return run_at.astimezone(now.tzinfo)


def _delay(task: str, delay: timedelta | float | str) -> timedelta:
    if isinstance(delay, bool) or not isinstance(delay, timedelta | int | float | str):
        raise _refused(task, f"delay must be a timedelta, seconds or '2h', got {delay!r}")
    try:
        found = parse_duration(delay)
    except SchedulerError as error:
        raise _refused(task, f"delay: {error}") from None
    if found < timedelta(0):
        raise _refused(task, f"delay must not be negative, got {delay!r}")
    if found > MAX_AHEAD:
        raise _refused(task, f"delay {delay!r} is more than about ten years; refused")
    return found


def _spec(
    task: RegisteredTask, when: datetime, keywords: DeferrerKeywords, *, timezone: str
) -> JobSpec:
    unknown = sorted(set(keywords) - DEFERRER_KEYS)
    if unknown:
        known = ", ".join(sorted(OPTION_KEYS))
        raise _refused(task.name, f"unknown option {unknown[0]!r}; the options are {known}")
    options = {key: value for key, value in keywords.items() if key not in CALL_KEYS}
    checked = {key: _checked(task.name, key, value) for key, value in options.items()}
    given = keywords.get("kwargs")
    checked_args = _checked(task.name, "args", keywords.get("args", ()))
    checked_kwargs = _checked(task.name, "kwargs", {} if given is None else given)
    _check_signature(task, checked_args, checked_kwargs)
    return JobSpec(
        name=_new_name(task.name),
        task=task.name,
        schedule=Once(when),
        args=checked_args,
        kwargs=checked_kwargs,
        timezone=timezone,
        source=JobSource.CODE,
        **checked,
    )


def _checked(task: str, what: str, value: object) -> Any:
    try:
        return validate_field(what, value)
    except SchedulerError as error:
        raise _refused(task, f"{what}: {error}") from None


def _check_signature(task: RegisteredTask, args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
    """Refuse now what would fail with a TypeError when the call runs."""
    if task.takes_context and "context" in kwargs:
        raise _refused(
            task.name, "kwargs: 'context' is reserved: the task receives its run context there"
        )
    try:
        signature = inspect.signature(task.func)
    except (TypeError, ValueError):  # some callables have none; the run will tell
        return
    context = {"context": None} if task.takes_context else {}
    try:
        signature.bind(*args, **kwargs, **context)
    except TypeError as error:
        raise _refused(
            task.name, f"args and kwargs do not fit {task.func.__name__}{signature}: {error}"
        ) from None


def _new_name(task: str) -> str:
    """``<task>:<16 hex digits>``, cut from the left to fit the name column."""
    suffix = uuid.uuid4().hex[:_SUFFIX_LENGTH]
    prefix = _NOT_IN_NAMES.sub("_", task)[-(_NAME_LIMIT - _SUFFIX_LENGTH - 1) :]
    return f"{prefix}:{suffix}"


def _refused(task: str, reason: str) -> InvalidJob:
    return InvalidJob(f"cannot defer {task!r}: {reason}; nothing was deferred")


# -- where defer() writes when it is not given a store -----------------------------


class DeferrerFactory(Protocol):
    """Builds the :class:`Deferrer` for one :func:`defer` or :func:`cancel_deferred`.

    It is given every keyword of :class:`~scheduler.tasks.keywords.FactoryKeywords`
    (``on_commit`` and ``using``) as the caller gave it, ``None`` when not
    given; a factory refuses those it cannot honour with
    :class:`~scheduler.errors.InvalidJob`.
    """

    def __call__(self, **given: Unpack[FactoryKeywords]) -> Deferrer: ...


@dataclass(frozen=True, slots=True)
class _StoreFactory:
    store: Store
    clock: Clock | None = None
    registry: TaskRegistry | None = None

    def __call__(self, **given: Unpack[FactoryKeywords]) -> Deferrer:
        on_commit, using = given.get("on_commit"), given.get("using")
        if on_commit:
            raise InvalidJob(
                "on_commit=True waits for a Django transaction, but this store is written at "
                "once: leave on_commit out, or add 'scheduler.django' to INSTALLED_APPS"
            )
        if using is not None:
            raise InvalidJob(
                f"using={using!r} names a Django database, but the deferral goes to "
                f"{self.store!r}: leave using out"
            )
        return Deferrer(self.store, clock=self.clock, registry=self.registry)


_lock = threading.Lock()
_default: DeferrerFactory | None = None


def set_default_deferrer(factory: DeferrerFactory | None) -> DeferrerFactory | None:
    """Make ``factory`` build the deferrer of every :func:`defer` given no ``store``.

    Returns the one it replaces.  The Django app calls this when it is ready;
    plain Python uses :func:`set_default_store`.  ``None`` removes the default.
    """
    global _default
    with _lock:
        previous, _default = _default, factory
    return previous


def set_default_store(
    store: Store | None, *, clock: Clock | None = None, registry: TaskRegistry | None = None
) -> None:
    """Defer into ``store`` whenever :func:`defer` is not given one (``None``: no default).

    For plain Python, once at start-up: ``set_default_store(SQLAlchemyStore(url))``.
    Writes happen at once, in the store's own transaction.
    """
    set_default_deferrer(None if store is None else _StoreFactory(store, clock, registry))


def _deferrer(store: Store | None, given: FactoryKeywords) -> Deferrer:
    if store is not None:
        return _StoreFactory(store)(**given)
    with _lock:
        factory = _default
    if factory is None:
        raise StoreNotConfigured(
            "no store to defer into: pass store=..., call "
            "scheduler.set_default_store(store) once at start-up, or add "
            "'scheduler.django' to INSTALLED_APPS to defer into the site's database"
        )
    return factory(**given)


@keyword_signature(DeferKeywords)
def defer(task: TaskRef, **keywords: Unpack[DeferKeywords]) -> DeferredCall:
    """Run the registered ``task`` once, at ``run_at`` or after ``delay``; durably.

    ``task`` is a task name (``"app.tasks.send_reminder"``) or a ``@job``
    function, which also has this as its ``.defer()``.  The keywords are
    those of :class:`~scheduler.tasks.keywords.DeferKeywords`: ``args`` and
    ``kwargs`` are JSON; the job options set the job's executor, queue,
    retries, retry backoff, timeout or description.

    Under Django (``scheduler.django`` installed) the call is written into
    ``SCHEDULER["DATABASE"]`` (or ``using``) when the current transaction
    commits, and never if it rolls back; ``on_commit=False`` writes it at
    once, inside the transaction.  Without Django, give ``store`` or call
    :func:`set_default_store` first; :class:`~scheduler.errors.StoreNotConfigured`
    otherwise.  Bad input raises as :meth:`Deferrer.defer` says, before
    anything is written.
    """
    store, given, call = split_keywords(keywords)
    return _deferrer(store, given).defer(task, **call)


def cancel_deferred(
    name: str, *, store: Store | None = None, using: str | None = None
) -> Cancellation:
    """Cancel the deferred call ``name`` (``DeferredCall.name``): see :meth:`Deferrer.cancel`.

    Found where :func:`defer` would write it (``store``, ``using``, or the
    default).  Raises :class:`~scheduler.errors.JobNotFound` if there is no
    such job.
    """
    try:
        return _deferrer(store, {"on_commit": None, "using": using}).cancel(name)
    except JobNotFound:
        raise JobNotFound(f"no deferred call is called {name!r}") from None


def bound_defer(task: RegisteredTask) -> Callable[..., DeferredCall]:
    """The ``.defer()`` that :func:`~scheduler.tasks.registry.job` gives a function:
    :func:`defer` with ``task``, taking the same keywords."""

    @keyword_signature(DeferKeywords)
    def defer_task(**keywords: Unpack[DeferKeywords]) -> DeferredCall:
        return defer(task, **keywords)

    defer_task.__doc__ = f"Run {task.name} once, later: see scheduler.defer()."
    defer_task.__qualname__ = f"{task.name}.defer"
    return defer_task


add_job_attributes(lambda task: {"defer": bound_defer(task)})
