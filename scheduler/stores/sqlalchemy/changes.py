"""NOTIFY and LISTEN through SQLAlchemy: see :mod:`scheduler.stores.pglisten`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from ..pglisten import NOTIFY_SQL, PostgresChangeListener

__all__ = ["listener", "notify"]

_NOTIFY = text(NOTIFY_SQL)


def notify(conn: Connection) -> None:
    """Notify listeners when the transaction of ``conn`` commits (PostgreSQL only)."""
    if conn.dialect.name == "postgresql":
        conn.execute(_NOTIFY)


def listener(engine: Engine, *, reconnect_after: float = 5.0) -> PostgresChangeListener:
    """A listener on a connection made by ``engine`` and detached from its pool."""

    def connect() -> Any:
        pooled = engine.raw_connection()
        pooled.detach()  # ours alone, for as long as we listen
        return pooled.dbapi_connection

    return PostgresChangeListener(
        connect,
        label=repr(engine.url),
        connect_errors=(DBAPIError,),
        reconnect_after=reconnect_after,
    )
