"""Stored rows <-> values, shared by the SQL stores.

A ``scheduler_job`` or ``scheduler_run`` row is a plain mapping of column
names to Python values (instants aware in UTC, JSON as text).  The SQLAlchemy
store and the Django store both read and write rows through these functions,
so the two can share one database.  Nothing here imports a database library.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from ..clock import ensure_aware_utc
from ..errors import InvalidJob, JobChanged
from ..model.jobs import JobSpec, JSONValue, ScheduleType, trusted_spec
from ..model.policies import CatchupPolicy, JobSource, OverlapPolicy
from ..model.runs import (
    ACTIVE_STATUSES,
    TERMINAL_STATUSES,
    NewRun,
    Outcome,
    Run,
    RunStatus,
    Trigger,
)
from ..schedules.kinds import Cron, Every, Once
from .base import SlotPlan, StoredJob, SyncReport

__all__ = [
    "ACTIVE_RUN_CONDITION",
    "ACTIVE_RUN_INDEX",
    "NEW_RUN_BLANKS",
    "SLOT_CONSTRAINT",
    "as_stored",
    "check_version",
    "claim_rows",
    "compare_specs",
    "is_slot_violation",
    "job_columns",
    "job_from_columns",
    "new_definition",
    "outcome_columns",
    "redefined",
    "refuse_repeated_names",
    "result_column",
    "run_columns",
    "run_from_columns",
    "spec_from_columns",
    "sync_report",
    "unchanged",
]

_Row = TypeVar("_Row", bound=Mapping[Any, Any])

#: Name of the constraint that makes a second run of one slot and attempt impossible.
SLOT_CONSTRAINT = "scheduler_run_slot_uniq"
#: Name of the partial index of the runs that have not ended, by job.
ACTIVE_RUN_INDEX = "scheduler_run_active_idx"
#: That index's condition, and the one a query repeats, word for word and as
#: literals (never bound parameters), for the database to choose the index:
#: "has this job a run going" is then one probe of a small index, whatever
#: the size of the job's history or the number of runs in flight.
ACTIVE_RUN_CONDITION = "status IN ({})".format(
    ", ".join(f"'{status.value}'" for status in sorted(ACTIVE_STATUSES, key=lambda s: s.value))
)

# How PostgreSQL's detail of a unique violation names the slot constraint's columns.
_SLOT_KEY_DETAIL = "(job_id, scheduled_for, attempt)="
# How SQLite's message names them.
_SLOT_COLUMNS_SQLITE = "scheduler_run.job_id, scheduler_run.scheduled_for, scheduler_run.attempt"


def is_slot_violation(driver_error: BaseException | None) -> bool:
    """Whether the database driver's ``driver_error`` (psycopg's or sqlite3's,
    under a library's IntegrityError) is the slot constraint refusing a second
    run of one slot and attempt."""
    diag = getattr(driver_error, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    if constraint is not None:  # psycopg names it
        # On a run table partitioned by month (contrib/postgres/partition_runs.sql)
        # the name is that of the partition's copy of the constraint; the detail
        # names the columns, whatever the partition: "Key (job_id, ...)=(...) ...".
        detail = getattr(diag, "message_detail", None) or ""
        return bool(constraint == SLOT_CONSTRAINT or _SLOT_KEY_DETAIL in detail)
    # sqlite3 names the columns instead: "UNIQUE constraint failed: scheduler_run.job_id, ..."
    return _SLOT_COLUMNS_SQLITE in str(driver_error)


def as_stored(spec: JobSpec, source: JobSource | None = None) -> JobSpec:
    """``spec`` as a SQL store reads it back: of ``source`` (if given), its
    cron's ``H`` fields hashed by the job's name (the hash key has no column)."""
    if source is not None and spec.source is not source:
        spec = replace(spec, source=source)
    schedule = spec.schedule
    if isinstance(schedule, Cron) and schedule.hash_key != spec.name:
        spec = replace(spec, schedule=Cron(schedule.expr, tz=schedule.tz, hash_key=spec.name))
    return spec


def check_version(name: str, stored: int | None, expected: int | None) -> None:
    """:class:`JobChanged` unless the job ``name``, stored at version
    ``stored`` (``None``: not stored), is at the ``expected`` one (``0``: not
    stored yet; ``None``: any)."""
    actual = stored or 0
    if expected is None or actual == expected:
        return
    if expected == 0:
        problem = f"was created by someone else meanwhile (it is at version {actual})"
    elif actual == 0:
        problem = "was deleted meanwhile"
    else:
        problem = (
            f"was changed by someone else meanwhile: it is at version {actual}, "
            f"this change was based on version {expected}"
        )
    raise JobChanged(f"job {name!r} {problem}; nothing was saved")


def refuse_repeated_names(specs: Iterable[JobSpec], source: JobSource) -> None:
    """:class:`InvalidJob` if two of ``specs``, synced together as ``source``, share a name."""
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise InvalidJob(f"job {spec.name!r} is declared twice in one {source.value} sync")
        seen.add(spec.name)


def compare_specs(
    specs: Sequence[JobSpec], stored: Mapping[str, _Row]
) -> tuple[list[JobSpec], list[tuple[_Row, JobSpec]], list[str]]:
    """Sort ``specs`` against the ``stored`` rows of their names into new ones,
    changed ones (with their row), and the names of unchanged ones."""
    added: list[JobSpec] = []
    changed: list[tuple[_Row, JobSpec]] = []
    same: list[str] = []
    for spec in specs:
        old = stored.get(spec.name)
        if old is None:
            added.append(spec)
        elif unchanged(old, spec):
            same.append(spec.name)
        else:
            changed.append((old, spec))
    return added, changed, same


def unchanged(row: Mapping[Any, Any], spec: JobSpec) -> bool:
    """Whether storing ``spec`` over the job ``row`` would change nothing."""
    return row["definition_hash"] == spec.definition_hash() and row["removed_at"] is None


def sync_report(
    added: Sequence[JobSpec],
    changed: Sequence[tuple[Any, JobSpec]],
    disabled: Sequence[tuple[Any, JobSpec]],
    unchanged: Sequence[str],
) -> SyncReport:
    """The :class:`SyncReport` of a sync that sorted its specs with
    :func:`compare_specs` and disabled the jobs of ``disabled``."""
    return SyncReport(
        added=tuple(sorted(spec.name for spec in added)),
        updated=tuple(sorted(spec.name for _, spec in changed)),
        disabled=tuple(sorted(spec.name for _, spec in disabled)),
        unchanged=tuple(sorted(unchanged)),
    )


def job_from_columns(row: Mapping[Any, Any], spec: JobSpec) -> StoredJob:
    """The :class:`StoredJob` a full ``scheduler_job`` row holds, its definition
    already read as ``spec``."""
    return StoredJob(
        spec=spec,
        next_run_at=row["next_run_at"],
        version=row["version"],
        definition_hash=row["definition_hash"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        paused_at=row["paused_at"],
        removed_at=row["removed_at"],
    )


def new_definition(
    spec: JobSpec,
    now: datetime,
    *,
    version: int,
    created_at: datetime,
    paused_at: datetime | None = None,
    removed_at: datetime | None = None,
) -> StoredJob:
    """``spec`` stored as a job's new definition at ``now``: its next slot is the
    first after ``now``, unless it is disabled or paused."""
    return StoredJob(
        spec=spec,
        next_run_at=spec.next_after(now) if spec.enabled and paused_at is None else None,
        paused_at=paused_at,
        removed_at=removed_at,
        version=version,
        definition_hash=spec.definition_hash(),
        created_at=created_at,
        updated_at=now,
    )


def redefined(
    changes: Sequence[tuple[_Row, JobSpec]], now: datetime, *, removed: bool = False
) -> list[StoredJob]:
    """The new definitions of the jobs of ``changes`` (each a stored row and its
    new spec) at ``now``: version + 1, next slot from ``now`` unless paused, and
    ``removed_at`` set to ``now`` if ``removed``."""
    return [
        new_definition(
            spec,
            now,
            version=row["version"] + 1,
            created_at=row["created_at"],
            paused_at=row["paused_at"],
            removed_at=now if removed else None,
        )
        for row, spec in changes
    ]


def job_columns(job: StoredJob) -> dict[str, Any]:
    """The ``scheduler_job`` row of ``job`` (all but ``id``)."""
    spec, schedule = job.spec, job.spec.schedule
    return {
        "name": spec.name,
        "task": spec.task,
        "args": json.dumps(list(spec.args)),
        "kwargs": json.dumps(spec.kwargs),
        "cron": schedule.expr if isinstance(schedule, Cron) else None,
        "every_seconds": schedule.interval.total_seconds() if isinstance(schedule, Every) else None,
        "anchor_at": schedule.anchor if isinstance(schedule, Every) else None,
        "run_at": schedule.at if isinstance(schedule, Once) else None,
        "timezone": spec.timezone,
        "enabled": spec.enabled,
        "start_at": spec.start,
        "end_at": spec.end,
        "catchup": spec.catchup.value,
        "max_catchup": spec.max_catchup,
        "catchup_window_seconds": _seconds(spec.catchup_window),
        "overlap": spec.overlap.value,
        "jitter_seconds": spec.jitter.total_seconds(),
        "timeout_seconds": _seconds(spec.timeout),
        "retries": spec.retries,
        "retry_backoff_seconds": spec.retry_backoff.total_seconds(),
        "retry_backoff_max_seconds": spec.retry_backoff_max.total_seconds(),
        "executor": spec.executor,
        "queue": spec.queue,
        "description": spec.description,
        "source": spec.source.value,
        "definition_hash": job.definition_hash,
        "next_run_at": job.next_run_at,
        "paused_at": job.paused_at,
        "removed_at": job.removed_at,
        "version": job.version,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
    }


def spec_from_columns(row: Mapping[Any, Any]) -> JobSpec:
    """The :class:`JobSpec` a ``scheduler_job`` row holds; a cron's ``H`` is hashed by name.

    The row was written from a validated spec (:func:`job_columns`), so its
    values are turned back into the spec's types without checking each field
    again (:func:`~scheduler.model.jobs.trusted_spec`): a claim reads thousands of rows.
    """
    return trusted_spec(
        name=row["name"],
        task=row["task"],
        schedule=_schedule_from_columns(row),
        args=_json_args(row["args"]),
        kwargs=_json_kwargs(row["kwargs"]),
        timezone=row["timezone"],
        enabled=bool(row["enabled"]),
        start=_instant(row["start_at"]),
        end=_instant(row["end_at"]),
        catchup=CatchupPolicy(row["catchup"]),
        max_catchup=row["max_catchup"],
        catchup_window=_duration(row["catchup_window_seconds"]),
        overlap=OverlapPolicy(row["overlap"]),
        jitter=timedelta(seconds=row["jitter_seconds"]),
        timeout=_duration(row["timeout_seconds"]),
        retries=row["retries"],
        retry_backoff=timedelta(seconds=row["retry_backoff_seconds"]),
        retry_backoff_max=timedelta(seconds=row["retry_backoff_max_seconds"]),
        executor=row["executor"],
        queue=row["queue"],
        description=row["description"],
        source=JobSource(row["source"]),
    )


def _json_args(text: str) -> tuple[JSONValue, ...]:
    return () if text == "[]" else tuple(json.loads(text))


def _json_kwargs(text: str) -> dict[str, JSONValue]:
    kwargs: dict[str, JSONValue] = {} if text == "{}" else json.loads(text)
    return kwargs


def _instant(value: datetime | None) -> datetime | None:
    return None if value is None else ensure_aware_utc(value)


def _schedule_from_columns(row: Mapping[Any, Any]) -> ScheduleType:
    if row["cron"] is not None:
        return Cron(row["cron"], tz=row["timezone"], hash_key=row["name"])
    if row["every_seconds"] is not None:
        return Every(timedelta(seconds=row["every_seconds"]), anchor=row["anchor_at"])
    if row["run_at"] is not None:
        return Once(row["run_at"])
    raise InvalidJob(f"job {row['name']!r}: stored without cron, every_seconds or run_at")


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _duration(seconds: float | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=seconds)


#: The columns of a new run that only its later life fills in, with their value
#: when it is created (a claim's bulk insert sends them once, not per run).
NEW_RUN_BLANKS: dict[str, Any] = {
    "started_at": None,
    "duration_seconds": None,
    "result": None,
    "error": "",
    "traceback": "",
    "external_id": "",
    "worker": "",
    "heartbeat_at": None,
}


def run_columns(
    job_id: int, new: NewRun, *, now: datetime, replica_id: str, executor: str = ""
) -> dict[str, Any]:
    """The ``scheduler_run`` row of a new run (all but ``id``).

    It is claimed for ``replica_id`` when it is pending and due at ``now``:
    stored ``queued`` to ``executor``, ready to be handed over when the claim
    commits.  A run created in a terminal status (missed, skipped) ends at ``now``.
    """
    claim = bool(replica_id) and new.status is RunStatus.PENDING and new.due_at <= now
    return {
        "job_id": job_id,
        "scheduled_for": new.scheduled_for,
        "due_at": new.due_at,
        "attempt": new.attempt,
        "trigger": Trigger(new.trigger).value,
        "status": _QUEUED if claim else RunStatus(new.status).value,
        "claimed_at": now if claim else None,
        "finished_at": now if new.status in TERMINAL_STATUSES else None,
        "executor": executor if claim else "",
        "replica_id": replica_id if claim else "",
        **NEW_RUN_BLANKS,
    }


def claim_rows(
    plans: Mapping[int, SlotPlan],
    jobs: Mapping[int, StoredJob],
    busy: set[int],
    *,
    now: datetime,
    replica_id: str,
) -> list[dict[str, Any]]:
    """The ``scheduler_run`` rows of the runs a claim's ``plans`` create, by job
    id: claimed for ``replica_id``, except a busy job's, which wait unclaimed
    for its overlap rule (``claim_pending``)."""
    return [
        run_columns(
            job_id,
            new.checked(jobs[job_id].spec.name),
            now=now,
            replica_id="" if job_id in busy else replica_id,
            executor=jobs[job_id].spec.executor,
        )
        for job_id, chosen in plans.items()
        for new in chosen.runs
    ]


def outcome_columns(
    outcome: Outcome, *, started_at: datetime | None, finished_at: datetime
) -> dict[str, Any]:
    """What a run's row records of how it ended, at ``finished_at``."""
    return {
        "status": outcome.status.value,
        "finished_at": finished_at,
        "duration_seconds": (
            None if started_at is None else (finished_at - started_at).total_seconds()
        ),
        "result": result_column(outcome.result),
        "error": outcome.error,
        "traceback": outcome.traceback,
    }


_QUEUED = RunStatus.QUEUED.value


def run_from_columns(run_id: int, job_name: str, row: Mapping[Any, Any]) -> Run:
    """The :class:`Run` a ``scheduler_run`` row holds (``job_id`` replaced by the job's name)."""
    return Run(
        id=run_id,
        job_name=job_name,
        scheduled_for=row["scheduled_for"],
        due_at=row["due_at"],
        attempt=row["attempt"],
        trigger=Trigger(row["trigger"]),
        status=RunStatus(row["status"]),
        claimed_at=row["claimed_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        result=None if row["result"] is None else json.loads(row["result"]),
        error=row["error"],
        traceback=row["traceback"],
        executor=row["executor"],
        external_id=row["external_id"],
        replica_id=row["replica_id"],
        worker=row["worker"],
        heartbeat_at=row["heartbeat_at"],
    )


def result_column(result: object) -> str | None:
    """A run's result as JSON text; no result is NULL."""
    return None if result is None else json.dumps(result, allow_nan=False)
