"""Job rows: reconciling, saving, reading and pausing them, and turning them back into jobs.

Every function that writes runs inside a transaction the store opened, and
changes nothing until it commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from ...model.jobs import JobSpec
from ...model.policies import JobSource
from ...stores.base import StoredJob, SyncReport
from ...stores.rows import (
    SYNC_BATCH,
    SyncSteps,
    as_stored,
    batches,
    job_columns,
    job_from_columns,
    redefined,
    spec_from_columns,
    sync_batches,
    upstream_rows,
)
from ...stores.rules import (
    Definitions,
    check_replace,
    foreign_source,
    job_not_found,
    unchanged,
)
from ..models import Job, JobUpstream
from .changes import notify
from .queries import JOB_DEFINITION, JOB_FIELDS, Row, chunks, for_update, jobs

__all__ = [
    "get_job",
    "job_row",
    "list_jobs",
    "save_job",
    "set_paused",
    "stored",
    "sync_jobs",
]

#: What a sync compares of each stored job of its source.
_SYNC_KEYS = (
    "id", "name", "enabled", "removed_at", "paused_at", "definition_hash", "version", "created_at",
)  # fmt: skip


def sync_jobs(using: str, specs: Iterable[JobSpec], source: JobSource, now: datetime) -> SyncReport:
    """:meth:`~scheduler.stores.base.JobStore.sync_jobs` inside a transaction.

    ``specs`` are read and written a batch at a time
    (:func:`~scheduler.stores.rows.sync_batches`): what a sync holds is its
    batch, the names it was given and those it reports, however many jobs
    are unchanged, and it locks only the rows it may write.
    """
    definitions = Definitions(now)
    steps: SyncSteps[Row] = SyncSteps(
        hashes=lambda names: _hashes_named(using, names, source),
        rows=lambda names: _rows_named(using, names, source),
        refuse_foreign=lambda names: _refuse_foreign_names(using, names, source),
        insert=lambda specs: _insert_jobs(using, specs, definitions),
        update=lambda changes: _update_jobs(using, changes, definitions),
    )
    tally, live = sync_batches(specs, definitions, steps)
    gone = _not_given(using, source, tally.given, live)
    disabled = [
        (row, replace(spec_from_columns(row), enabled=False)) for row in _rows_by_id(using, gone)
    ]
    for changes in batches(disabled):
        _update_jobs(using, changes, definitions, removed=True)
    tally.disabled = [spec.name for _, spec in disabled]
    if tally.wrote:
        notify(using)
    return tally.report()


def _hashes_named(
    using: str, names: Sequence[str], source: JobSource
) -> dict[str, tuple[str, datetime | None]]:
    """The definition hash and removal of the jobs of ``source`` called ``names``, unlocked."""
    found: dict[str, tuple[str, datetime | None]] = {}
    for chunk in chunks(using, names):
        query = jobs(using).filter(source=source.value, name__in=chunk)
        found.update(
            (name, (digest, removed_at))
            for name, digest, removed_at in query.values_list(
                "name", "definition_hash", "removed_at"
            )
        )
    return found


def _rows_named(using: str, names: Sequence[str], source: JobSource) -> list[Row]:
    """What a sync compares of the jobs of ``source`` called ``names``, locked until it commits."""
    rows: list[Row] = []
    for chunk in chunks(using, names):
        query = jobs(using).filter(source=source.value, name__in=chunk)
        rows += for_update(query, using).values(*_SYNC_KEYS)
    return rows


def _not_given(using: str, source: JobSource, given: set[str], live: int) -> list[int]:
    """The ids of the jobs of ``source`` not removed yet whose names are not
    ``given``, ``live`` of them being given: none if the source has no more
    (one count), else the rows streamed rather than all held at once."""
    alive = jobs(using).filter(source=source.value, removed_at__isnull=True)
    if alive.count() == live:
        return []
    locked = for_update(alive, using).values_list("id", "name")
    return [job_id for job_id, name in locked.iterator(chunk_size=SYNC_BATCH) if name not in given]


def save_job(using: str, spec: JobSpec, now: datetime, expected_version: int | None) -> StoredJob:
    """:meth:`~scheduler.stores.base.JobStore.save_job` inside a transaction."""
    spec = as_stored(spec)
    old = job_row(using, spec.name, lock=True)
    check_replace(spec, None if old is None else (old["source"], old["version"]), expected_version)
    if old is not None and unchanged(old["definition_hash"], old["removed_at"], spec):
        return stored(old)
    notify(using)
    if old is None:
        return _insert_jobs(using, [spec], Definitions(now))[0]
    return _update_jobs(using, [(old, spec)], Definitions(now))[0]


def get_job(using: str, name: str) -> StoredJob:
    row = job_row(using, name)
    if row is None:
        raise job_not_found(name)
    return stored(row)


def list_jobs(using: str) -> list[StoredJob]:
    return [stored(row) for row in jobs(using).order_by("name").values(*JOB_FIELDS)]


def set_paused(using: str, name: str, paused: bool, now: datetime) -> StoredJob:
    """:meth:`~scheduler.stores.base.JobStore.set_paused` inside a transaction."""
    row = job_row(using, name, lock=True)
    if row is None:
        raise job_not_found(name)
    job = stored(row)
    if job.paused is paused:
        return job
    changed = job.paused_as(paused, now)
    jobs(using).filter(id=row["id"]).update(
        paused_at=changed.paused_at, next_run_at=changed.next_run_at, updated_at=now
    )
    notify(using)
    return changed


def job_row(using: str, name: str, *, lock: bool = False) -> dict[str, Any] | None:
    """The row of the job called ``name`` (locked until commit if ``lock``), or None."""
    query = jobs(using).filter(name=name)
    if lock:
        query = for_update(query, using)
    rows = list(query.values(*JOB_FIELDS))
    return rows[0] if rows else None


def stored(row: Row) -> StoredJob:
    """The :class:`StoredJob` a full ``scheduler_job`` row holds."""
    return job_from_columns(row, spec_from_columns(row))


def _refuse_foreign_names(using: str, names: Sequence[str], source: JobSource) -> None:
    for chunk in chunks(using, sorted(names)):
        owners = jobs(using).filter(name__in=chunk).order_by("name")
        owner = owners.values("name", "source").first()
        if owner is not None:
            raise foreign_source(owner["name"], owner["source"], source)


def _rows_by_id(using: str, ids: Sequence[int]) -> list[Row]:
    """The full rows of the jobs with these ids, in a few statements."""
    rows: list[Row] = []
    for chunk in chunks(using, sorted(ids)):
        rows += jobs(using).filter(id__in=chunk).values(*JOB_FIELDS)
    return rows


def _insert_jobs(using: str, specs: Sequence[JobSpec], definitions: Definitions) -> list[StoredJob]:
    """Insert new jobs, in one batch; their first slot is the first after ``definitions.now``."""
    now = definitions.now
    added = [definitions.new(spec, version=1, created_at=now) for spec in specs]
    if added:
        jobs(using).bulk_create([Job(**job_columns(job)) for job in added])
        _write_upstreams(using, added)
    return added


def _update_jobs(
    using: str,
    changes: Sequence[tuple[Row, JobSpec]],
    definitions: Definitions,
    *,
    removed: bool = False,
) -> list[StoredJob]:
    """Store new definitions of existing jobs, in one batch: version + 1, next
    slot from ``definitions.now`` unless paused; ``removed_at`` is then if ``removed``."""
    updated = redefined(changes, definitions, removed=removed)
    if updated:
        rows = [
            Job(id=row["id"], **job_columns(job))
            for (row, _), job in zip(changes, updated, strict=True)
        ]
        jobs(using).bulk_update(rows, JOB_DEFINITION)
        _write_upstreams(using, updated, replaced=[row["id"] for row, _ in changes])
    return updated


def _write_upstreams(
    using: str, written: Sequence[StoredJob], *, replaced: Sequence[int] = ()
) -> None:
    """Write the upstream rows of the joins among ``written`` (just saved), first
    deleting those of the jobs ``replaced`` (by id): their new definitions may
    name other upstreams, or none."""
    upstreams = JobUpstream.objects.using(using)
    for ids in chunks(using, sorted(replaced)):
        upstreams.filter(job_id__in=ids).delete()
    joins = {job.spec.name: job.spec for job in written if upstream_rows(0, job.spec)}
    if not joins:
        return
    rows: list[JobUpstream] = []
    for names in chunks(using, sorted(joins)):
        for job_id, name in jobs(using).filter(name__in=names).values_list("id", "name"):
            rows += [JobUpstream(**row) for row in upstream_rows(job_id, joins[name])]
    upstreams.bulk_create(rows)
