"""The store class: its engine, its schema, and the transactions its verbs run in.

The verbs are :class:`~scheduler.stores.checked.CheckedStore`'s: it checks
their arguments, opens the transaction or read this class gives it, and calls
the function for the verb in the module named for what it touches
(:mod:`.jobs`, :mod:`.claims`, :mod:`.runs`, :mod:`.replicas`,
:mod:`.history`), where the SQL is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from ..checked import CheckedStore
from ..protocol.changes import ChangeListener
from . import chains, claims, history, jobs, mysql, replicas, runs, upgrade
from .changes import listener
from .connections import (
    Db,
    engine_for,
    install_postgresql_hooks,
    install_sqlite_hooks,
    read_connection,
    write_transaction,
)
from .schema import metadata
from .specs import DEFAULT_SPEC_CACHE_SIZE, SpecCache
from .upgrade import SchemaChange

__all__ = ["SQLAlchemyStore"]


class SQLAlchemyStore(CheckedStore[Db]):
    """A :class:`~scheduler.stores.base.Store` in a PostgreSQL, MariaDB, MySQL or SQLite database.

    ``url`` is a SQLAlchemy URL; ``postgresql://`` (and ``postgres://``) mean
    psycopg 3, the one PostgreSQL driver the store speaks (its claims send
    psycopg's binary parameters, and it listens with psycopg's notifications);
    ``mysql://`` and ``mariadb://`` mean PyMySQL (``mysql+mysqldb://`` for
    mysqlclient), on MariaDB 10.6 or MySQL 8.0.1 and later.
    Pass ``engine`` to share one you built (it is then yours to dispose, on
    PostgreSQL it must use psycopg 3, and on SQLite it should not have
    connected yet, so the store's connection hooks see every connection).
    An in-memory SQLite database (``sqlite://``) lives on a single shared
    connection: fine for tests, not for concurrent use.  Safe to share
    between threads.
    """

    _jobs = jobs
    _claims = claims
    _runs = runs
    _replicas = replicas
    _history = history
    _chains = chains

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
        if self.engine.dialect.name == "postgresql":
            install_postgresql_hooks(self.engine)
        self._specs = SpecCache(spec_cache_size)

    def __repr__(self) -> str:
        return f"SQLAlchemyStore({self.engine.url!r})"

    # -- schema and lifetime --------------------------------------------------
    def create_schema(self) -> list[SchemaChange]:
        """Create the tables, nullable columns and indexes that do not exist
        yet, in one transaction; return what was missing.

        Brings a database made by an earlier version up to date, additively;
        raises :class:`~scheduler.stores.sqlalchemy.upgrade.SchemaNotUpgradable`
        (changing nothing) when that is not enough, and
        :class:`~scheduler.stores.servers.UnsupportedDatabase` for a MariaDB or
        MySQL server the store cannot run on.
        """
        with write_transaction(self.engine) as conn:
            if mysql.is_mysql(conn):
                mysql.check_server(conn)
            return upgrade.apply(conn)

    def schema_changes(self) -> list[SchemaChange]:
        """What :meth:`create_schema` would do now, without doing it (checking a
        MariaDB or MySQL server as :meth:`create_schema` does)."""
        with read_connection(self.engine) as conn:
            if mysql.is_mysql(conn):
                mysql.check_server(conn)
            return upgrade.missing(conn)

    def drop_schema(self) -> None:
        """Drop the store's tables, with every job and run in them."""
        with write_transaction(self.engine) as conn:
            metadata.drop_all(conn)

    def listen_for_changes(self) -> ChangeListener | None:
        """A listener on its own connection, on PostgreSQL; ``None`` elsewhere.
        See :class:`~scheduler.stores.base.NotifiesChanges`."""
        if self.engine.dialect.name != "postgresql":
            return None
        return listener(self.engine)

    def dispose(self) -> None:
        """Close the pooled connections of an engine the store created."""
        if self._owns_engine:
            self.engine.dispose()

    # -- where the verbs run --------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[Db]:
        """A transaction that writes: on SQLite it takes the write lock at once."""
        with write_transaction(self.engine) as conn:
            yield Db(conn, self._specs)

    @contextmanager
    def _read(self) -> Iterator[Db]:
        """A connection for one SELECT, which is consistent on its own."""
        with read_connection(self.engine) as conn:
            yield Db(conn, self._specs)
