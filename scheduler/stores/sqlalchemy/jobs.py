"""Job rows: reconciling, saving and pausing them, and turning them back into specs.

Rows become :class:`~scheduler.model.jobs.JobSpec` values column by column (no
``from_dict``), and the specs are cached by ``(job id, version)``: building one
costs tens of microseconds, which 10,000 due jobs a second would feel.

Every function that writes takes the connection of a transaction the store
opened, and changes nothing until it commits.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, bindparam, insert, select, update

from ...model.jobs import JobSpec
from ...model.policies import JobSource
from ..base import StoredJob, SyncReport
from ..checked.arguments import refuse_repeated_names
from ..rows import (
    as_stored,
    compare_specs,
    job_from_columns,
    redefined,
    sync_report,
)
from ..rules import check_replace, foreign_source, job_not_found, new_definition, unchanged
from .changes import notify
from .queries import among, select_rows
from .schema import job_columns, job_table, spec_from_columns

__all__ = [
    "DEFAULT_SPEC_CACHE_SIZE",
    "SpecCache",
    "job_row",
    "rows_by_id",
    "save_job",
    "set_paused",
    "sync_jobs",
    "sync_specs",
]

#: Specs kept built, by (job id, version); a miss costs one JobSpec construction.
DEFAULT_SPEC_CACHE_SIZE = 20_000

_job = job_table.c


class SpecCache:
    """Built specs by (job id, version), least recently used out first.

    The stored definition hash is checked too, so a row rewritten without a
    version bump (by hand, by another tool) is never served stale.
    """

    def __init__(self, size: int) -> None:
        self._size = max(size, 0)
        self._lock = threading.Lock()
        self._specs: OrderedDict[tuple[int, int], tuple[str, JobSpec]] = OrderedDict()

    def get(self, row: RowMapping) -> JobSpec:
        key = (row["id"], row["version"])
        with self._lock:
            cached = self._specs.get(key)
            if cached is not None and cached[0] == row["definition_hash"]:
                self._specs.move_to_end(key)
                return cached[1]
        spec = spec_from_columns(row)
        with self._lock:
            self._specs[key] = (row["definition_hash"], spec)
            while len(self._specs) > self._size:
                self._specs.popitem(last=False)
        return spec

    def stored(self, row: RowMapping) -> StoredJob:
        """The :class:`StoredJob` a full ``scheduler_job`` row holds."""
        return job_from_columns(row, self.get(row))


# -- the store's verbs ------------------------------------------------------------


def sync_specs(specs: Sequence[JobSpec], source: JobSource) -> list[JobSpec]:
    """``specs`` as a sync of ``source`` stores them; :class:`InvalidJob` if a name repeats."""
    specs = [as_stored(spec, source) for spec in specs]
    refuse_repeated_names(specs, source)
    return specs


def sync_jobs(
    conn: Connection, specs: Sequence[JobSpec], source: JobSource, now: datetime, cache: SpecCache
) -> SyncReport:
    """:meth:`~scheduler.stores.base.Store.sync_jobs` inside the transaction of
    ``conn``, for ``specs`` checked by :func:`sync_specs`."""
    mine = {row["name"]: row for row in select_rows(conn, _job_keys(source))}
    _refuse_foreign_names(conn, [s.name for s in specs if s.name not in mine], source)
    added, changed, unchanged = compare_specs(specs, mine)
    keep = {spec.name for spec in specs}
    gone = [
        row["id"] for name, row in mine.items() if name not in keep and row["removed_at"] is None
    ]
    disabled = [(row, replace(cache.get(row), enabled=False)) for row in rows_by_id(conn, gone)]
    _insert_jobs(conn, added, now)
    _update_jobs(conn, changed, now)
    _update_jobs(conn, disabled, now, removed=True)
    if added or changed or disabled:
        notify(conn)
    return sync_report(added, changed, disabled, unchanged)


def save_job(
    conn: Connection,
    spec: JobSpec,
    now: datetime,
    cache: SpecCache,
    expected_version: int | None = None,
) -> StoredJob:
    """:meth:`~scheduler.stores.base.Store.save_job` inside the transaction of ``conn``."""
    spec = as_stored(spec)
    old = job_row(conn, spec.name, lock=True)
    check_replace(spec, None if old is None else (old["source"], old["version"]), expected_version)
    if old is not None and unchanged(old["definition_hash"], old["removed_at"], spec):
        return cache.stored(old)
    notify(conn)
    if old is None:
        return _insert_jobs(conn, [spec], now)[0]
    return _update_jobs(conn, [(old, spec)], now)[0]


def set_paused(
    conn: Connection, name: str, paused: bool, now: datetime, cache: SpecCache
) -> StoredJob:
    """:meth:`~scheduler.stores.base.Store.set_paused` inside the transaction of ``conn``."""
    row = job_row(conn, name, lock=True)
    if row is None:
        raise job_not_found(name)
    job = cache.stored(row)
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


def _insert_jobs(conn: Connection, specs: Sequence[JobSpec], now: datetime) -> list[StoredJob]:
    """Insert new jobs, in one batch; their first slot is the first after ``now``."""
    stored = [new_definition(spec, now, version=1, created_at=now) for spec in specs]
    if stored:
        conn.execute(insert(job_table), [job_columns(job) for job in stored])
    return stored


def _update_jobs(
    conn: Connection,
    changes: Sequence[tuple[RowMapping, JobSpec]],
    now: datetime,
    *,
    removed: bool = False,
) -> list[StoredJob]:
    """Store new definitions of existing jobs, in one batch: version + 1, next
    slot from ``now`` unless paused; ``removed_at`` is ``now`` if ``removed``."""
    stored = redefined(changes, now, removed=removed)
    if stored:
        params = [
            {**job_columns(job), "job": row["id"]}
            for (row, _), job in zip(changes, stored, strict=True)
        ]
        conn.execute(update(job_table).where(_job.id == bindparam("job")), params)
    return stored
