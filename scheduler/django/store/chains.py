"""Chains on a Django database: the ended runs of upstream jobs, and the runs they start.

As the SQLAlchemy store does it: one indexed select of the chained jobs
(``chain_after``), then the ended runs no chain has seen (``chained_at``
NULL), locked ``SKIP LOCKED`` where the database can (SQLite's write lock
serialises replicas); the unique index on ``(job_id, upstream_run_id)``
refuses a second chained run for one upstream run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from ...model.runs import NewRun, Run
from ...stores.checked.chains import EndedUpstream
from ...stores.protocol.values import StoredJob
from ...stores.rows import run_columns, run_from_columns
from ...stores.rules import job_not_found
from ..models import Run as RunRow
from .changes import notify
from .jobs import stored
from .queries import ENABLED, JOB_FIELDS, RUN_FIELDS, chunks, for_update, jobs, runs

__all__ = ["add_chain_runs", "ended_upstream_runs", "mark_chained"]

_MICROSECOND = timedelta(microseconds=1)


def ended_upstream_runs(using: str, limit: int) -> list[EndedUpstream]:
    chained = jobs(using).filter(ENABLED, chain_after__isnull=False, removed_at__isnull=True)
    dependents: defaultdict[str, list[StoredJob]] = defaultdict(list)
    for row in chained.values(*JOB_FIELDS):
        dependents[row["chain_after"]].append(stored(row))
    if not dependents:
        return []
    names = dict(jobs(using).filter(name__in=sorted(dependents)).values_list("id", "name"))
    if not names:
        return []
    ended = runs(using).filter(
        job_id__in=sorted(names), chained_at__isnull=True, finished_at__isnull=False
    )
    locked = for_update(ended.order_by("finished_at", "id"), using, skip_locked=True)
    return [
        EndedUpstream(
            run_from_columns(row["id"], names[row["job_id"]], row),
            tuple(dependents[names[row["job_id"]]]),
        )
        for row in locked.values(*RUN_FIELDS)[:limit]
    ]


def add_chain_runs(using: str, rows: Sequence[tuple[str, NewRun]]) -> list[Run]:
    if not rows:
        return []
    wanted = sorted({name for name, _ in rows})
    ids = dict(jobs(using).filter(name__in=wanted).values_list("name", "id"))
    created = []
    for name, new in rows:
        if name not in ids:
            raise job_not_found(name)
        slots = runs(using).filter(job_id=ids[name], attempt=new.attempt)
        while slots.filter(scheduled_for=new.scheduled_for).exists():
            new = replace(new, scheduled_for=new.scheduled_for + _MICROSECOND)
        values = run_columns(ids[name], new, now=new.due_at, replica_id="")
        row = RunRow.objects.using(using).create(**values)
        created.append(run_from_columns(row.pk, name, values))
    notify(using)
    return created


def mark_chained(using: str, run_ids: Sequence[int], now: datetime) -> None:
    for chunk in chunks(using, sorted(run_ids)):
        runs(using).filter(id__in=chunk).update(chained_at=now)
