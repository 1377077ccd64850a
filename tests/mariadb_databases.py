"""MariaDB databases for tests: new ones, and ones a session's tests share, emptied before each.

The server is found where ``TICKWORK_TEST_MARIADB`` says (default
``mysql://root@127.0.0.1:3306/``: the local server's ``root``, which has no
password on the test machines; a URL with another user and password works
too, given the right to create and drop databases).  Missing server or
PyMySQL: skipped on a laptop, a failure under ``CI=true``, as for PostgreSQL.

Creating a MariaDB database and its tables costs a few hundred milliseconds
(every ``CREATE TABLE`` writes files), so, as for PostgreSQL
(``tests/shared_databases.py``), a test that needs the store's tables, not a
database made for it, gets a :class:`SharedMariaDB`: made once per session
(per pytest-xdist worker) and put back before each test: every other
connection to it is killed (so no lock, pool or open transaction of an earlier
test survives), the database is made again if a test changed a table's
definition, and otherwise every table that has rows is emptied with
``DELETE``, through one connection kept for the session (connecting costs
20 ms).  Ids go on counting across tests: no test relies on their values,
and ``TRUNCATE``, which would reset them, makes each table's files anew.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

import pytest

from tests.shared_databases import worker_prefix

MARIADB_ADMIN_URL = os.environ.get("TICKWORK_TEST_MARIADB", "mysql://root@127.0.0.1:3306/")
# A table's definition without the next AUTO_INCREMENT value, which rows move.
_AUTO_INCREMENT = re.compile(r" AUTO_INCREMENT=\d+")


def server_url(name: str) -> str:
    """The SQLAlchemy URL (PyMySQL) of the database ``name`` on the test server."""
    from sqlalchemy import make_url

    url = make_url(MARIADB_ADMIN_URL)
    return url.set(drivername="mysql+pymysql", database=name).render_as_string(hide_password=False)


def connect(dbname: str | None = None) -> Any:
    """A PyMySQL connection, autocommit, to ``dbname`` (default: none).

    MariaDB or PyMySQL missing: skipped on a laptop, a failure under ``CI=true``.
    """
    from tests.conftest import _service_missing

    try:
        import pymysql
    except ImportError as error:  # pragma: no cover - the test extras install it
        _service_missing("PyMySQL", error)
        raise
    from sqlalchemy import make_url

    url = make_url(MARIADB_ADMIN_URL)
    try:
        return pymysql.connect(
            host=url.host or "127.0.0.1",
            port=url.port or 3306,
            user=unquote(url.username or "root"),
            password=unquote(url.password or ""),
            database=dbname,
            charset="utf8mb4",
            autocommit=True,
            connect_timeout=5,
        )
    except pymysql.OperationalError as error:
        _service_missing("MariaDB", error)
        raise


def create_database(name: str) -> None:
    with connect() as admin, admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")


def drop_database(name: str) -> None:
    with connect() as admin, admin.cursor() as cursor:
        _kill_connections(cursor, name)
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")


def _kill_connections(cursor: Any, name: str) -> None:
    cursor.execute(
        "SELECT id FROM information_schema.processlist WHERE db = %s AND id <> CONNECTION_ID()",
        (name,),
    )
    for (thread,) in cursor.fetchall():
        try:
            cursor.execute(f"KILL {int(thread)}")
        except Exception as error:
            if "Unknown thread id" not in str(error):
                raise


class SharedMariaDB:
    """A database whose tables ``build(name)`` makes, emptied by :meth:`reset`."""

    def __init__(self, kind: str, build: Callable[[str], None]) -> None:
        self.name = worker_prefix(kind)
        self._build = build
        self.recreated = 0
        self._admin: Any = None  # one connection for every reset: connecting costs 20 ms
        self._make()

    def _cursor(self) -> Any:
        if self._admin is not None and not self._admin.open:
            self._admin = None  # the server restarted (a chaos test)
        if self._admin is None:
            self._admin = connect()
        return self._admin.cursor()

    def _make(self) -> None:
        create_database(self.name)
        try:
            self._build(self.name)
            with self._cursor() as cursor:
                self._definitions = self._read_definitions(cursor)
                self._emptied = [
                    t for t in self._definitions if not _written(cursor, self.name, [t])
                ]
        except BaseException:
            drop_database(self.name)
            raise

    def reset(self) -> None:
        """Put the database back as :meth:`_make` left it (see the module's docstring)."""
        with self._cursor() as cursor:
            _kill_connections(cursor, self.name)
            if self._read_definitions(cursor) == self._definitions:
                written = _written(cursor, self.name, self._emptied)
                if written:
                    # DELETE, not TRUNCATE, which makes each table's files anew
                    # (a fifth of a second for three tables); ids go on counting.
                    cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
                    for table in written:
                        cursor.execute(f"DELETE FROM `{self.name}`.`{table}`")  # noqa: S608
                    cursor.execute("SET FOREIGN_KEY_CHECKS = 1")
                return
        self.recreated += 1
        drop_database(self.name)
        self._make()

    def disconnect(self) -> None:
        with self._cursor() as cursor:
            _kill_connections(cursor, self.name)

    def drop(self) -> None:
        if self._admin is not None:
            self._admin.close()
        drop_database(self.name)

    def _read_definitions(self, cursor: Any) -> dict[str, str]:
        cursor.execute(f"SHOW FULL TABLES FROM `{self.name}`")
        names = [row[0] for row in cursor.fetchall()]
        definitions: dict[str, str] = {}
        for table in names:
            cursor.execute(f"SHOW CREATE TABLE `{self.name}`.`{table}`")
            definitions[table] = _AUTO_INCREMENT.sub("", cursor.fetchone()[1])
        return definitions


def _written(cursor: Any, database: str, tables: list[str]) -> list[str]:
    """Those of ``tables`` that hold a row, in one statement."""
    if not tables:
        return []
    cursor.execute(
        " UNION ALL ".join(
            f"SELECT '{table}' FROM (SELECT 1 FROM `{database}`.`{table}` LIMIT 1) AS t{n}"  # noqa: S608
            for n, table in enumerate(tables)
        )
    )
    return [row[0] for row in cursor.fetchall()]


def _store_schema(name: str) -> None:
    from scheduler.stores.sqlalchemy import SQLAlchemyStore

    store = SQLAlchemyStore(server_url(name))
    try:
        store.create_schema()
    finally:
        store.dispose()


# -- fixtures (registered in tests/conftest.py) ------------------------------------


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    """A SQLAlchemy URL of a new, empty MariaDB database, dropped afterwards."""
    name = worker_prefix("fresh")
    create_database(name)
    try:
        yield server_url(name)
    finally:
        drop_database(name)


@pytest.fixture(scope="session")
def _shared_mariadb_store_database() -> Iterator[SharedMariaDB]:
    database = SharedMariaDB("store", _store_schema)
    yield database
    database.drop()


@pytest.fixture
def shared_mariadb_url(_shared_mariadb_store_database: SharedMariaDB) -> Iterator[str]:
    """A SQLAlchemy URL of a MariaDB database holding the store's tables, empty:
    a :class:`SharedMariaDB`, reset for this test."""
    database = _shared_mariadb_store_database
    database.reset()
    try:
        yield server_url(database.name)
    finally:
        database.disconnect()


# -- the Django store on MariaDB -------------------------------------------------


@pytest.fixture(scope="session")
def _shared_django_mariadb_database(django_db_blocker: Any) -> Iterator[SharedMariaDB]:
    from tests.django_databases import migrate, pointed_at

    def migrated(name: str) -> None:
        with django_db_blocker.unblock(), pointed_at("mariadb", name):
            migrate("mariadb")

    database = SharedMariaDB("django", migrated)
    yield database
    database.drop()


@pytest.fixture
def shared_django_mariadb(
    _shared_django_mariadb_database: SharedMariaDB, django_db_blocker: Any
) -> Iterator[str]:
    """The alias ``"mariadb"``, on a MariaDB database with the app's migrated
    tables, empty: a :class:`SharedMariaDB` reset for this test."""
    from tests.django_databases import pointed_at

    database = _shared_django_mariadb_database
    database.reset()
    try:
        with django_db_blocker.unblock(), pointed_at("mariadb", database.name) as alias:
            yield alias
    finally:
        database.disconnect()
