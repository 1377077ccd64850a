"""The one-off job of a deferred call: checking what ``defer()`` was given, and building it.

Everything is checked here, before anything is written, and a problem raises
:class:`~scheduler.errors.InvalidJob` saying ``cannot defer '<task>': <why>;
nothing was deferred``.  The job is a :class:`~scheduler.model.jobs.JobSpec`
of source ``code`` with a :class:`~scheduler.schedules.Once` schedule and a
generated name such as ``app.tasks.send_reminder:5f0c2a9e41d7b388``.
"""

from __future__ import annotations

import inspect
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from ..errors import InvalidJob, SchedulerError
from ..model.jobs import JobSpec, validate_field
from ..model.policies import JobSource
from ..schedules.durations import parse_duration
from ..schedules.kinds import Once
from .keywords import CALL_KEYS, DEFERRER_KEYS, OPTION_KEYS, DeferrerKeywords
from .registry import RegisteredTask

__all__ = ["MAX_AHEAD", "MAX_BEHIND", "checked_run_at", "is_deferred", "one_off_job"]

#: The furthest ahead a call may be deferred: about ten years.
MAX_AHEAD = timedelta(days=3653)
#: How far in the past ``run_at`` may be; such a call runs as soon as it is written.
MAX_BEHIND = timedelta(days=1)

_NAME_LIMIT = 200
_SUFFIX_LENGTH = 16  # hex digits of a uuid4: 64 random bits
_NOT_IN_NAMES = re.compile(r"[^A-Za-z0-9_.:-]")


def is_deferred(spec: JobSpec) -> bool:
    """Whether ``spec`` is a deferred call's job: a one-off job of source ``code``."""
    return spec.source is JobSource.CODE and isinstance(spec.schedule, Once)


def checked_run_at(task: str, keywords: DeferrerKeywords, now: datetime) -> datetime:
    """The instant to run at, from exactly one of ``run_at`` and ``delay``; checked."""
    when, delay = keywords.get("run_at"), keywords.get("delay")
    if (when is None) == (delay is None):
        given = "both" if when is not None else "neither"
        raise _refused(task, f"give exactly one of run_at=... and delay=..., got {given}")
    if delay is not None:
        return now + _delay(task, delay)
    if not isinstance(when, datetime):
        kind = "a date" if isinstance(when, date) else type(when).__name__
        raise _refused(task, f"run_at must be a datetime, got {kind}: {when!r}")
    if when.tzinfo is None or when.utcoffset() is None:
        raise _refused(
            task,
            f"run_at must be timezone-aware, got naive {when.isoformat()}; build it from "
            "django.utils.timezone.now() or datetime.now(UTC), or give it a zone "
            "with .replace(tzinfo=ZoneInfo('Europe/Berlin'))",
        )
    if when < now - MAX_BEHIND:
        raise _refused(
            task,
            f"run_at {when.isoformat()} is more than {MAX_BEHIND.days} day in the past "
            f"(now is {now.isoformat()}); is it a local time with the wrong zone?",
        )
    if when > now + MAX_AHEAD:
        raise _refused(
            task, f"run_at {when.isoformat()} is more than about ten years ahead; refused"
        )
    return when.astimezone(now.tzinfo)


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


def one_off_job(
    task: RegisteredTask, when: datetime, keywords: DeferrerKeywords, *, timezone: str
) -> JobSpec:
    """The job that runs ``task`` once at ``when``, with the arguments and options of
    ``keywords``; refuses a keyword that is not one of :class:`DeferrerKeywords`."""
    unknown = sorted(set(keywords) - DEFERRER_KEYS)
    if unknown:
        known = ", ".join(sorted(OPTION_KEYS))
        raise _refused(task.name, f"unknown option {unknown[0]!r}; the options are {known}")
    options = {key: value for key, value in keywords.items() if key not in CALL_KEYS}
    checked = {key: _checked(task.name, key, value) for key, value in options.items()}
    given = keywords.get("kwargs")
    args = _checked(task.name, "args", keywords.get("args", ()))
    kwargs = _checked(task.name, "kwargs", {} if given is None else given)
    _check_signature(task, args, kwargs)
    return JobSpec.from_fields(
        name=_new_name(task.name),
        task=task.name,
        schedule=Once(when),
        args=args,
        kwargs=kwargs,
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
