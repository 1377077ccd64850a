"""Jobs that run with the sun: :class:`Solar`.

A solar schedule is due once a day at a sun event (sunrise, sunset, civil
dawn or dusk, solar noon) at a place on Earth, shifted by an ``offset``
(``-30m``: half an hour before).  The instants come from the `astral`_
package (the ``solar`` extra), in UTC, rounded down to the whole second so
that every replica computes the same slot.  Wall clocks and daylight saving
play no part: the sun does not observe them.  A schedule has at most one slot
per UTC day (near longitude 180 an event that happens twice on one UTC day,
which it does on about one day a year, runs once).

Near the poles an event may not happen for weeks (no sunset in a polar day,
no sunrise in a polar night): those days have no slot, and the next one is
the next day the event does happen.  A place where it does not happen for a
whole year has no slot at all.

.. _astral: https://pypi.org/project/astral/
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from ..clock import ensure_aware_utc
from ..errors import InvalidDuration, InvalidSchedule
from .durations import format_duration, parse_duration

__all__ = ["Solar", "SolarEvent"]

_INSTALL = "solar schedules need the 'astral' package: pip install 'tickwork[solar]'"
# A year and a bit: an event that does not happen within it does not happen.
_DAYS = 370
_KEYS = ("event", "latitude", "longitude", "offset")


class SolarEvent(StrEnum):
    """The sun events a :class:`Solar` schedule can follow."""

    SUNRISE = "sunrise"
    SUNSET = "sunset"
    DAWN = "dawn"  #: civil dawn: the sun 6 degrees below the horizon, rising
    DUSK = "dusk"  #: civil dusk: the sun 6 degrees below the horizon, setting
    NOON = "noon"  #: solar noon: the sun at its highest


@dataclass(frozen=True, slots=True)
class Solar:
    """Once a day at ``event`` at (``latitude``, ``longitude``), plus ``offset``."""

    event: SolarEvent
    latitude: float
    longitude: float
    offset: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "event", SolarEvent(self.event))
        except ValueError:
            choices = ", ".join(event.value for event in SolarEvent)
            raise InvalidSchedule(f"event: expected one of {choices}, got {self.event!r}") from None
        object.__setattr__(self, "latitude", _degrees("latitude", self.latitude, 90))
        object.__setattr__(self, "longitude", _degrees("longitude", self.longitude, 180))
        object.__setattr__(self, "offset", _offset(self.offset))
        _sun()  # the package is there, or say how to install it now

    def next_after(self, instant: datetime) -> datetime | None:
        after = ensure_aware_utc(instant)
        first = (after - self.offset).date() - timedelta(days=1)
        best: datetime | None = None
        for day in range(_DAYS):
            current = first + timedelta(days=day)
            if best is not None and current > best.date() + timedelta(days=1):
                break
            event = _event_on(self.event, self.latitude, self.longitude, current)
            if event is None:
                continue
            due = event + self.offset
            if due > after and (best is None or due < best):
                best = due
        return best

    def describe(self) -> str:
        place = f"{self.latitude:g}, {self.longitude:g}"
        if not self.offset:
            return f"at {self.event.value} ({place})"
        side = "after" if self.offset > timedelta(0) else "before"
        return f"{format_duration(abs(self.offset))} {side} {self.event.value} ({place})"

    @classmethod
    def parse(cls, value: object) -> Solar:
        """``{event: sunset, latitude: 59.91, longitude: 10.75, offset: -30m}``, or a
        :class:`Solar`."""
        if isinstance(value, Solar):
            return value
        if not isinstance(value, Mapping):
            raise InvalidSchedule(
                "expected a mapping such as {event: sunset, latitude: 59.91, "
                f"longitude: 10.75}}, got {value!r}"
            )
        unknown = sorted(map(str, set(value) - set(_KEYS)))
        if unknown:
            raise InvalidSchedule(f"unknown key {unknown[0]!r}; expected {', '.join(_KEYS)}")
        missing = [key for key in ("event", "latitude", "longitude") if key not in value]
        if missing:
            raise InvalidSchedule(f"missing {', '.join(map(repr, missing))}")
        offset = _offset(value.get("offset") or 0)
        return cls(value["event"], value["latitude"], value["longitude"], offset)

    def to_json(self) -> dict[str, Any]:
        """The mapping :meth:`parse` reads back (the offset in seconds)."""
        seconds = self.offset.total_seconds()
        return {
            "event": self.event.value,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "offset": int(seconds) if seconds == int(seconds) else seconds,
        }


def _degrees(what: str, value: object, limit: int) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidSchedule(f"{what}: expected a number of degrees, got {value!r}")
    if not -limit <= value <= limit:
        raise InvalidSchedule(f"{what}: expected -{limit} to {limit} degrees, got {value!r}")
    return float(value)


def _offset(value: object) -> timedelta:
    """``-30m``, ``1h``, seconds (``-1800``) or a timedelta; within a day either way."""
    sign = 1
    text = value
    if isinstance(value, str) and value.strip().startswith("-"):
        sign, text = -1, value.strip()[1:]
    try:
        if isinstance(text, bool) or not isinstance(text, str | int | float | timedelta):
            raise InvalidDuration(f"got {value!r}")
        if isinstance(text, int | float) and text < 0:
            sign, text = -1, -text
        if isinstance(text, timedelta) and text < timedelta(0):
            sign, text = -1, -text
        duration = sign * parse_duration(text) if text not in (0, "0") else timedelta(0)
    except InvalidDuration:
        raise InvalidSchedule(
            f"offset: expected a duration such as '-30m' or '1h', got {value!r}"
        ) from None
    if abs(duration) >= timedelta(days=1):
        raise InvalidSchedule(f"offset: expected less than a day either way, got {value!r}")
    return duration


@lru_cache(maxsize=4096)
def _event_on(event: SolarEvent, latitude: float, longitude: float, day: date) -> datetime | None:
    """The event on ``day`` (a UTC date), to the second, or ``None`` if it does not happen."""
    sun = _sun()
    from astral import Observer

    compute: Callable[..., datetime] = getattr(sun, event.value)
    try:
        instant = compute(Observer(latitude=latitude, longitude=longitude), day, tzinfo=UTC)
    except ValueError:  # the sun never reaches that elevation that day
        return None
    instant = instant.astimezone(UTC).replace(microsecond=0)
    # One slot per UTC day at most: an answer on a neighbouring day belongs to that day.
    return instant if instant.date() == day else None


def _sun() -> Any:
    try:
        from astral import sun
    except ImportError:
        raise InvalidSchedule(_INSTALL) from None
    return sun
