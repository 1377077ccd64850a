"""What a job is: :class:`JobSpec`, validated when built.

A :class:`JobSpec` says what to run (a task and its JSON arguments), when
(a :class:`~scheduler.schedules.Cron`, :class:`~scheduler.schedules.Every` or
:class:`~scheduler.schedules.Once` inside an optional start/end window) and with
which policies.  It is a frozen value: change it with :func:`dataclasses.replace`,
which validates the result again.

Values are normalised on the way in, so that two specs that mean the same job
compare equal and share a :meth:`JobSpec.definition_hash`: instants become UTC,
arguments become exactly what JSON gives back (tuples inside them become lists),
and policies become their enum members.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeAlias

from ..clock import ensure_aware_utc
from ..errors import InvalidJob, InvalidSchedule, SchedulerError
from ..schedules.durations import parse_duration
from ..schedules.kinds import Cron, Every, Once, get_zone
from .policies import CatchupPolicy, JobSource, OverlapPolicy

__all__ = ["JSONValue", "JobSpec", "ScheduleType", "trusted_spec", "validate_field"]

#: A value that survives a trip through JSON unchanged.
JSONValue: TypeAlias = "bool | int | float | str | list[JSONValue] | dict[str, JSONValue] | None"
#: The schedules a job may have.
ScheduleType: TypeAlias = Cron | Every | Once

_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,200}")
_MICROSECOND = timedelta(microseconds=1)
_ZERO = timedelta(0)
_MAX_RETRIES = 100
_DURATION_FIELDS = frozenset(
    {"catchup_window", "jitter", "timeout", "retry_backoff", "retry_backoff_max"}
)
_INSTANT_FIELDS = frozenset({"start", "end"})


@dataclass(frozen=True, slots=True, kw_only=True)
class JobSpec:
    """One job definition: what to run, when, and with which policies.

    Built directly, with :meth:`build`, or from :meth:`from_dict`; every field
    is checked in ``__post_init__``, which raises
    :class:`~scheduler.errors.InvalidJob` (or
    :class:`~scheduler.errors.InvalidSchedule` for a time zone) naming the
    field and the bad value.
    The ``end`` of the window is inclusive: a slot at exactly ``end`` is due.
    A :class:`~scheduler.schedules.Cron` schedule must be read in the job's ``timezone``.
    """

    name: str
    task: str
    schedule: ScheduleType
    args: tuple[JSONValue, ...] = ()
    kwargs: dict[str, JSONValue] = field(default_factory=dict)
    timezone: str = "UTC"
    enabled: bool = True
    start: datetime | None = None
    end: datetime | None = None
    catchup: CatchupPolicy = CatchupPolicy.ONCE
    max_catchup: int = 100
    catchup_window: timedelta | None = None
    overlap: OverlapPolicy = OverlapPolicy.SKIP
    jitter: timedelta = timedelta(0)
    timeout: timedelta | None = None
    retries: int = 0
    retry_backoff: timedelta = timedelta(seconds=10)
    retry_backoff_max: timedelta = timedelta(hours=1)
    executor: str = "default"
    queue: str | None = None
    description: str = ""
    source: JobSource = JobSource.CODE

    def __post_init__(self) -> None:
        for name in _FIELDS:
            object.__setattr__(self, name, _checked(self.name, name, getattr(self, name)))
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise InvalidJob(
                f"job {self.name!r}: start must be before end, got start "
                f"{self.start.isoformat()} and end {self.end.isoformat()}"
            )
        if isinstance(self.schedule, Cron) and self.schedule.tz != self.timezone:
            raise InvalidJob(
                f"job {self.name!r}: schedule: the cron expression is read in "
                f"{self.schedule.tz!r} but the job's timezone is {self.timezone!r}; "
                "build it with Cron(expr, tz=timezone) or JobSpec.build()"
            )

    def __hash__(self) -> int:
        # The generated hash would fail on the kwargs dict; the definition
        # hash covers the same fields that equality compares.
        return hash(self.definition_hash())

    @classmethod
    def build(
        cls,
        *,
        name: str,
        task: str,
        cron: str | None = None,
        every: str | int | float | timedelta | None = None,
        at: datetime | None = None,
        timezone: str = "UTC",
        **options: Any,
    ) -> JobSpec:
        """Build a spec from exactly one of ``cron``, ``every`` or ``at``.

        ``cron`` is read in ``timezone`` and hashes ``H`` fields by ``name``;
        ``every`` (``"15m"``, seconds or a timedelta) counts from ``start``
        when one is given; ``at`` is a timezone-aware instant.  ``options``
        are the other :class:`JobSpec` fields.
        """
        chosen = (("cron", cron), ("every", every), ("at", at))
        given = [key for key, value in chosen if value is not None]
        if len(given) != 1:
            found = " and ".join(given) or "none"
            raise InvalidJob(f"job {name!r}: give exactly one of cron, every or at, got {found}")
        start = _checked(name, "start", options.get("start"))
        try:
            schedule = _schedule(name, timezone, start, cron, every, at)
        except SchedulerError as error:
            raise InvalidSchedule(f"job {name!r}: {given[0]}: {error}") from None
        return cls(name=name, task=task, schedule=schedule, timezone=timezone, **options)

    def next_after(self, instant: datetime) -> datetime | None:
        """The first due instant strictly after ``instant`` inside the start/end window.

        Aware UTC, never before ``start``, ``None`` once past ``end``.  The
        ``enabled`` flag is not consulted: pausing is the engine's business.
        """
        after = ensure_aware_utc(instant)
        if self.start is not None and after < self.start:
            after = self.start - _MICROSECOND
        due = self.schedule.next_after(after)
        if due is None or (self.end is not None and due > self.end):
            return None
        return due

    def describe(self) -> str:
        """The schedule in words, such as ``every 15m``."""
        return self.schedule.describe()

    def definition_hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON of every field.

        Equal specs give equal hashes, in any process and on any Python
        version: keys are sorted, text is ASCII-escaped and floats use their
        shortest round-trip form.
        """
        canonical = json.dumps(
            self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=True
        )
        return hashlib.sha256(canonical.encode("ascii")).hexdigest()

    def to_dict(self) -> dict[str, JSONValue]:
        """Every field as JSON-safe values; :meth:`from_dict` reads it back.

        Instants are ISO-8601 strings in UTC, durations are seconds, policies
        their string values and the schedule one of ``{"cron": ..., "hash_key":
        ...}``, ``{"every": seconds, "anchor": ...}`` or ``{"at": ...}``.
        """
        return {name: _encode(getattr(self, name)) for name in _FIELDS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobSpec:
        """The spec that :meth:`to_dict` wrote; raises
        :class:`~scheduler.errors.InvalidJob` for anything else."""
        unknown = sorted(set(data) - set(_FIELDS))
        missing = sorted({"name", "task", "schedule"} - set(data))
        if unknown:
            raise InvalidJob(f"job data: unknown fields {', '.join(map(repr, unknown))}")
        if missing:
            raise InvalidJob(f"job data: missing fields {', '.join(map(repr, missing))}")
        name = data["name"]
        values = {key: _decoded(name, key, value) for key, value in data.items()}
        timezone = values.get("timezone", "UTC")
        values["schedule"] = _decoded_schedule(name, data["schedule"], timezone)
        return cls(**values)


_FIELDS = tuple(spec_field.name for spec_field in fields(JobSpec))
# The slots' own setters: what a frozen dataclass's __init__ calls, minus the checks.
_SETTERS = tuple((name, getattr(JobSpec, name).__set__) for name in _FIELDS)


def trusted_spec(
    *,
    name: str,
    task: str,
    schedule: ScheduleType,
    args: tuple[JSONValue, ...],
    kwargs: dict[str, JSONValue],
    timezone: str,
    enabled: bool,
    start: datetime | None,
    end: datetime | None,
    catchup: CatchupPolicy,
    max_catchup: int,
    catchup_window: timedelta | None,
    overlap: OverlapPolicy,
    jitter: timedelta,
    timeout: timedelta | None,
    retries: int,
    retry_backoff: timedelta,
    retry_backoff_max: timedelta,
    executor: str,
    queue: str | None,
    description: str,
    source: JobSource,
) -> JobSpec:
    """A :class:`JobSpec` of values that are already valid and normal, not checked again.

    For a store reading back a row it wrote from a validated spec, and for
    nothing else: checking all 22 fields again costs more than the rest of
    reading the row, and a wake-up may read 10,000 of them.  Every value must
    be what ``JobSpec(...)`` would have kept (an args tuple, instants in UTC,
    policies as enum members, a :class:`~scheduler.schedules.Cron` read in
    ``timezone``); the spec is then equal to the validated one.
    """
    values = locals()
    spec = object.__new__(JobSpec)
    for field_name, assign in _SETTERS:
        assign(spec, values[field_name])
    return spec


def _schedule(
    name: str,
    timezone: str,
    start: datetime | None,
    cron: str | None,
    every: str | float | timedelta | None,
    at: datetime | None,
) -> ScheduleType:
    if cron is not None:
        return Cron(cron, tz=timezone, hash_key=name)
    if every is not None:
        return Every(parse_duration(every), anchor=start)
    assert at is not None  # noqa: S101 - build() checked that one of the three is set
    return Once(at)


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


def _checked(job: str, name: str, value: object) -> Any:
    try:
        return validate_field(name, value)
    except (InvalidJob, InvalidSchedule) as error:
        where = f"job {job!r}: {name}" if name != "name" else "job name"
        raise type(error)(f"{where}: {error}") from None


def _expected(what: str, value: object) -> InvalidJob:
    return InvalidJob(f"expected {what}, got {value!r}")


def _check_name(value: object) -> str:
    if isinstance(value, str) and _NAME.fullmatch(value):
        return value
    raise _expected("1-200 characters of letters, digits, '_', '.', ':' or '-'", value)


def _check_task(value: object) -> str:
    if isinstance(value, str) and all(part.isidentifier() for part in value.split(".")):
        return value
    raise _expected("a dotted path such as 'app.tasks.send' or a registered task name", value)


def _check_schedule(value: object) -> ScheduleType:
    if isinstance(value, Cron | Every | Once):
        return value
    raise _expected("a Cron, Every or Once schedule", value)


def _check_args(value: object) -> tuple[JSONValue, ...]:
    if not isinstance(value, list | tuple):
        raise _expected("a list of JSON values", value)
    return tuple(_json_copy(value))


def _check_kwargs(value: object) -> dict[str, JSONValue]:
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise _expected("a mapping of JSON values with string keys", value)
    return dict(_json_copy(dict(value)))


def _json_copy(value: list[Any] | tuple[Any, ...] | dict[str, Any]) -> Any:
    # The job receives what JSON gives back, so normalise to exactly that now.
    if not value:  # the common case, and JSON has nothing to say about it
        return type(value)()
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError, RecursionError):
        # json's own wording changes between Python versions; say it ourselves.
        reason = _why_not_json(value) or "it cannot be written as JSON"
        raise InvalidJob(f"expected JSON values only, got {value!r} ({reason})") from None


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
        raise _expected("an IANA time zone name such as 'Europe/Berlin'", value)
    return get_zone(value).key


def _check_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    raise _expected("True or False", value)


def _check_instant(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return ensure_aware_utc(value)
    raise _expected("a timezone-aware datetime or None", value)


def _integer(low: int, high: int | None) -> Callable[[object], int]:
    what = (
        f"an integer from {low} to {high}" if high is not None else f"an integer of at least {low}"
    )

    def check(value: object) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            if value >= low and (high is None or value <= high):
                return value
        raise _expected(what, value)

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
        raise _expected(what, value)

    return check


def _as_duration(value: object) -> timedelta | None:
    """``value`` as a timedelta if parse_duration reads it (``"30s"``, 30), else None."""
    if isinstance(value, bool) or not isinstance(value, timedelta | str | int | float):
        return None
    try:
        return parse_duration(value)
    except SchedulerError:
        return None


def _text(*, empty: bool, optional: bool = False) -> Callable[[object], str | None]:
    what = "a string" if empty else "a non-empty string"
    what = f"{what} or None" if optional else what

    def check(value: object) -> str | None:
        if value is None and optional:
            return None
        if isinstance(value, str) and (empty or value.strip()):
            return value
        raise _expected(what, value)

    return check


def _choice(enum: type[StrEnum]) -> Callable[[object], StrEnum]:
    values = [member.value for member in enum]
    allowed = ", ".join(map(repr, values))

    def check(value: object) -> StrEnum:
        if isinstance(value, str) and value in values:
            return enum(value)
        raise _expected(f"one of {allowed}", value)

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
    "retries": _integer(0, _MAX_RETRIES),
    "retry_backoff": _duration(positive=False, optional=False),
    "retry_backoff_max": _duration(positive=False, optional=False),
    "executor": _text(empty=False),
    "queue": _text(empty=False, optional=True),
    "description": _text(empty=True),
    "source": _choice(JobSource),
}


def _encode(value: object) -> JSONValue:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, timedelta):
        return _seconds(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Cron | Every | Once):
        return _encode_schedule(value)
    if isinstance(value, list | tuple | dict):
        copied: JSONValue = _json_copy(value)  # so callers cannot reach into the spec
        return copied
    assert value is None or isinstance(value, bool | int | float | str)  # noqa: S101 - typed fields
    return value


def _encode_schedule(schedule: ScheduleType) -> dict[str, JSONValue]:
    if isinstance(schedule, Cron):
        return {"cron": schedule.expr, "hash_key": schedule.hash_key}
    if isinstance(schedule, Every):
        anchor = None if schedule.anchor is None else schedule.anchor.isoformat()
        return {"every": _seconds(schedule.interval), "anchor": anchor}
    return {"at": schedule.at.isoformat()}


def _seconds(value: timedelta) -> int | float:
    # Whole seconds stay integers so the canonical JSON has no "10.0".
    whole, rest = divmod(value // _MICROSECOND, 1_000_000)
    return whole if rest == 0 else value.total_seconds()


def _decoded(job: object, key: str, value: object) -> Any:
    if value is None:
        return None
    try:
        if key in _DURATION_FIELDS:
            return _duration_from(value)
        if key in _INSTANT_FIELDS:
            return _instant(value)
    except SchedulerError as error:
        raise InvalidJob(f"job {job!r}: {key}: {error}") from None
    return value


def _duration_from(value: object) -> timedelta:
    if isinstance(value, str | int | float):
        return parse_duration(value)
    raise _expected("a number of seconds or a duration such as '15m'", value)


def _instant(value: object) -> datetime:
    if not isinstance(value, str):
        raise InvalidJob(f"expected an ISO-8601 string, got {value!r}")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidJob(f"expected an ISO-8601 string, got {value!r}") from None


def _decoded_schedule(job: object, data: object, timezone: object) -> ScheduleType:
    try:
        if not isinstance(data, Mapping) or len({"cron", "every", "at"} & set(data)) != 1:
            raise _expected("a mapping with one of 'cron', 'every' or 'at'", data)
        if "cron" in data:
            return Cron(data["cron"], tz=str(timezone), hash_key=data.get("hash_key", ""))
        if "every" in data:
            anchor = data.get("anchor")
            start = None if anchor is None else _instant(anchor)
            return Every(_duration_from(data["every"]), anchor=start)
        return Once(_instant(data["at"]))
    except SchedulerError as error:
        raise InvalidJob(f"job {job!r}: schedule: {error}") from None
