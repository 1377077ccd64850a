"""The tables of the SQL stores, in SQLAlchemy Core.

The Django app reproduces these tables with migrations, name for name, so the
types are the portable ones both sides have: big integer ids, bounded strings,
JSON kept as text, booleans, integers, floats (durations in seconds) and
timezone-aware timestamps.

Instants go through :class:`UTCDateTime`: PostgreSQL keeps them as
``timestamp with time zone``; SQLite, which has no such type, keeps the UTC
wall time as text; MariaDB and MySQL keep it as ``DATETIME(6)`` (microseconds,
no zone, so the session's time zone never shifts it); all give back aware UTC
datetimes.

On MariaDB and MySQL the tables are InnoDB in ``utf8mb4`` with the binary
collation, so names compare as they do on PostgreSQL and SQLite (``Report``
and ``report`` are two jobs), text is ``LONGTEXT`` (``TEXT`` stops at 64 KiB,
short of a long traceback) and floats are ``DOUBLE`` (``FLOAT`` is single
precision there).

A cron job's ``H`` fields are hashed by the job's name, so the hash key has no
column of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
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
    text,
)
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.types import TypeEngine

from ...clock import ensure_aware_utc

# The row <-> value mapping lives in .rows, free of SQLAlchemy, for the Django
# store too; it is re-exported here for the SQLAlchemy store's callers.
from ..rows import (
    ACTIVE_RUN_CONDITION,
    ACTIVE_RUN_INDEX,
    CHAIN_JOB_INDEX,
    CHAIN_RUN_INDEX,
    JOB_UPSTREAM_INDEX,
    JOB_UPSTREAM_TABLE,
    JOB_UPSTREAM_UNIQUE,
    SLOT_CONSTRAINT,
    UPSTREAM_RUN_INDEX,
    WINDOW_RUN_INDEX,
    job_columns,
    result_column,
    run_columns,
    run_from_columns,
    spec_from_columns,
)

__all__ = [
    "MYSQL_DIALECTS",
    "SLOT_CONSTRAINT",
    "UTCDateTime",
    "job_columns",
    "job_table",
    "job_upstream_table",
    "metadata",
    "replica_table",
    "result_column",
    "run_columns",
    "run_from_columns",
    "run_table",
    "spec_from_columns",
    "sqlite_text",
]


#: The names SQLAlchemy gives the MariaDB and MySQL dialects (``mariadb://`` URLs say "mariadb").
MYSQL_DIALECTS = frozenset({"mysql", "mariadb"})


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
        if dialect.name in MYSQL_DIALECTS:
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        instant = value if value.tzinfo is UTC else ensure_aware_utc(value)
        # SQLite compares instants as text: one fixed UTC form keeps that order
        # right; MySQL's DATETIME has no zone: the UTC wall time.
        if dialect.name == "sqlite" or dialect.name in MYSQL_DIALECTS:
            return instant.replace(tzinfo=None)
        return instant

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
            return None if value is None else _sqlite_wall(value)

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any]:
        def process(value: str | None) -> datetime | None:
            return None if value is None else datetime.fromisoformat(value)

        return process


def sqlite_text(instant: datetime | None) -> str | None:
    """The text SQLite keeps for an aware instant (what :class:`UTCDateTime` binds)."""
    if instant is None:
        return None
    return _sqlite_wall(instant if instant.tzinfo is UTC else ensure_aware_utc(instant))


def _sqlite_wall(utc: datetime) -> str:
    return utc.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


# A BIGINT primary key is not SQLite's rowid and would not count up by itself.
_Id = BigInteger().with_variant(Integer(), "sqlite")
# MySQL's TEXT holds 64 KiB and its FLOAT is single precision.
_Text: TypeEngine[str] = Text().with_variant(mysql.LONGTEXT(), *MYSQL_DIALECTS)
_Float: TypeEngine[float] = Float().with_variant(mysql.DOUBLE(asdecimal=False), *MYSQL_DIALECTS)
#: Table options on MariaDB and MySQL (ignored elsewhere): see the module's docstring.
_MYSQL_TABLE: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}

metadata = MetaData()

job_table = Table(
    "scheduler_job",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("task", String(255), nullable=False),
    Column("args", _Text, nullable=False),
    Column("kwargs", _Text, nullable=False),
    Column("cron", String(255), nullable=True),
    Column("every_seconds", _Float, nullable=True),
    Column("anchor_at", UTCDateTime(), nullable=True),
    Column("run_at", UTCDateTime(), nullable=True),
    Column("timezone", String(64), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("start_at", UTCDateTime(), nullable=True),
    Column("end_at", UTCDateTime(), nullable=True),
    Column("catchup", String(8), nullable=False),
    Column("max_catchup", Integer, nullable=False),
    Column("catchup_window_seconds", _Float, nullable=True),
    Column("overlap", String(8), nullable=False),
    Column("jitter_seconds", _Float, nullable=False),
    Column("timeout_seconds", _Float, nullable=True),
    Column("retries", Integer, nullable=False),
    Column("retry_backoff_seconds", _Float, nullable=False),
    Column("retry_backoff_max_seconds", _Float, nullable=False),
    Column("executor", String(64), nullable=False),
    Column("queue", String(128), nullable=True),
    Column("description", _Text, nullable=False),
    Column("source", String(8), nullable=False),
    Column("definition_hash", String(64), nullable=False),
    Column("next_run_at", UTCDateTime(), nullable=True),
    Column("paused_at", UTCDateTime(), nullable=True),
    Column("removed_at", UTCDateTime(), nullable=True),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # Last, as ADD COLUMN puts it: the job's notify: setting as JSON; NULL is the
    # default (every notifier, its own rules).
    Column("notify", _Text, nullable=True),
    # The job's max_memory in bytes (the process executor's RLIMIT_AS); NULL: no limit.
    Column("max_memory_bytes", BigInteger, nullable=True),
    # The job's calendar (excluded days, holidays, business days) as JSON; NULL: none.
    Column("calendar", _Text, nullable=True),
    # A solar schedule as JSON (event, latitude, longitude, offset); NULL for the others.
    Column("solar", _Text, nullable=True),
    # The upstream job a chained job runs after, and which of its endings count
    # (succeeded, failed, finished); NULL for a job that is not chained.
    Column("chain_after", String(200), nullable=True),
    Column("chain_when", String(10), nullable=True),
    # A join's upstreams in order, as JSON (chain_after is the first); NULL for
    # any other job.  Read with the row; scheduler_job_upstream indexes them.
    Column("chain_upstreams", _Text, nullable=True),
    UniqueConstraint("name", name="scheduler_job_name_uniq"),
    Index("scheduler_job_due_idx", "enabled", "next_run_at"),
    Index(CHAIN_JOB_INDEX, "chain_after"),
    # Ids are never reused on SQLite either, so a cached (id, version) stays true.
    sqlite_autoincrement=True,
    **_MYSQL_TABLE,
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
    Column("duration_seconds", _Float, nullable=True),
    Column("result", _Text, nullable=True),
    Column("error", _Text, nullable=False),
    Column("traceback", _Text, nullable=False),
    Column("executor", String(64), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("replica_id", String(64), nullable=False),
    Column("worker", String(255), nullable=False),
    # Last sign of life from a worker outside the scheduler (Celery) executing the run.
    Column("heartbeat_at", UTCDateTime(), nullable=True),
    # A chained run: the upstream run whose end started it (no foreign key: the
    # upstream run may be pruned first).  Unique per job, so two replicas that
    # notice the same end create one run.
    Column("upstream_run_id", BigInteger, nullable=True),
    # When this run's end was passed to the jobs chained after its job; NULL:
    # not yet (or it has not ended).
    Column("chained_at", UTCDateTime(), nullable=True),
    UniqueConstraint("job_id", "scheduled_for", "attempt", name=SLOT_CONSTRAINT),
    # A unique index, not a constraint, so that upgrading a database adds it.
    Index(UPSTREAM_RUN_INDEX, "job_id", "upstream_run_id", unique=True),
    # The ended runs of upstream jobs whose end no chain has seen yet.
    Index(CHAIN_RUN_INDEX, "job_id", "chained_at", "finished_at"),
    Index("scheduler_run_pending_idx", "status", "due_at"),
    Index("scheduler_run_history_idx", "job_id", "scheduled_for"),
    Index("scheduler_run_replica_idx", "replica_id", "status"),
    # Whether a job has a run going, answered by one probe (see ACTIVE_RUN_CONDITION).
    Index(
        ACTIVE_RUN_INDEX,
        "job_id",
        "status",  # covers the probe, so SQLite prefers it to the history index
        postgresql_where=text(ACTIVE_RUN_CONDITION),
        sqlite_where=text(ACTIVE_RUN_CONDITION),
    ),
    # The admin dashboard's window: runs by slot, then job and status, read from the index.
    Index(WINDOW_RUN_INDEX, "scheduled_for", "job_id", "status"),
    # Pruned run ids are not handed out again to a new run.
    sqlite_autoincrement=True,
    **_MYSQL_TABLE,
)

# The upstreams of each join (a job after two or more jobs), one row each, so
# that the wake-up finds the ends of any of them by an index on the name.  The
# job row's chain_upstreams says the same, for rebuilding its spec from the row.
job_upstream_table = Table(
    JOB_UPSTREAM_TABLE,
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column(
        "job_id",
        BigInteger,
        ForeignKey(job_table.c.id, ondelete="CASCADE", name="scheduler_job_upstream_job_id_fk"),
        nullable=False,
    ),
    Column("position", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    UniqueConstraint("job_id", "name", name=JOB_UPSTREAM_UNIQUE),
    Index(JOB_UPSTREAM_INDEX, "name"),
    **_MYSQL_TABLE,
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
    **_MYSQL_TABLE,
)
