"""The windows the dashboard offers, and what each one reads: its span and its bar width."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ....model.runs import RunStatus

__all__ = [
    "CHART_STATUSES",
    "DEFAULT",
    "PERIODS",
    "PROBLEM_STATUSES",
    "Period",
    "Span",
    "period_named",
]

#: The statuses the runs-over-time chart stacks, bottom up: every terminal one a
#: slot can end in (cancelled runs and runs still going are not drawn).
CHART_STATUSES: tuple[RunStatus, ...] = (
    RunStatus.SUCCEEDED,
    RunStatus.FAILED,
    RunStatus.TIMED_OUT,
    RunStatus.LOST,
    RunStatus.MISSED,
    RunStatus.SKIPPED,
)
#: The ends a failure rate counts as failures; succeeded is the only other
#: end it counts (a missed, skipped or cancelled slot never ran).
PROBLEM_STATUSES: tuple[RunStatus, ...] = (RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.LOST)


@dataclass(frozen=True, slots=True, kw_only=True)
class Period:
    """One choice of the window selector."""

    key: str
    label: str
    span: timedelta
    #: The width of a bar of the runs-over-time chart, in hours: 1, 6 or 24.
    bar_hours: int

    @property
    def bar_span(self) -> timedelta:
        return timedelta(hours=self.bar_hours)

    @property
    def trunc(self) -> str:
        """What the database groups the slots by (a Trunc kind): ``hour`` or ``day``;
        6-hour bars add up six hours each."""
        return "day" if self.bar_hours == 24 else "hour"


PERIODS: tuple[Period, ...] = (
    Period(key="24h", label="24 hours", span=timedelta(hours=24), bar_hours=1),
    Period(key="7d", label="7 days", span=timedelta(days=7), bar_hours=6),
    Period(key="30d", label="30 days", span=timedelta(days=30), bar_hours=24),
)
DEFAULT = PERIODS[0]


def period_named(key: str | None) -> Period | None:
    """The period whose key is ``key``; :data:`DEFAULT` for none; ``None`` if unknown."""
    if not key:
        return DEFAULT
    return next((period for period in PERIODS if period.key == key), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Span:
    """The slots a page reads: from ``since`` (inclusive) to ``until`` (exclusive)."""

    since: datetime
    until: datetime

    @classmethod
    def ending(cls, now: datetime, period: Period) -> Span:
        """The period up to ``now``, started on the bar boundary before (UTC: a whole
        hour, a sixth of a day or midnight), so that every bar is a whole one."""
        since = (now - period.span).replace(minute=0, second=0, microsecond=0)
        since -= timedelta(hours=since.hour % period.bar_hours)
        return cls(since=since, until=now)

    def bar_of(self, instant: datetime, width: timedelta) -> datetime:
        """The start of the bar of ``width`` that holds ``instant``."""
        return self.since + width * ((instant - self.since) // width)

    def buckets(self, width: timedelta) -> list[datetime]:
        """The start of every bar, oldest first."""
        starts, at = [], self.since
        while at < self.until:
            starts.append(at)
            at += width
        return starts
