"""PostgreSQL databases shared by a session's tests, and put back as new before each.

Creating a PostgreSQL database costs a tenth of a second, and making the
schema in it (or copying a template) as much again: paid by each of some 650
tests, that was over a third of the suite's time.  A test that needs the store's tables, but
not a database created for it, gets a :class:`SharedDatabase` instead: made
once per session (per pytest-xdist worker) from a template that holds the
schema, and before each test put back into the template's state:

- every connection to it is closed (``pg_terminate_backend``, as ``DROP
  DATABASE ... WITH (FORCE)`` did), so no store's pool, ``LISTEN``, lock,
  advisory lock or open transaction of an earlier test survives into the next;
- when anything but the rows of the tables changed (a table, column, index,
  constraint, function, trigger, partition, type, a database setting, the
  planner statistics an ``ANALYZE`` left, or the rows of a table the template
  filled, such as ``django_migrations``), the database is dropped and copied
  from the template again;
- otherwise the tables the template left empty are truncated and every
  sequence is set back to where the template had it, so ids start at 1 again.

So a test sees what a new copy of the template would show it.  Tests of
schema creation, upgrades or partitioning, and tests that need a database
without tables, keep the new databases of ``postgres_url`` and
``django_postgres``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from psycopg import sql

#: Everything about the database except the rows of its tables, as sorted lines
#: (schemas, relations and partitions, columns, constraints, indexes, functions,
#: triggers, views, types, extensions, database settings, planner statistics).
_CATALOG = r"""
WITH ns AS (
    SELECT oid, nspname FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
      AND nspname NOT LIKE 'pg\_temp\_%' AND nspname NOT LIKE 'pg\_toast\_temp\_%'
), rel AS (
    SELECT c.* FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
)
SELECT line FROM (
    SELECT format('schema %s %s', nspname, oid) FROM ns
    UNION ALL
    SELECT format('relation %s %s %s %s %s %s %s %s', oid, oid::regclass, relkind,
                  relpersistence, relispartition, pg_get_expr(relpartbound, oid),
                  reloptions, relacl)
    FROM rel
    UNION ALL
    SELECT format('column %s.%s %s %s %s %s %s', a.attrelid::regclass, a.attname, a.attnum,
                  format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity,
                  pg_get_expr(d.adbin, d.adrelid))
    FROM pg_attribute a JOIN rel ON rel.oid = a.attrelid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT format('constraint %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(c.oid))
    FROM pg_constraint c JOIN ns ON ns.oid = c.connamespace
    UNION ALL
    SELECT format('index %s %s', i.indisvalid, pg_get_indexdef(i.indexrelid))
    FROM pg_index i JOIN rel ON rel.oid = i.indexrelid
    UNION ALL
    SELECT format('function %s %s %s', p.oid::regprocedure, md5(p.prosrc), p.proconfig)
    FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
    UNION ALL
    SELECT format('trigger %s %s %s', t.oid, t.tgenabled, pg_get_triggerdef(t.oid))
    FROM pg_trigger t JOIN rel ON rel.oid = t.tgrelid WHERE NOT t.tgisinternal
    UNION ALL
    SELECT format('view %s %s', oid::regclass, pg_get_viewdef(oid))
    FROM rel WHERE relkind IN ('v', 'm')
    UNION ALL
    SELECT format('type %s %s %s', t.oid, t.oid::regtype, t.typtype)
    FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
    UNION ALL
    SELECT format('description %s %s %s', d.objoid, d.objsubid, md5(d.description))
    FROM pg_description d JOIN rel ON rel.oid = d.objoid
    UNION ALL
    SELECT format('extension %s %s', extname, extversion) FROM pg_extension
    UNION ALL
    SELECT format('database %s %s %s', datallowconn, datconnlimit, datacl)
    FROM pg_database WHERE datname = current_database()
    UNION ALL
    SELECT format('setting %s %s', s.setrole, s.setconfig)
    FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
    WHERE d.datname = current_database()
    UNION ALL
    SELECT DISTINCT format('statistics %s', starelid::regclass)
    FROM pg_statistic JOIN rel ON rel.oid = starelid
    UNION ALL
    SELECT format('extended statistics %s', stxname) FROM pg_statistic_ext s
    JOIN ns ON ns.oid = s.stxnamespace
) AS catalog (line)
ORDER BY line
"""

#: The ordinary and partitioned tables (not partitions: truncating the parent
#: empties them) and the sequences, with their state.
_TABLES = r"""
SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_%'
ORDER BY 1
"""
_SEQUENCES = r"""
SELECT format('%I.%I', schemaname, sequencename), start_value, last_value
FROM pg_sequences WHERE schemaname NOT LIKE 'pg\_%' AND schemaname <> 'information_schema'
ORDER BY 1
"""

_TRUNCATE_IF_WRITTEN = r"""
DO $reset$
BEGIN
    IF EXISTS (
        SELECT FROM unnest({tables}::regclass[]) AS t
        WHERE pg_relation_size(t) > 0 OR EXISTS (
            SELECT FROM pg_partition_tree(t) AS part
            WHERE part.isleaf AND pg_relation_size(part.relid) > 0
        )
    ) THEN
        EXECUTE {truncate};
    END IF;
END
$reset$
"""
_TERMINATE = (
    # Waits (up to 10 s) until each backend is gone and its locks are released.
    "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
    "WHERE datname = %s AND pid <> pg_backend_pid()"
)


def admin_url() -> str:
    from tests.conftest import POSTGRES_ADMIN_URL

    return POSTGRES_ADMIN_URL


def connect(dbname: str | None = None, **options: Any) -> Any:
    """A psycopg connection, autocommit, to ``dbname`` (default: the admin database).

    PostgreSQL or psycopg missing: skipped on a laptop, a failure under ``CI=true``.
    """
    from tests.conftest import _service_missing

    try:
        import psycopg
    except ImportError as error:  # pragma: no cover - the test extras install it
        _service_missing("psycopg", error)
        raise
    url = admin_url() if dbname is None else f"{admin_url().rsplit('/', 1)[0]}/{dbname}"
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=5, **options)
    except psycopg.OperationalError as error:
        _service_missing("PostgreSQL", error)
        raise


def worker_prefix(kind: str) -> str:
    """A new database name's start: the kind, the xdist worker, a random part."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"tickwork_{kind}_{worker}_{uuid.uuid4().hex[:8]}"


class SharedDatabase:
    """A database copied from ``template``, reset to the template's state by :meth:`reset`.

    ``template`` must have no connection open while this copies it.  With
    ``owns_template`` the template is dropped with the database.
    """

    def __init__(self, name: str, template: str, *, owns_template: bool = False) -> None:
        self.name = name
        self.template = template
        self.owns_template = owns_template
        self.recreated = 0  # how often a test changed more than rows (for the tests of this)
        self._copy()
        with connect(self.name) as conn:
            self._catalog = self._read_catalog(conn)
            self._tables: list[str] = [row[0] for row in conn.execute(_TABLES)]
            self._filled = [table for table in self._tables if self._has_rows(conn, table)]
            self._contents = {table: self._content(conn, table) for table in self._filled}
            self._emptied = [table for table in self._tables if table not in self._filled]
            self._sequences = [(row[0], row[1], row[2]) for row in conn.execute(_SEQUENCES)]
        self._reset_sql = self._build_reset()

    @classmethod
    def built(
        cls, kind: str, build: Callable[[str], None], *, base: str | None = None
    ) -> SharedDatabase:
        """A shared database whose template ``build(template_name)`` fills: a new,
        empty database, or a copy of the database ``base``."""
        from psycopg import sql

        template = f"{worker_prefix(kind)}_template"
        create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(template))
        if base is not None:
            create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(base))
        with connect() as admin:
            admin.execute(create)
        try:
            build(template)
            _terminate(template)
            return cls(template.removesuffix("_template"), template, owns_template=True)
        except BaseException:
            _drop(template)
            raise

    # -- between tests ---------------------------------------------------------
    def reset(self) -> None:
        """Put the database back into the template's state (see the module's docstring)."""
        # Not waiting for the WAL to reach the disk at commit: the truncation is
        # visible to every connection all the same (the data is thrown away anyway).
        with connect(self.name, options="-c synchronous_commit=off") as conn:
            conn.execute(_TERMINATE, [self.name])
            same = self._read_catalog(conn) == self._catalog and all(
                self._content(conn, table) == content for table, content in self._contents.items()
            )
            if same:
                conn.execute(self._reset_sql)
                return
        self.recreated += 1
        _drop(self.name)
        self._copy()

    def disconnect(self) -> None:
        """Close every connection to the database, as dropping it would."""
        _terminate(self.name)

    def drop(self) -> None:
        _drop(self.name)
        if self.owns_template:
            _drop(self.template)

    # -- helpers -----------------------------------------------------------------
    def _copy(self) -> None:
        from psycopg import sql

        with connect() as admin:
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(self.name), sql.Identifier(self.template)
                )
            )

    def _build_reset(self) -> sql.Composed:
        from psycopg import sql

        statements: list[sql.Composable] = []
        if self._emptied:
            # Truncating costs a new file per table and index, and an fsync per
            # index: only when a row was ever written (a table, or a partition,
            # has pages).  One statement for all, as foreign keys between them
            # require.  (The names are regclass text, quoted where needed.)
            statements.append(
                sql.SQL(_TRUNCATE_IF_WRITTEN).format(
                    tables=sql.Literal(self._emptied),
                    truncate=sql.Literal(f"TRUNCATE TABLE {', '.join(self._emptied)}"),
                )
            )
        # Each sequence as the template left it: not yet used, or used up to a value.
        statements += [
            sql.SQL("SELECT setval({}, {}, {})").format(
                sql.Literal(name),
                sql.Literal(start if last is None else last),
                sql.Literal(last is not None),
            )
            for name, start, last in self._sequences
        ]
        return sql.SQL("; ").join(statements) if statements else sql.Composed([sql.SQL("SELECT 1")])

    @staticmethod
    def _read_catalog(conn: Any) -> list[str]:
        return [row[0] for row in conn.execute(_CATALOG)]

    @staticmethod
    def _has_rows(conn: Any, table: str) -> bool:
        from psycopg import sql

        return conn.execute(
            sql.SQL("SELECT EXISTS (SELECT FROM {})").format(sql.SQL(table))
        ).fetchone()[0]

    @staticmethod
    def _content(conn: Any, table: str) -> str:
        from psycopg import sql

        query = sql.SQL("SELECT md5(string_agg(t::text, E'\\n' ORDER BY t::text)) FROM {} AS t")
        return str(conn.execute(query.format(sql.SQL(table))).fetchone()[0])


def _terminate(name: str) -> None:
    with connect() as admin:
        admin.execute(_TERMINATE, [name])


def _drop(name: str) -> None:
    from psycopg import sql

    with connect() as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


# -- fixtures (registered in tests/conftest.py) ------------------------------------


def sqlalchemy_url(name: str) -> str:
    """The SQLAlchemy URL of the database ``name`` on the test server."""
    base = admin_url().rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{base}/{name}"


def _store_schema(name: str) -> None:
    from scheduler.stores.sqlalchemy import SQLAlchemyStore

    store = SQLAlchemyStore(sqlalchemy_url(name))
    try:
        store.create_schema()
    finally:
        store.dispose()


def _partitioned_store_schema(name: str) -> None:
    from tests.partitioned_runs import partitioned_sqlalchemy_store

    partitioned_sqlalchemy_store(sqlalchemy_url(name)).dispose()


@pytest.fixture(scope="session")
def _shared_store_database() -> Iterator[SharedDatabase]:
    database = SharedDatabase.built("store", _store_schema)
    yield database
    database.drop()


@pytest.fixture(scope="session")
def _shared_partitioned_store_database() -> Iterator[SharedDatabase]:
    database = SharedDatabase.built("partitioned", _partitioned_store_schema)
    yield database
    database.drop()


def using(database: SharedDatabase) -> Iterator[str]:
    """The database's SQLAlchemy URL, reset before, disconnected after."""
    database.reset()
    try:
        yield sqlalchemy_url(database.name)
    finally:
        database.disconnect()


@pytest.fixture
def shared_postgres_url(_shared_store_database: SharedDatabase) -> Iterator[str]:
    """A SQLAlchemy URL of a PostgreSQL database holding the store's tables
    (``create_schema``), empty: a :class:`SharedDatabase`, reset for this test."""
    yield from using(_shared_store_database)


@pytest.fixture
def shared_partitioned_postgres_url(
    _shared_partitioned_store_database: SharedDatabase,
) -> Iterator[str]:
    """As ``shared_postgres_url``, with ``scheduler_run`` partitioned by month
    (``tests/partitioned_runs.py``: the contract's months and a DEFAULT partition)."""
    yield from using(_shared_partitioned_store_database)
