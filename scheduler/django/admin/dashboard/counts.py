"""The dashboard's counts, each one GROUP BY in the database: no run is loaded.

Every query reads the window's runs through ``scheduler_run_window_idx``
(slot, job, status): the database finds the window's first slot and reads on,
so the cost follows the runs inside the window, not the whole history.

:func:`window_counts` gives the chart's counts by bar and status and the
health table's by job together.  On PostgreSQL that is one pass over the
window's runs (grouped by bar, job and status, in parallel where the planner
chooses, then added up both ways in the database); elsewhere it is two
queries, :func:`status_counts` and :func:`job_counts`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connections
from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import Trunc

from ....model.runs import RunStatus
from ...fields import UTCDateTimeField
from ...models import Replica, Run
from ..common import database
from .periods import CHART_STATUSES, PROBLEM_STATUSES, Period, Span

__all__ = [
    "FAILURES_SHOWN",
    "REPLICAS_SHOWN",
    "JobCounts",
    "Replicas",
    "WindowCounts",
    "job_counts",
    "latest_failures",
    "replicas",
    "runs_in",
    "status_counts",
    "window_counts",
]

#: How many failed jobs, and how many replicas, the dashboard lists.
FAILURES_SHOWN = 10
REPLICAS_SHOWN = 20
_ENDED = (RunStatus.SUCCEEDED, *PROBLEM_STATUSES)
_CHARTED = frozenset(status.value for status in CHART_STATUSES)
_ENDED_VALUES = frozenset(status.value for status in _ENDED)
_PROBLEM_VALUES = frozenset(status.value for status in PROBLEM_STATUSES)
# The window's runs grouped by bar, job and status once, then added up by bar
# and status (the chart) and by job and status (the health table).  Names only
# are formatted in; the bar's unit and the window's ends are parameters.
_POSTGRES = """WITH grouped AS (
    SELECT DATE_TRUNC(%s, scheduled_for AT TIME ZONE 'UTC') AS bar, job_id, status,
        COUNT(*) AS runs
    FROM {runs} WHERE scheduled_for >= %s AND scheduled_for < %s
    GROUP BY 1, 2, 3)
SELECT bar, NULL, status, SUM(runs) FROM grouped GROUP BY bar, status
UNION ALL
SELECT NULL, job_id, status, SUM(runs) FROM grouped GROUP BY job_id, status"""


def runs_in(span: Span) -> QuerySet[Run]:
    """The runs whose slot falls in ``span``, on the scheduler's database."""
    return Run.objects.using(database()).filter(
        scheduled_for__gte=span.since, scheduled_for__lt=span.until
    )


def status_counts(span: Span, period: Period) -> dict[datetime, dict[str, int]]:
    """Runs per bar and status, in one query grouped by hour (or day) and status;
    for 6-hour bars the hours' counts are added up here (at most 168 x 6 rows)."""
    rows = (
        runs_in(span)
        .filter(status__in=[status.value for status in CHART_STATUSES])
        .annotate(bar=Trunc("scheduled_for", period.trunc, tzinfo=UTC))
        .values("bar", "status")
        .annotate(runs=Count("id"))
        .order_by()
    )
    found: dict[datetime, dict[str, int]] = defaultdict(dict)
    for row in rows:
        bar = found[span.bar_of(_utc(row["bar"]), period.bar_span)]
        bar[row["status"]] = bar.get(row["status"], 0) + row["runs"]
    return dict(found)


@dataclass(frozen=True, slots=True, kw_only=True)
class JobCounts:
    """How one job's runs in the window ended."""

    job_id: int
    ended: int
    problems: int

    @property
    def failure_rate(self) -> float | None:
        """Failed, timed out or lost, over those and the succeeded; ``None`` without any."""
        return self.problems / self.ended if self.ended else None


def job_counts(span: Span) -> list[JobCounts]:
    """Every job with runs in the window, and how they ended, in one query."""
    ended = Q(status__in=[status.value for status in _ENDED])
    problems = Q(status__in=[status.value for status in PROBLEM_STATUSES])
    rows = (
        runs_in(span)
        .values("job_id")
        .annotate(ended=Count("id", filter=ended), problems=Count("id", filter=problems))
        .order_by()
    )
    return [
        JobCounts(job_id=row["job_id"], ended=row["ended"], problems=row["problems"])
        for row in rows
    ]


def latest_failures(span: Span) -> list[Run]:
    """The latest failed, timed-out or lost run of each of the :data:`FAILURES_SHOWN`
    jobs that had one most recently (the highest run id), newest first: two queries."""
    problems = [status.value for status in PROBLEM_STATUSES]
    latest = (
        runs_in(span)
        .filter(status__in=problems)
        .values("job_id")
        .annotate(last=Max("id"))
        .order_by("-last")
        .values_list("last", flat=True)[:FAILURES_SHOWN]
    )
    ids = list(latest)
    rows = Run.objects.using(database()).filter(pk__in=ids).select_related("job")
    return sorted(rows, key=lambda run: -run.pk)


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowCounts:
    """The window's runs counted by bar and status, and by job."""

    #: Per bar start (UTC): runs per status, of :data:`CHART_STATUSES`.
    bars: dict[datetime, dict[str, int]]
    jobs: list[JobCounts]


def window_counts(span: Span, period: Period) -> WindowCounts:
    """The chart's and the health table's counts: one query on PostgreSQL, two elsewhere."""
    connection = connections[database()]
    if connection.vendor != "postgresql":
        return WindowCounts(bars=status_counts(span, period), jobs=job_counts(span))
    field = UTCDateTimeField()
    ends = [field.get_db_prep_value(end, connection) for end in (span.since, span.until)]
    sql = _POSTGRES.format(runs=connection.ops.quote_name(Run._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql, [period.trunc, *ends])
        rows = cursor.fetchall()
    return _split(span, period, rows)


def _split(span: Span, period: Period, rows: Iterable[tuple[Any, ...]]) -> WindowCounts:
    bars: dict[datetime, dict[str, int]] = defaultdict(dict)
    jobs: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for bar, job_id, status, runs in rows:
        count = int(runs)
        if isinstance(bar, datetime):
            if status in _CHARTED:
                counts = bars[span.bar_of(_utc(bar), period.bar_span)]
                counts[str(status)] = counts.get(str(status), 0) + count
        elif isinstance(job_id, int):
            ended = jobs[job_id]
            ended[0] += count if status in _ENDED_VALUES else 0
            ended[1] += count if status in _PROBLEM_VALUES else 0
    return WindowCounts(
        bars=dict(bars),
        jobs=[
            JobCounts(job_id=key, ended=ended, problems=problems)
            for key, (ended, problems) in jobs.items()
        ],
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Replicas:
    """The replicas that heartbeat last, and how many there are in all."""

    shown: list[Replica]
    total: int


def replicas() -> Replicas:
    """The :data:`REPLICAS_SHOWN` latest heartbeats, and the count: two queries."""
    rows = Replica.objects.using(database())
    return Replicas(shown=list(rows.order_by("-heartbeat_at")[:REPLICAS_SHOWN]), total=rows.count())


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
