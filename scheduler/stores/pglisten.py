"""Telling sleeping engines that something changed: PostgreSQL's NOTIFY and LISTEN.

A write that can make something due sooner (a job saved, synced, paused or
resumed, a run added) sends :data:`NOTIFY_SQL` inside its transaction;
PostgreSQL delivers the notification when, and only if, the transaction
commits.  An engine listens on a dedicated connection
(:class:`PostgresChangeListener`) and ends its sleep when one arrives, so an
edit reaches it within moments instead of a poll interval.  SQLite has no such
thing: there, engines poll.

Both database stores use this listener: each hands it a function that opens a
new psycopg 3 connection the way the store would, so nothing here depends on
SQLAlchemy or Django.
"""

from __future__ import annotations

import logging
import select
import socket
import time
from collections.abc import Callable
from typing import Any

from .base import CHANGE_CHANNEL

__all__ = ["NOTIFY_SQL", "PostgresChangeListener"]

logger = logging.getLogger(__name__)

#: The statement that notifies listeners when its transaction commits.
NOTIFY_SQL = f"SELECT pg_notify('{CHANGE_CHANNEL}', '')"


class PostgresChangeListener:
    """A :class:`~scheduler.stores.base.ChangeListener` on its own connection.

    ``connect`` opens a new psycopg 3 connection, made like the store's own;
    the listener owns it.  ``connect_errors`` are the exceptions ``connect``
    raises when the database cannot be reached, besides psycopg's.
    :meth:`wait` waits on the connection's socket and on a socket pair that
    :meth:`interrupt` writes to, so a stopping engine does not sleep out its
    timeout.  A lost connection is logged and tried again after
    ``reconnect_after`` seconds.  ``label`` names the database in ``repr``.
    """

    def __init__(
        self,
        connect: Callable[[], Any],
        *,
        label: str = "postgresql",
        connect_errors: tuple[type[BaseException], ...] = (),
        reconnect_after: float = 5.0,
    ) -> None:
        import psycopg  # only ever built on PostgreSQL, where psycopg is installed

        # ValueError: select on a closed fd
        self._errors: tuple[type[BaseException], ...] = (psycopg.Error, OSError, ValueError)
        self._connect_errors: tuple[type[BaseException], ...] = (*connect_errors, *self._errors)
        self._open = connect
        self._label = label
        self._reconnect_after = reconnect_after
        self._interrupts, self._interrupter = socket.socketpair()
        self._interrupts.setblocking(False)
        self._interrupter.setblocking(False)
        self._conn: Any = None
        self._retry_at = 0.0
        self._connect()

    def __repr__(self) -> str:
        state = "listening" if self._conn is not None else "disconnected"
        return f"<PostgresChangeListener {self._label} {state}>"

    @property
    def connected(self) -> bool:
        return self._conn is not None

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + max(timeout, 0.0)
        if self._conn is None and time.monotonic() >= self._retry_at:
            self._connect()
        try:
            return self._wait_until(deadline)
        except self._errors as error:
            self._lost(error)
            self._sleep_until(deadline)
            return False

    def interrupt(self) -> None:
        try:
            self._interrupter.send(b"\0")
        except OSError:  # full of unread interrupts already, or closed
            pass

    def close(self) -> None:
        self._disconnect()
        self._interrupts.close()
        self._interrupter.close()

    # -- internals --------------------------------------------------------------
    def _wait_until(self, deadline: float) -> bool:
        if self._conn is None:
            self._sleep_until(deadline)
            return False
        if self._received():  # arrived while we were not waiting
            return True
        while (remaining := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self._conn.fileno(), self._interrupts], [], [], remaining)
            if self._interrupts in ready:
                self._drain_interrupts()
                return self._received()
            if ready:
                self._conn.pgconn.consume_input()
                if self._received():
                    return True
        return False

    def _received(self) -> bool:
        """Whether notifications are waiting; consumes them all."""
        found = False
        while self._conn.pgconn.notifies() is not None:
            found = True
        return found

    def _sleep_until(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining > 0:
            ready, _, _ = select.select([self._interrupts], [], [], remaining)
            if ready:
                self._drain_interrupts()

    def _drain_interrupts(self) -> None:
        try:
            while self._interrupts.recv(1024):
                pass
        except BlockingIOError:
            pass

    def _connect(self) -> None:
        try:
            conn = self._open()
            conn.rollback()  # out of any transaction the connection began
            conn.autocommit = True
            conn.execute(f'LISTEN "{CHANGE_CHANNEL}"')
        except self._connect_errors as error:
            self._retry_at = time.monotonic() + self._reconnect_after
            logger.warning(
                "cannot listen for changes (%s); polling until the database answers",
                str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__,
                extra={"event": "listen_failed"},
            )
            return
        self._conn = conn
        logger.debug("listening for changes on %s", CHANGE_CHANNEL, extra={"event": "listening"})

    def _lost(self, error: BaseException) -> None:
        logger.warning(
            "lost the connection that listens for changes (%s); polling, and reconnecting in %gs",
            str(error).strip() or type(error).__name__,
            self._reconnect_after,
            extra={"event": "listen_lost"},
        )
        self._disconnect()
        self._retry_at = time.monotonic() + self._reconnect_after

    def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except self._errors:
                pass
