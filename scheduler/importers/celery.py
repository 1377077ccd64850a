"""Celery beat's schedules as job keys, for the settings and django-celery-beat importers.

A ``crontab`` becomes ``cron`` with its meaning kept: Celery ANDs day of month
with day of week where cron ORs two restricted fields, so such a pair is
written with cron's ``#`` when it is a week of the month (:mod:`.days`), and
is otherwise imported disabled with a ``CHECK`` note.  A ``solar`` schedule
becomes ``solar`` for the five events Tickwork knows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .days import nth_weekdays
from .document import Translation

__all__ = ["GUIDE", "crontab_entry", "field_text", "solar_entry", "weekday_set"]

GUIDE = "docs/django/migrating-from-celery-beat.md"

_DAY_NAMES = re.compile(r"\b(sun|mon|tue|wed|thu|fri|sat)[a-z]*", re.IGNORECASE)
_MONTH_NAMES = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*", re.IGNORECASE
)
#: Celery's solar events that Tickwork has, by Celery's name.
_EVENTS = {
    "sunrise": "sunrise",
    "sunset": "sunset",
    "dawn_civil": "dawn",
    "dusk_civil": "dusk",
    "solar_noon": "noon",
}


def field_text(value: Any) -> str:
    """A crontab field as Celery was given it (text, a number or a collection) as text."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int):
        return str(value)
    return ",".join(str(item) for item in sorted(value))


def weekday_set(day_of_week: str) -> set[int] | None:
    """The weekdays (0 is Sunday) Celery reads ``day_of_week`` as; None if Celery
    is not installed or refuses it."""
    try:
        from celery.schedules import crontab_parser
    except ImportError:
        return None
    try:
        return set(crontab_parser(7).parse(day_of_week))
    except (ValueError, crontab_parser.ParseException):
        return None


def crontab_entry(
    fields: Iterable[str], zone: str, found: Translation, weekdays: set[int] | None = None
) -> dict[str, Any]:
    """``cron`` and ``timezone`` for Celery's crontab ``fields`` (minute, hour,
    day_of_month, month_of_year, day_of_week, as text); ``weekdays`` are the
    days of week it allows (0 is Sunday), when known."""
    minute, hour, day_of_month, month, day_of_week = fields
    day_of_week = _DAY_NAMES.sub(lambda m: m.group(1).lower(), day_of_week)
    month = _MONTH_NAMES.sub(lambda m: m.group(1).lower(), month)
    entry: dict[str, Any] = {"cron": f"{minute} {hour} {day_of_month} {month} {day_of_week}"}
    entry["timezone"] = zone
    if day_of_month.startswith("*") or day_of_week.startswith("*"):
        return entry  # cron ANDs these too
    allowed = weekdays if weekdays is not None else weekday_set(day_of_week)
    if allowed is not None and {day % 7 for day in allowed} == set(range(7)):
        entry["cron"] = f"{minute} {hour} {day_of_month} {month} *"  # every weekday: no AND
        return entry
    nth = nth_weekdays(day_of_month, allowed) if allowed else None
    if nth is not None:
        entry["cron"] = f"{minute} {hour} * {month} {nth}"
        found.notes.append(
            f"Celery's day_of_month {day_of_month!r} and day_of_week {day_of_week!r} both "
            f"had to match: written as {nth!r}, the same days"
        )
        return entry
    found.notes.append(
        f"CHECK: Celery runs it only on days matching both day_of_month "
        f"{day_of_month!r} and day_of_week {day_of_week!r}; in cron either "
        "is enough, so it is imported disabled: rewrite it (for example 'mon#1' for "
        f"the first Monday of the month) and enable it; see {GUIDE}"
    )
    entry["enabled"] = False
    return entry


def solar_entry(
    event: str, latitude: float, longitude: float, found: Translation
) -> dict[str, Any] | None:
    """``solar`` for Celery's solar schedule, or None (and a note) for an event we lack."""
    ours = _EVENTS.get(event)
    where = f"{float(latitude):g}, {float(longitude):g}"
    if ours is None:
        found.refuse(
            f"a solar schedule ({event} at {where}) has no equivalent: Tickwork has "
            f"{', '.join(_EVENTS)}; see 'SolarSchedule' in {GUIDE}"
        )
        return None
    found.notes.append(
        "Celery computed the sun with ephem, Tickwork with astral: a slot may differ "
        "by a minute or so, and is to the whole second"
    )
    return {"solar": {"event": ours, "latitude": float(latitude), "longitude": float(longitude)}}
