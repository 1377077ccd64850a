"""The store class: each verb of the protocol, in one transaction or one read.

The queries live in the modules named for what they touch (:mod:`.jobs`,
:mod:`.claims`, :mod:`.runs`, :mod:`.replicas`); this class opens the
transaction, checks and converts arguments, and turns a slot conflict into
:class:`~scheduler.errors.DuplicateRun`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from django.db import DEFAULT_DB_ALIAS, IntegrityError

from ...errors import DuplicateRun
from ...model.jobs import JobSpec
from ...model.policies import JobSource
from ...model.runs import TERMINAL_STATUSES, ClaimedRun, NewRun, Outcome, Run, RunStatus
from ...stores.base import ChangeListener, Planner, RecoveryReport, Retrier, StoredJob, SyncReport
from ...stores.checked.arguments import refuse_repeated_names
from ...stores.rows import as_stored
from ...stores.rules import job_not_found
from . import claims, jobs, replicas, runs
from .changes import listener
from .claims import CONFLICT, is_slot_conflict
from .connections import Connections
from .queries import JOB_FIELDS, NOT_STARTED, PENDING, utc
from .queries import jobs as job_rows

__all__ = ["DjangoStore"]

logger = logging.getLogger("scheduler.django.store")


class DjangoStore:
    """A :class:`~scheduler.stores.base.Store` on the Django database ``using``."""

    def __init__(self, using: str = DEFAULT_DB_ALIAS) -> None:
        self.using = using
        self._connections = Connections(using)

    def __repr__(self) -> str:
        return f"DjangoStore(using={self.using!r})"

    def dispose(self) -> None:
        """Close the connections this store used, in every thread.

        Call it once the threads that used the store are done (the engine has
        stopped): Django keeps one connection per thread, and a worker
        thread's would otherwise stay open until the garbage collector finds it.
        """
        self._connections.dispose()

    # -- jobs ---------------------------------------------------------------
    def sync_jobs(
        self, specs: Sequence[JobSpec], *, source: JobSource, now: datetime
    ) -> SyncReport:
        now = utc(now, "now")
        specs = [as_stored(spec, source) for spec in specs]
        refuse_repeated_names(specs, source)
        with self._connections.write():
            return jobs.sync_jobs(self.using, specs, source, now)

    def save_job(
        self, spec: JobSpec, *, now: datetime, expected_version: int | None = None
    ) -> StoredJob:
        now = utc(now, "now")
        with self._connections.write():
            return jobs.save_job(self.using, spec, now, expected_version)

    def get_job(self, name: str) -> StoredJob:
        with self._connections.reachable():
            row = jobs.job_row(self.using, name)
        if row is None:
            raise job_not_found(name)
        return jobs.stored(row)

    def list_jobs(self) -> list[StoredJob]:
        with self._connections.reachable():
            rows = list(job_rows(self.using).order_by("name").values(*JOB_FIELDS))
        return [jobs.stored(row) for row in rows]

    def set_paused(self, name: str, paused: bool, *, now: datetime) -> StoredJob:
        now = utc(now, "now")
        with self._connections.write():
            return jobs.set_paused(self.using, name, paused, now)

    # -- the due-queue ------------------------------------------------------
    def next_wake(self) -> datetime | None:
        with self._connections.reachable():
            return claims.next_wake(self.using)

    def claim_due(
        self, *, now: datetime, replica_id: str, limit: int, plan: Planner
    ) -> list[ClaimedRun]:
        now = utc(now, "now")
        if limit <= 0:
            return []
        try:
            with self._connections.write():
                claimed, due_jobs = claims.claim_due(
                    self.using, now=now, replica_id=replica_id, limit=limit, plan=plan
                )
        except IntegrityError as error:
            if is_slot_conflict(error):
                raise DuplicateRun(f"claim_due: {CONFLICT}") from error
            raise
        if not due_jobs:
            return []
        claimed.sort(key=lambda c: (c.run.scheduled_for, c.run.job_name, c.run.id))
        logger.debug(
            "replica %s claimed %d runs of %d due jobs",
            replica_id,
            len(claimed),
            due_jobs,
            extra={"replica_id": replica_id, "claimed": len(claimed), "due_jobs": due_jobs},
        )
        return claimed

    def claim_pending(self, *, now: datetime, replica_id: str, limit: int) -> list[ClaimedRun]:
        now = utc(now, "now")
        if limit <= 0:
            return []
        with self._connections.write():
            return claims.claim_pending(self.using, now=now, replica_id=replica_id, limit=limit)

    def add_run(self, job_name: str, new: NewRun) -> Run:
        new = new.checked(job_name)
        if new.status is not RunStatus.PENDING:
            raise ValueError(f"job {job_name!r}: add_run creates pending runs, got {new.status}")
        try:
            with self._connections.write():
                return claims.add_run(self.using, job_name, new)
        except IntegrityError as error:
            if is_slot_conflict(error):
                slot = f"slot {new.scheduled_for.isoformat()}, attempt {new.attempt}"
                raise DuplicateRun(f"job {job_name!r}, {slot}: {CONFLICT}") from error
            raise

    # -- recording ----------------------------------------------------------
    def mark_queued(self, run_id: int, *, executor: str, external_id: str, now: datetime) -> None:
        changes = {
            "status": RunStatus.QUEUED.value,
            "executor": executor,
            "external_id": external_id,
        }
        self._transition(run_id, [PENDING], changes)

    def set_external_ids(self, external_ids: Mapping[int, str]) -> None:
        if not external_ids:
            return
        with self._connections.write():
            runs.set_external_ids(self.using, external_ids)

    def beat_runs(self, run_ids: Sequence[int], *, now: datetime) -> None:
        now = utc(now, "now")
        with self._connections.write():
            runs.beat_runs(self.using, run_ids, now)

    def mark_running(self, run_id: int, *, worker: str, now: datetime) -> bool:
        now = utc(now, "now")
        changes = {"status": RunStatus.RUNNING.value, "started_at": now, "worker": worker}
        return self._transition(run_id, NOT_STARTED, changes)

    def mark_finished(self, run_id: int, outcome: Outcome) -> None:
        if outcome.status not in TERMINAL_STATUSES:
            raise ValueError(f"a run finishes in a terminal status, got {outcome.status}")
        finished_at = utc(outcome.finished_at, "finished_at")
        with self._connections.write():
            runs.finish(self.using, run_id, outcome, finished_at)

    def cancel_run(self, run_id: int, *, now: datetime) -> bool:
        now = utc(now, "now")
        changes = {"status": RunStatus.CANCELLED.value, "finished_at": now}
        return self._transition(run_id, NOT_STARTED, changes)

    def _transition(self, run_id: int, allowed: list[str], changes: Mapping[str, object]) -> bool:
        with self._connections.write():
            return runs.transition(self.using, run_id, allowed, changes)

    # -- replicas and recovery ----------------------------------------------
    def heartbeat(self, replica_id: str, *, hostname: str, pid: int, now: datetime) -> None:
        now = utc(now, "now")
        with self._connections.write():
            replicas.heartbeat(self.using, replica_id, hostname=hostname, pid=pid, now=now)

    def stop_replica(self, replica_id: str, *, now: datetime) -> None:
        now = utc(now, "now")
        with self._connections.write():
            replicas.stop_replica(self.using, replica_id, now=now)

    def recover(
        self,
        *,
        now: datetime,
        stale_after: timedelta,
        retry: Retrier | None = None,
        start_timeout: timedelta | None = None,
    ) -> RecoveryReport:
        now = utc(now, "now")
        with self._connections.write():
            return replicas.recover(
                self.using,
                now=now,
                stale_after=stale_after,
                retry=retry,
                start_timeout=start_timeout,
            )

    def prune_replicas(self, *, now: datetime, older_than: timedelta) -> int:
        cutoff = utc(now, "now") - older_than
        with self._connections.write():
            return replicas.prune_replicas(self.using, cutoff=cutoff)

    # -- changes ----------------------------------------------------------------
    def listen_for_changes(self) -> ChangeListener | None:
        """A listener on a connection of its own, on PostgreSQL with psycopg 3;
        ``None`` elsewhere.  See :class:`~scheduler.stores.base.NotifiesChanges`."""
        return listener(self.using)

    # -- history --------------------------------------------------------------
    def get_run(self, run_id: int) -> Run:
        with self._connections.reachable():
            return runs.get_run(self.using, run_id)

    def list_runs(
        self, *, job_name: str | None = None, status: RunStatus | None = None, limit: int = 50
    ) -> list[Run]:
        if limit <= 0:
            return []
        with self._connections.reachable():
            return runs.list_runs(self.using, job_name, status, limit)

    def prune(self, *, now: datetime, keep_last: int | None, max_age: timedelta | None) -> int:
        now = utc(now, "now")
        if keep_last is None and max_age is None:
            return 0
        with self._connections.write():
            return runs.prune(self.using, now, keep_last, max_age)
