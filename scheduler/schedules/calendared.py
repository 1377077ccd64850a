"""A schedule seen through a :class:`~.calendars.Calendar`.

:func:`next_allowed_after` answers ``next_after`` for a cron or interval
schedule whose job has a calendar.  A slot on an excluded day (a day in the
job's time zone) is not a slot with ``on_excluded: skip``; with
``next_business_day`` it moves to the same wall-clock time on the next day
the calendar allows, read with the same daylight-saving rules as a cron time
(a wall time the clock skips happens at the first instant after the gap, a
repeated one at its first occurrence).  Slots that move onto the same instant,
or onto a slot of that day, are one slot.

:func:`excluded_slots` lists what the calendar took away, and why, for
``tickwork next --explain`` and the admin preview.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..clock import ensure_aware_utc
from .calendars import Calendar, OnExcluded
from .kinds import Schedule, _transition, get_zone

__all__ = ["ExcludedSlot", "excluded_slots", "next_allowed_after"]

_TICK = timedelta(microseconds=1)
# A calendar that excludes every day for ten years is taken to exclude all.
_DAYS_LIMIT = 3660
# Slots looked at for one answer; far more than any real schedule needs.
_SLOTS_LIMIT = 500_000


@dataclass(frozen=True, slots=True)
class ExcludedSlot:
    """A slot of the schedule that the calendar dropped or moved."""

    slot: datetime  # aware UTC
    reason: str
    moved_to: datetime | None  # aware UTC; None: dropped


class _NextAllowed:
    """:meth:`Calendar.next_allowed` for days asked about in order.  Every day of
    one run of excluded days has the same answer (the day after the run), so a
    run of a thousand excluded days is walked once, not once per day in it."""

    __slots__ = ("_allowed", "_calendar", "_since")

    def __init__(self, calendar: Calendar) -> None:
        self._calendar = calendar
        self._since: date | None = None
        self._allowed: date | None = None

    def __call__(self, day: date) -> date | None:
        since, allowed = self._since, self._allowed
        # None: no allowed day for ten years, which is taken as none ever again.
        if since is not None and since <= day and (allowed is None or day < allowed):
            return allowed
        self._since, self._allowed = day, self._calendar.next_allowed(day, _DAYS_LIMIT)
        return self._allowed


def next_allowed_after(
    schedule: Schedule, calendar: Calendar, timezone: str, instant: datetime
) -> datetime | None:
    """The first due instant strictly after ``instant`` once ``calendar`` is applied."""
    after = ensure_aware_utc(instant)
    zone = get_zone(timezone)
    if calendar.on_excluded is OnExcluded.SKIP:
        return _next_skipping(schedule, calendar, zone, after)
    return _next_moving(schedule, calendar, zone, after)


def _next_skipping(
    schedule: Schedule, calendar: Calendar, zone: ZoneInfo, after: datetime
) -> datetime | None:
    cursor = after
    for _ in range(_SLOTS_LIMIT):
        due = schedule.next_after(cursor)
        if due is None:
            return None
        day = _local_date(due, zone)
        if calendar.reason(day) is None:
            return due
        allowed = calendar.next_allowed(day, _DAYS_LIMIT)
        if allowed is None:
            return None
        # Every slot of an excluded day is excluded: go straight to the next allowed one.
        cursor = max(_day_start(allowed, zone) - _TICK, due)
    return None


def _next_moving(
    schedule: Schedule, calendar: Calendar, zone: ZoneInfo, after: datetime
) -> datetime | None:
    # A slot moves later, never earlier; slots of the excluded days just before
    # ``after`` may have moved past it, so start looking at the first of them.
    cursor = _excluded_run_start(calendar, zone, after)
    allowed = _NextAllowed(calendar)
    best: datetime | None = None
    for _ in range(_SLOTS_LIMIT):
        due = schedule.next_after(cursor)
        if due is None or (best is not None and due > best):
            return best
        day = _local_date(due, zone)
        if calendar.reason(day) is None:
            moved: datetime | None = due
            cursor = due
        elif allowed(day) is None:
            return best  # no allowed day ever again: no later slot fires
        else:
            # The slots of one excluded day all move to one day, keeping their
            # order: only the first that lands after ``after`` can be the answer.
            moved = _first_moved_after(schedule, allowed, zone, due, after)
            cursor = max(_day_start(day + timedelta(days=1), zone) - _TICK, due)
        if moved is not None and moved > after and (best is None or moved < best):
            best = moved
    return best


def _first_moved_after(
    schedule: Schedule, allowed: _NextAllowed, zone: ZoneInfo, first: datetime, after: datetime
) -> datetime | None:
    """Of the slots of ``first``'s (excluded) day, from ``first`` on, where the
    first one whose move lands after ``after`` fires; ``None`` if none does."""
    moved = _moved(first, allowed, zone)
    if moved is None or moved > after:
        return moved
    # ``after`` is on the day the slots move to: look for the first slot of the
    # excluded day whose wall time is later than ``after``'s.
    day = _local_date(first, zone)
    wall = after.astimezone(zone).time().replace(tzinfo=None, fold=0)
    later = schedule.next_after(max(first, _at_wall(day, wall, zone)))
    if later is None or _local_date(later, zone) != day:
        return None
    return _moved(later, allowed, zone)


def _moved(slot: datetime, allowed: _NextAllowed, zone: ZoneInfo) -> datetime | None:
    """Where ``slot``, on an excluded day, fires under ``next_business_day``:
    its wall time on the next allowed day (``None``: no such day)."""
    local = slot.astimezone(zone)
    to = allowed(local.date())
    if to is None:
        return None
    return _at_wall(to, local.time().replace(tzinfo=None, fold=0), zone)


def _excluded_run_start(calendar: Calendar, zone: ZoneInfo, after: datetime) -> datetime:
    day = _local_date(after, zone)
    first: date | None = None
    for _ in range(_DAYS_LIMIT):
        if calendar.reason(day) is None:
            break
        first = day
        day -= timedelta(days=1)
    if first is None:
        return after
    return min(after, _day_start(first, zone) - _TICK)


def excluded_slots(
    schedule: Schedule,
    calendar: Calendar,
    timezone: str,
    after: datetime,
    until: datetime,
    limit: int = 100,
) -> Iterator[ExcludedSlot]:
    """The slots in (``after``, ``until``] that ``calendar`` dropped or moved, in order."""
    zone = get_zone(timezone)
    allowed = _NextAllowed(calendar)
    cursor: datetime | None = ensure_aware_utc(after)
    end = ensure_aware_utc(until)
    found = 0
    while found < limit and cursor is not None:
        cursor = schedule.next_after(cursor)
        if cursor is None or cursor > end:
            return
        reason = calendar.reason(_local_date(cursor, zone))
        if reason is None:
            continue
        moved = None
        if calendar.on_excluded is OnExcluded.NEXT_BUSINESS_DAY:
            moved = _moved(cursor, allowed, zone)
        found += 1
        yield ExcludedSlot(cursor, reason, moved)


def _local_date(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``zone`` (the end of a gap, if midnight is skipped)."""
    return _at_wall(day, time(0), zone)


def _at_wall(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The instant the clocks in ``zone`` show ``wall`` on ``day``: its first
    occurrence when the clock goes back over it, the first instant after the
    gap when the clock skips it (as a fixed-time cron job fires)."""
    naive = datetime.combine(day, wall)
    early = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if early.astimezone(zone).replace(tzinfo=None) == naive:
        return early
    # Skipped by a spring-forward change: fire when the gap ends.
    late = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return _transition(zone, min(early, late), max(early, late))
