"""History: reading runs back, and pruning them and the deferred calls they leave behind.

Every function that writes runs inside a transaction the store opened.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Case, Count, Exists, F, OuterRef, QuerySet, Value, When, Window
from django.db.models.functions import RowNumber

from ...model.policies import JobSource
from ...model.runs import Run, RunStatus
from ...stores.protocol.values import JOB_STATES, StoreOverview
from ...stores.rules import run_not_found
from ..models import Job
from .queries import ENABLED, PENDING, RUN_FIELDS, TERMINAL, chunks, jobs, runs
from .runs import run_from_row

__all__ = ["get_run", "list_runs", "overview", "prune"]

# A job's state, as StoredJob.state words it.
_STATE = Case(
    When(removed_at__isnull=False, then=Value("removed")),
    When(enabled=False, then=Value("disabled")),
    When(paused_at__isnull=False, then=Value("paused")),
    default=Value("active"),
)


def get_run(using: str, run_id: int) -> Run:
    rows = list(runs(using).filter(id=run_id).values(*RUN_FIELDS, "job__name"))
    if not rows:
        raise run_not_found(run_id)
    return run_from_row(rows[0])


def list_runs(using: str, job_name: str | None, status: RunStatus | None, limit: int) -> list[Run]:
    query = runs(using)
    if job_name is not None:
        query = query.filter(job__name=job_name)
    if status is not None:
        query = query.filter(status=status.value)
    query = query.order_by("-scheduled_for", "-attempt", "-id")
    return [run_from_row(row) for row in query.values(*RUN_FIELDS, "job__name")[:limit]]


def overview(using: str, now: datetime, run_ids: Sequence[int]) -> StoreOverview:
    """:meth:`~scheduler.stores.base.RunHistory.overview`: two aggregate
    queries, and the runs asked for in one (or a few chunks on SQLite)."""
    by_state = jobs(using).annotate(state=_STATE).values("state").annotate(count=Count("id"))
    counts = {row["state"]: row["count"] for row in by_state.order_by()}
    due_jobs = jobs(using).filter(ENABLED, next_run_at__lte=now).count()
    due_runs = runs(using).filter(status=PENDING, replica_id="", due_at__lte=now).count()
    found: list[Run] = []
    for chunk in chunks(using, list(run_ids)):
        rows = runs(using).filter(id__in=chunk).values(*RUN_FIELDS, "job__name")
        found.extend(run_from_row(row) for row in rows)
    return StoreOverview(
        jobs_by_state={state: int(counts.get(state, 0)) for state in JOB_STATES},
        due_backlog=due_jobs + due_runs,
        runs=tuple(sorted(found, key=lambda run: run.id)),
    )


def prune(using: str, now: datetime, keep_last: int | None, max_age: timedelta | None) -> int:
    """:meth:`~scheduler.stores.base.RunHistory.prune` inside a transaction, once
    the store has checked that there is something to prune.

    One ``DELETE`` per rule, not one with ``id IN (...) OR finished_at < ...``,
    whose plan on PostgreSQL grows with the square of the history (see the
    SQLAlchemy store's ``prune``).
    """
    deleted = 0
    if keep_last is not None:
        beyond = _beyond_newest(using, keep_last)
        deleted += runs(using).filter(id__in=beyond, status__in=TERMINAL).delete()[0]
    if max_age is not None:
        old = runs(using).filter(finished_at__lt=now - max_age, status__in=TERMINAL)
        deleted += old.delete()[0]
        _finished_one_offs(using, now - max_age).delete()
    return deleted


def _finished_one_offs(using: str, changed_before: datetime) -> QuerySet[Job]:
    """Deferred calls that ran (or were cancelled) and have no history left."""
    return jobs(using).filter(
        ~Exists(runs(using).filter(job_id=OuterRef("id"))),
        source=JobSource.CODE.value,
        run_at__isnull=False,
        next_run_at__isnull=True,
        paused_at__isnull=True,
        chain_after__isnull=True,  # a job that runs only after another is not done
        updated_at__lt=changed_before,
    )


def _beyond_newest(using: str, keep_last: int) -> QuerySet[Any, Any]:
    """Ids of terminal runs beyond the newest ``keep_last`` terminal runs of their job."""
    newest_first = [F("scheduled_for").desc(), F("attempt").desc(), F("id").desc()]
    ranked = runs(using).filter(status__in=TERMINAL)
    ranked = ranked.annotate(
        rank=Window(RowNumber(), partition_by=[F("job_id")], order_by=newest_first)
    )
    return ranked.filter(rank__gt=keep_last).values("id")
