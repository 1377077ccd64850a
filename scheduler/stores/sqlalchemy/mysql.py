"""What the store does differently on MariaDB and MySQL.

* The server is checked when the store starts (:func:`check_server`, the
  rules of :mod:`scheduler.stores.servers`): version, isolation level,
  character set.
* A claim first reads which of its slots already have a run (one select on
  the slot constraint's index) and leaves those out; it inserts the rest with
  the driver's ``executemany``, which PyMySQL and mysqlclient send as
  multi-row ``INSERT``\\ s, then reads the new runs' ids back, above the
  largest id there was before the insert: ids only grow, so every run this
  insert made is above it, and the read walks the primary key from there (no
  ``RETURNING`` on MySQL, and ``LAST_INSERT_ID`` ranges break under
  ``auto_increment_increment``, as on Galera).  The claim holds its jobs'
  rows, so no other claim inserts their slots meanwhile; a manual run that
  takes one of them in that instant is left alone by ``ON DUPLICATE KEY
  UPDATE id = id`` (not ``INSERT IGNORE``, which would also turn a bad value
  into a warning), and the claim skips that slot too.
* Next run times are set one ``UPDATE ... WHERE id IN (...)`` per distinct
  instant when there are few, so a herd of jobs sharing a schedule is one
  statement; when there are many, one ``UPDATE`` joins the jobs to a derived
  table of (id, instant) pairs: a statement per few thousand jobs either way.
* Schema upgrades of replicas starting together are serialised with
  ``GET_LOCK``; DDL commits as it goes on these servers, so an upgrade cut
  short is finished by the next start (every change is additive).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import Connection, func, select, text

from ..rows import NEW_RUN_BLANKS
from ..servers import UnsupportedDatabase, mysql_refusal
from .schema import MYSQL_DIALECTS, run_table

__all__ = ["advance_jobs", "check_server", "insert_runs", "is_mysql", "upgrade_lock"]

SlotKey = tuple[int, datetime, int]

_run = run_table.c
_COLUMNS: Final = [c.name for c in run_table.c if c.name != "id"]
_INSERT: Final = (
    f"INSERT INTO scheduler_run ({', '.join(f'`{name}`' for name in _COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join('%s' for _ in _COLUMNS)}) "
    # A slot some other transaction took since the claim looked: left as it is.
    "ON DUPLICATE KEY UPDATE id = id"
)
# Ids per IN list: a few tens of kilobytes of SQL.
_CHUNK = 5_000
# Up to this many distinct next run times, one UPDATE per instant; beyond, one joined UPDATE.
_FEW_INSTANTS = 4
_UPGRADE_LOCK = "tickwork_schema_upgrade"
_UPGRADE_WAIT_SECONDS = 120


def is_mysql(conn: Connection) -> bool:
    """Whether ``conn`` speaks to MariaDB or MySQL."""
    return conn.dialect.name in MYSQL_DIALECTS


def check_server(conn: Connection) -> None:
    """Raise :class:`~scheduler.stores.servers.UnsupportedDatabase`, saying what to
    change, if the server or the session of ``conn`` cannot hold the store."""
    dialect: Any = conn.dialect
    charset = conn.scalar(text("SELECT @@character_set_connection"))
    refusal = mysql_refusal(
        tuple(dialect.server_version_info or ()),
        mariadb=bool(dialect.is_mariadb),
        isolation=str(conn.get_isolation_level()),
        charset=str(charset or ""),
    )
    if refusal is not None:
        url = conn.engine.url.render_as_string(hide_password=True)
        raise UnsupportedDatabase(f"cannot use {url}: {refusal}")


def insert_runs(
    conn: Connection, rows: Sequence[Mapping[str, Any]], *, replica_id: str
) -> dict[SlotKey, int]:
    """Insert the rows of :func:`~scheduler.stores.rows.run_columns` whose slot
    and attempt has no run yet; the ids of those inserted, by slot (the
    module's docstring says how).  ``replica_id``: the claiming replica's."""
    taken = _taken(conn, rows)
    rows = [row for row in rows if _key(row) not in taken]
    if not rows:
        return {}
    before = conn.scalar(select(func.coalesce(func.max(_run.id), 0)))
    conn.exec_driver_sql(_INSERT, [_values(row) for row in rows])
    # A row is ours if it has the slot and the claimer we gave it: a manual
    # run that took a slot meanwhile has no claimer, a claimed row of ours has one.
    planned = {_key(row): row["replica_id"] for row in rows}
    job_ids = sorted({job_id for job_id, _, _ in planned})
    found: dict[SlotKey, int] = {}
    for start in range(0, len(job_ids), _CHUNK):
        new = select(_run.id, _run.job_id, _run.scheduled_for, _run.attempt, _run.replica_id)
        new = new.where(_run.id > before, _run.job_id.in_(job_ids[start : start + _CHUNK]))
        for row in conn.execute(new).mappings():
            if planned.get(_key(row)) == row["replica_id"]:
                found[_key(row)] = row["id"]
    return found


def _taken(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> set[SlotKey]:
    """The slots and attempts of ``rows`` that already have a run."""
    keys = {_key(row) for row in rows}
    job_ids = sorted({job_id for job_id, _, _ in keys})
    slots = sorted({slot for _, slot, _ in keys})
    found: set[SlotKey] = set()
    for start in range(0, len(job_ids), _CHUNK):
        query = select(_run.job_id, _run.scheduled_for, _run.attempt).where(
            _run.job_id.in_(job_ids[start : start + _CHUNK]), _run.scheduled_for.in_(slots)
        )
        found.update(_key(row) for row in conn.execute(query).mappings())
    return found & keys


def advance_jobs(conn: Connection, following: Mapping[int, datetime | None]) -> None:
    """Set ``next_run_at`` of each job id in ``following`` to its instant (see the
    module's docstring)."""
    movers: defaultdict[datetime | None, list[int]] = defaultdict(list)
    for job_id, instant in following.items():
        movers[instant].append(job_id)
    if len(movers) > _FEW_INSTANTS:
        pairs = [(job_id, None if at is None else _wall(at)) for job_id, at in following.items()]
        for start in range(0, len(pairs), _CHUNK):
            batch = pairs[start : start + _CHUNK]
            conn.exec_driver_sql(_advance_joined(len(batch)), tuple(v for p in batch for v in p))
        return
    for instant, ids in movers.items():
        at = None if instant is None else _wall(instant)
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            conn.exec_driver_sql(
                "UPDATE scheduler_job SET next_run_at = %s "  # noqa: S608 - ids are ints
                f"WHERE id IN ({', '.join(str(int(job_id)) for job_id in chunk)})",
                (at,),
            )


def _advance_joined(count: int) -> str:
    # The first row names the derived table's columns; CAST gives them their types.
    rows = " UNION ALL ".join(
        ["SELECT CAST(%s AS SIGNED) AS id, CAST(%s AS DATETIME(6)) AS next_run_at"]
        + ["SELECT %s, %s"] * (count - 1)
    )
    return (
        f"UPDATE scheduler_job AS j JOIN ({rows}) AS v ON v.id = j.id "  # noqa: S608
        "SET j.next_run_at = v.next_run_at"
    )


@contextmanager
def upgrade_lock(conn: Connection) -> Iterator[None]:
    """Hold the server-wide lock of schema upgrades while inside."""
    got = conn.scalar(
        text("SELECT GET_LOCK(:name, :wait)"),
        {"name": _UPGRADE_LOCK, "wait": _UPGRADE_WAIT_SECONDS},
    )
    if got != 1:
        raise UnsupportedDatabase(
            f"another replica held the schema upgrade lock for {_UPGRADE_WAIT_SECONDS} s"
        )
    try:
        yield
    finally:
        conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": _UPGRADE_LOCK})


def _values(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(
        _wall(row[name]) if isinstance(row.get(name), datetime) else row.get(name, blank)
        for name, blank in ((name, NEW_RUN_BLANKS.get(name)) for name in _COLUMNS)
    )


def _wall(instant: datetime) -> datetime:
    """The UTC wall time MySQL's DATETIME keeps (the rows hold aware UTC instants)."""
    return instant.astimezone(UTC).replace(tzinfo=None)


def _key(row: Mapping[Any, Any]) -> SlotKey:
    return (row["job_id"], row["scheduled_for"], row["attempt"])
