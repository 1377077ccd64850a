"""Job rows: reconciling, saving, reading and pausing them.

Every function that writes takes the connection of a transaction the store
opened (in ``db``), and changes nothing until it commits.  Specs are built
from rows through the store's cache (:mod:`.specs`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    RowMapping,
    Select,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError

from ...model.jobs import JobSpec
from ...model.policies import JobSource
from ..protocol.values import StoredJob, SyncReport
from ..rows import (
    SYNC_BATCH,
    SyncSteps,
    as_stored,
    batches,
    redefined,
    sync_batches,
    upstream_rows,
)
from ..rules import Definitions, check_replace, foreign_source, job_not_found, unchanged
from .changes import notify
from .connections import Db
from .job_inserts import insert_job_rows
from .queries import among, select_rows
from .schema import job_columns, job_table, job_upstream_table

__all__ = [
    "get_job",
    "job_row",
    "list_jobs",
    "rows_by_id",
    "save_job",
    "set_paused",
    "sync_jobs",
]

logger = logging.getLogger(__name__)
_job = job_table.c
_upstream = job_upstream_table.c


# -- the store's verbs ------------------------------------------------------------


def sync_jobs(db: Db, specs: Iterable[JobSpec], source: JobSource, now: datetime) -> SyncReport:
    """:meth:`~scheduler.stores.base.JobStore.sync_jobs` inside the transaction of ``db``.

    ``specs`` are read and written a batch at a time, each batch compared with
    the stored rows of its own names only: what a sync holds is its batch, the
    names it was given and those it reports, however many jobs are unchanged.
    """
    conn, definitions = db.conn, Definitions(now)
    if conn.dialect.name == "postgresql":
        # Updates of changed jobs are single-row statements: planning each with
        # its values (connections.install_postgresql_hooks) would cost more than it saves.
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = auto")
    steps: SyncSteps[RowMapping] = SyncSteps(
        hashes=lambda names: _hashes_named(conn, names, source),
        rows=lambda names: _rows_named(conn, names, source),
        refuse_foreign=lambda names: _refuse_foreign_names(conn, names, source),
        insert=lambda specs: _insert_jobs(conn, specs, definitions),
        update=lambda changes: _update_jobs(conn, changes, definitions),
    )
    tally, live = sync_batches(specs, definitions, steps)  # live: given names' jobs not removed
    gone = _not_given(conn, source, tally.given, live)
    disabled = [(row, replace(db.specs.get(row), enabled=False)) for row in rows_by_id(conn, gone)]
    for changes in batches(disabled):
        _update_jobs(conn, changes, definitions, removed=True)
    tally.disabled = [spec.name for _, spec in disabled]
    if tally.wrote:
        notify(conn)
    if tally.written >= ANALYZE_AFTER and conn.dialect.name == "postgresql":
        _analyze_jobs(conn)
    return tally.report()


#: A sync that writes this many jobs or more refreshes the job table's statistics.
ANALYZE_AFTER = 1000


def _analyze_jobs(conn: Connection) -> None:
    """``ANALYZE scheduler_job``, as after any bulk load: the statements that
    follow are planned with their values (``connections.install_postgresql_hooks``),
    and without statistics PostgreSQL takes a table grown by thousands of rows
    for an empty one, reading all of it to find a batch of names (1.2 s of a
    100,000-job reconcile) until autovacuum, if it is on, gets there.  It
    reads a sample, takes no lock that stops reads or writes, and a user who
    may not analyze the table only misses the statistics."""
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("ANALYZE scheduler_job")
    except DBAPIError:
        logger.info("could not refresh the statistics of scheduler_job", exc_info=True)


def _hashes_named(
    conn: Connection, names: Sequence[str], source: JobSource
) -> dict[str, tuple[str, datetime | None]]:
    """The definition hash and removal of the jobs of ``source`` called ``names``, unlocked."""
    found: dict[str, tuple[str, datetime | None]] = {}
    columns = _job.name, _job.definition_hash, _job.removed_at
    for clause in among(conn, _job.name, names):
        query = select(*columns).where(_job.source == source.value, clause)
        found.update(
            (name, (digest, removed_at)) for name, digest, removed_at in conn.execute(query)
        )
    return found


def _rows_named(conn: Connection, names: Sequence[str], source: JobSource) -> list[RowMapping]:
    """What a sync compares of the jobs of ``source`` called ``names``, locked until it commits."""
    rows: list[RowMapping] = []
    for clause in among(conn, _job.name, names):
        rows += select_rows(conn, _job_keys(source).where(clause))
    return rows


def _not_given(conn: Connection, source: JobSource, given: set[str], live: int) -> list[int]:
    """The ids of the jobs of ``source`` not removed yet whose names are not
    ``given``, ``live`` of them being given: none if the source has no more
    (one count), else the rows streamed rather than all held at once."""
    alive = _job.source == source.value, _job.removed_at.is_(None)
    if conn.execute(select(func.count()).where(*alive)).scalar_one() == live:
        return []
    query = (
        select(_job.id, _job.name)
        .where(*alive)
        .with_for_update(key_share=True)
        .execution_options(yield_per=SYNC_BATCH)
    )
    return [row.id for row in conn.execute(query) if row.name not in given]


def save_job(db: Db, spec: JobSpec, now: datetime, expected_version: int | None) -> StoredJob:
    """:meth:`~scheduler.stores.base.JobStore.save_job` inside the transaction of ``db``."""
    conn, spec = db.conn, as_stored(spec)
    old = job_row(conn, spec.name, lock=True)
    check_replace(spec, None if old is None else (old["source"], old["version"]), expected_version)
    if old is not None and unchanged(old["definition_hash"], old["removed_at"], spec):
        return db.specs.stored(old)
    notify(conn)
    if old is None:
        return _insert_jobs(conn, [spec], Definitions(now))[0]
    return _update_jobs(conn, [(old, spec)], Definitions(now))[0]


def get_job(db: Db, name: str) -> StoredJob:
    row = job_row(db.conn, name)
    if row is None:
        raise job_not_found(name)
    return db.specs.stored(row)


def list_jobs(db: Db) -> list[StoredJob]:
    return [
        db.specs.stored(row) for row in select_rows(db.conn, select(job_table).order_by(_job.name))
    ]


def set_paused(db: Db, name: str, paused: bool, now: datetime) -> StoredJob:
    """:meth:`~scheduler.stores.base.JobStore.set_paused` inside the transaction of ``db``."""
    conn, row = db.conn, job_row(db.conn, name, lock=True)
    if row is None:
        raise job_not_found(name)
    job = db.specs.stored(row)
    if job.paused is paused:
        return job
    changed = job.paused_as(paused, now)
    conn.execute(
        update(job_table)
        .where(_job.id == row["id"])
        .values(paused_at=changed.paused_at, next_run_at=changed.next_run_at, updated_at=now)
    )
    notify(conn)
    return changed


# -- rows -------------------------------------------------------------------------


def job_row(conn: Connection, name: str, *, lock: bool = False) -> RowMapping | None:
    """The row of the job called ``name`` (locked until commit if ``lock``), or None."""
    query = select(job_table).where(_job.name == name)
    if lock:
        query = query.with_for_update()
    return conn.execute(query).mappings().one_or_none()


def rows_by_id(conn: Connection, ids: Iterable[int]) -> list[RowMapping]:
    """The rows of the jobs with these ids, in a few statements."""
    rows: list[RowMapping] = []
    for clause in among(conn, _job.id, sorted(ids)):
        rows += select_rows(conn, select(job_table).where(clause))
    return rows


def _refuse_foreign_names(conn: Connection, names: Sequence[str], source: JobSource) -> None:
    for clause in among(conn, _job.name, names):
        owner = conn.execute(
            select(_job.name, _job.source).where(clause).order_by(_job.name).limit(1)
        ).first()
        if owner is not None:
            raise foreign_source(owner.name, owner.source, source)


def _job_keys(source: JobSource) -> Select[Any]:
    """What a sync compares of the jobs of ``source``, locked until it commits."""
    columns = (
        _job.id,
        _job.name,
        _job.enabled,
        _job.removed_at,
        _job.paused_at,
        _job.definition_hash,
        _job.version,
        _job.created_at,
    )
    return select(*columns).where(_job.source == source.value).with_for_update(key_share=True)


def _insert_jobs(
    conn: Connection, specs: Sequence[JobSpec], definitions: Definitions
) -> list[StoredJob]:
    """Insert new jobs, in one batch (one statement on PostgreSQL); their first
    slot is the first after ``definitions.now``."""
    now = definitions.now
    stored = [definitions.new(spec, version=1, created_at=now) for spec in specs]
    if stored:
        insert_job_rows(conn, [job_columns(job) for job in stored])
        _write_upstreams(conn, stored)
    return stored


def _update_jobs(
    conn: Connection,
    changes: Sequence[tuple[RowMapping, JobSpec]],
    definitions: Definitions,
    *,
    removed: bool = False,
) -> list[StoredJob]:
    """Store new definitions of existing jobs, in one batch: version + 1, next
    slot from ``definitions.now`` unless paused; ``removed_at`` is then if ``removed``."""
    stored = redefined(changes, definitions, removed=removed)
    if stored:
        params = [
            {**job_columns(job), "job": row["id"]}
            for (row, _), job in zip(changes, stored, strict=True)
        ]
        conn.execute(update(job_table).where(_job.id == bindparam("job")), params)
        _write_upstreams(conn, stored, replaced=[row["id"] for row, _ in changes])
    return stored


def _write_upstreams(
    conn: Connection, stored: Sequence[StoredJob], *, replaced: Sequence[int] = ()
) -> None:
    """Write the upstream rows of the joins among ``stored`` (just written),
    first deleting those of the jobs ``replaced`` (by id): their new definitions
    may name other upstreams, or none."""
    if replaced:
        for clause in among(conn, _upstream.job_id, sorted(replaced)):
            conn.execute(delete(job_upstream_table).where(clause))
    joins = {job.spec.name: job.spec for job in stored if upstream_rows(0, job.spec)}
    if not joins:
        return
    rows: list[dict[str, Any]] = []
    for clause in among(conn, _job.name, sorted(joins)):
        for job_id, name in conn.execute(select(_job.id, _job.name).where(clause)).all():
            rows += upstream_rows(job_id, joins[name])
    conn.execute(insert(job_upstream_table), rows)
