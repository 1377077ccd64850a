"""What a person types into the job form, read into the core's values.

Each reader raises :class:`FieldProblem` naming the form field and saying why,
so the form and the next-runs preview attach the same message to the same
field.  Schedules are built by the core (:class:`~scheduler.schedules.Cron`,
:class:`~scheduler.schedules.Every`, :class:`~scheduler.schedules.Once`), so
the admin accepts exactly what a schedules file accepts.

Instants without an offset are read on the wall clock of the job's time zone.
A wall time that the zone skips (spring forward) or repeats (fall back) is
refused with both readings, rather than guessed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ...errors import SchedulerError
from ...model.jobs import ScheduleType
from ...schedules.durations import parse_duration
from ...schedules.kinds import Cron, Every, Once, get_zone

__all__ = [
    "SCHEDULE_TYPES",
    "FieldProblem",
    "read_instant",
    "read_json",
    "read_schedule",
    "read_zone",
]

#: The kinds of schedule, as the form offers them.
SCHEDULE_TYPES = (
    ("cron", "Cron expression"),
    ("every", "Interval"),
    ("at", "Once, at a given time"),
)

_EXAMPLES = {
    "cron": "Enter a cron expression, such as '*/15 * * * *' or '30 2 * * 1-5'.",
    "every": "Enter an interval, such as '90s', '15m' or '1h30m'.",
    "at": "Enter when to run, such as '2026-05-01 09:00'.",
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
    """The schedule of ``kind`` (``cron``, ``every`` or ``at``) from the form's ``values``.

    ``name`` spreads a cron's ``H`` fields; ``start`` anchors an interval.
    """
    if kind not in _EXAMPLES:
        raise FieldProblem("schedule_type", "Choose cron, every or at.")
    text = values.get(kind, "").strip()
    if not text:
        raise FieldProblem(kind, _EXAMPLES[kind])
    try:
        if kind == "cron":
            return Cron(text, tz=zone.key, hash_key=name)
        if kind == "every":
            return Every(parse_duration(text), anchor=start)
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
