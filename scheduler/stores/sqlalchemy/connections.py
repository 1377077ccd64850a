"""Connecting: engines for a URL, SQLite's connection hooks, and transactions.

On SQLite every write transaction starts with ``BEGIN IMMEDIATE``, so the
transaction that claims holds the database's write lock from its first read;
the driver's own transaction handling would delay ``BEGIN`` to the first
write, so it is switched off and a ``begin`` hook emits the statement instead.
The database runs in WAL mode, so readers never wait.

On MariaDB and MySQL every connection the store makes runs ``READ
COMMITTED`` in ``utf8mb4`` (:mod:`scheduler.stores.servers` says why), and
a bare ``mysql://`` or ``mariadb://`` URL means PyMySQL, the driver of the
``mysql`` extra (``mysql+mysqldb://`` for mysqlclient).

A database that cannot be reached becomes
:class:`~scheduler.errors.StoreUnavailable`, which the engine retries with
backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.pool import StaticPool

from ...errors import StoreUnavailable
from .schema import MYSQL_DIALECTS
from .specs import SpecCache

__all__ = [
    "SQLITE_BUSY_TIMEOUT",
    "Db",
    "engine_for",
    "install_sqlite_hooks",
    "normalised_url",
    "reachable",
    "read_connection",
    "write_transaction",
]

logger = logging.getLogger(__name__)

#: How long a SQLite writer waits for another one's write lock before failing.
SQLITE_BUSY_TIMEOUT = 30.0
# The execution option our SQLite "begin" hook reads: the statement that opens
# a transaction, or None for a single-statement read that needs none.
_BEGIN = "tickwork_begin"
# SQLite's result code for an error in the statement itself (no such table, column, ...).
_SQLITE_ERROR = 1
# MariaDB/MySQL errors that PyMySQL reports as OperationalError although they are
# the statement's (unknown column, no such table, syntax, duplicate or missing
# column or key name): a schema that needs upgrading, not a database that is down.
_MYSQL_STATEMENT_ERRORS = frozenset({1054, 1060, 1061, 1064, 1091, 1146})


@dataclass(frozen=True, slots=True)
class Db:
    """What the store's verbs work through: the connection of the transaction
    (or the read) the store opened, and the store's cache of built specs."""

    conn: Connection
    specs: SpecCache


def normalised_url(url: str) -> URL:
    """``url`` parsed, with a bare ``postgresql://`` or ``postgres://`` meaning psycopg 3,
    a bare ``mysql://`` or ``mariadb://`` PyMySQL, and MySQL's character set ``utf8mb4``."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername in MYSQL_DIALECTS:
        parsed = parsed.set(drivername=f"{parsed.drivername}+pymysql")
    if parsed.get_backend_name() in MYSQL_DIALECTS and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed


def engine_for(url: str, *, echo: bool) -> Engine:
    """A SQLAlchemy engine for ``url``, pooled as the database needs."""
    parsed = normalised_url(url)
    if parsed.get_backend_name() in MYSQL_DIALECTS:
        return create_engine(
            parsed, echo=echo, pool_pre_ping=True, isolation_level="READ COMMITTED"
        )
    if parsed.get_backend_name() != "sqlite":
        # pre_ping replaces connections a server restart killed, at the cost of
        # one round trip when a connection is checked out.
        parsed, options = _psycopg_options(parsed)
        return create_engine(parsed, echo=echo, pool_pre_ping=True, connect_args=options)
    if parsed.database in (None, "", ":memory:"):
        # Each connection to ":memory:" would be a new, empty database.
        return create_engine(
            parsed, echo=echo, poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    return create_engine(parsed, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT})


def _psycopg_options(parsed: URL) -> tuple[URL, dict[str, Any]]:
    """``parsed`` without the psycopg options its query gives as text, and
    those options as psycopg takes them: ``prepare_threshold`` (``?prepare_threshold=0``
    prepares every statement, ``none`` none, as behind PgBouncer in
    transaction mode) is a number, which psycopg would compare with text."""
    raw = parsed.query.get("prepare_threshold")
    if raw is None:
        return parsed, {}
    given = raw[-1] if isinstance(raw, tuple) else raw
    value: int | None = None
    if given.strip().lower() not in ("none", ""):
        try:
            value = int(given)
        except ValueError:
            value = -1
        if value < 0:
            raise ValueError(
                "database URL: prepare_threshold must be a whole number of executions "
                f"(0 or more) or 'none' (prepare no statement), got {given!r}"
            )
    return parsed.difference_update_query(["prepare_threshold"]), {"prepare_threshold": value}


@contextmanager
def reachable(engine: Engine) -> Iterator[None]:
    """Turn a database that cannot be reached (restarting, network blip, SQLite
    locked past its busy timeout) into StoreUnavailable, which the engine
    retries with backoff; any other database error stays what it is."""
    try:
        yield
    except (OperationalError, InterfaceError) as error:
        if _is_sqlite_statement_error(error) or _is_mysql_statement_error(error):
            raise
        raise StoreUnavailable(
            f"{engine.dialect.name} database unavailable: {str(error.orig or error).strip()}"
        ) from error


def _is_sqlite_statement_error(error: OperationalError | InterfaceError) -> bool:
    """sqlite3 raises OperationalError for a missing table or column too
    (SQLITE_ERROR): a schema that needs upgrading, not a database that is down."""
    code = getattr(error.orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == _SQLITE_ERROR


def _is_mysql_statement_error(error: OperationalError | InterfaceError) -> bool:
    """PyMySQL raises OperationalError for an unknown column too (its first
    argument is the server's error number; other drivers' is a message)."""
    args: tuple[Any, ...] = getattr(error.orig, "args", ())
    return bool(args) and isinstance(args[0], int) and args[0] in _MYSQL_STATEMENT_ERRORS


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that writes: on SQLite it takes the write lock at once."""
    with reachable(engine), engine.connect() as conn:
        conn.execution_options(**{_BEGIN: "BEGIN IMMEDIATE"})
        with conn.begin():
            yield conn


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for one SELECT, which is consistent on its own.

    On PostgreSQL it runs in autocommit: a SELECT is its own transaction, and
    the ``BEGIN`` before it and the ``ROLLBACK`` after it would be two more
    round trips (most of an idle wake-up's CPU).  Under ``READ COMMITTED``
    each statement takes its own snapshot either way."""
    with reachable(engine), engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT")
        else:
            conn.execution_options(**{_BEGIN: None})
        yield conn


def install_sqlite_hooks(engine: Engine) -> None:
    """Make every connection of ``engine`` use WAL, foreign keys and our ``BEGIN``."""
    if not event.contains(engine, "connect", _on_sqlite_connect):
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)


def install_postgresql_hooks(engine: Engine) -> None:
    """Make every connection of ``engine`` plan each statement with its values.

    psycopg prepares a statement on the server the fifth time it is sent, and
    PostgreSQL may then keep one generic plan for it until the table is
    analyzed again.  A replica prepares its statements in its first seconds,
    when the run table has a few pages, so the plans kept read the whole
    table (a sequential scan is cheapest on a few pages); where autovacuum is
    off or behind, every start and end of a run then scanned the run table,
    a cost that grew with each run recorded.  ``plan_cache_mode =
    force_custom_plan`` keeps the prepared statements (no parsing again) and
    plans each execution with its values and the table as it is now.
    """
    if not event.contains(engine, "connect", _on_postgresql_connect):
        event.listen(engine, "connect", _on_postgresql_connect)


def _on_postgresql_connect(dbapi_connection: Any, _record: object) -> None:
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True  # a SET in a transaction the pool rolls back is undone
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET plan_cache_mode = force_custom_plan")
    except Exception:  # a server before PostgreSQL 12 has no such setting: plans as it can
        logger.debug("plan_cache_mode not set", exc_info=True)
    finally:
        cursor.close()
        dbapi_connection.autocommit = autocommit


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
