"""The Django :class:`~scheduler.stores.base.Store`: the ORM, on one of the site's databases.

It keeps the promises of the SQLAlchemy store, on the same tables:

* a claim is one transaction and a fixed number of statements whatever the
  number of due jobs (``bulk_create`` for the runs, ``bulk_update`` for the
  jobs' next slots), never a statement per job;
* on PostgreSQL due jobs are selected ``FOR NO KEY UPDATE SKIP LOCKED``, so
  replicas split the due set instead of waiting for each other; on SQLite the
  first statement of every write transaction takes the database's write lock,
  so a second claimer waits and then sees the advanced ``next_run_at``;
* the unique constraint on ``(job, scheduled_for, attempt)`` is the final
  guard: a second run of a slot raises :class:`~scheduler.errors.DuplicateRun`;
* a database that cannot be reached raises
  :class:`~scheduler.errors.StoreUnavailable` (the engine backs off and
  retries), and the broken connection is closed so the next call reconnects;
* nothing is cached: every call reads the rows, so an edit committed anywhere
  (admin, another replica, ``tickwork``) is seen by the next wake-up.

Each thread uses its own Django connection, as Django does, and the store is
safe to share between threads; :meth:`DjangoStore.dispose` closes the
connections it used in every thread (an executor's workers too) when the
scheduler stops.  Use a file or a server database: an in-memory SQLite database
is a different database in every thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connections,
    transaction,
)
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Case, Exists, F, Min, OuterRef, Q, QuerySet, Value, When, Window
from django.db.models.functions import Concat, RowNumber

from ..clock import ensure_aware_utc
from ..errors import DuplicateRun, InvalidJob, JobNotFound, StoreUnavailable
from ..jobs import JobSpec
from ..policies import JobSource, OverlapPolicy
from ..runs import ACTIVE_STATUSES, TERMINAL_STATUSES, ClaimedRun, NewRun, Outcome, Run, RunStatus
from ..stores.base import (
    ChangeListener,
    Planner,
    RecoveryReport,
    Retrier,
    SlotPlan,
    StoredJob,
    SyncReport,
)
from ..stores.pglisten import NOTIFY_SQL, PostgresChangeListener
from ..stores.rows import (
    SLOT_CONSTRAINT,
    as_stored,
    job_columns,
    new_definition,
    result_column,
    run_columns,
    run_from_columns,
    spec_from_columns,
)
from .fields import UTCDateTimeField
from .models import Job, Replica
from .models import Run as RunRow

__all__ = ["DjangoStore"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
_Row = Mapping[str, Any]

_JOB_FIELDS = tuple(field.attname for field in Job._meta.concrete_fields)
_JOB_DEFINITION = tuple(name for name in _JOB_FIELDS if name != "id")
_RUN_FIELDS = tuple(field.attname for field in RunRow._meta.concrete_fields)

_PENDING = RunStatus.PENDING.value
_ACTIVE = sorted(status.value for status in ACTIVE_STATUSES)
_TERMINAL = sorted(status.value for status in TERMINAL_STATUSES)
_BUSY = [RunStatus.QUEUED.value, RunStatus.RUNNING.value]
_RUNNING = RunStatus.RUNNING.value
_NOT_STARTED = [RunStatus.PENDING.value, RunStatus.QUEUED.value]

# A write that changes nothing, yet takes SQLite's write lock at once: a
# deferred transaction would take it only at its first real write, after its
# reads, and two claimers could then both read the same due jobs.
_SQLITE_WRITE_LOCK = "UPDATE scheduler_replica SET id = id WHERE 0"
# "enabled = true", not Django's bare "WHERE enabled", which SQLite cannot
# answer from the (enabled, next_run_at) index: it would scan every job.
_ENABLED = Q(enabled=Value(True))
# PostgreSQL takes an array as one parameter; elsewhere IN lists are chunked.
_CHUNK = 5_000


class DjangoStore:
    """A :class:`~scheduler.stores.base.Store` on the Django database ``using``."""

    def __init__(self, using: str = DEFAULT_DB_ALIAS) -> None:
        self.using = using
        self._lock = threading.Lock()
        self._used: dict[int, BaseDatabaseWrapper] = {}

    def __repr__(self) -> str:
        return f"DjangoStore(using={self.using!r})"

    def dispose(self) -> None:
        """Close the connections this store used, in every thread.

        Call it once the threads that used the store are done (the engine has
        stopped): Django keeps one connection per thread, and a worker
        thread's would otherwise stay open until the garbage collector finds it.
        """
        with self._lock:
            used, self._used = list(self._used.values()), {}
        for connection in used:
            connection.inc_thread_sharing()
            try:
                connection.close()
            finally:
                connection.dec_thread_sharing()

    # -- jobs ---------------------------------------------------------------
    def sync_jobs(
        self, specs: Sequence[JobSpec], *, source: JobSource, now: datetime
    ) -> SyncReport:
        now = _utc(now, "now")
        specs = [as_stored(spec, source) for spec in specs]
        _refuse_repeated_names(specs, source)
        with self._write():
            mine = {
                row["name"]: row
                for row in self._jobs()
                .filter(source=source.value)
                .select_for_update(no_key=True)
                .values(*_JOB_FIELDS)
            }
            self._refuse_foreign_names([s.name for s in specs if s.name not in mine], source)
            added, changed, unchanged = _compare(specs, mine)
            keep = {spec.name for spec in specs}
            disabled = [
                (row, _disabled(spec_from_columns(row)))
                for name, row in mine.items()
                if name not in keep and row["removed_at"] is None
            ]
            self._insert_jobs(added, now)
            self._update_jobs(changed, now)
            self._update_jobs(disabled, now, removed=True)
            if added or changed or disabled:
                self._notify()
        return SyncReport(
            added=tuple(sorted(spec.name for spec in added)),
            updated=tuple(sorted(spec.name for _, spec in changed)),
            disabled=tuple(sorted(spec.name for _, spec in disabled)),
            unchanged=tuple(sorted(unchanged)),
        )

    def save_job(self, spec: JobSpec, *, now: datetime) -> StoredJob:
        now = _utc(now, "now")
        spec = as_stored(spec)
        with self._write():
            old = self._job_row(spec.name, lock=True)
            if old is None:
                self._notify()
                return self._insert_jobs([spec], now)[0]
            if old["source"] != spec.source.value:
                raise InvalidJob(
                    f"job {spec.name!r} already exists from source {old['source']!r}; "
                    f"a {spec.source.value!r} job may not replace it"
                )
            if _unchanged(old, spec):
                return _stored(old)
            self._notify()
            return self._update_jobs([(old, spec)], now)[0]

    def get_job(self, name: str) -> StoredJob:
        with self._reachable():
            row = self._job_row(name)
        if row is None:
            raise _job_not_found(name)
        return _stored(row)

    def list_jobs(self) -> list[StoredJob]:
        with self._reachable():
            rows = list(self._jobs().order_by("name").values(*_JOB_FIELDS))
        return [_stored(row) for row in rows]

    def set_paused(self, name: str, paused: bool, *, now: datetime) -> StoredJob:
        now = _utc(now, "now")
        with self._write():
            row = self._job_row(name, lock=True)
            if row is None:
                raise _job_not_found(name)
            job = _stored(row)
            if job.paused is paused:
                return job
            resumed = job.spec.enabled and not paused
            changes = {
                "paused_at": now if paused else None,
                "next_run_at": job.spec.next_after(now) if resumed else None,
                "updated_at": now,
            }
            self._jobs().filter(id=row["id"]).update(**changes)
            self._notify()
            return _stored({**row, **changes})

    # -- the due-queue ------------------------------------------------------
    def next_wake(self) -> datetime | None:
        with self._reachable():
            job = self._jobs().filter(_ENABLED).aggregate(at=Min("next_run_at"))["at"]
            run = self._runs().filter(status=_PENDING, replica_id="").aggregate(at=Min("due_at"))
        instants = [instant for instant in (job, run["at"]) if instant is not None]
        return min(instants, default=None)

    def claim_due(
        self, *, now: datetime, replica_id: str, limit: int, plan: Planner
    ) -> list[ClaimedRun]:
        now = _utc(now, "now")
        if limit <= 0:
            return []
        try:
            with self._write():
                due = list(
                    self._jobs()
                    .filter(_ENABLED, next_run_at__lte=now)
                    .order_by("next_run_at", "name")
                    .select_for_update(skip_locked=True, no_key=True)
                    .values(*_JOB_FIELDS)[:limit]
                )
                if not due:
                    return []
                jobs = {row["id"]: _stored(row) for row in due}
                busy = self._busy_job_ids(list(jobs))
                plans = {job_id: plan(job, job_id in busy, now) for job_id, job in jobs.items()}
                rows = [
                    # A busy job's new runs wait for claim_pending and its overlap rule.
                    run_columns(
                        job_id,
                        new.checked(jobs[job_id].spec.name),
                        now=now,
                        replica_id="" if job_id in busy else replica_id,
                    )
                    for job_id, chosen in plans.items()
                    for new in chosen.runs
                ]
                ids = self._insert_runs(rows, now=now, replica_id=replica_id)
                self._advance(plans)
        except IntegrityError as error:
            if _is_slot_conflict(error):
                raise DuplicateRun(f"claim_due: {_CONFLICT}") from error
            raise
        claimed = [
            ClaimedRun(
                run=run_from_columns(run_id, jobs[row["job_id"]].spec.name, row),
                job=jobs[row["job_id"]].spec,
            )
            for run_id, row in zip(ids, rows, strict=True)
            if row["replica_id"]
        ]
        claimed.sort(key=lambda c: (c.run.scheduled_for, c.run.job_name, c.run.id))
        logger.debug(
            "replica %s claimed %d runs of %d due jobs",
            replica_id,
            len(claimed),
            len(jobs),
            extra={"replica_id": replica_id, "claimed": len(claimed), "due_jobs": len(jobs)},
        )
        return claimed

    def claim_pending(self, *, now: datetime, replica_id: str, limit: int) -> list[ClaimedRun]:
        now = _utc(now, "now")
        if limit <= 0:
            return []
        busy = self._runs().filter(job_id=OuterRef("job_id"), status__in=_BUSY)
        with self._write():
            rows = list(
                self._runs()
                .filter(status=_PENDING, replica_id="", due_at__lte=now)
                .filter(~Q(job__overlap=OverlapPolicy.QUEUE.value) | ~Exists(busy))
                .order_by("due_at", "id")
                .select_for_update(skip_locked=True, no_key=True, of=("self",))
                .values(*_RUN_FIELDS, "job__name")[:limit]
            )
            if not rows:
                return []
            for chunk in self._chunks([row["id"] for row in rows]):
                self._runs().filter(id__in=chunk).update(replica_id=replica_id, claimed_at=now)
            specs = {
                row["id"]: spec_from_columns(row)
                for chunk in self._chunks(sorted({row["job_id"] for row in rows}))
                for row in self._jobs().filter(id__in=chunk).values(*_JOB_FIELDS)
            }
        return [
            ClaimedRun(
                run=_run({**row, "replica_id": replica_id, "claimed_at": now}),
                job=specs[row["job_id"]],
            )
            for row in rows
        ]

    def add_run(self, job_name: str, new: NewRun) -> Run:
        new = new.checked(job_name)
        if new.status is not RunStatus.PENDING:
            raise ValueError(f"job {job_name!r}: add_run creates pending runs, got {new.status}")
        try:
            with self._write():
                job_id = self._jobs().filter(name=job_name).values_list("id", flat=True).first()
                if job_id is None:
                    raise _job_not_found(job_name)
                values = run_columns(job_id, new, now=new.due_at, replica_id="")
                created = RunRow.objects.using(self.using).create(**values)
                self._notify()
        except IntegrityError as error:
            if _is_slot_conflict(error):
                slot = f"slot {new.scheduled_for.isoformat()}, attempt {new.attempt}"
                raise DuplicateRun(f"job {job_name!r}, {slot}: {_CONFLICT}") from error
            raise
        return run_from_columns(created.pk, job_name, values)

    # -- recording ----------------------------------------------------------
    def mark_queued(self, run_id: int, *, executor: str, external_id: str, now: datetime) -> None:
        changes = {
            "status": RunStatus.QUEUED.value,
            "executor": executor,
            "external_id": external_id,
        }
        self._transition(run_id, [_PENDING], changes)

    def mark_queued_many(self, run_ids: Sequence[int], *, executor: str, now: datetime) -> None:
        if not run_ids:
            return
        changes = {"status": RunStatus.QUEUED.value, "executor": executor, "external_id": ""}
        with self._write():
            for chunk in self._chunks(list(run_ids)):
                self._runs().filter(id__in=chunk, status=_PENDING).update(**changes)

    def set_external_ids(self, external_ids: Mapping[int, str]) -> None:
        if not external_ids:
            return
        rows = [RunRow(id=run_id, external_id=ext) for run_id, ext in external_ids.items()]
        with self._write():
            self._runs().bulk_update(rows, ["external_id"])

    def beat_runs(self, run_ids: Sequence[int], *, now: datetime) -> None:
        now = _utc(now, "now")
        with self._write():
            for chunk in self._chunks(list(run_ids)):
                self._runs().filter(id__in=chunk, status=_RUNNING).update(heartbeat_at=now)

    def mark_running(self, run_id: int, *, worker: str, now: datetime) -> bool:
        now = _utc(now, "now")
        changes = {"status": RunStatus.RUNNING.value, "started_at": now, "worker": worker}
        return self._transition(run_id, _NOT_STARTED, changes)

    def mark_finished(self, run_id: int, outcome: Outcome) -> None:
        if outcome.status not in TERMINAL_STATUSES:
            raise ValueError(f"a run finishes in a terminal status, got {outcome.status}")
        finished_at = _utc(outcome.finished_at, "finished_at")
        with self._write():
            found = list(
                self._runs()
                .filter(id=run_id)
                .select_for_update(no_key=True)
                .values("status", "started_at")
            )
            if not found:
                raise _run_not_found(run_id)
            if found[0]["status"] in _TERMINAL:
                return
            started: datetime | None = found[0]["started_at"]
            self._runs().filter(id=run_id).update(
                status=outcome.status.value,
                finished_at=finished_at,
                duration_seconds=None
                if started is None
                else (finished_at - started).total_seconds(),
                result=result_column(outcome.result),
                error=outcome.error,
                traceback=outcome.traceback,
            )

    def cancel_run(self, run_id: int, *, now: datetime) -> bool:
        now = _utc(now, "now")
        changes = {"status": RunStatus.CANCELLED.value, "finished_at": now}
        return self._transition(run_id, _NOT_STARTED, changes)

    def _transition(self, run_id: int, allowed: list[str], changes: Mapping[str, object]) -> bool:
        """Apply ``changes`` if the run is in one of the ``allowed`` statuses."""
        with self._write():
            if self._runs().filter(id=run_id, status__in=allowed).update(**changes) == 1:
                return True
            if not self._runs().filter(id=run_id).exists():
                raise _run_not_found(run_id)
            return False

    # -- replicas and recovery ----------------------------------------------
    def heartbeat(self, replica_id: str, *, hostname: str, pid: int, now: datetime) -> None:
        now = _utc(now, "now")
        restarted = Case(
            When(stopped_at__isnull=True, then=F("started_at")),
            default=Value(now, output_field=UTCDateTimeField()),
        )
        with self._write():
            updated = (
                self._replicas()
                .filter(id=replica_id)
                .update(
                    hostname=hostname,
                    pid=pid,
                    heartbeat_at=now,
                    stopped_at=None,
                    started_at=restarted,
                )
            )
            if not updated:
                self._replicas().create(
                    id=replica_id, hostname=hostname, pid=pid, started_at=now, heartbeat_at=now
                )

    def stop_replica(self, replica_id: str, *, now: datetime) -> None:
        now = _utc(now, "now")
        with self._write():
            if not self._replicas().filter(id=replica_id).update(stopped_at=now):
                self._replicas().create(
                    id=replica_id,
                    hostname="",
                    pid=0,
                    started_at=now,
                    heartbeat_at=now,
                    stopped_at=now,
                )

    def recover(
        self, *, now: datetime, stale_after: timedelta, retry: Retrier | None = None
    ) -> RecoveryReport:
        now = _utc(now, "now")
        alive = self._replicas().filter(
            id=OuterRef("replica_id"), stopped_at__isnull=True, heartbeat_at__gte=now - stale_after
        )
        orphans = self._runs().exclude(replica_id="").exclude(Exists(alive))
        message = Concat(Value("replica "), F("replica_id"), Value(" stopped heartbeating"))
        retries: list[int] = []
        with self._write():
            released = self._locked_ids(orphans.filter(status=_PENDING))
            lost = self._locked_ids(orphans.filter(status__in=_BUSY, external_id=""))
            for chunk in self._chunks(released):
                self._runs().filter(id__in=chunk).update(replica_id="", claimed_at=None)
            for chunk in self._chunks(lost):
                self._runs().filter(id__in=chunk).update(
                    status=RunStatus.LOST.value, finished_at=now, error=message
                )
            silent = self._lose_silent_workers(now=now, stale_before=now - stale_after)
            lost = sorted({*lost, *silent})
            if retry is not None and lost:
                retries = self._retry_lost(lost, retry)
        return RecoveryReport(
            released=tuple(released), lost=tuple(lost), retries=tuple(sorted(retries))
        )

    def _lose_silent_workers(self, *, now: datetime, stale_before: datetime) -> list[int]:
        """Mark ``lost`` the running runs whose worker outside the scheduler went
        quiet before ``stale_before`` (no beat since; or, with an external id
        and no beat at all, started before it); return their ids."""
        silent = Q(heartbeat_at__lt=stale_before) | Q(
            heartbeat_at__isnull=True, started_at__lt=stale_before, external_id__gt=""
        )
        ids = self._locked_ids(self._runs().filter(silent, status=_RUNNING))
        message = Concat(Value("worker "), F("worker"), Value(" stopped heartbeating"))
        for chunk in self._chunks(ids):
            self._runs().filter(id__in=chunk).update(
                status=RunStatus.LOST.value, finished_at=now, error=message
            )
        return ids

    def _retry_lost(self, lost: Sequence[int], retry: Retrier) -> list[int]:
        """Insert the next attempt ``retry`` asks for of each lost run, unless it exists."""
        rows = [
            row
            for chunk in self._chunks(list(lost))
            for row in self._runs().filter(id__in=chunk).values(*_RUN_FIELDS, "job__name")
        ]
        job_ids = sorted({row["job_id"] for row in rows})
        specs = {
            row["id"]: spec_from_columns(row)
            for chunk in self._chunks(job_ids)
            for row in self._jobs().filter(id__in=chunk).values(*_JOB_FIELDS)
        }
        created: list[int] = []
        for row in sorted(rows, key=lambda row: row["id"]):
            new = retry(_run(row), specs[row["job_id"]])
            if new is None:
                continue
            new = new.checked(row["job__name"])
            values = run_columns(row["job_id"], new, now=new.due_at, replica_id="")
            try:
                with transaction.atomic(using=self.using):  # a savepoint: a clash undoes one
                    created.append(RunRow.objects.using(self.using).create(**values).pk)
            except IntegrityError as error:
                if not _is_slot_conflict(error):
                    raise
        if created:
            self._notify()
        return created

    def prune_replicas(self, *, now: datetime, older_than: timedelta) -> int:
        cutoff = _utc(now, "now") - older_than
        holds_a_run = self._runs().filter(replica_id=OuterRef("id"), status__in=_ACTIVE)
        with self._write():
            deleted, _ = (
                self._replicas()
                .filter(heartbeat_at__lt=cutoff)
                .filter(Q(stopped_at__isnull=True) | Q(stopped_at__lt=cutoff))
                .exclude(Exists(holds_a_run))
                .delete()
            )
        return deleted

    # -- changes ----------------------------------------------------------------
    def listen_for_changes(self) -> ChangeListener | None:
        """A listener on a connection of its own, on PostgreSQL with psycopg 3;
        ``None`` elsewhere.  See :class:`~scheduler.stores.base.NotifiesChanges`."""
        connection = connections[self.using]
        if connection.vendor != "postgresql" or not _uses_psycopg3(connection):
            return None
        params = connection.get_connection_params()

        def connect() -> Any:
            return connection.get_new_connection(params)

        return PostgresChangeListener(
            connect,
            label=f"Django database {self.using!r}",
            connect_errors=(DatabaseError,),
        )

    def _notify(self) -> None:
        """Wake listening engines when the current transaction commits (PostgreSQL)."""
        connection = connections[self.using]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(NOTIFY_SQL)

    # -- history --------------------------------------------------------------
    def get_run(self, run_id: int) -> Run:
        with self._reachable():
            rows = list(self._runs().filter(id=run_id).values(*_RUN_FIELDS, "job__name"))
        if not rows:
            raise _run_not_found(run_id)
        return _run(rows[0])

    def list_runs(
        self, *, job_name: str | None = None, status: RunStatus | None = None, limit: int = 50
    ) -> list[Run]:
        if limit <= 0:
            return []
        query = self._runs()
        if job_name is not None:
            query = query.filter(job__name=job_name)
        if status is not None:
            query = query.filter(status=RunStatus(status).value)
        query = query.order_by("-scheduled_for", "-attempt", "-id")
        with self._reachable():
            return [_run(row) for row in query.values(*_RUN_FIELDS, "job__name")[:limit]]

    def prune(self, *, now: datetime, keep_last: int | None, max_age: timedelta | None) -> int:
        now = _utc(now, "now")
        doomed = Q()
        if keep_last is not None:
            doomed |= Q(id__in=self._beyond_newest(max(keep_last, 0)))
        if max_age is not None:
            doomed |= Q(finished_at__lt=now - max_age)
        if not doomed:
            return 0
        with self._write():
            deleted, _ = self._runs().filter(doomed, status__in=_TERMINAL).delete()
            if max_age is not None:
                self._finished_one_offs(now - max_age).delete()
        return deleted

    # -- queries --------------------------------------------------------------
    def _jobs(self) -> QuerySet[Job]:
        return Job.objects.using(self.using)

    def _runs(self) -> QuerySet[RunRow]:
        return RunRow.objects.using(self.using)

    def _replicas(self) -> QuerySet[Replica]:
        return Replica.objects.using(self.using)

    def _job_row(self, name: str, *, lock: bool = False) -> dict[str, Any] | None:
        query = self._jobs().filter(name=name)
        if lock:
            query = query.select_for_update(no_key=True)
        rows = list(query.values(*_JOB_FIELDS))
        return rows[0] if rows else None

    def _refuse_foreign_names(self, names: Sequence[str], source: JobSource) -> None:
        for chunk in self._chunks(sorted(names)):
            owners = self._jobs().filter(name__in=chunk).order_by("name")
            owner = owners.values("name", "source").first()
            if owner is not None:
                raise InvalidJob(
                    f"job {owner['name']!r} already exists from source {owner['source']!r}; "
                    f"a {source.value!r} job may not replace it"
                )

    def _insert_jobs(self, specs: Sequence[JobSpec], now: datetime) -> list[StoredJob]:
        """Insert new jobs, in one batch; their first slot is the first after ``now``."""
        stored = [new_definition(spec, now, version=1, created_at=now) for spec in specs]
        if stored:
            self._jobs().bulk_create([Job(**job_columns(job)) for job in stored])
        return stored

    def _update_jobs(
        self, changes: Sequence[tuple[_Row, JobSpec]], now: datetime, *, removed: bool = False
    ) -> list[StoredJob]:
        """Store new definitions of existing jobs, in one batch: version + 1, next
        slot from ``now`` unless paused; ``removed_at`` is ``now`` if ``removed``."""
        stored = [
            new_definition(
                spec,
                now,
                version=row["version"] + 1,
                created_at=row["created_at"],
                paused_at=row["paused_at"],
                removed_at=now if removed else None,
            )
            for row, spec in changes
        ]
        if stored:
            rows = [
                Job(id=row["id"], **job_columns(job))
                for (row, _), job in zip(changes, stored, strict=True)
            ]
            self._jobs().bulk_update(rows, _JOB_DEFINITION)
        return stored

    def _busy_job_ids(self, job_ids: Sequence[int]) -> set[int]:
        """Which of ``job_ids`` have a pending, queued or running run."""
        busy: set[int] = set()
        for chunk in self._chunks(job_ids):
            query = self._runs().filter(job_id__in=chunk, status__in=_ACTIVE)
            busy.update(query.values_list("job_id", flat=True).distinct())
        return busy

    def _insert_runs(
        self, rows: Sequence[dict[str, Any]], *, now: datetime, replica_id: str
    ) -> list[int]:
        """Insert runs in batches; their ids, in the order of ``rows``."""
        created = self._runs().bulk_create([RunRow(**row) for row in rows])
        ids = [run.pk for run in created]
        if all(run_id is not None for run_id in ids):
            return ids
        # A SQLite older than 3.35 cannot return the ids of a batch insert;
        # find the claimed ones by their slot, which is unique.
        return self._ids_by_slot(rows, now=now, replica_id=replica_id)

    def _ids_by_slot(
        self, rows: Sequence[Mapping[str, Any]], *, now: datetime, replica_id: str
    ) -> list[int]:
        found: dict[tuple[int, datetime, int], int] = {}
        job_ids = sorted({row["job_id"] for row in rows if row["replica_id"]})
        for chunk in self._chunks(job_ids):
            query = self._runs().filter(job_id__in=chunk, replica_id=replica_id, claimed_at=now)
            for run in query.values("id", "job_id", "scheduled_for", "attempt"):
                found[(run["job_id"], run["scheduled_for"], run["attempt"])] = run["id"]
        slots = [(row["job_id"], row["scheduled_for"], row["attempt"]) for row in rows]
        return [found.get(slot, 0) for slot in slots]

    def _advance(self, plans: Mapping[int, SlotPlan]) -> None:
        """Every planned job's ``next_run_at``, in one batch."""
        rows = [
            Job(id=job_id, next_run_at=_utc_or_none(chosen.next_run_at, "next_run_at"))
            for job_id, chosen in plans.items()
        ]
        self._jobs().bulk_update(rows, ["next_run_at"])

    def _finished_one_offs(self, changed_before: datetime) -> QuerySet[Job]:
        """Deferred calls that ran (or were cancelled) and have no history left."""
        return self._jobs().filter(
            ~Exists(self._runs().filter(job_id=OuterRef("id"))),
            source=JobSource.CODE.value,
            run_at__isnull=False,
            next_run_at__isnull=True,
            paused_at__isnull=True,
            updated_at__lt=changed_before,
        )

    def _locked_ids(self, query: QuerySet[RunRow]) -> list[int]:
        locked = query.order_by("id").select_for_update(no_key=True)
        return list(locked.values_list("id", flat=True))

    def _beyond_newest(self, keep_last: int) -> QuerySet[Any, Any]:
        """Ids of terminal runs beyond the newest ``keep_last`` terminal runs of their job."""
        newest_first = [F("scheduled_for").desc(), F("attempt").desc(), F("id").desc()]
        ranked = self._runs().filter(status__in=_TERMINAL)
        ranked = ranked.annotate(
            rank=Window(RowNumber(), partition_by=[F("job_id")], order_by=newest_first)
        )
        return ranked.filter(rank__gt=keep_last).values("id")

    def _chunks(self, values: Sequence[_T]) -> Iterator[Sequence[_T]]:
        size = _chunk_size(connections[self.using])
        for start in range(0, len(values), size):
            yield values[start : start + size]

    # -- transactions and connections ----------------------------------------
    @contextmanager
    def _write(self) -> Iterator[None]:
        """A transaction that writes: on SQLite it holds the write lock from its start."""
        with self._reachable(), transaction.atomic(using=self.using):
            connection = connections[self.using]
            if connection.vendor == "sqlite" and _defers_locks(connection):
                with connection.cursor() as cursor:
                    cursor.execute(_SQLITE_WRITE_LOCK)
            yield

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        """Turn a database that cannot be reached (restarting, network blip,
        SQLite locked past its timeout) into StoreUnavailable, which the engine
        retries with backoff; the broken connection is closed, so the next call
        connects afresh.  Other database errors stay what they are."""
        connection = connections[self.using]
        with self._lock:
            self._used.setdefault(id(connection), connection)
        try:
            yield
        except (OperationalError, InterfaceError) as error:
            if not connection.in_atomic_block:
                connection.close()
            reason = str(error.__cause__ or error).strip()
            raise StoreUnavailable(
                f"{connection.vendor} database {self.using!r} unavailable: {reason}"
            ) from error


# -- rows and values ------------------------------------------------------------------

_CONFLICT = "a run for the same job, slot and attempt already exists"


def _stored(row: _Row) -> StoredJob:
    return StoredJob(
        spec=spec_from_columns(row),
        next_run_at=row["next_run_at"],
        version=row["version"],
        definition_hash=row["definition_hash"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        paused_at=row["paused_at"],
        removed_at=row["removed_at"],
    )


def _run(row: _Row) -> Run:
    return run_from_columns(row["id"], row["job__name"], row)


def _disabled(spec: JobSpec) -> JobSpec:
    return replace(spec, enabled=False)


def _compare(
    specs: Sequence[JobSpec], stored: Mapping[str, _Row]
) -> tuple[list[JobSpec], list[tuple[_Row, JobSpec]], list[str]]:
    """Sort ``specs`` into new ones, changed ones (with their row), and unchanged names."""
    added: list[JobSpec] = []
    changed: list[tuple[_Row, JobSpec]] = []
    unchanged: list[str] = []
    for spec in specs:
        old = stored.get(spec.name)
        if old is None:
            added.append(spec)
        elif _unchanged(old, spec):
            unchanged.append(spec.name)
        else:
            changed.append((old, spec))
    return added, changed, unchanged


def _unchanged(row: _Row, spec: JobSpec) -> bool:
    """Whether storing ``spec`` over ``row`` would change nothing."""
    return row["definition_hash"] == spec.definition_hash() and row["removed_at"] is None


def _refuse_repeated_names(specs: Iterable[JobSpec], source: JobSource) -> None:
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise InvalidJob(f"job {spec.name!r} is declared twice in one {source.value} sync")
        seen.add(spec.name)


def _is_slot_conflict(error: IntegrityError) -> bool:
    """Whether ``error`` is the slot constraint refusing a second run of one slot and attempt."""
    cause = error.__cause__
    constraint = getattr(getattr(cause, "diag", None), "constraint_name", None)
    if constraint is not None:  # psycopg names it
        return bool(constraint == SLOT_CONSTRAINT)
    # sqlite3 names the columns instead
    return "scheduler_run.job_id, scheduler_run.scheduled_for, scheduler_run.attempt" in str(cause)


def _defers_locks(connection: BaseDatabaseWrapper) -> bool:
    """Whether SQLite transactions on ``connection`` start without the write lock."""
    mode = getattr(connection, "transaction_mode", None)
    return mode is None or str(mode).upper() == "DEFERRED"


def _uses_psycopg3(connection: BaseDatabaseWrapper) -> bool:
    """Whether Django's PostgreSQL backend runs on psycopg 3 (the listener needs it)."""
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return bool(is_psycopg3)


def _chunk_size(connection: BaseDatabaseWrapper) -> int:
    limit = connection.features.max_query_params
    return _CHUNK if limit is None else min(_CHUNK, int(limit) - 10)


def _job_not_found(name: str) -> JobNotFound:
    return JobNotFound(f"no job is called {name!r}")


def _run_not_found(run_id: int) -> LookupError:
    return LookupError(f"no run has id {run_id}")


def _utc(instant: datetime, what: str) -> datetime:
    return ensure_aware_utc(instant, what)


def _utc_or_none(instant: datetime | None, what: str) -> datetime | None:
    return None if instant is None else _utc(instant, what)
