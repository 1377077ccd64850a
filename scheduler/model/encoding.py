"""A :class:`~scheduler.model.jobs.JobSpec`'s fields as JSON values, and back.

The JSON form is what :meth:`~scheduler.model.jobs.JobSpec.to_dict` writes and
what the definition hash is computed from, so it never changes shape: instants
are ISO-8601 strings in UTC, durations seconds (whole seconds as integers),
policies their string values, a schedule one of ``{"cron": ..., "hash_key":
...}``, ``{"every": seconds, "anchor": ...}``, ``{"at": ...}`` or ``{"solar":
{"event": ..., "latitude": ..., "longitude": ..., "offset": seconds}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from ..errors import InvalidJob, SchedulerError
from ..schedules.calendars import Calendar
from ..schedules.durations import parse_duration
from ..schedules.kinds import Cron, Every, Once
from ..schedules.solar import Solar
from .fields import JSONValue, ScheduleType, expected_error, json_copy
from .notify import JobNotify, encode_notify

__all__ = [
    "ALL_OPTIONAL",
    "OPTIONAL_FIELDS",
    "decode_field",
    "decode_schedule",
    "encode_field",
    "left_out",
]

_MICROSECOND = timedelta(microseconds=1)
_DURATION_FIELDS = frozenset(
    {"catchup_window", "jitter", "timeout", "retry_backoff", "retry_backoff_max"}
)
_INSTANT_FIELDS = frozenset({"start", "end"})


#: The fields a spec's JSON leaves out while they are the default (so the
#: definition hash of a job that never set them is the one from before they existed).
OPTIONAL_FIELDS = ("notify", "calendar", "max_memory", "after", "when")
#: All of them: what :func:`left_out` gives (this very set) for a spec that sets none.
ALL_OPTIONAL = frozenset(OPTIONAL_FIELDS)


def left_out(*defaults: bool) -> frozenset[str]:
    """The fields of :data:`OPTIONAL_FIELDS` whose flag in ``defaults`` (in
    that order) says they are the default, so a spec's JSON leaves them out."""
    if all(defaults):
        return ALL_OPTIONAL  # the usual job: one test, not one per field
    return frozenset(
        name for name, default in zip(OPTIONAL_FIELDS, defaults, strict=True) if default
    )


#: The types a field's value is JSON as it is: most fields of most specs, so
#: they are told first, by one look-up (a definition hash encodes every field).
_AS_IS = frozenset({str, int, float, bool, type(None)})


def encode_field(value: object, *, copy: bool = True) -> JSONValue:
    """One field's value as JSON; a list or mapping is a copy unless not ``copy``
    (it is JSON already: the spec's fields are normalised when built)."""
    if type(value) in _AS_IS:
        return value  # type: ignore[return-value]
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, timedelta):
        return _seconds(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Cron | Every | Once | Solar):
        return _encode_schedule(value)
    if isinstance(value, JobNotify):
        notify: JSONValue = encode_notify(value)  # type: ignore[assignment]
        return notify
    if isinstance(value, Calendar):
        return value.to_json()
    if isinstance(value, list | tuple | dict):
        if not copy:
            return list(value) if isinstance(value, tuple) else value
        copied: JSONValue = json_copy(value)  # so callers cannot reach into the spec
        return copied
    assert value is None or isinstance(value, bool | int | float | str)  # noqa: S101 - typed fields
    return value


def _encode_schedule(schedule: ScheduleType) -> dict[str, JSONValue]:
    if isinstance(schedule, Cron):
        return {"cron": schedule.expr, "hash_key": schedule.hash_key}
    if isinstance(schedule, Every):
        anchor = None if schedule.anchor is None else schedule.anchor.isoformat()
        return {"every": _seconds(schedule.interval), "anchor": anchor}
    if isinstance(schedule, Solar):
        return {"solar": schedule.to_json()}
    return {"at": schedule.at.isoformat()}


def _seconds(value: timedelta) -> int | float:
    # Whole seconds stay integers so the canonical JSON has no "10.0".
    whole, rest = divmod(value // _MICROSECOND, 1_000_000)
    return whole if rest == 0 else value.total_seconds()


def decode_field(job: object, key: str, value: object) -> Any:
    """The value :func:`encode_field` wrote for field ``key`` (schedules aside)."""
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
    raise expected_error("a number of seconds or a duration such as '15m'", value)


def _instant(value: object) -> datetime:
    if not isinstance(value, str):
        raise InvalidJob(f"expected an ISO-8601 string, got {value!r}")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidJob(f"expected an ISO-8601 string, got {value!r}") from None


def decode_schedule(job: object, data: object, timezone: object) -> ScheduleType:
    """The schedule :func:`encode_field` wrote, its cron read in ``timezone``."""
    try:
        if not isinstance(data, Mapping) or len({"cron", "every", "at", "solar"} & set(data)) != 1:
            raise expected_error("a mapping with one of 'cron', 'every', 'at' or 'solar'", data)
        if "cron" in data:
            return Cron(data["cron"], tz=str(timezone), hash_key=data.get("hash_key", ""))
        if "every" in data:
            anchor = data.get("anchor")
            start = None if anchor is None else _instant(anchor)
            return Every(_duration_from(data["every"]), anchor=start)
        if "solar" in data:
            return Solar.parse(data["solar"])
        return Once(_instant(data["at"]))
    except SchedulerError as error:
        raise InvalidJob(f"job {job!r}: schedule: {error}") from None
