"""The SQL :class:`~scheduler.stores.base.Store`: SQLAlchemy Core on PostgreSQL or SQLite.

Several replicas may share one database.  What keeps a slot from firing twice
is the unique constraint on ``(job, scheduled_for, attempt)``; what keeps the
replicas from tripping over each other is the claim transaction:

* PostgreSQL: due jobs are selected ``FOR NO KEY UPDATE SKIP LOCKED`` (the
  row lock of an ``UPDATE`` that leaves keys alone, so run inserts referencing
  the job are not blocked), and a replica skips the jobs another one holds;
* SQLite: every write transaction starts with ``BEGIN IMMEDIATE``, so the one
  that claims holds the database's write lock from its first read; the others
  wait (busy timeout) and then see the advanced ``next_run_at``.  The database
  runs in WAL mode, so readers never wait.

Every claim is batched: a fixed number of statements whatever the number of
due jobs, never one per job.  An idle wake-up is one indexed ``MIN`` query plus
one indexed select per claim call.

Rows become :class:`~scheduler.jobs.JobSpec` values column by column (no
``from_dict``), and the specs are cached by ``(job id, version)``: building one
costs tens of microseconds, which 10,000 due jobs a second would feel.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

from sqlalchemy import (
    URL,
    ColumnElement,
    Connection,
    Engine,
    Integer,
    RowMapping,
    Select,
    and_,
    any_,
    bindparam,
    case,
    create_engine,
    delete,
    event,
    exists,
    func,
    insert,
    literal,
    make_url,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.pool import StaticPool

from ..clock import ensure_aware_utc
from ..errors import DuplicateRun, InvalidJob, JobNotFound, StoreUnavailable
from ..jobs import JobSpec
from ..policies import JobSource, OverlapPolicy
from ..runs import (
    ACTIVE_STATUSES,
    TERMINAL_STATUSES,
    ClaimedRun,
    NewRun,
    Outcome,
    Run,
    RunStatus,
)
from ..schedules import Cron
from .base import Planner, RecoveryReport, SlotPlan, StoredJob, SyncReport
from .schema import (
    SLOT_CONSTRAINT,
    UTCDateTime,
    job_columns,
    job_table,
    metadata,
    replica_table,
    result_column,
    run_columns,
    run_from_columns,
    run_table,
    spec_from_columns,
)

__all__ = ["SQLAlchemyStore"]

logger = logging.getLogger(__name__)

#: How long a SQLite writer waits for another one's write lock before failing.
SQLITE_BUSY_TIMEOUT = 30.0
#: Specs kept built, by (job id, version); a miss costs one JobSpec construction.
DEFAULT_SPEC_CACHE_SIZE = 20_000
# Bound parameters per IN list: well inside SQLite's 32,766 and PostgreSQL's 65,535.
_CHUNK = 5_000
# The execution option our SQLite "begin" hook reads: the statement that opens
# a transaction, or None for a single-statement read that needs none.
_BEGIN = "tickwork_begin"

_ACTIVE = sorted(status.value for status in ACTIVE_STATUSES)
_TERMINAL = sorted(status.value for status in TERMINAL_STATUSES)
_BUSY = [RunStatus.QUEUED.value, RunStatus.RUNNING.value]
_NOT_STARTED = [RunStatus.PENDING.value, RunStatus.QUEUED.value]
_PENDING = RunStatus.PENDING.value

_T = TypeVar("_T")

_job = job_table.c
_run = run_table.c
_replica = replica_table.c


class SQLAlchemyStore:
    """A :class:`~scheduler.stores.base.Store` in a PostgreSQL or SQLite database.

    ``url`` is a SQLAlchemy URL; ``postgresql://`` (and ``postgres://``) mean
    psycopg 3.  Pass ``engine`` to share one you built (it is then yours to
    dispose, and on SQLite it should not have connected yet, so the store's
    connection hooks see every connection).  An in-memory SQLite database
    (``sqlite://``) lives on a single shared connection: fine for tests, not
    for concurrent use.  Safe to share between threads.
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
        self.engine: Engine = engine if engine is not None else _create_engine(url, echo=echo)
        if self.engine.dialect.name == "sqlite":
            _install_sqlite_hooks(self.engine)
        self._specs = _SpecCache(spec_cache_size)

    def __repr__(self) -> str:
        return f"SQLAlchemyStore({self.engine.url!r})"

    # -- schema and lifetime --------------------------------------------------
    def create_schema(self) -> None:
        """Create the tables and indexes that do not exist yet."""
        with self._write() as conn:
            metadata.create_all(conn)

    def drop_schema(self) -> None:
        """Drop the store's tables, with every job and run in them."""
        with self._write() as conn:
            metadata.drop_all(conn)

    def dispose(self) -> None:
        """Close the pooled connections of an engine the store created."""
        if self._owns_engine:
            self.engine.dispose()

    # -- jobs ---------------------------------------------------------------
    def sync_jobs(
        self, specs: Sequence[JobSpec], *, source: JobSource, now: datetime
    ) -> SyncReport:
        now = _utc(now, "now")
        specs = [_normalised(spec, source) for spec in specs]
        _refuse_repeated_names(specs, source)
        with self._write() as conn:
            mine = {row["name"]: row for row in _select_rows(conn, _job_keys(source))}
            _refuse_foreign_names(conn, [s.name for s in specs if s.name not in mine], source)
            added, changed, unchanged = _compare(specs, mine)
            keep = {spec.name for spec in specs}
            gone = [
                row["id"]
                for name, row in mine.items()
                if name not in keep and row["removed_at"] is None
            ]
            disabled = [
                (row, replace(self._spec(row), enabled=False)) for row in _rows_by_id(conn, gone)
            ]
            _insert_jobs(conn, added, now)
            _update_jobs(conn, changed, now)
            _update_jobs(conn, disabled, now, removed=True)
        return SyncReport(
            added=tuple(sorted(spec.name for spec in added)),
            updated=tuple(sorted(spec.name for _, spec in changed)),
            disabled=tuple(sorted(spec.name for _, spec in disabled)),
            unchanged=tuple(sorted(unchanged)),
        )

    def save_job(self, spec: JobSpec, *, now: datetime) -> StoredJob:
        now = _utc(now, "now")
        spec = _normalised(spec)
        with self._write() as conn:
            old = _job_row(conn, spec.name, lock=True)
            if old is None:
                return _insert_jobs(conn, [spec], now)[0]
            if old["source"] != spec.source.value:
                raise InvalidJob(
                    f"job {spec.name!r} already exists from source {old['source']!r}; "
                    f"a {spec.source.value!r} job may not replace it"
                )
            if _unchanged(old, spec):
                return self._stored(old)
            return _update_jobs(conn, [(old, spec)], now)[0]

    def get_job(self, name: str) -> StoredJob:
        with self._read() as conn:
            row = _job_row(conn, name)
        if row is None:
            raise _job_not_found(name)
        return self._stored(row)

    def list_jobs(self) -> list[StoredJob]:
        with self._read() as conn:
            rows = _select_rows(conn, select(job_table).order_by(_job.name))
        return [self._stored(row) for row in rows]

    def set_paused(self, name: str, paused: bool, *, now: datetime) -> StoredJob:
        now = _utc(now, "now")
        with self._write() as conn:
            row = _job_row(conn, name, lock=True)
            if row is None:
                raise _job_not_found(name)
            job = self._stored(row)
            if job.paused is paused:
                return job
            resumed = job.spec.enabled and not paused
            changed = replace(
                job,
                paused_at=now if paused else None,
                next_run_at=job.spec.next_after(now) if resumed else None,
                updated_at=now,
            )
            conn.execute(
                update(job_table)
                .where(_job.id == row["id"])
                .values(
                    paused_at=changed.paused_at,
                    next_run_at=changed.next_run_at,
                    updated_at=now,
                )
            )
            return changed

    # -- the due-queue ------------------------------------------------------
    def next_wake(self) -> datetime | None:
        with self._read() as conn:
            instants = conn.execute(_NEXT_WAKE).one()
        return min((instant for instant in instants if instant is not None), default=None)

    def claim_due(
        self, *, now: datetime, replica_id: str, limit: int, plan: Planner
    ) -> list[ClaimedRun]:
        now = _utc(now, "now")
        if limit <= 0:
            return []
        try:
            with self._write() as conn:
                due = conn.execute(_DUE_JOBS, {"now": now, "limit": limit}).mappings().all()
                if not due:
                    return []
                jobs = {row["id"]: self._stored(row) for row in due}
                busy = _busy_job_ids(conn, list(jobs))
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
                ids = _insert_runs(conn, rows, now=now, replica_id=replica_id)
                conn.execute(
                    _ADVANCE, [_advance(job_id, chosen) for job_id, chosen in plans.items()]
                )
        except IntegrityError as error:
            if _is_slot_conflict(error):
                raise DuplicateRun(f"claim_due: {_conflict(error)}") from error
            raise
        claimed = [
            _claimed(ids[_slot_key(row)], jobs[row["job_id"]].spec, row)
            for row in rows
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
        with self._write() as conn:
            rows = conn.execute(_CLAIMABLE_RUNS, {"now": now, "limit": limit}).mappings().all()
            if not rows:
                return []
            for among in _among(conn, _run.id, [row["id"] for row in rows]):
                conn.execute(
                    update(run_table).where(among).values(replica_id=replica_id, claimed_at=now)
                )
            jobs = {
                row["id"]: self._spec(row)
                for row in _rows_by_id(conn, {row["job_id"] for row in rows})
            }
        return [
            ClaimedRun(
                run=replace(_run_from_row(row), replica_id=replica_id, claimed_at=now),
                job=jobs[row["job_id"]],
            )
            for row in rows
        ]

    def add_run(self, job_name: str, new: NewRun) -> Run:
        new = new.checked(job_name)
        if new.status is not RunStatus.PENDING:
            raise ValueError(f"job {job_name!r}: add_run creates pending runs, got {new.status}")
        try:
            with self._write() as conn:
                job_id = conn.scalar(select(_job.id).where(_job.name == job_name))
                if job_id is None:
                    raise _job_not_found(job_name)
                values = run_columns(job_id, new, now=new.due_at, replica_id="")
                run_id = conn.execute(
                    insert(run_table).values(values).returning(_run.id)
                ).scalar_one()
        except IntegrityError as error:
            if _is_slot_conflict(error):
                slot = f"slot {new.scheduled_for.isoformat()}, attempt {new.attempt}"
                raise DuplicateRun(f"job {job_name!r}, {slot}: {_conflict(error)}") from error
            raise
        return run_from_columns(run_id, job_name, values)

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
        with self._write() as conn:
            for among in _among(conn, _run.id, list(run_ids)):
                conn.execute(
                    update(run_table).where(among, _run.status == _PENDING).values(changes)
                )

    def mark_running(self, run_id: int, *, worker: str, now: datetime) -> bool:
        now = _utc(now, "now")
        changes = {"status": RunStatus.RUNNING.value, "started_at": now, "worker": worker}
        return self._transition(run_id, _NOT_STARTED, changes)

    def mark_finished(self, run_id: int, outcome: Outcome) -> None:
        if outcome.status not in TERMINAL_STATUSES:
            raise ValueError(f"a run finishes in a terminal status, got {outcome.status}")
        finished_at = _utc(outcome.finished_at, "finished_at")
        with self._write() as conn:
            row = conn.execute(
                select(_run.status, _run.started_at).where(_run.id == run_id).with_for_update()
            ).one_or_none()
            if row is None:
                raise _run_not_found(run_id)
            if row.status in _TERMINAL:
                return
            started: datetime | None = row.started_at
            conn.execute(
                update(run_table)
                .where(_run.id == run_id)
                .values(
                    status=outcome.status.value,
                    finished_at=finished_at,
                    duration_seconds=None
                    if started is None
                    else (finished_at - started).total_seconds(),
                    result=result_column(outcome.result),
                    error=outcome.error,
                    traceback=outcome.traceback,
                )
            )

    def cancel_run(self, run_id: int, *, now: datetime) -> bool:
        now = _utc(now, "now")
        changes = {"status": RunStatus.CANCELLED.value, "finished_at": now}
        return self._transition(run_id, _NOT_STARTED, changes)

    def _transition(self, run_id: int, allowed: list[str], changes: Mapping[str, object]) -> bool:
        """Apply ``changes`` if the run is in one of the ``allowed`` statuses."""
        with self._write() as conn:
            result = conn.execute(
                update(run_table).where(_run.id == run_id, _run.status.in_(allowed)).values(changes)
            )
            if result.rowcount == 1:
                return True
            if conn.scalar(select(_run.id).where(_run.id == run_id)) is None:
                raise _run_not_found(run_id)
            return False

    # -- replicas and recovery ----------------------------------------------
    def heartbeat(self, replica_id: str, *, hostname: str, pid: int, now: datetime) -> None:
        now = _utc(now, "now")
        with self._write() as conn:
            restarted = case(
                (_replica.stopped_at.is_(None), _replica.started_at),
                else_=literal(now, UTCDateTime()),
            )
            result = conn.execute(
                update(replica_table)
                .where(_replica.id == replica_id)
                .values(
                    hostname=hostname,
                    pid=pid,
                    heartbeat_at=now,
                    stopped_at=None,
                    started_at=restarted,
                )
            )
            if result.rowcount == 0:
                conn.execute(
                    insert(replica_table).values(
                        id=replica_id, hostname=hostname, pid=pid, started_at=now, heartbeat_at=now
                    )
                )

    def stop_replica(self, replica_id: str, *, now: datetime) -> None:
        now = _utc(now, "now")
        with self._write() as conn:
            result = conn.execute(
                update(replica_table).where(_replica.id == replica_id).values(stopped_at=now)
            )
            if result.rowcount == 0:
                conn.execute(
                    insert(replica_table).values(
                        id=replica_id,
                        hostname="",
                        pid=0,
                        started_at=now,
                        heartbeat_at=now,
                        stopped_at=now,
                    )
                )

    def recover(self, *, now: datetime, stale_after: timedelta) -> RecoveryReport:
        now = _utc(now, "now")
        dead = _of_dead_replica(now - stale_after)
        message = literal("replica ") + _run.replica_id + literal(" stopped heartbeating")
        with self._write() as conn:
            released = conn.scalars(
                update(run_table)
                .where(_run.status == _PENDING, dead)
                .values(replica_id="", claimed_at=None)
                .returning(_run.id)
            ).all()
            lost = conn.scalars(
                update(run_table)
                .where(_run.status.in_(_BUSY), _run.external_id == "", dead)
                .values(status=RunStatus.LOST.value, finished_at=now, error=message)
                .returning(_run.id)
            ).all()
        return RecoveryReport(released=tuple(sorted(released)), lost=tuple(sorted(lost)))

    # -- history --------------------------------------------------------------
    def get_run(self, run_id: int) -> Run:
        with self._read() as conn:
            rows = _select_rows(conn, _runs_with_names().where(_run.id == run_id))
        if not rows:
            raise _run_not_found(run_id)
        return _run_from_row(rows[0])

    def list_runs(
        self, *, job_name: str | None = None, status: RunStatus | None = None, limit: int = 50
    ) -> list[Run]:
        if limit <= 0:
            return []
        query = _runs_with_names()
        if job_name is not None:
            query = query.where(_job.name == job_name)
        if status is not None:
            query = query.where(_run.status == RunStatus(status).value)
        query = query.order_by(
            _run.scheduled_for.desc(), _run.attempt.desc(), _run.id.desc()
        ).limit(limit)
        with self._read() as conn:
            return [_run_from_row(row) for row in _select_rows(conn, query)]

    def prune(self, *, now: datetime, keep_last: int | None, max_age: timedelta | None) -> int:
        now = _utc(now, "now")
        doomed: list[ColumnElement[bool]] = []
        if keep_last is not None:
            doomed.append(_run.id.in_(_beyond_newest(max(keep_last, 0))))
        if max_age is not None:
            doomed.append(_run.finished_at < now - max_age)
        if not doomed:
            return 0
        with self._write() as conn:
            result = conn.execute(delete(run_table).where(_run.status.in_(_TERMINAL), or_(*doomed)))
            if max_age is not None:
                conn.execute(delete(job_table).where(_finished_one_off(now - max_age)))
        return result.rowcount

    # -- helpers ------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A transaction that writes: on SQLite it takes the write lock at once."""
        with _reachable(self.engine), self.engine.connect() as conn:
            conn.execution_options(**{_BEGIN: "BEGIN IMMEDIATE"})
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A connection for one SELECT, which is consistent on its own."""
        with _reachable(self.engine), self.engine.connect() as conn:
            conn.execution_options(**{_BEGIN: None})
            yield conn

    def _spec(self, row: RowMapping) -> JobSpec:
        return self._specs.get(row)

    def _stored(self, row: RowMapping) -> StoredJob:
        return StoredJob(
            spec=self._specs.get(row),
            next_run_at=row["next_run_at"],
            version=row["version"],
            definition_hash=row["definition_hash"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            paused_at=row["paused_at"],
            removed_at=row["removed_at"],
        )


class _SpecCache:
    """Built specs by (job id, version), least recently used out first.

    The stored definition hash is checked too, so a row rewritten without a
    version bump (by hand, by another tool) is never served stale.
    """

    def __init__(self, size: int) -> None:
        self._size = max(size, 0)
        self._lock = threading.Lock()
        self._specs: OrderedDict[tuple[int, int], tuple[str, JobSpec]] = OrderedDict()

    def get(self, row: RowMapping) -> JobSpec:
        key = (row["id"], row["version"])
        with self._lock:
            cached = self._specs.get(key)
            if cached is not None and cached[0] == row["definition_hash"]:
                self._specs.move_to_end(key)
                return cached[1]
        spec = spec_from_columns(row)
        with self._lock:
            self._specs[key] = (row["definition_hash"], spec)
            while len(self._specs) > self._size:
                self._specs.popitem(last=False)
        return spec


# -- engines ------------------------------------------------------------------


def _normalised_url(url: str) -> URL:
    """``url`` parsed, with a bare ``postgresql://`` or ``postgres://`` meaning psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


@contextmanager
def _reachable(engine: Engine) -> Iterator[None]:
    """Turn a database that cannot be reached (restarting, network blip, SQLite
    locked past its busy timeout) into StoreUnavailable, which the engine
    retries with backoff; any other database error stays what it is."""
    try:
        yield
    except (OperationalError, InterfaceError) as error:
        raise StoreUnavailable(
            f"{engine.dialect.name} database unavailable: {str(error.orig or error).strip()}"
        ) from error


def _create_engine(url: str, *, echo: bool) -> Engine:
    parsed = _normalised_url(url)
    if parsed.get_backend_name() != "sqlite":
        # pre_ping replaces connections a server restart killed, at the cost of
        # one round trip when a connection is checked out.
        return create_engine(parsed, echo=echo, pool_pre_ping=True)
    if parsed.database in (None, "", ":memory:"):
        # Each connection to ":memory:" would be a new, empty database.
        return create_engine(
            parsed, echo=echo, poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    return create_engine(parsed, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT})


def _install_sqlite_hooks(engine: Engine) -> None:
    if not event.contains(engine, "connect", _on_sqlite_connect):
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)


def _on_sqlite_connect(dbapi_connection: Any, _record: object) -> None:
    # The driver's own transaction handling would delay BEGIN to the first
    # write; the "begin" hook emits it instead, and IMMEDIATE where we write.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _on_sqlite_begin(conn: Connection) -> None:
    statement = conn.get_execution_options().get(_BEGIN, "BEGIN")
    if statement:
        conn.exec_driver_sql(statement)


# -- jobs: rows and specs -------------------------------------------------------


def _normalised(spec: JobSpec, source: JobSource | None = None) -> JobSpec:
    """``spec`` as it will read back: of ``source``, its cron hashed by its name."""
    if source is not None and spec.source is not source:
        spec = replace(spec, source=source)
    schedule = spec.schedule
    if isinstance(schedule, Cron) and schedule.hash_key != spec.name:
        spec = replace(spec, schedule=Cron(schedule.expr, tz=schedule.tz, hash_key=spec.name))
    return spec


def _compare(
    specs: Sequence[JobSpec], stored: Mapping[str, RowMapping]
) -> tuple[list[JobSpec], list[tuple[RowMapping, JobSpec]], list[str]]:
    """Sort ``specs`` into new ones, changed ones (with their row), and unchanged names."""
    added: list[JobSpec] = []
    changed: list[tuple[RowMapping, JobSpec]] = []
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


def _unchanged(row: RowMapping, spec: JobSpec) -> bool:
    """Whether storing ``spec`` over ``row`` would change nothing."""
    return row["definition_hash"] == spec.definition_hash() and row["removed_at"] is None


def _refuse_repeated_names(specs: Sequence[JobSpec], source: JobSource) -> None:
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise InvalidJob(f"job {spec.name!r} is declared twice in one {source.value} sync")
        seen.add(spec.name)


def _refuse_foreign_names(conn: Connection, names: Sequence[str], source: JobSource) -> None:
    for among in _among(conn, _job.name, names):
        owner = conn.execute(
            select(_job.name, _job.source).where(among).order_by(_job.name).limit(1)
        ).first()
        if owner is not None:
            raise InvalidJob(
                f"job {owner.name!r} already exists from source {owner.source!r}; "
                f"a {source.value!r} job may not replace it"
            )


def _job_keys(source: JobSource) -> Select[Any]:
    """What a sync compares of the jobs of ``source``, locked until it commits."""
    columns = (
        _job.id,
        _job.name,
        _job.enabled,
        _job.removed_at,
        _job.paused_at,
        _job.definition_hash,
        _job.version,
        _job.created_at,
    )
    return select(*columns).where(_job.source == source.value).with_for_update(key_share=True)


def _job_row(conn: Connection, name: str, *, lock: bool = False) -> RowMapping | None:
    query = select(job_table).where(_job.name == name)
    if lock:
        query = query.with_for_update()
    return conn.execute(query).mappings().one_or_none()


def _rows_by_id(conn: Connection, ids: Iterable[int]) -> list[RowMapping]:
    rows: list[RowMapping] = []
    for among in _among(conn, _job.id, sorted(ids)):
        rows += _select_rows(conn, select(job_table).where(among))
    return rows


def _insert_jobs(conn: Connection, specs: Sequence[JobSpec], now: datetime) -> list[StoredJob]:
    """Insert new jobs, in one batch; their first slot is the first after ``now``."""
    stored = [_put(spec, now, version=1, created_at=now) for spec in specs]
    if stored:
        conn.execute(insert(job_table), [job_columns(job) for job in stored])
    return stored


def _update_jobs(
    conn: Connection,
    changes: Sequence[tuple[RowMapping, JobSpec]],
    now: datetime,
    *,
    removed: bool = False,
) -> list[StoredJob]:
    """Store new definitions of existing jobs, in one batch: version + 1, next
    slot from ``now`` unless paused; ``removed_at`` is ``now`` if ``removed``."""
    stored = [
        _put(
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
        params = [
            {**job_columns(job), "job": row["id"]}
            for (row, _), job in zip(changes, stored, strict=True)
        ]
        conn.execute(update(job_table).where(_job.id == bindparam("job")), params)
    return stored


def _put(
    spec: JobSpec,
    now: datetime,
    *,
    version: int,
    created_at: datetime,
    paused_at: datetime | None = None,
    removed_at: datetime | None = None,
) -> StoredJob:
    return StoredJob(
        spec=spec,
        next_run_at=spec.next_after(now) if spec.enabled and paused_at is None else None,
        paused_at=paused_at,
        removed_at=removed_at,
        version=version,
        definition_hash=spec.definition_hash(),
        created_at=created_at,
        updated_at=now,
    )


def _job_not_found(name: str) -> JobNotFound:
    return JobNotFound(f"no job is called {name!r}")


# -- the due-queue -----------------------------------------------------------------

_NOW = bindparam("now", type_=UTCDateTime())
_LIMIT = bindparam("limit", type_=Integer())

# The earliest next_run_at of an enabled job, and due_at of an unclaimed
# pending run: two index lookups, in one statement.
_NEXT_WAKE: Final = select(
    select(func.min(_job.next_run_at)).where(_job.enabled == true()).scalar_subquery(),
    select(func.min(_run.due_at))
    .where(_run.status == _PENDING, _run.replica_id == "")
    .scalar_subquery(),
)

# Due jobs, locked; on PostgreSQL those another replica holds are skipped.
_DUE_JOBS: Final = (
    select(job_table)
    .where(_job.enabled == true(), _job.next_run_at <= _NOW)
    .order_by(_job.next_run_at, _job.name)
    .limit(_LIMIT)
    .with_for_update(skip_locked=True, key_share=True)
)

_busy_run = run_table.alias("busy_run")
# Unclaimed due pending runs, except those of a ``queue`` job whose previous run is busy.
_CLAIMABLE_RUNS: Final = (
    select(run_table, _job.name.label("job_name"))
    .join(job_table, _job.id == _run.job_id)
    .where(_run.status == _PENDING, _run.replica_id == "", _run.due_at <= _NOW)
    .where(
        or_(
            _job.overlap != OverlapPolicy.QUEUE.value,
            ~exists().where(_busy_run.c.job_id == _run.job_id, _busy_run.c.status.in_(_BUSY)),
        )
    )
    .order_by(_run.due_at, _run.id)
    .limit(_LIMIT)
    .with_for_update(skip_locked=True, key_share=True, of=run_table)
)

# next_run_at of many jobs in one executemany.
_ADVANCE: Final = (
    update(job_table)
    .where(_job.id == bindparam("job"))
    .values(next_run_at=bindparam("next", type_=UTCDateTime()))
)


def _busy_job_ids(conn: Connection, job_ids: Sequence[int]) -> set[int]:
    """Which of ``job_ids`` have a pending, queued or running run."""
    busy: set[int] = set()
    for among in _among(conn, _run.job_id, job_ids):
        query = select(_run.job_id).where(among, _run.status.in_(_ACTIVE)).distinct()
        busy.update(conn.scalars(query))
    return busy


_SlotKey = tuple[int, datetime, int]


def _slot_key(row: Mapping[Any, Any]) -> _SlotKey:
    return (row["job_id"], row["scheduled_for"], row["attempt"])


def _insert_runs(
    conn: Connection, rows: Sequence[dict[str, Any]], *, now: datetime, replica_id: str
) -> dict[_SlotKey, int]:
    """Insert runs in one executemany; the ids of those claimed, by slot.

    The driver's own executemany (pipelined by psycopg) parses the statement
    once; ``RETURNING`` would need SQLAlchemy's multi-row VALUES instead, whose
    thousands of placeholders psycopg parses in Python.  So the claimed runs'
    ids come from one indexed select, matched by slot: the unique key.
    """
    if not rows:
        return {}
    conn.execute(insert(run_table), list(rows))
    claimed = {_slot_key(row) for row in rows if row["replica_id"]}
    job_ids = sorted({key[0] for key in claimed})
    ids: dict[_SlotKey, int] = {}
    for among in _among(conn, _run.job_id, job_ids):
        query = select(_run.id, _run.job_id, _run.scheduled_for, _run.attempt).where(
            among, _run.replica_id == replica_id, _run.claimed_at == now
        )
        found = conn.execute(query).mappings()
        ids.update((key, row["id"]) for row in found if (key := _slot_key(row)) in claimed)
    return ids


def _advance(job_id: int, chosen: SlotPlan) -> dict[str, Any]:
    return {"job": job_id, "next": _utc_or_none(chosen.next_run_at, "next_run_at")}


def _claimed(run_id: int, spec: JobSpec, row: Mapping[str, Any]) -> ClaimedRun:
    return ClaimedRun(run=run_from_columns(run_id, spec.name, row), job=spec)


def _is_slot_conflict(error: IntegrityError) -> bool:
    """Whether ``error`` is the slot constraint refusing a second run of one slot and attempt."""
    constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    if constraint is not None:  # psycopg names it
        return bool(constraint == SLOT_CONSTRAINT)
    # sqlite3 names the columns instead: "UNIQUE constraint failed: scheduler_run.job_id, ..."
    return "scheduler_run.job_id, scheduler_run.scheduled_for, scheduler_run.attempt" in str(
        error.orig
    )


def _conflict(error: IntegrityError) -> str:
    detail = getattr(getattr(error.orig, "diag", None), "message_detail", None)
    found = f" ({detail})" if detail else ""
    return f"a run for the same job, slot and attempt already exists{found}"


# -- runs: rows and values ----------------------------------------------------------


def _runs_with_names() -> Select[Any]:
    return select(run_table, _job.name.label("job_name")).join(job_table, _job.id == _run.job_id)


def _run_from_row(row: RowMapping) -> Run:
    return run_from_columns(row["id"], row["job_name"], row)


def _run_not_found(run_id: int) -> LookupError:
    return LookupError(f"no run has id {run_id}")


def _of_dead_replica(stale_before: datetime) -> ColumnElement[bool]:
    """The run's replica stopped, went quiet before ``stale_before``, or never beat."""
    alive = (
        select(_replica.id)
        .where(_replica.id == _run.replica_id)
        .where(_replica.stopped_at.is_(None), _replica.heartbeat_at >= stale_before)
    )
    return (_run.replica_id != "") & ~alive.exists()


def _finished_one_off(changed_before: datetime) -> ColumnElement[bool]:
    """A deferred call that ran (or was cancelled) and has no history left."""
    return and_(
        _job.source == JobSource.CODE.value,
        _job.run_at.is_not(None),
        _job.next_run_at.is_(None),
        _job.paused_at.is_(None),
        _job.updated_at < changed_before,
        ~exists().where(_run.job_id == _job.id),
    )


def _beyond_newest(keep_last: int) -> Select[Any]:
    """Ids of terminal runs beyond the newest ``keep_last`` terminal runs of their job."""
    newest_first = (_run.scheduled_for.desc(), _run.attempt.desc(), _run.id.desc())
    ranked = (
        select(
            _run.id,
            func.row_number().over(partition_by=_run.job_id, order_by=newest_first).label("rank"),
        )
        .where(_run.status.in_(_TERMINAL))
        .subquery()
    )
    return select(ranked.c.id).where(ranked.c.rank > keep_last)


# -- small things -------------------------------------------------------------------


def _select_rows(conn: Connection, query: Select[Any]) -> list[RowMapping]:
    return list(conn.execute(query).mappings())


def _among(
    conn: Connection, column: ColumnElement[_T], values: Sequence[_T]
) -> Iterator[ColumnElement[bool]]:
    """``column IN values`` as a few clauses: one array on PostgreSQL, chunks on SQLite.

    An array is one parameter; an IN list is one per value, which SQLite caps
    and psycopg parses one by one.
    """
    if conn.dialect.name == "postgresql":
        yield column == any_(literal(list(values), ARRAY(column.type)))
        return
    for start in range(0, len(values), _CHUNK):
        yield column.in_(values[start : start + _CHUNK])


def _utc(instant: datetime, what: str) -> datetime:
    return ensure_aware_utc(instant, what)


def _utc_or_none(instant: datetime | None, what: str) -> datetime | None:
    return None if instant is None else _utc(instant, what)
