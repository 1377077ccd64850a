"""The tables of the SQL stores, in SQLAlchemy Core.

The Django app reproduces these tables with migrations, name for name, so the
types are the portable ones both sides have: big integer ids, bounded strings,
JSON kept as text, booleans, integers, floats (durations in seconds) and
timezone-aware timestamps.

Instants go through :class:`UTCDateTime`: PostgreSQL keeps them as
``timestamp with time zone``; SQLite, which has no such type, keeps the UTC
wall time as text, and both give back aware UTC datetimes.

A cron job's ``H`` fields are hashed by the job's name, so the hash key has no
column of its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeEngine

from ..clock import ensure_aware_utc
from ..errors import InvalidJob
from ..jobs import JobSpec, ScheduleType
from ..policies import CatchupPolicy, JobSource, OverlapPolicy
from ..runs import TERMINAL_STATUSES, NewRun, Run, RunStatus, Trigger
from ..schedules import Cron, Every, Once
from .base import StoredJob

__all__ = [
    "SLOT_CONSTRAINT",
    "UTCDateTime",
    "job_columns",
    "job_table",
    "metadata",
    "replica_table",
    "result_column",
    "run_columns",
    "run_from_columns",
    "run_table",
    "spec_from_columns",
]

#: Name of the constraint that makes a second run of one slot and attempt impossible.
SLOT_CONSTRAINT = "scheduler_run_slot_uniq"


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant, stored in UTC and read back aware in UTC.

    Naive datetimes are refused on the way in: they are ambiguous around every
    daylight-saving change.
    """

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_SQLiteUTCText())  # type: ignore[no-untyped-call]
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        instant = value if value.tzinfo is UTC else ensure_aware_utc(value)
        # SQLite compares instants as text: one fixed UTC form keeps that order right.
        return instant.replace(tzinfo=None) if dialect.name == "sqlite" else instant

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class _SQLiteUTCText(sqlite.DATETIME):
    """SQLite's DATETIME text (``YYYY-MM-DD HH:MM:SS.ffffff``), converted in C.

    The same text SQLAlchemy writes, without its per-value %-formatting and
    regular expression, which dominate bulk inserts and claims on SQLite.
    """

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], str | None]:
        def process(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat(sep=" ", timespec="microseconds")

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any]:
        def process(value: str | None) -> datetime | None:
            return None if value is None else datetime.fromisoformat(value)

        return process


# A BIGINT primary key is not SQLite's rowid and would not count up by itself.
_Id = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

job_table = Table(
    "scheduler_job",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("task", String(255), nullable=False),
    Column("args", Text, nullable=False),
    Column("kwargs", Text, nullable=False),
    Column("cron", String(255), nullable=True),
    Column("every_seconds", Float, nullable=True),
    Column("anchor_at", UTCDateTime(), nullable=True),
    Column("run_at", UTCDateTime(), nullable=True),
    Column("timezone", String(64), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("start_at", UTCDateTime(), nullable=True),
    Column("end_at", UTCDateTime(), nullable=True),
    Column("catchup", String(8), nullable=False),
    Column("max_catchup", Integer, nullable=False),
    Column("catchup_window_seconds", Float, nullable=True),
    Column("overlap", String(8), nullable=False),
    Column("jitter_seconds", Float, nullable=False),
    Column("timeout_seconds", Float, nullable=True),
    Column("retries", Integer, nullable=False),
    Column("retry_backoff_seconds", Float, nullable=False),
    Column("retry_backoff_max_seconds", Float, nullable=False),
    Column("executor", String(64), nullable=False),
    Column("queue", String(128), nullable=True),
    Column("description", Text, nullable=False),
    Column("source", String(8), nullable=False),
    Column("definition_hash", String(64), nullable=False),
    Column("next_run_at", UTCDateTime(), nullable=True),
    Column("paused_at", UTCDateTime(), nullable=True),
    Column("removed_at", UTCDateTime(), nullable=True),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("name", name="scheduler_job_name_uniq"),
    Index("scheduler_job_due_idx", "enabled", "next_run_at"),
    # Ids are never reused on SQLite either, so a cached (id, version) stays true.
    sqlite_autoincrement=True,
)

run_table = Table(
    "scheduler_run",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column(
        "job_id",
        BigInteger,
        ForeignKey(job_table.c.id, ondelete="CASCADE", name="scheduler_run_job_id_fk"),
        nullable=False,
    ),
    Column("scheduled_for", UTCDateTime(), nullable=False),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("trigger", String(10), nullable=False),
    Column("status", String(10), nullable=False),
    Column("claimed_at", UTCDateTime(), nullable=True),
    Column("started_at", UTCDateTime(), nullable=True),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("duration_seconds", Float, nullable=True),
    Column("result", Text, nullable=True),
    Column("error", Text, nullable=False),
    Column("traceback", Text, nullable=False),
    Column("executor", String(64), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("replica_id", String(64), nullable=False),
    Column("worker", String(255), nullable=False),
    # Last sign of life from a worker outside the scheduler (Celery) executing the run.
    Column("heartbeat_at", UTCDateTime(), nullable=True),
    UniqueConstraint("job_id", "scheduled_for", "attempt", name=SLOT_CONSTRAINT),
    Index("scheduler_run_pending_idx", "status", "due_at"),
    Index("scheduler_run_history_idx", "job_id", "scheduled_for"),
    Index("scheduler_run_replica_idx", "replica_id", "status"),
    # Pruned run ids are not handed out again to a new run.
    sqlite_autoincrement=True,
)

replica_table = Table(
    "scheduler_replica",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("hostname", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("heartbeat_at", UTCDateTime(), nullable=False),
    Column("stopped_at", UTCDateTime(), nullable=True),
)


# -- values <-> columns ------------------------------------------------------------


def job_columns(job: StoredJob) -> dict[str, Any]:
    """The ``scheduler_job`` row of ``job`` (all but ``id``)."""
    spec, schedule = job.spec, job.spec.schedule
    return {
        "name": spec.name,
        "task": spec.task,
        "args": json.dumps(list(spec.args)),
        "kwargs": json.dumps(spec.kwargs),
        "cron": schedule.expr if isinstance(schedule, Cron) else None,
        "every_seconds": schedule.interval.total_seconds() if isinstance(schedule, Every) else None,
        "anchor_at": schedule.anchor if isinstance(schedule, Every) else None,
        "run_at": schedule.at if isinstance(schedule, Once) else None,
        "timezone": spec.timezone,
        "enabled": spec.enabled,
        "start_at": spec.start,
        "end_at": spec.end,
        "catchup": spec.catchup.value,
        "max_catchup": spec.max_catchup,
        "catchup_window_seconds": _seconds(spec.catchup_window),
        "overlap": spec.overlap.value,
        "jitter_seconds": spec.jitter.total_seconds(),
        "timeout_seconds": _seconds(spec.timeout),
        "retries": spec.retries,
        "retry_backoff_seconds": spec.retry_backoff.total_seconds(),
        "retry_backoff_max_seconds": spec.retry_backoff_max.total_seconds(),
        "executor": spec.executor,
        "queue": spec.queue,
        "description": spec.description,
        "source": spec.source.value,
        "definition_hash": job.definition_hash,
        "next_run_at": job.next_run_at,
        "paused_at": job.paused_at,
        "removed_at": job.removed_at,
        "version": job.version,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
    }


def spec_from_columns(row: Mapping[Any, Any]) -> JobSpec:
    """The :class:`JobSpec` a ``scheduler_job`` row holds; a cron's ``H`` is hashed by name."""
    return JobSpec(
        name=row["name"],
        task=row["task"],
        schedule=_schedule_from_columns(row),
        args=tuple(json.loads(row["args"])),
        kwargs=json.loads(row["kwargs"]),
        timezone=row["timezone"],
        enabled=bool(row["enabled"]),
        start=row["start_at"],
        end=row["end_at"],
        catchup=CatchupPolicy(row["catchup"]),
        max_catchup=row["max_catchup"],
        catchup_window=_duration(row["catchup_window_seconds"]),
        overlap=OverlapPolicy(row["overlap"]),
        jitter=timedelta(seconds=row["jitter_seconds"]),
        timeout=_duration(row["timeout_seconds"]),
        retries=row["retries"],
        retry_backoff=timedelta(seconds=row["retry_backoff_seconds"]),
        retry_backoff_max=timedelta(seconds=row["retry_backoff_max_seconds"]),
        executor=row["executor"],
        queue=row["queue"],
        description=row["description"],
        source=JobSource(row["source"]),
    )


def _schedule_from_columns(row: Mapping[Any, Any]) -> ScheduleType:
    if row["cron"] is not None:
        return Cron(row["cron"], tz=row["timezone"], hash_key=row["name"])
    if row["every_seconds"] is not None:
        return Every(timedelta(seconds=row["every_seconds"]), anchor=row["anchor_at"])
    if row["run_at"] is not None:
        return Once(row["run_at"])
    raise InvalidJob(f"job {row['name']!r}: stored without cron, every_seconds or run_at")


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _duration(seconds: float | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=seconds)


def run_columns(job_id: int, new: NewRun, *, now: datetime, replica_id: str) -> dict[str, Any]:
    """The ``scheduler_run`` row of a new run (all but ``id``).

    It is claimed for ``replica_id`` when it is pending and due at ``now``; a
    run created in a terminal status (missed, skipped) ends at ``now``.
    """
    claim = bool(replica_id) and new.status is RunStatus.PENDING and new.due_at <= now
    return {
        "job_id": job_id,
        "scheduled_for": new.scheduled_for,
        "due_at": new.due_at,
        "attempt": new.attempt,
        "trigger": Trigger(new.trigger).value,
        "status": RunStatus(new.status).value,
        "claimed_at": now if claim else None,
        "started_at": None,
        "finished_at": now if new.status in TERMINAL_STATUSES else None,
        "duration_seconds": None,
        "result": None,
        "error": "",
        "traceback": "",
        "executor": "",
        "external_id": "",
        "replica_id": replica_id if claim else "",
        "worker": "",
        "heartbeat_at": None,
    }


def run_from_columns(run_id: int, job_name: str, row: Mapping[Any, Any]) -> Run:
    """The :class:`Run` a ``scheduler_run`` row holds (``job_id`` replaced by the job's name)."""
    return Run(
        id=run_id,
        job_name=job_name,
        scheduled_for=row["scheduled_for"],
        due_at=row["due_at"],
        attempt=row["attempt"],
        trigger=Trigger(row["trigger"]),
        status=RunStatus(row["status"]),
        claimed_at=row["claimed_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        result=None if row["result"] is None else json.loads(row["result"]),
        error=row["error"],
        traceback=row["traceback"],
        executor=row["executor"],
        external_id=row["external_id"],
        replica_id=row["replica_id"],
        worker=row["worker"],
        heartbeat_at=row["heartbeat_at"],
    )


def result_column(result: object) -> str | None:
    """A run's result as JSON text; no result is NULL."""
    return None if result is None else json.dumps(result, allow_nan=False)
