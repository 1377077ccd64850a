"""Transactions and connections: the write lock on SQLite, unreachable databases, closing.

Django keeps one connection per thread.  :class:`Connections` remembers each
one the store used, so :meth:`Connections.dispose` can close them all (an
executor's worker threads too) when the scheduler stops.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import InterfaceError, OperationalError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from ...errors import StoreUnavailable

__all__ = ["Connections"]

# A write that changes nothing, yet takes SQLite's write lock at once: a
# deferred transaction would take it only at its first real write, after its
# reads, and two claimers could then both read the same due jobs.
_SQLITE_WRITE_LOCK = "UPDATE scheduler_replica SET id = id WHERE 0"


class Connections:
    """The connections to the Django database ``using`` that a store opened, in every thread."""

    def __init__(self, using: str) -> None:
        self.using = using
        self._lock = threading.Lock()
        self._used: dict[int, BaseDatabaseWrapper] = {}

    def dispose(self) -> None:
        """Close every connection used so far, whichever thread opened it."""
        with self._lock:
            used, self._used = list(self._used.values()), {}
        for connection in used:
            connection.inc_thread_sharing()
            try:
                connection.close()
            finally:
                connection.dec_thread_sharing()

    @contextmanager
    def write(self) -> Iterator[str]:
        """A transaction that writes: on SQLite it holds the write lock from its
        start.  Yields the database alias, which the store's verbs take."""
        with self.reachable(), transaction.atomic(using=self.using):
            connection = connections[self.using]
            if connection.vendor == "sqlite" and _defers_locks(connection):
                with connection.cursor() as cursor:
                    cursor.execute(_SQLITE_WRITE_LOCK)
            yield self.using

    @contextmanager
    def reachable(self) -> Iterator[str]:
        """Turn a database that cannot be reached (restarting, network blip,
        SQLite locked past its timeout) into StoreUnavailable, which the engine
        retries with backoff; the broken connection is closed, so the next call
        connects afresh.  Other database errors stay what they are.  Yields
        the database alias, which the store's verbs take."""
        connection = connections[self.using]
        with self._lock:
            self._used.setdefault(id(connection), connection)
        try:
            yield self.using
        except (OperationalError, InterfaceError) as error:
            if not connection.in_atomic_block:
                connection.close()
            reason = str(error.__cause__ or error).strip()
            raise StoreUnavailable(
                f"{connection.vendor} database {self.using!r} unavailable: {reason}"
            ) from error


def _defers_locks(connection: BaseDatabaseWrapper) -> bool:
    """Whether SQLite transactions on ``connection`` start without the write lock."""
    mode = getattr(connection, "transaction_mode", None)
    return mode is None or str(mode).upper() == "DEFERRED"
