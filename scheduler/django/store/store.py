"""The store class: which Django database, and where each verb's queries are.

Its public verbs are those of :class:`~scheduler.stores.checked.CheckedStore`;
this class only says how to open a transaction (or a read) on its database,
and which of its modules holds the queries of each part.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from django.db import DEFAULT_DB_ALIAS

from ...stores.base import ChangeListener
from ...stores.checked import CheckedStore
from . import chains, claims, history, jobs, replicas, runs
from .changes import listener
from .connections import Connections
from .servers import check_database

__all__ = ["DjangoStore"]


class DjangoStore(CheckedStore[str]):
    """A :class:`~scheduler.stores.base.Store` on the Django database ``using``."""

    _jobs = jobs
    _claims = claims
    _runs = runs
    _replicas = replicas
    _history = history
    _chains = chains

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

    def writing(self) -> AbstractContextManager[str]:
        """A transaction on the store's database that holds the write lock from its
        start (on SQLite; elsewhere an ordinary transaction), for a caller that reads
        before it writes through the store, as the admin's forms do.  Inside it the
        store's verbs join it.  A lock not had within the database's timeout, or a
        database out of reach, is :class:`~scheduler.errors.StoreUnavailable`.

        A SQLite transaction that has read cannot wait for the lock: it fails at
        once with ``database is locked`` when another connection writes, whatever
        the busy timeout.  Taking the lock first makes it wait, up to the timeout.
        """
        return self._connections.write()

    def check_database(self) -> None:
        """Raise :class:`~scheduler.stores.servers.UnsupportedDatabase`, saying what to
        change, for a MariaDB or MySQL database the store cannot run on (too old a
        server, a session not ``READ COMMITTED`` or not ``utf8mb4``).  The scheduler
        calls it when it starts; other databases always pass."""
        with self._connections.reachable():
            check_database(self.using)

    def listen_for_changes(self) -> ChangeListener | None:
        """A listener on a connection of its own, on PostgreSQL with psycopg 3;
        ``None`` elsewhere.  See :class:`~scheduler.stores.base.NotifiesChanges`."""
        return listener(self.using)

    def _write(self) -> AbstractContextManager[str]:
        """A transaction that writes; a database out of reach is StoreUnavailable."""
        return self._connections.write()

    def _read(self) -> AbstractContextManager[str]:
        """One read, in autocommit; a database out of reach is StoreUnavailable."""
        return self._connections.reachable()
