"""The rules for each :class:`~scheduler.model.jobs.JobSpec` field on its own.

:func:`validate_field` checks one value and returns its normal form: instants
in UTC, arguments exactly as JSON gives them back (tuples become lists),
policies as enum members, durations as :class:`~datetime.timedelta`.  The YAML
reader and the admin call it field by field to say which key is wrong; a
:class:`~scheduler.model.jobs.JobSpec` calls it for all of them when built.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from math import isfinite
from typing import Any, TypeAlias

from ..clock import ensure_aware_utc
from ..errors import InvalidJob, InvalidSchedule, SchedulerError
from ..schedules.calendars import Calendar
from ..schedules.durations import parse_duration
from ..schedules.kinds import Cron, Every, Once, get_zone
from ..schedules.solar import Solar
from .chains import MAX_UPSTREAMS, ChainWhen
from .notify import JobNotify
from .policies import CatchupPolicy, JobSource, OverlapPolicy
from .sizes import MIN_MEMORY, parse_size

__all__ = [
    "FIELD_NAMES",
    "JSONValue",
    "ScheduleType",
    "checked_field",
    "json_copy",
    "validate_field",
]

#: A value that survives a trip through JSON unchanged.
JSONValue: TypeAlias = "bool | int | float | str | list[JSONValue] | dict[str, JSONValue] | None"
#: The schedules a job may have.
ScheduleType: TypeAlias = Cron | Every | Once | Solar

#: Values JSON gives back as they are (exactly these types; a float is too
#: when it is finite).
_FLAT = frozenset({str, int, bool, type(None)})
_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,200}")
_ZERO = timedelta(0)
_MAX_RETRIES = 100


def validate_field(name: str, value: object) -> Any:
    """Check one :class:`JobSpec` field on its own and return its normal form.

    Raises :class:`InvalidJob` (:class:`InvalidSchedule` for ``timezone``)
    with a message ``expected ..., got ...``; callers such as the YAML loader
    add where the value came from.  Cross-field rules (start before end) are
    left to :class:`JobSpec`.
    """
    check = _CHECKS.get(name)
    if check is None:
        raise InvalidJob(f"unknown job field {name!r}")
    return check(value)


def checked_field(job: str, name: str, value: object) -> Any:
    """:func:`validate_field`, with the job's name and the field in the error."""
    try:
        return validate_field(name, value)
    except (InvalidJob, InvalidSchedule) as error:
        where = f"job {job!r}: {name}" if name != "name" else "job name"
        raise type(error)(f"{where}: {error}") from None


def expected_error(what: str, value: object) -> InvalidJob:
    """The error for a value that is not ``what``."""
    return InvalidJob(f"expected {what}, got {value!r}")


def _check_name(value: object) -> str:
    if isinstance(value, str) and _NAME.fullmatch(value):
        return value
    raise expected_error("1-200 characters of letters, digits, '_', '.', ':' or '-'", value)


def _check_task(value: object) -> str:
    if isinstance(value, str) and all(part.isidentifier() for part in value.split(".")):
        return value
    raise expected_error("a dotted path such as 'app.tasks.send' or a registered task name", value)


def _check_schedule(value: object) -> ScheduleType:
    if isinstance(value, Cron | Every | Once | Solar):
        return value
    raise expected_error("a Cron, Every, Once or Solar schedule", value)


def _check_args(value: object) -> tuple[JSONValue, ...]:
    if not isinstance(value, list | tuple):
        raise expected_error("a list of JSON values", value)
    return tuple(json_copy(value))


def _check_kwargs(value: object) -> dict[str, JSONValue]:
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise expected_error("a mapping of JSON values with string keys", value)
    return dict(json_copy(dict(value)))


def json_copy(value: list[Any] | tuple[Any, ...] | dict[str, Any]) -> Any:
    """``value`` exactly as JSON gives it back; :class:`InvalidJob` saying why if it is not JSON."""
    # The job receives what JSON gives back, so normalise to exactly that now.
    if not value:  # the common case, and JSON has nothing to say about it
        return type(value)()
    if isinstance(value, dict):
        if all(type(key) is str for key in value) and _flat(value.values()):
            return dict(value)  # what JSON gives back, as most kwargs are
    elif _flat(value):
        return list(value)
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError, RecursionError):
        # json's own wording changes between Python versions; say it ourselves.
        reason = _why_not_json(value) or "it cannot be written as JSON"
        raise InvalidJob(f"expected JSON values only, got {value!r} ({reason})") from None


def _flat(items: Iterable[object]) -> bool:
    """Whether each of ``items`` comes back from JSON as it is: text, a whole
    number, a flag, null (exactly those types) or a finite float."""
    return all(type(item) in _FLAT or (type(item) is float and isfinite(item)) for item in items)


def _why_not_json(value: object, depth: int = 0) -> str | None:
    """The first reason ``value`` is not JSON, or None if none is found."""
    if depth > 100:
        return "it is nested too deeply (or contains itself)"
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return f"{value!r} is not a JSON number"
    if value is None or isinstance(value, str | int | float):
        return None
    if isinstance(value, list | tuple):
        items: list[object] = list(value)
    elif isinstance(value, dict):
        items = list(value.values())
    else:
        return f"a {type(value).__name__} is not a JSON value"
    return next((r for r in (_why_not_json(i, depth + 1) for i in items) if r), None)


def _check_timezone(value: object) -> str:
    if not isinstance(value, str):
        raise expected_error("an IANA time zone name such as 'Europe/Berlin'", value)
    return get_zone(value).key


def _check_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    raise expected_error("True or False", value)


def _check_instant(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return ensure_aware_utc(value)
    raise expected_error("a timezone-aware datetime or None", value)


def _integer(low: int, high: int | None) -> Callable[[object], int]:
    what = (
        f"an integer from {low} to {high}" if high is not None else f"an integer of at least {low}"
    )

    def check(value: object) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            if value >= low and (high is None or value <= high):
                return value
        raise expected_error(what, value)

    return check


def _duration(*, positive: bool, optional: bool) -> Callable[[object], timedelta | None]:
    what = "a positive duration" if positive else "a duration of zero or more"
    what = f"{what} such as '90s'{' or None' if optional else ''}"

    def check(value: object) -> timedelta | None:
        if value is None and optional:
            return None
        duration = _as_duration(value)
        if duration is not None and (duration > _ZERO if positive else duration >= _ZERO):
            return duration
        raise expected_error(what, value)

    return check


def _as_duration(value: object) -> timedelta | None:
    """``value`` as a timedelta if parse_duration reads it (``"30s"``, 30), else None."""
    if isinstance(value, bool) or not isinstance(value, timedelta | str | int | float):
        return None
    try:
        return parse_duration(value)
    except SchedulerError:
        return None


def _check_calendar(value: object) -> Calendar:
    try:
        return Calendar.parse(value)
    except InvalidSchedule as error:
        raise InvalidJob(str(error)) from None


def _check_after(value: object) -> tuple[str, ...]:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list | tuple):
        raise expected_error("a job name or a list of job names", value)
    checked = tuple(_check_name(name) for name in names)
    if len(set(checked)) != len(checked):
        raise InvalidJob(f"names a job twice: {value!r}")
    if len(checked) > MAX_UPSTREAMS:
        raise InvalidJob(
            f"a job may run after at most {MAX_UPSTREAMS} upstream jobs, got {len(checked)}"
        )
    return checked


def _check_memory(value: object) -> int | None:
    if value is None:
        return None
    size = parse_size(value)
    if size is None:
        raise expected_error("a size in bytes such as '512M' or '2G', or None", value)
    if size < MIN_MEMORY:
        raise InvalidJob(f"expected at least 64M (a Python process needs more), got {value!r}")
    if not sys.platform.startswith(("linux", "freebsd")):
        raise InvalidJob(
            f"not supported on {sys.platform}: the memory limit (RLIMIT_AS) is enforced "
            "on Linux and FreeBSD only"
        )
    return size


def _text(*, empty: bool, optional: bool = False) -> Callable[[object], str | None]:
    what = "a string" if empty else "a non-empty string"
    what = f"{what} or None" if optional else what

    def check(value: object) -> str | None:
        if value is None and optional:
            return None
        if isinstance(value, str) and (empty or value.strip()):
            return value
        raise expected_error(what, value)

    return check


def _choice(enum: type[StrEnum]) -> Callable[[object], StrEnum]:
    values = [member.value for member in enum]
    allowed = ", ".join(map(repr, values))

    def check(value: object) -> StrEnum:
        if isinstance(value, str) and value in values:
            return enum(value)
        raise expected_error(f"one of {allowed}", value)

    return check


_CHECKS: dict[str, Callable[[object], object]] = {
    "name": _check_name,
    "task": _check_task,
    "schedule": _check_schedule,
    "args": _check_args,
    "kwargs": _check_kwargs,
    "timezone": _check_timezone,
    "enabled": _check_bool,
    "start": _check_instant,
    "end": _check_instant,
    "catchup": _choice(CatchupPolicy),
    "max_catchup": _integer(1, None),
    "catchup_window": _duration(positive=True, optional=True),
    "overlap": _choice(OverlapPolicy),
    "jitter": _duration(positive=False, optional=False),
    "timeout": _duration(positive=True, optional=True),
    "max_memory": _check_memory,
    "retries": _integer(0, _MAX_RETRIES),
    "retry_backoff": _duration(positive=False, optional=False),
    "retry_backoff_max": _duration(positive=False, optional=False),
    "executor": _text(empty=False),
    "queue": _text(empty=False, optional=True),
    "notify": JobNotify.parse,
    "calendar": _check_calendar,
    "after": _check_after,
    "when": _choice(ChainWhen),
    "description": _text(empty=True),
    "source": _choice(JobSource),
}

#: Every field a job has, in the order :meth:`~scheduler.model.jobs.JobSpec.to_dict` writes them.
FIELD_NAMES = tuple(_CHECKS)
