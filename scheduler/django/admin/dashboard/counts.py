"""The dashboard's counts, each one GROUP BY in the database: no run is loaded.

Every query reads the window's runs through ``scheduler_run_window_idx``
(slot, job, status): the database finds the window's first slot and reads on,
so the cost follows the runs inside the window, not the whole history.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import Trunc

from ....model.runs import RunStatus
from ...models import Replica, Run
from ..common import database
from .periods import CHART_STATUSES, PROBLEM_STATUSES, Period, Span

__all__ = [
    "FAILURES_SHOWN",
    "REPLICAS_SHOWN",
    "JobCounts",
    "Replicas",
    "job_counts",
    "latest_failures",
    "replicas",
    "runs_in",
    "status_counts",
]

#: How many failed jobs, and how many replicas, the dashboard lists.
FAILURES_SHOWN = 10
REPLICAS_SHOWN = 20
_ENDED = (RunStatus.SUCCEEDED, *PROBLEM_STATUSES)


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
