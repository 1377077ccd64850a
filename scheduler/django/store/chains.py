"""Chains on a Django database: the ended runs of upstream jobs, and the runs they start.

As the SQLAlchemy store does it: one indexed select of the chained jobs
(``chain_after``, a join's first upstream; their specs name every upstream),
then the ended runs no chain has seen (``chained_at`` NULL), locked ``SKIP
LOCKED`` where the database can (SQLite's write lock serialises replicas);
the unique index on ``(job_id, upstream_run_id)`` refuses a second chained
run for one upstream run (or one join's key), and the insert here leaves
such a run out quietly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Min, OuterRef, QuerySet, Subquery

from ...model.runs import NewRun, Run
from ...stores.checked.chains import EndedUpstream
from ...stores.protocol.values import StoredJob
from ...stores.rows import (
    is_slot_violation,
    is_upstream_violation,
    run_columns,
    run_from_columns,
)
from ...stores.rules import job_not_found
from ..models import Job, JobUpstream
from ..models import Run as RunRow
from .changes import notify
from .jobs import stored
from .queries import ENABLED, JOB_FIELDS, RUN_FIELDS, chunks, for_update, jobs, runs

__all__ = [
    "add_chain_runs",
    "anything_to_follow",
    "ended_runs_at",
    "ended_upstream_runs",
    "first_unfollowed_end",
    "mark_chained",
]

_MICROSECOND = timedelta(microseconds=1)


def _chained(using: str) -> QuerySet[Job]:
    return jobs(using).filter(ENABLED, chain_after__isnull=False, removed_at__isnull=True)


def anything_to_follow(using: str) -> bool:
    return first_unfollowed_end(using) is not None


def first_unfollowed_end(using: str) -> datetime | None:
    """The earliest end of a run of a job that enabled jobs run after, not yet followed."""
    # A join's first upstream is its chain_after too: its other upstreams are
    # found from the same index, then by job in scheduler_job_upstream.
    chained = _chained(using)
    joined = JobUpstream.objects.using(using).filter(job__in=chained.values("id"))
    upstreams = chained.values("chain_after").union(joined.values("name"))
    # One probe of the (job, chained_at, finished_at) index per upstream job,
    # as a subquery per job: a join of the runs lets a planner with old
    # statistics scan every ended run (see the SQLAlchemy store's NEXT_WAKE).
    first_end = (
        runs(using)
        .filter(job_id=OuterRef("id"), chained_at__isnull=True, finished_at__isnull=False)
        .order_by("chained_at", "finished_at")
        .values("finished_at")[:1]
    )
    ends = jobs(using).filter(name__in=upstreams).annotate(end=Subquery(first_end))
    found: datetime | None = ends.aggregate(at=Min("end"))["at"]
    return found


def ended_upstream_runs(using: str, limit: int) -> list[EndedUpstream]:
    chained = _chained(using)
    dependents: defaultdict[str, list[StoredJob]] = defaultdict(list)
    for row in chained.values(*JOB_FIELDS):
        job = stored(row)
        for upstream in job.spec.after:
            dependents[upstream].append(job)
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


def ended_runs_at(using: str, job_names: Collection[str], slots: Collection[datetime]) -> list[Run]:
    if not job_names or not slots:
        return []
    names = dict(jobs(using).filter(name__in=sorted(job_names)).values_list("id", "name"))
    found = runs(using).filter(
        job_id__in=sorted(names), scheduled_for__in=sorted(slots), finished_at__isnull=False
    )
    return [
        run_from_columns(row["id"], names[row["job_id"]], row) for row in found.values(*RUN_FIELDS)
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
        inserted = _insert(using, ids[name], new)
        if inserted is not None:
            created.append(run_from_columns(inserted[0], name, inserted[1]))
    if created:
        notify(using)
    return created


def _insert(using: str, job_id: int, new: NewRun) -> tuple[int, dict[str, Any]] | None:
    """Insert ``new`` at the first free slot from its own; its id and columns, or
    ``None`` if the job has a run for its upstream run already (another replica
    completed the same join, or followed the same end).

    A slot found taken moves it on; one taken by another replica in that
    instant (both moved to the same free slot) fails only the savepoint.  A
    refusal by the upstream run's index ends the loop: it never moves the slot.
    Whether the job has a run for the upstream run is asked again after every
    slot found taken: the slot may be taken by that very run, committed by
    another replica since the last look, and on a partitioned run table (whose
    upstream index holds the slot too) moving on would let a second one in."""
    slots = runs(using).filter(job_id=job_id, attempt=new.attempt)
    followed = runs(using).filter(job_id=job_id, upstream_run_id=new.upstream_run_id)
    while True:
        if new.upstream_run_id is not None and followed.exists():
            return None
        if slots.filter(scheduled_for=new.scheduled_for).exists():
            new = replace(new, scheduled_for=new.scheduled_for + _MICROSECOND)
            continue
        values = run_columns(job_id, new, now=new.due_at, replica_id="")
        try:
            with transaction.atomic(using=using):
                return RunRow.objects.using(using).create(**values).pk, values
        except IntegrityError as error:
            if is_upstream_violation(error.__cause__):
                return None
            if not is_slot_violation(error.__cause__):
                raise


def mark_chained(using: str, run_ids: Sequence[int], now: datetime) -> None:
    for chunk in chunks(using, sorted(run_ids)):
        runs(using).filter(id__in=chunk).update(chained_at=now)
