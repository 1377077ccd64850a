"""When jobs run: :class:`Cron`, :class:`Every` and :class:`Once`.

Each schedule answers one question, ``next_after(instant)``: the first instant
strictly after ``instant`` at which the job is due, timezone-aware in UTC, or
``None`` when it will never be due again.  Schedules know nothing of storage.

Cron expressions are read in the job's wall-clock time and follow cronie's
rules across daylight-saving changes (see ``docs/concepts/time-and-dst.md``):

* spring forward by less than 3 hours: a *fixed-time* job whose wall time falls
  in the gap runs once, at the first real instant after the gap; a *wildcard*
  job (minute or hour field starting with ``*``) has no run for the missing
  minutes;
* fall back by less than 3 hours: a fixed-time job runs at the first
  occurrence of its wall time only; a wildcard job runs on every real minute
  that matches, so twice in the repeated hour;
* a jump of 3 hours or more is neither caught up nor suppressed: wall times
  that occur run, wall times that do not exist do not.

The implementation lets croniter iterate naive wall-clock times and maps each
onto real instants here.  Aware datetimes of one zone are never compared with
each other: Python compares them by wall time and ignores ``fold``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..clock import ensure_aware_utc
from ..errors import InvalidDuration, InvalidSchedule
from .cron import CronExpression, parse_cron, uses_hash
from .durations import format_duration, parse_duration

__all__ = ["Cron", "Every", "Once", "Schedule", "get_zone", "upcoming"]

#: Clock changes at least this large are treated as a change of standard time,
#: not daylight saving: nothing is caught up or suppressed.
BIG_JUMP = timedelta(hours=3)
# How far ahead to look for a clock going back that would repeat wall times
# already behind us.  Longer than any real backward jump (the largest, over the
# date line, is a day).
_LOOKAHEAD = timedelta(hours=26)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@runtime_checkable
class Schedule(Protocol):
    """Anything that can say when a job is next due."""

    def next_after(self, instant: datetime) -> datetime | None:
        """The first due instant strictly after ``instant`` (aware UTC), or ``None``."""
        ...

    def describe(self) -> str:
        """A short human description, such as ``At 02:30 (Europe/Berlin)``."""
        ...


def get_zone(name: str | ZoneInfo) -> ZoneInfo:
    """The :class:`~zoneinfo.ZoneInfo` for an IANA name; :class:`InvalidSchedule` if unknown."""
    if isinstance(name, ZoneInfo):
        return name
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidSchedule(
            f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin' or 'UTC'"
        ) from None


@dataclass(frozen=True, slots=True)
class Cron:
    """A cron expression read in the wall-clock time of ``tz``.

    ``hash_key`` (the job's name) spreads ``H`` fields: ``H H * * *`` runs
    once a day at a time that is fixed for that job but differs between jobs.
    """

    expr: str
    tz: str = "UTC"
    hash_key: str = ""
    _expression: CronExpression = field(init=False, repr=False, compare=False)
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        zone = get_zone(self.tz)
        object.__setattr__(self, "tz", zone.key)
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_expression", parse_cron(self.expr, self.hash_key))

    @property
    def expression(self) -> CronExpression:
        """The parsed expression."""
        return self._expression

    def keyed(self, hash_key: str) -> Cron:
        """This cron with ``H`` hashed by ``hash_key``: equal to
        ``Cron(expr, tz=tz, hash_key=hash_key)``, built without parsing or
        looking up its zone again when its expression has no ``H`` (so the
        thousands of jobs read back with one expression share its parse)."""
        if hash_key == self.hash_key:
            return self
        if uses_hash(self.expr):
            return Cron(self.expr, tz=self.tz, hash_key=hash_key)
        other = object.__new__(Cron)
        for name in ("expr", "tz", "_expression", "_zone"):
            object.__setattr__(other, name, getattr(self, name))
        object.__setattr__(other, "hash_key", hash_key)
        return other

    @property
    def is_wildcard(self) -> bool:
        """See :attr:`CronExpression.is_wildcard`."""
        return self._expression.is_wildcard

    def describe(self) -> str:
        return f"{self._expression.describe()} ({self.tz})"

    def next_after(self, instant: datetime) -> datetime | None:
        after = ensure_aware_utc(instant)
        ahead = self._first_fire(after, _wall(after, self._zone))
        repeat = self._repeat_start(after)
        if repeat is not None and (ahead is None or ahead > repeat[0]):
            # The clock goes back soon and will show wall times that are
            # already behind us again; for a wildcard job those are due again.
            again = self._first_fire(after, repeat[1] - _TICK, limit=_wall(after, self._zone))
            if again is not None and (ahead is None or again < ahead):
                return again
        return ahead

    def _first_fire(
        self, after: datetime, wall: datetime, limit: datetime | None = None
    ) -> datetime | None:
        """First fire > ``after`` among wall times > ``wall`` (and <= ``limit``)."""
        for candidate in self._expression.walls_after(wall):
            if limit is not None and candidate > limit:
                return None
            later = [fire for fire in self._fires(candidate) if fire > after]
            if later:
                return later[0]
        raise AssertionError("unreachable: walls_after is endless")  # pragma: no cover

    def _fires(self, wall: datetime) -> tuple[datetime, ...]:
        """The real instants (aware UTC, ascending) at which ``wall`` fires."""
        first = wall.replace(tzinfo=self._zone)
        second = wall.replace(tzinfo=self._zone, fold=1)
        before, after = first.utcoffset(), second.utcoffset()
        assert before is not None and after is not None  # noqa: S101 - ZoneInfo always answers
        early = (wall - before).replace(tzinfo=UTC)
        if before == after:
            return (early,)
        late = (wall - after).replace(tzinfo=UTC)
        fixed = not self._expression.is_wildcard
        if before > after:  # the clock went back: this wall time happens twice
            if fixed and before - after < BIG_JUMP:
                return (early,)
            return (early, late)
        # The clock went forward over this wall time: it never happens.
        if fixed and after - before < BIG_JUMP:
            return (_transition(self._zone, late, early),)
        return ()

    def _repeat_start(self, after: datetime) -> tuple[datetime, datetime] | None:
        """If the clock goes back within reach of ``after`` and repeats wall
        times at or before ``after``'s, return (instant of the change, the wall
        time it jumps back to)."""
        now_offset = _offset(self._zone, after)
        drop = now_offset - _offset(self._zone, after + _LOOKAHEAD)
        if drop <= timedelta(0) or _offset(self._zone, after + drop) == now_offset:
            return None
        if not self._expression.is_wildcard and drop < BIG_JUMP:
            return None  # fixed-time jobs never repeat a wall time on a small change
        change = _transition(self._zone, after, after + drop)
        return change, _wall(change, self._zone)


_TICK = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Every:
    """Every ``interval`` of real elapsed time, counted from ``anchor``.

    Daylight saving does not bend it: ``Every(timedelta(hours=1))`` is due
    3,600 seconds after its previous slot, whatever the clocks on the wall do.
    Without an anchor, slots are aligned to the Unix epoch, so ``15m`` runs at
    :00, :15, :30 and :45 on every replica.
    """

    interval: timedelta
    anchor: datetime | None = None

    def __post_init__(self) -> None:
        try:
            interval = parse_duration(self.interval)
        except InvalidDuration as error:
            raise InvalidSchedule(f"invalid interval: {error}") from None
        if interval <= timedelta(0):
            raise InvalidSchedule(f"an interval must be positive, got {format_duration(interval)}")
        object.__setattr__(self, "interval", interval)
        if self.anchor is not None:
            object.__setattr__(self, "anchor", _aware(self.anchor, "anchor"))

    def next_after(self, instant: datetime) -> datetime:
        after = ensure_aware_utc(instant)
        anchor = self.anchor or _EPOCH
        if after < anchor:
            return anchor
        return anchor + ((after - anchor) // self.interval + 1) * self.interval

    def describe(self) -> str:
        return f"every {format_duration(self.interval)}"


@dataclass(frozen=True, slots=True)
class Once:
    """A single instant, for one-off jobs."""

    at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", _aware(self.at, "at"))

    def next_after(self, instant: datetime) -> datetime | None:
        return self.at if self.at > ensure_aware_utc(instant) else None

    def describe(self, tz: str | ZoneInfo = "UTC") -> str:
        """``once at`` the instant, with the offset it has in ``tz`` (the job's zone)."""
        return f"once at {self.at.astimezone(get_zone(tz)).isoformat(timespec='seconds')}"


def upcoming(schedule: Schedule, after: datetime, count: int) -> Iterator[datetime]:
    """Up to ``count`` successive due instants strictly after ``after``."""
    current: datetime | None = after
    for _ in range(count):
        assert current is not None  # noqa: S101 - loop exits below when None
        current = schedule.next_after(current)
        if current is None:
            return
        yield current


def _aware(instant: datetime, what: str) -> datetime:
    try:
        return ensure_aware_utc(instant, what)
    except (ValueError, AttributeError) as error:
        raise InvalidSchedule(str(error)) from None


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None, fold=0)


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None  # noqa: S101 - ZoneInfo always answers
    return offset


def _transition(zone: ZoneInfo, low: datetime, high: datetime) -> datetime:
    """The instant in (low, high] at which the UTC offset becomes ``high``'s.

    Zone transitions fall on whole seconds; bisect down to one.
    """
    target = _offset(zone, high)
    low_s, high_s = int(low.timestamp()), int(high.timestamp())
    while high_s - low_s > 1:
        middle = (low_s + high_s) // 2
        if _offset(zone, datetime.fromtimestamp(middle, UTC)) == target:
            high_s = middle
        else:
            low_s = middle
    return datetime.fromtimestamp(high_s, UTC)
