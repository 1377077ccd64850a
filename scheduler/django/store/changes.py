"""Waking sleeping engines: NOTIFY inside writes, and the listener (PostgreSQL, psycopg 3)."""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from ...stores.base import ChangeListener
from ...stores.pglisten import NOTIFY_SQL, PostgresChangeListener

__all__ = ["listener", "notify"]


def listener(using: str) -> ChangeListener | None:
    """A listener on a connection of its own, on PostgreSQL with psycopg 3; ``None`` elsewhere."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not _uses_psycopg3(connection):
        return None
    params = connection.get_connection_params()

    def connect() -> Any:
        return connection.get_new_connection(params)

    return PostgresChangeListener(
        connect,
        label=f"Django database {using!r}",
        connect_errors=(DatabaseError,),
    )


def notify(using: str) -> None:
    """Wake listening engines when the current transaction commits (PostgreSQL)."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(NOTIFY_SQL)


def _uses_psycopg3(connection: BaseDatabaseWrapper) -> bool:
    """Whether Django's PostgreSQL backend runs on psycopg 3 (the listener needs it)."""
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return bool(is_psycopg3)
