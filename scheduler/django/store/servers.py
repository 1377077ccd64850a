"""The MariaDB and MySQL servers the Django store runs on: checked when the scheduler starts.

The rules are :mod:`scheduler.stores.servers`'s, shared with the SQLAlchemy
store.  Django's MySQL backend already opens its sessions ``READ COMMITTED``
in ``utf8mb4`` unless the site's ``OPTIONS`` say otherwise; this says so
when they do, and when the server is too old.
"""

from __future__ import annotations

from typing import Any

from django.db import connections

from ...stores.servers import UnsupportedDatabase, mysql_refusal

__all__ = ["check_database", "database_refusal"]


def database_refusal(using: str) -> str | None:
    """Why the Django database ``using`` cannot hold the store, and what to change;
    ``None`` if it can (and always on PostgreSQL and SQLite)."""
    connection: Any = connections[using]
    if connection.vendor != "mysql":
        return None
    version, mariadb = tuple(connection.mysql_version), bool(connection.mysql_is_mariadb)
    # MySQL 8 and MariaDB 11.1 call it transaction_isolation; older MariaDB, tx_isolation.
    variable = "tx_isolation" if mariadb and version < (11, 1) else "transaction_isolation"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT @@{variable}, @@character_set_connection")
        isolation, charset = cursor.fetchone()
    return mysql_refusal(version, mariadb=mariadb, isolation=str(isolation), charset=str(charset))


def check_database(using: str) -> None:
    """Raise :class:`~scheduler.stores.servers.UnsupportedDatabase` if :func:`database_refusal`
    finds a reason."""
    refusal = database_refusal(using)
    if refusal is not None:
        raise UnsupportedDatabase(f"cannot use the database {using!r}: {refusal}")
