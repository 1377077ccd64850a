"""What a person types into the job form, read into the core's values.

Each reader raises :class:`FieldProblem` naming the form field and saying why,
so the form and the next-runs preview attach the same message to the same
field.  Schedules are built by the core (:class:`~scheduler.schedules.Cron`,
:class:`~scheduler.schedules.Every`, :class:`~scheduler.schedules.Once`,
:class:`~scheduler.schedules.solar.Solar`), so
the admin accepts exactly what a schedules file accepts.

Instants without an offset are read on the wall clock of the job's time zone.
A wall time that the zone skips (spring forward) or repeats (fall back) is
refused with both readings, rather than guessed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms

from ...errors import InvalidSchedule, SchedulerError
from ...model.chains import CHAIN_ONLY
from ...model.jobs import ScheduleType
from ...schedules.durations import format_duration, parse_duration
from ...schedules.kinds import Cron, Every, Once, get_zone
from ...schedules.solar import Solar

__all__ = [
    "SCHEDULE_TYPES",
    "FieldProblem",
    "read_instant",
    "read_json",
    "read_schedule",
    "read_solar",
    "read_zone",
    "solar_field",
    "solar_text",
]

#: The kinds of schedule, as the form offers them.
SCHEDULE_TYPES = (
    ("cron", "Cron expression"),
    ("every", "Interval"),
    ("at", "Once, at a given time"),
    ("solar", "With the sun"),
    ("after", "Only after other jobs"),
)

_EXAMPLES = {
    "cron": "Enter a cron expression, such as '*/15 * * * *' or '30 2 * * 1-5'.",
    "every": "Enter an interval, such as '90s', '15m' or '1h30m'.",
    "at": "Enter when to run, such as '2026-05-01 09:00'.",
    "solar": "Enter a sun event, latitude and longitude, such as 'sunset 59.91 10.75 -30m'.",
}


class FieldProblem(ValueError):
    """A value of one form field that cannot be used, and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def read_zone(text: str) -> ZoneInfo:
    """The IANA zone called ``text``; :class:`FieldProblem` on ``timezone`` if unknown."""
    try:
        return get_zone(text.strip())
    except SchedulerError as error:
        raise FieldProblem("timezone", str(error)) from None


def read_instant(field: str, text: str, zone: ZoneInfo) -> datetime | None:
    """``text`` as an aware UTC instant, ``None`` when blank.

    ISO 8601 with a space or ``T``; without an offset it is read in ``zone``.
    """
    text = text.strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise FieldProblem(
            field,
            f"{text!r} is not a date and time: write it as 2026-05-01 09:00, "
            "optionally with an offset such as 2026-05-01 09:00+02:00",
        ) from None
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC)
    return _on_wall_clock(field, parsed, zone)


def _on_wall_clock(field: str, wall: datetime, zone: ZoneInfo) -> datetime:
    early, late = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    if early.utcoffset() == late.utcoffset():
        return early.astimezone(UTC)
    shown = wall.isoformat(sep=" ", timespec="minutes")
    # fold=0 is the earlier of the two instants (compared in UTC, never as
    # aware datetimes of one zone, which Python compares by wall time).
    readings = f"{shown}{_offset(early)} or {shown}{_offset(late)}"
    if early.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall:
        raise FieldProblem(
            field,
            f"{shown} happens twice in {zone.key} (the clocks go back): "
            f"give the offset you mean, {readings}",
        )
    raise FieldProblem(
        field,
        f"{shown} does not exist in {zone.key} (the clocks skip it): "
        "choose a time outside the gap, or give an offset",
    )


def _offset(moment: datetime) -> str:
    offset = moment.utcoffset()
    assert offset is not None  # noqa: S101 - a ZoneInfo always answers
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def read_schedule(
    kind: str,
    values: dict[str, str],
    *,
    zone: ZoneInfo,
    name: str,
    start: datetime | None,
) -> ScheduleType:
    """The schedule of ``kind`` (``cron``, ``every``, ``at``, ``solar`` or ``after``)
    from the form's ``values``.

    ``name`` spreads a cron's ``H`` fields; ``start`` anchors an interval.
    ``after`` is no schedule of the job's own
    (:data:`~scheduler.model.chains.CHAIN_ONLY`): the job runs only after the
    jobs its ``after`` field names.
    """
    if kind == "after":
        return CHAIN_ONLY
    if kind not in _EXAMPLES:
        raise FieldProblem("schedule_type", "Choose cron, every, at, solar or after.")
    text = values.get(kind, "").strip()
    if not text:
        raise FieldProblem(kind, _EXAMPLES[kind])
    try:
        if kind == "cron":
            return Cron(text, tz=zone.key, hash_key=name)
        if kind == "every":
            return Every(parse_duration(text), anchor=start)
        if kind == "solar":
            return read_solar(text)
        at = read_instant("at", text, zone)
        assert at is not None  # noqa: S101 - text is not blank
        return Once(at)
    except SchedulerError as error:
        raise FieldProblem(kind, str(error)) from None


def read_json(field: str, text: str, kind: type[list[Any]] | type[dict[str, Any]]) -> Any:
    """``text`` as a JSON list or object (``kind``); blank is an empty one."""
    text = text.strip()
    if not text:
        return kind()
    try:
        value = json.loads(text)
    except ValueError as error:
        raise FieldProblem(field, f"not valid JSON: {error}") from None
    if not isinstance(value, kind):
        wanted = (
            'a JSON list, such as [1, "a"]' if kind is list else 'a JSON object, such as {"a": 1}'
        )
        raise FieldProblem(field, f"expected {wanted}, got {_json_kind(value)}")
    return value


def _json_kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true or false"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    return "null" if value is None else "a number"


def read_solar(text: str) -> Solar:
    """``sunset 59.91 10.75 -30m``: the event, latitude, longitude and an optional offset."""
    parts = text.split()
    if len(parts) not in (3, 4):
        raise InvalidSchedule(_EXAMPLES["solar"])
    try:
        latitude, longitude = float(parts[1]), float(parts[2])
    except ValueError:
        raise InvalidSchedule(
            f"expected numbers of degrees for latitude and longitude, got {parts[1]!r} "
            f"and {parts[2]!r}"
        ) from None
    offset = parts[3] if len(parts) == 4 else 0
    return Solar.parse(
        {"event": parts[0], "latitude": latitude, "longitude": longitude, "offset": offset}
    )


def solar_text(schedule: Solar) -> str:
    """The form's text for ``schedule``, which :func:`read_solar` reads back."""
    offset = schedule.offset
    words = [schedule.event.value, f"{schedule.latitude:g}", f"{schedule.longitude:g}"]
    if offset:
        words.append(("-" if offset < timedelta(0) else "") + format_duration(abs(offset)))
    return " ".join(words)


def solar_field() -> forms.CharField:
    """The form field of a solar schedule."""
    return forms.CharField(
        required=False,
        label="With the sun",
        help_text=(
            "A sun event (sunrise, sunset, dawn, dusk or noon), the place's latitude and "
            "longitude in degrees, and an optional offset: 'sunset 59.91 10.75 -30m' is half "
            "an hour before sunset in Oslo. In UTC instants; no event that day, no run."
        ),
    )
