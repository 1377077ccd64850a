"""The store class: each verb of the protocol, in one transaction or one read.

The SQL lives in the modules named for what it touches (:mod:`.jobs`,
:mod:`.claims`, :mod:`.runs`, :mod:`.replicas`); this class opens the
connection, checks and converts arguments, and turns a slot conflict into
:class:`~scheduler.errors.DuplicateRun`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError

from ...clock import ensure_aware_utc
from ...errors import DuplicateRun
from ...model.jobs import JobSpec
from ...model.policies import JobSource
from ...model.runs import TERMINAL_STATUSES, ClaimedRun, NewRun, Outcome, Run, RunStatus
from ..base import ChangeListener, Planner, RecoveryReport, Retrier, StoredJob, SyncReport
from ..rules import job_not_found, run_not_found
from . import claims, jobs, replicas, runs, upgrade, worker_runs
from .changes import listener
from .connections import engine_for, install_sqlite_hooks, read_connection, write_transaction
from .jobs import DEFAULT_SPEC_CACHE_SIZE, SpecCache
from .queries import select_rows
from .schema import job_table, metadata, run_table
from .upgrade import SchemaChange

__all__ = ["SQLAlchemyStore"]

logger = logging.getLogger("scheduler.stores.sqlalchemy")

_job = job_table.c
_run = run_table.c


class SQLAlchemyStore:
    """A :class:`~scheduler.stores.base.Store` in a PostgreSQL or SQLite database.

    ``url`` is a SQLAlchemy URL; ``postgresql://`` (and ``postgres://``) mean
    psycopg 3, the one PostgreSQL driver the store speaks (its claims send
    psycopg's binary parameters, and it listens with psycopg's notifications).
    Pass ``engine`` to share one you built (it is then yours to dispose, on
    PostgreSQL it must use psycopg 3, and on SQLite it should not have
    connected yet, so the store's connection hooks see every connection).
    An in-memory SQLite database (``sqlite://``) lives on a single shared
    connection: fine for tests, not for concurrent use.  Safe to share
    between threads.
    """

    def __init__(
        self,
        url: str,
        *,
        engine: Engine | None = None,
        echo: bool = False,
        spec_cache_size: int = DEFAULT_SPEC_CACHE_SIZE,
    ) -> None:
        self._owns_engine = engine is None
        self.engine: Engine = engine if engine is not None else engine_for(url, echo=echo)
        if self.engine.dialect.name == "sqlite":
            install_sqlite_hooks(self.engine)
        self._specs = SpecCache(spec_cache_size)

    def __repr__(self) -> str:
        return f"SQLAlchemyStore({self.engine.url!r})"

    # -- schema and lifetime --------------------------------------------------
    def create_schema(self) -> list[SchemaChange]:
        """Create the tables, nullable columns and indexes that do not exist
        yet, in one transaction; return what was missing.

        Brings a database made by an earlier version up to date, additively;
        raises :class:`~scheduler.stores.sqlalchemy.upgrade.SchemaNotUpgradable`
        (changing nothing) when that is not enough.
        """
        with self._write() as conn:
            return upgrade.apply(conn)

    def schema_changes(self) -> list[SchemaChange]:
        """What :meth:`create_schema` would do now, without doing it."""
        with self._read() as conn:
            return upgrade.missing(conn)

    def drop_schema(self) -> None:
        """Drop the store's tables, with every job and run in them."""
        with self._write() as conn:
            metadata.drop_all(conn)

    def listen_for_changes(self) -> ChangeListener | None:
        """A listener on its own connection, on PostgreSQL; ``None`` on SQLite.
        See :class:`~scheduler.stores.base.NotifiesChanges`."""
        if self.engine.dialect.name != "postgresql":
            return None
        return listener(self.engine)

    def dispose(self) -> None:
        """Close the pooled connections of an engine the store created."""
        if self._owns_engine:
            self.engine.dispose()

    # -- jobs ---------------------------------------------------------------
    def sync_jobs(
        self, specs: Sequence[JobSpec], *, source: JobSource, now: datetime
    ) -> SyncReport:
        now = ensure_aware_utc(now, "now")
        checked = jobs.sync_specs(specs, source)
        with self._write() as conn:
            return jobs.sync_jobs(conn, checked, source, now, self._specs)

    def save_job(
        self, spec: JobSpec, *, now: datetime, expected_version: int | None = None
    ) -> StoredJob:
        now = ensure_aware_utc(now, "now")
        with self._write() as conn:
            return jobs.save_job(conn, spec, now, self._specs, expected_version)

    def get_job(self, name: str) -> StoredJob:
        with self._read() as conn:
            row = jobs.job_row(conn, name)
        if row is None:
            raise job_not_found(name)
        return self._specs.stored(row)

    def list_jobs(self) -> list[StoredJob]:
        with self._read() as conn:
            rows = select_rows(conn, select(job_table).order_by(_job.name))
        return [self._specs.stored(row) for row in rows]

    def set_paused(self, name: str, paused: bool, *, now: datetime) -> StoredJob:
        now = ensure_aware_utc(now, "now")
        with self._write() as conn:
            return jobs.set_paused(conn, name, paused, now, self._specs)

    # -- the due-queue ------------------------------------------------------
    def next_wake(self) -> datetime | None:
        with self._read() as conn:
            instants = conn.execute(claims.NEXT_WAKE).one()
        return min((instant for instant in instants if instant is not None), default=None)

    def claim_due(
        self, *, now: datetime, replica_id: str, limit: int, plan: Planner
    ) -> list[ClaimedRun]:
        now = ensure_aware_utc(now, "now")
        if limit <= 0:
            return []
        try:
            with self._write() as conn:
                claimed, due_jobs = claims.claim_due(
                    conn, now=now, replica_id=replica_id, limit=limit, plan=plan, cache=self._specs
                )
        except IntegrityError as error:
            if claims.is_slot_conflict(error):
                raise DuplicateRun(f"claim_due: {claims.conflict(error)}") from error
            raise
        claimed.sort(key=lambda c: (c.run.scheduled_for, c.run.job_name, c.run.id))
        if due_jobs:
            logger.debug(
                "replica %s claimed %d runs of %d due jobs",
                replica_id,
                len(claimed),
                due_jobs,
                extra={"replica_id": replica_id, "claimed": len(claimed), "due_jobs": due_jobs},
            )
        return claimed

    def claim_pending(self, *, now: datetime, replica_id: str, limit: int) -> list[ClaimedRun]:
        now = ensure_aware_utc(now, "now")
        if limit <= 0:
            return []
        with self._write() as conn:
            return claims.claim_pending(
                conn, now=now, replica_id=replica_id, limit=limit, cache=self._specs
            )

    def add_run(self, job_name: str, new: NewRun) -> Run:
        new = new.checked(job_name)
        if new.status is not RunStatus.PENDING:
            raise ValueError(f"job {job_name!r}: add_run creates pending runs, got {new.status}")
        try:
            with self._write() as conn:
                return claims.add_run(conn, job_name, new)
        except IntegrityError as error:
            if claims.is_slot_conflict(error):
                slot = f"slot {new.scheduled_for.isoformat()}, attempt {new.attempt}"
                raise DuplicateRun(f"job {job_name!r}, {slot}: {claims.conflict(error)}") from error
            raise

    # -- recording ----------------------------------------------------------
    def mark_queued(self, run_id: int, *, executor: str, external_id: str, now: datetime) -> None:
        changes = {
            "status": RunStatus.QUEUED.value,
            "executor": executor,
            "external_id": external_id,
        }
        self._transition(run_id, [runs.PENDING], changes)

    def set_external_ids(self, external_ids: Mapping[int, str]) -> None:
        with self._write() as conn:
            worker_runs.set_external_ids(conn, external_ids)

    def beat_runs(self, run_ids: Sequence[int], *, now: datetime) -> None:
        with self._write() as conn:
            worker_runs.beat_runs(conn, run_ids, now=ensure_aware_utc(now, "now"))

    def mark_running(self, run_id: int, *, worker: str, now: datetime) -> bool:
        now = ensure_aware_utc(now, "now")
        changes = {"status": RunStatus.RUNNING.value, "started_at": now, "worker": worker}
        return self._transition(run_id, runs.NOT_STARTED, changes)

    def mark_finished(self, run_id: int, outcome: Outcome) -> None:
        if outcome.status not in TERMINAL_STATUSES:
            raise ValueError(f"a run finishes in a terminal status, got {outcome.status}")
        finished_at = ensure_aware_utc(outcome.finished_at, "finished_at")
        with self._write() as conn:
            runs.finish(conn, run_id, outcome, finished_at)

    def cancel_run(self, run_id: int, *, now: datetime) -> bool:
        now = ensure_aware_utc(now, "now")
        changes = {"status": RunStatus.CANCELLED.value, "finished_at": now}
        return self._transition(run_id, runs.NOT_STARTED, changes)

    def _transition(self, run_id: int, allowed: list[str], changes: Mapping[str, object]) -> bool:
        with self._write() as conn:
            return runs.transition(conn, run_id, allowed, changes)

    # -- replicas and recovery ----------------------------------------------
    def heartbeat(self, replica_id: str, *, hostname: str, pid: int, now: datetime) -> None:
        now = ensure_aware_utc(now, "now")
        with self._write() as conn:
            replicas.heartbeat(conn, replica_id, hostname=hostname, pid=pid, now=now)

    def stop_replica(self, replica_id: str, *, now: datetime) -> None:
        now = ensure_aware_utc(now, "now")
        with self._write() as conn:
            replicas.stop_replica(conn, replica_id, now=now)

    def prune_replicas(self, *, now: datetime, older_than: timedelta) -> int:
        cutoff = ensure_aware_utc(now, "now") - older_than
        with self._write() as conn:
            return replicas.prune_replicas(conn, cutoff=cutoff)

    def recover(
        self,
        *,
        now: datetime,
        stale_after: timedelta,
        retry: Retrier | None = None,
        start_timeout: timedelta | None = None,
    ) -> RecoveryReport:
        now = ensure_aware_utc(now, "now")
        with self._write() as conn:
            return replicas.recover(
                conn,
                now=now,
                stale_after=stale_after,
                retry=retry,
                cache=self._specs,
                start_timeout=start_timeout,
            )

    # -- history --------------------------------------------------------------
    def get_run(self, run_id: int) -> Run:
        with self._read() as conn:
            rows = select_rows(conn, runs.runs_with_names().where(_run.id == run_id))
        if not rows:
            raise run_not_found(run_id)
        return runs.run_from_row(rows[0])

    def list_runs(
        self, *, job_name: str | None = None, status: RunStatus | None = None, limit: int = 50
    ) -> list[Run]:
        if limit <= 0:
            return []
        with self._read() as conn:
            rows = select_rows(conn, runs.list_runs(job_name, status, limit))
        return [runs.run_from_row(row) for row in rows]

    def prune(self, *, now: datetime, keep_last: int | None, max_age: timedelta | None) -> int:
        now = ensure_aware_utc(now, "now")
        if keep_last is None and max_age is None:
            return 0
        with self._write() as conn:
            return runs.prune(conn, now, keep_last, max_age)

    # -- connections --------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A transaction that writes: on SQLite it takes the write lock at once."""
        with write_transaction(self.engine) as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A connection for one SELECT, which is consistent on its own."""
        with read_connection(self.engine) as conn:
            yield conn
