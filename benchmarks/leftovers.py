"""Databases a case process left behind, found by its tag and dropped by the runner.

A case that overruns :data:`~benchmarks.common.CASE_TIMEOUT` is killed
(``SIGKILL``): its ``finally`` blocks never run, and the throwaway database it
created would stay on the server, as large as its workload made it.  So the
runner gives each case process a tag (the environment variable
:data:`CASE_TAG`); :func:`~benchmarks.common.throwaway_database` puts the tag
in every database name it creates; and the runner drops whatever still carries
the tag once the process is gone, however it ended.  SQLite files go with the
case's work directory, which the runner owns too.
"""

from __future__ import annotations

import os
import re
import uuid

__all__ = ["CASE_TAG", "database_prefix", "drop_leftovers", "new_tag"]

#: The environment variable that carries a case process's tag.
CASE_TAG = "TICKWORK_BENCH_CASE_TAG"
_PREFIX = "tickwork_bench_"
_TAG = re.compile(r"[0-9a-f]{8}")


def new_tag() -> str:
    """A fresh tag for one case process (eight hex digits)."""
    return uuid.uuid4().hex[:8]


def database_prefix() -> str:
    """The start of every database name this process creates: with its case's tag, if any."""
    tag = os.environ.get(CASE_TAG, "")
    if not _TAG.fullmatch(tag):
        return _PREFIX
    return f"{_PREFIX}{tag}_"


def drop_leftovers(tag: str, postgres_admin_url: str, mariadb_admin_url: str) -> list[str]:
    """Drop every PostgreSQL and MariaDB database named with ``tag``; the names dropped.

    A server that cannot be reached has nothing of this case to drop (the case
    could not have created a database there), so it is passed over.
    """
    if not _TAG.fullmatch(tag):
        raise ValueError(f"a case tag is eight hex digits, got {tag!r}")
    pattern = f"{_PREFIX}{tag}_".replace("_", "\\_") + "%"  # "_" alone matches any character
    return _drop_postgresql(postgres_admin_url, pattern) + _drop_mariadb(mariadb_admin_url, pattern)


def _drop_postgresql(admin_url: str, pattern: str) -> list[str]:
    import psycopg

    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError:
        return []
    with admin:
        query = "SELECT datname FROM pg_database WHERE datname LIKE %s"
        names = [str(row[0]) for row in admin.execute(query, (pattern,))]
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return names


def _drop_mariadb(admin_url: str, pattern: str) -> list[str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    try:
        engine = create_engine(admin_url, connect_args={"connect_timeout": 5})
    except ImportError:  # no MariaDB driver here: no MariaDB case ran
        return []
    try:
        with engine.begin() as conn:
            found = conn.execute(text("SHOW DATABASES LIKE :pattern"), {"pattern": pattern})
            names = [str(row[0]) for row in found]
            for name in names:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
            return names
    except OperationalError:
        return []
    finally:
        engine.dispose()
