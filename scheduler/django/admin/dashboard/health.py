"""The per-job figures of the dashboard: failure rate and p95 duration, worst first."""

from __future__ import annotations

from dataclasses import dataclass

from ...models import Job
from ..common import database
from .counts import JobCounts

__all__ = ["HEALTH_SHOWN", "Health", "JobHealth", "job_health"]

#: How many jobs the table lists.
HEALTH_SHOWN = 15


@dataclass(frozen=True, slots=True, kw_only=True)
class JobHealth:
    """One job's line: its runs that ended in the window and how they went."""

    job_id: int
    name: str
    ended: int
    problems: int
    failure_rate: float | None
    p95_seconds: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Health:
    """The worst :data:`HEALTH_SHOWN` jobs, and how many other jobs ran in the window."""

    jobs: tuple[JobHealth, ...]
    hidden: int


def job_health(counts: list[JobCounts], p95: dict[int, float]) -> Health:
    """Failure rate, then p95 duration (``p95``, by job id), worst first; one
    query, for the names of the jobs shown.

    ``counts`` has one row per job that ran in the window (at most the number
    of jobs, whatever the number of runs); they are ranked here.
    """
    ranked = sorted(
        counts,
        key=lambda row: (
            1.0 if row.failure_rate is None else -row.failure_rate,
            -(p95.get(row.job_id) or 0.0),
            row.job_id,
        ),
    )
    shown = ranked[:HEALTH_SHOWN]
    names = dict(
        Job.objects.using(database())
        .filter(pk__in=[row.job_id for row in shown])
        .values_list("id", "name")
    )
    return Health(
        jobs=tuple(
            JobHealth(
                job_id=row.job_id,
                name=names.get(row.job_id, f"job {row.job_id}"),
                ended=row.ended,
                problems=row.problems,
                failure_rate=row.failure_rate,
                p95_seconds=p95.get(row.job_id),
            )
            for row in shown
        ),
        hidden=len(ranked) - len(shown),
    )
