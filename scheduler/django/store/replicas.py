"""Replicas: heartbeats, listing them, recovering the runs of dead ones, forgetting old ones.

Every function runs inside a transaction the store opened.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Concat

from ...model.runs import NOT_STARTED_PREFIX, RunStatus, not_started_suffix
from ...stores.base import RecoveryReport, ReplicaInfo, Retrier
from ...stores.rows import is_slot_violation, run_columns, spec_from_columns
from ..fields import UTCDateTimeField
from ..models import Run as RunRow
from .changes import notify
from .queries import (
    ACTIVE,
    BUSY,
    JOB_FIELDS,
    PENDING,
    QUEUED,
    RUN_FIELDS,
    RUNNING,
    chunks,
    for_update,
    jobs,
    replicas,
    runs,
)
from .runs import run_from_row

__all__ = ["heartbeat", "list_replicas", "prune_replicas", "recover", "stop_replica"]


def heartbeat(using: str, replica_id: str, *, hostname: str, pid: int, now: datetime) -> None:
    restarted = Case(
        When(stopped_at__isnull=True, then=F("started_at")),
        default=Value(now, output_field=UTCDateTimeField()),
    )
    updated = (
        replicas(using)
        .filter(id=replica_id)
        .update(
            # First: MariaDB and MySQL assign left to right, and a CASE after
            # "stopped_at = NULL" would read the NULL it just wrote.
            started_at=restarted,
            hostname=hostname,
            pid=pid,
            heartbeat_at=now,
            stopped_at=None,
        )
    )
    if not updated:
        replicas(using).create(
            id=replica_id, hostname=hostname, pid=pid, started_at=now, heartbeat_at=now
        )


def stop_replica(using: str, replica_id: str, *, now: datetime) -> None:
    if not replicas(using).filter(id=replica_id).update(stopped_at=now):
        replicas(using).create(
            id=replica_id,
            hostname="",
            pid=0,
            started_at=now,
            heartbeat_at=now,
            stopped_at=now,
        )


_REPLICA_FIELDS = ("id", "hostname", "pid", "started_at", "heartbeat_at", "stopped_at")


def list_replicas(using: str) -> list[ReplicaInfo]:
    """Every replica row, newest heartbeat first, ties by id."""
    rows = replicas(using).order_by("-heartbeat_at", "id").values(*_REPLICA_FIELDS)
    return [ReplicaInfo(**row) for row in rows]


def recover(
    using: str,
    *,
    now: datetime,
    stale_after: timedelta,
    retry: Retrier | None,
    start_timeout: timedelta | None,
) -> RecoveryReport:
    """:meth:`~scheduler.stores.base.ReplicaStore.recover` inside a transaction."""
    alive = replicas(using).filter(
        id=OuterRef("replica_id"), stopped_at__isnull=True, heartbeat_at__gte=now - stale_after
    )
    orphans = runs(using).exclude(replica_id="").exclude(Exists(alive))
    message = Concat(Value("replica "), F("replica_id"), Value(" stopped heartbeating"))
    retries: list[int] = []
    released = _locked_ids(orphans.filter(status=PENDING))
    lost = _locked_ids(orphans.filter(status__in=BUSY, external_id=""))
    for chunk in chunks(using, released):
        runs(using).filter(id__in=chunk).update(replica_id="", claimed_at=None)
    for chunk in chunks(using, lost):
        runs(using).filter(id__in=chunk).update(
            status=RunStatus.LOST.value, finished_at=now, error=message
        )
    silent = _lose_silent_workers(using, now=now, stale_before=now - stale_after)
    unstarted = [] if start_timeout is None else _lose_unstarted(using, now, start_timeout)
    lost = sorted({*lost, *silent, *unstarted})
    if retry is not None and lost:
        retries = _retry_lost(using, lost, retry)
    return RecoveryReport(
        released=tuple(released), lost=tuple(lost), retries=tuple(sorted(retries))
    )


def prune_replicas(using: str, *, cutoff: datetime) -> int:
    holds_a_run = runs(using).filter(replica_id=OuterRef("id"), status__in=ACTIVE)
    deleted, _ = (
        replicas(using)
        .filter(heartbeat_at__lt=cutoff)
        .filter(Q(stopped_at__isnull=True) | Q(stopped_at__lt=cutoff))
        .exclude(Exists(holds_a_run))
        .delete()
    )
    return deleted


def _lose_silent_workers(using: str, *, now: datetime, stale_before: datetime) -> list[int]:
    """Mark ``lost`` the running runs whose worker outside the scheduler went
    quiet before ``stale_before`` (no beat since; or, with an external id
    and no beat at all, started before it); return their ids."""
    silent = Q(heartbeat_at__lt=stale_before) | Q(
        heartbeat_at__isnull=True, started_at__lt=stale_before, external_id__gt=""
    )
    ids = _locked_ids(runs(using).filter(silent, status=RUNNING))
    message = Concat(Value("worker "), F("worker"), Value(" stopped heartbeating"))
    for chunk in chunks(using, ids):
        runs(using).filter(id__in=chunk).update(
            status=RunStatus.LOST.value, finished_at=now, error=message
        )
    return ids


def _lose_unstarted(using: str, now: datetime, start_timeout: timedelta) -> list[int]:
    """Mark ``lost`` the queued runs handed to workers outside the scheduler (they
    have an external id) that no worker started within ``start_timeout`` of
    their claim; return their ids."""
    waiting = runs(using).filter(
        status=QUEUED, external_id__gt="", claimed_at__lt=now - start_timeout
    )
    ids = _locked_ids(waiting)
    message = Concat(
        Value(NOT_STARTED_PREFIX), F("executor"), Value(not_started_suffix(start_timeout))
    )
    for chunk in chunks(using, ids):
        runs(using).filter(id__in=chunk).update(
            status=RunStatus.LOST.value, finished_at=now, error=message
        )
    return ids


def _retry_lost(using: str, lost: Sequence[int], retry: Retrier) -> list[int]:
    """Insert the next attempt ``retry`` asks for of each lost run, unless it exists."""
    rows = [
        row
        for chunk in chunks(using, list(lost))
        for row in runs(using).filter(id__in=chunk).values(*RUN_FIELDS, "job__name")
    ]
    job_ids = sorted({row["job_id"] for row in rows})
    specs = {
        row["id"]: spec_from_columns(row)
        for chunk in chunks(using, job_ids)
        for row in jobs(using).filter(id__in=chunk).values(*JOB_FIELDS)
    }
    created: list[int] = []
    for row in sorted(rows, key=lambda row: row["id"]):
        new = retry(run_from_row(row), specs[row["job_id"]])
        if new is None:
            continue
        values = run_columns(row["job_id"], new, now=new.due_at, replica_id="")
        try:
            with transaction.atomic(using=using):  # a savepoint: a clash undoes one
                created.append(RunRow.objects.using(using).create(**values).pk)
        except IntegrityError as error:
            if not is_slot_violation(error.__cause__):
                raise
    if created:
        notify(using)
    return created


def _locked_ids(query: QuerySet[RunRow]) -> list[int]:
    locked = for_update(query.order_by("id"), query.db)
    return list(locked.values_list("id", flat=True))
