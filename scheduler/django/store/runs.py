"""Run rows: recording their life, reading and pruning history.

Every function that writes runs inside a transaction the store opened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, F, OuterRef, QuerySet, Window
from django.db.models.functions import RowNumber

from ...model.policies import JobSource
from ...model.runs import Outcome, Run, RunStatus
from ...stores.rows import outcome_columns, run_from_columns
from ...stores.rules import run_not_found
from ..models import Job
from ..models import Run as RunRow
from .queries import (
    RUN_FIELDS,
    RUNNING,
    TERMINAL,
    Row,
    chunks,
    jobs,
    runs,
)

__all__ = [
    "beat_runs",
    "finish",
    "get_run",
    "list_runs",
    "prune",
    "run_from_row",
    "set_external_ids",
    "transition",
]


def run_from_row(row: Row) -> Run:
    """The :class:`Run` of a run row read with its job's name as ``job__name``."""
    return run_from_columns(row["id"], row["job__name"], row)


def set_external_ids(using: str, external_ids: Mapping[int, str]) -> None:
    rows = [RunRow(id=run_id, external_id=ext) for run_id, ext in external_ids.items()]
    runs(using).bulk_update(rows, ["external_id"])


def beat_runs(using: str, run_ids: Sequence[int], now: datetime) -> None:
    for chunk in chunks(using, list(run_ids)):
        runs(using).filter(id__in=chunk, status=RUNNING).update(heartbeat_at=now)


def transition(using: str, run_id: int, allowed: list[str], changes: Mapping[str, object]) -> bool:
    """Apply ``changes`` if the run is in one of the ``allowed`` statuses."""
    if runs(using).filter(id=run_id, status__in=allowed).update(**changes) == 1:
        return True
    if not runs(using).filter(id=run_id).exists():
        raise run_not_found(run_id)
    return False


def finish(using: str, run_id: int, outcome: Outcome, finished_at: datetime) -> None:
    """:meth:`~scheduler.stores.base.Store.mark_finished` inside a transaction."""
    found = list(
        runs(using).filter(id=run_id).select_for_update(no_key=True).values("status", "started_at")
    )
    if not found:
        raise run_not_found(run_id)
    if found[0]["status"] in TERMINAL:
        return
    runs(using).filter(id=run_id).update(
        **outcome_columns(outcome, started_at=found[0]["started_at"], finished_at=finished_at)
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
        query = query.filter(status=RunStatus(status).value)
    query = query.order_by("-scheduled_for", "-attempt", "-id")
    return [run_from_row(row) for row in query.values(*RUN_FIELDS, "job__name")[:limit]]


def prune(using: str, now: datetime, keep_last: int | None, max_age: timedelta | None) -> int:
    """:meth:`~scheduler.stores.base.Store.prune` inside a transaction, once
    the store has checked that there is something to prune.

    One ``DELETE`` per rule, not one with ``id IN (...) OR finished_at < ...``,
    whose plan on PostgreSQL grows with the square of the history (see the
    SQLAlchemy store's ``prune``).
    """
    deleted = 0
    if keep_last is not None:
        beyond = _beyond_newest(using, max(keep_last, 0))
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
