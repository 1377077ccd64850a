"""The due-queue: what is due next, claiming due jobs and pending runs, inserting runs.

A claim is one transaction the store opened and a fixed number of statements
whatever the number of due jobs (``bulk_create`` for the runs, ``bulk_update``
for the jobs' next slots).  On PostgreSQL due rows are selected ``FOR NO KEY
UPDATE SKIP LOCKED``, so replicas split the due set; on SQLite the
transaction holds the write lock from its start.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db.models import Exists, Min, OuterRef, Q
from django.db.models.expressions import RawSQL

from ...model.policies import OverlapPolicy
from ...model.runs import ClaimedRun, NewRun, Run, RunStatus
from ...stores.base import NextWork, Planner, SlotPlan
from ...stores.checked.verbs import Claim
from ...stores.protocol.values import earliest
from ...stores.rows import (
    ACTIVE_RUN_CONDITION,
    claim_rows,
    run_columns,
    run_from_columns,
    spec_from_columns,
)
from ...stores.rules import job_not_found, one_run_per_queue_job
from ..models import Job
from ..models import Run as RunRow
from .chains import first_unfollowed_end
from .changes import notify
from .jobs import stored
from .queries import (
    BUSY,
    ENABLED,
    JOB_FIELDS,
    PENDING,
    RUN_FIELDS,
    chunks,
    for_update,
    jobs,
    runs,
)
from .runs import run_from_row

__all__ = ["add_run", "claim_due", "claim_pending", "next_work"]

QUEUED = RunStatus.QUEUED.value
# Whether the job of the row has a run that has not ended: one probe of the
# partial index of active runs, whose condition must be written out as
# literals for the database to use it (Django would bind the IN list).  A
# scalar subquery, not EXISTS, which PostgreSQL may turn into a hash of every
# active run.
_HAS_ACTIVE_RUN = RawSQL(  # noqa: S611 - constant text, no value from outside
    "SELECT 1 FROM scheduler_run WHERE scheduler_run.job_id = scheduler_job.id "  # noqa: S608
    f"AND scheduler_run.{ACTIVE_RUN_CONDITION} LIMIT 1",
    (),
)
# Up to this many distinct next run times, a claim advances its jobs with one
# UPDATE per instant; beyond it, with one CASE-per-row bulk update.
_FEW_INSTANTS = 4


def next_work(using: str) -> NextWork:
    """:meth:`~scheduler.stores.base.RunQueue.next_work`: three indexed ``MIN`` queries."""
    job = jobs(using).filter(ENABLED).aggregate(at=Min("next_run_at"))["at"]
    run = runs(using).filter(status=PENDING, replica_id="").aggregate(at=Min("due_at"))["at"]
    return NextWork(earliest(job, run), first_unfollowed_end(using))


def claim_due(using: str, *, now: datetime, replica_id: str, limit: int, plan: Planner) -> Claim:
    """:meth:`~scheduler.stores.base.RunQueue.claim_due` inside a transaction: the
    claimed runs, unsorted, how many jobs were due, and the planned slots left
    out because they already had a run (:func:`_taken`)."""
    due_query = (
        jobs(using)
        .filter(ENABLED, next_run_at__lte=now)
        .annotate(busy=_HAS_ACTIVE_RUN)  # the overlap rule's question, in the same select
        .order_by("next_run_at")  # the index's order: no sort of every due job
    )
    due = list(for_update(due_query, using, skip_locked=True).values(*JOB_FIELDS, "busy")[:limit])
    if not due:
        return Claim()
    due_jobs = {row["id"]: stored(row) for row in due}
    busy = {row["id"] for row in due if row["busy"] is not None}
    plans = {job_id: plan(job, job_id in busy, now) for job_id, job in due_jobs.items()}
    planned = claim_rows(plans, due_jobs, busy, now=now, replica_id=replica_id)
    taken = _taken(using, planned)
    rows = [row for row in planned if _slot(row) not in taken]
    ids = _insert_runs(using, rows, now=now, replica_id=replica_id) if rows else []
    _advance(using, plans)
    claimed = [
        ClaimedRun(
            run=run_from_columns(run_id, due_jobs[row["job_id"]].spec.name, row),
            job=due_jobs[row["job_id"]].spec,
        )
        for run_id, row in zip(ids, rows, strict=True)
        if row["replica_id"]
    ]
    return Claim(
        claimed=claimed,
        due_jobs=len(due_jobs),
        taken=[
            (due_jobs[row["job_id"]].spec.name, row["scheduled_for"], row["attempt"])
            for row in planned
            if _slot(row) in taken
        ],
    )


def claim_pending(using: str, *, now: datetime, replica_id: str, limit: int) -> list[ClaimedRun]:
    """:meth:`~scheduler.stores.base.RunQueue.claim_pending` inside a transaction."""
    busy = runs(using).filter(job_id=OuterRef("job_id"), status__in=BUSY)
    claimable = (
        runs(using)
        .filter(status=PENDING, replica_id="", due_at__lte=now)
        .filter(~Q(job__overlap=OverlapPolicy.QUEUE.value) | ~Exists(busy))
        .order_by("due_at", "id")
    )
    locked = for_update(claimable, using, skip_locked=True, of_self=True)
    rows = list(locked.values(*RUN_FIELDS, "job__name")[:limit])
    if not rows:
        return []
    specs = {
        row["id"]: spec_from_columns(row)
        for chunk in chunks(using, sorted({row["job_id"] for row in rows}))
        for row in jobs(using).filter(id__in=chunk).values(*JOB_FIELDS)
    }
    rows = one_run_per_queue_job(rows, lambda row: specs[row["job_id"]])
    handed_to: defaultdict[str, list[int]] = defaultdict(list)
    for row in rows:
        handed_to[specs[row["job_id"]].executor].append(row["id"])
    for executor, run_ids in handed_to.items():  # one update per executor, not per run
        for chunk in chunks(using, run_ids):
            runs(using).filter(id__in=chunk).update(
                status=QUEUED, executor=executor, replica_id=replica_id, claimed_at=now
            )
    return [
        ClaimedRun(
            run=run_from_row(
                {
                    **row,
                    "status": QUEUED,
                    "executor": specs[row["job_id"]].executor,
                    "replica_id": replica_id,
                    "claimed_at": now,
                }
            ),
            job=specs[row["job_id"]],
        )
        for row in rows
    ]


def add_run(using: str, job_name: str, new: NewRun) -> Run:
    """Insert one unclaimed run of ``job_name``; Django's IntegrityError if its
    slot and attempt exist, :class:`~scheduler.errors.JobNotFound` if the job does not."""
    job_id = jobs(using).filter(name=job_name).values_list("id", flat=True).first()
    if job_id is None:
        raise job_not_found(job_name)
    values = run_columns(job_id, new, now=new.due_at, replica_id="")
    created = RunRow.objects.using(using).create(**values)
    notify(using)
    return run_from_columns(created.pk, job_name, values)


def _slot(row: Mapping[str, Any]) -> tuple[int, datetime, int]:
    return (row["job_id"], row["scheduled_for"], row["attempt"])


def _taken(using: str, rows: Sequence[Mapping[str, Any]]) -> set[tuple[int, datetime, int]]:
    """The slots and attempts of ``rows`` that already have a run: one select on
    the slot constraint's index per chunk of jobs.  The claim holds its jobs'
    rows, so no other claim inserts their slots meanwhile; a manual run that
    takes one in that instant makes the insert fail with the constraint's
    refusal, :class:`~scheduler.errors.DuplicateRun`, and the next claim
    skips it."""
    keys = {_slot(row) for row in rows}
    first = min(slot for _, slot, _ in keys)
    last = max(slot for _, slot, _ in keys)
    found: set[tuple[int, datetime, int]] = set()
    for chunk in chunks(using, sorted({job_id for job_id, _, _ in keys})):
        query = runs(using).filter(job_id__in=chunk, scheduled_for__range=(first, last))
        found.update(query.values_list("job_id", "scheduled_for", "attempt"))
    return found & keys


def _insert_runs(
    using: str, rows: Sequence[dict[str, Any]], *, now: datetime, replica_id: str
) -> list[int]:
    """Insert runs in batches; their ids, in the order of ``rows``."""
    created = runs(using).bulk_create([RunRow(**row) for row in rows])
    ids = [run.pk for run in created]
    if all(run_id is not None for run_id in ids):
        return ids
    # A SQLite older than 3.35 cannot return the ids of a batch insert;
    # find the claimed ones by their slot, which is unique.
    return _ids_by_slot(using, rows, now=now, replica_id=replica_id)


def _ids_by_slot(
    using: str, rows: Sequence[Mapping[str, Any]], *, now: datetime, replica_id: str
) -> list[int]:
    found: dict[tuple[int, datetime, int], int] = {}
    job_ids = sorted({row["job_id"] for row in rows if row["replica_id"]})
    for chunk in chunks(using, job_ids):
        query = runs(using).filter(job_id__in=chunk, replica_id=replica_id, claimed_at=now)
        for run in query.values("id", "job_id", "scheduled_for", "attempt"):
            found[(run["job_id"], run["scheduled_for"], run["attempt"])] = run["id"]
    slots = [(row["job_id"], row["scheduled_for"], row["attempt"]) for row in rows]
    return [found.get(slot, 0) for slot in slots]


def _advance(using: str, plans: Mapping[int, SlotPlan]) -> None:
    """Every planned job's ``next_run_at``: one update per distinct instant
    (jobs sharing a schedule move together), or one batch when they are many."""
    movers: defaultdict[datetime | None, list[int]] = defaultdict(list)
    for job_id, chosen in plans.items():
        movers[chosen.next_run_at].append(job_id)
    if len(movers) > _FEW_INSTANTS:
        rows = [Job(id=job_id, next_run_at=at) for at, ids in movers.items() for job_id in ids]
        jobs(using).bulk_update(rows, ["next_run_at"])
        return
    for at, job_ids in movers.items():
        for chunk in chunks(using, job_ids):
            jobs(using).filter(id__in=chunk).update(next_run_at=at)
