"""An independent, brute-force cron evaluator: the oracle for schedules.py.

It shares no code with the scheduler.  It parses fields itself and walks real
time one step (a minute, or a second for six-field expressions) at a time, the
way cronie's main loop does:

* a step whose wall clock jumped forward by less than 3 hours fires a
  fixed-time job once if any of its wall times was skipped (or is now);
* a step whose wall clock jumped backward by less than 3 hours starts a
  "repeat": fixed-time jobs stay silent until the wall clock passes the
  highest wall time already seen; wildcard jobs fire on every matching step;
* a jump of 3 hours or more resets the high-water mark: nothing is caught up
  or suppressed.

Slow on purpose, obviously right on purpose.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MONTHS = {name: i for i, name in enumerate(calendar.month_abbr) if name}
DAYS = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
BIG = timedelta(hours=3)


def _value(token: str, names: dict[str, int]) -> int:
    token = token.lower()
    if token in names:
        return names[token]
    return int(token)


def _numbers(field: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    out: set[int] = set()
    for part in field.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/")
            step = int(step_text)
        if part in ("*", "?"):
            first, last = low, high
        elif "-" in part:
            a, b = part.split("-")
            first, last = _value(a, names), _value(b, names)
        else:
            first = _value(part, {k.lower(): v for k, v in names.items()})
            last = high if step != 1 else first
        out.update(range(first, last + 1, step))
    return out


@dataclass
class Oracle:
    expr: str
    zone: ZoneInfo

    def __post_init__(self) -> None:
        fields = ALIASES.get(self.expr.strip().lower(), self.expr).split()
        self.seconds = {0}
        if len(fields) == 6:
            self.seconds = _numbers(fields[5], 0, 59, {})
        minute, hour, dom, month, dow = fields[:5]
        self.fixed = not (minute.startswith("*") or hour.startswith("*"))
        self.minutes = _numbers(minute, 0, 59, {})
        self.hours = _numbers(hour, 0, 23, {})
        self.months = _numbers(month, 1, 12, {k.lower(): v for k, v in MONTHS.items()})
        self.dom_star = dom.startswith(("*", "?"))
        self.dow_star = dow.startswith(("*", "?"))
        self.dom = dom.lower()
        self.dow = dow.lower()
        self.step = timedelta(seconds=1 if len(fields) == 6 else 60)

    # -- matching a wall-clock time -------------------------------------
    def matches(self, wall: datetime) -> bool:
        if wall.second not in self.seconds or wall.minute not in self.minutes:
            return False
        if wall.hour not in self.hours or wall.month not in self.months:
            return False
        dom_ok, dow_ok = self._dom_matches(wall), self._dow_matches(wall)
        if self.dom_star or self.dow_star:
            return dom_ok and dow_ok
        return dom_ok or dow_ok

    def _dom_matches(self, wall: datetime) -> bool:
        last = calendar.monthrange(wall.year, wall.month)[1]
        for part in self.dom.split(","):
            if part == "l":
                if wall.day == last:
                    return True
            elif part.endswith("w"):
                if wall.day == _nearest_weekday(wall.year, wall.month, int(part[:-1])):
                    return True
            elif wall.day in _numbers(part, 1, 31, {}):
                return True
        return False

    def _dow_matches(self, wall: datetime) -> bool:
        weekday = wall.isoweekday() % 7  # Sunday = 0
        last = calendar.monthrange(wall.year, wall.month)[1]
        for part in self.dow.split(","):
            if part.endswith("l") and part != "l":
                if weekday == _value(part[:-1], DAYS) % 7 and wall.day + 7 > last:
                    return True
            elif "#" in part:
                day, nth = part.split("#")
                if weekday == _value(day, DAYS) % 7 and (wall.day - 1) // 7 + 1 == int(nth):
                    return True
            elif weekday in {n % 7 for n in _numbers(part, 0, 7, DAYS)}:
                return True
        return False

    # -- walking real time ------------------------------------------------
    def fires(
        self, start: datetime, end: datetime, warmup: timedelta = timedelta(hours=4)
    ) -> list[datetime]:
        """Every fire instant in [start, end), aware UTC."""
        u = (start - warmup).replace(second=0, microsecond=0)
        previous = self._wall(u - self.step)
        high = previous
        out: list[datetime] = []
        while u < end:
            wall = self._wall(u)
            jump = wall - previous - self.step
            fire = False
            if jump > timedelta(0):  # wall times were skipped
                if jump >= BIG:
                    high = previous
                elif self.fixed and self._any_between(previous, wall):
                    fire = True
            elif jump < timedelta(0) and -jump >= BIG:
                high = wall - self.step  # a big jump back: nothing suppressed
            if not fire and self.matches(wall):
                fire = not self.fixed or wall > high
            if wall > high:
                high = wall
            if fire and u >= start:
                out.append(u)
            previous = wall
            u += self.step
        return out

    def _any_between(self, before: datetime, now: datetime) -> bool:
        wall = before + self.step
        while wall <= now:
            if self.matches(wall):
                return True
            wall += self.step
        return False

    def _wall(self, instant: datetime) -> datetime:
        return instant.astimezone(self.zone).replace(tzinfo=None)


def _nearest_weekday(year: int, month: int, day: int) -> int:
    last = calendar.monthrange(year, month)[1]
    day = min(day, last)
    weekday = calendar.weekday(year, month, day)  # Monday = 0
    if weekday == 5:  # Saturday: Friday before, or Monday after on the 1st
        return day - 1 if day > 1 else day + 2
    if weekday == 6:  # Sunday: Monday after, or Friday before at month end
        return day + 1 if day < last else day - 2
    return day


def transitions(zone: ZoneInfo, year: int) -> list[datetime]:
    """Instants (aware UTC) at which ``zone`` changes its UTC offset in ``year``."""
    out = []
    u = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    step = timedelta(hours=1)
    while u < end:
        nxt = u + step
        if u.astimezone(zone).utcoffset() != nxt.astimezone(zone).utcoffset():
            lo, hi = u, nxt
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(zone).utcoffset() == hi.astimezone(zone).utcoffset():
                    hi = mid
                else:
                    lo = mid
            out.append(hi.replace(microsecond=0))
        u = nxt
    return out
