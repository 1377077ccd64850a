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
    #: The bar width of the runs-over-time chart: ``hour`` or ``day`` (a Trunc kind).
    bucket: str

    @property
    def bucket_span(self) -> timedelta:
        return timedelta(hours=1) if self.bucket == "hour" else timedelta(days=1)


PERIODS: tuple[Period, ...] = (
    Period(key="24h", label="24 hours", span=timedelta(hours=24), bucket="hour"),
    Period(key="7d", label="7 days", span=timedelta(days=7), bucket="hour"),
    Period(key="30d", label="30 days", span=timedelta(days=30), bucket="day"),
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
        """The period up to ``now``, started on the whole hour (or day) before,
        so that every bar of the chart is a whole hour (or day)."""
        since = now - period.span
        if period.bucket == "hour":
            since = since.replace(minute=0, second=0, microsecond=0)
        else:
            since = since.replace(hour=0, minute=0, second=0, microsecond=0)
        return cls(since=since, until=now)

    def buckets(self, width: timedelta) -> list[datetime]:
        """The start of every bar, oldest first."""
        starts, at = [], self.since
        while at < self.until:
            starts.append(at)
            at += width
        return starts
