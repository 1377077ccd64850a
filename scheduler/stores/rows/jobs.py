"""``scheduler_job`` rows <-> jobs: a job's columns, and the spec and job a row holds."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from ...clock import ensure_aware_utc
from ...errors import InvalidJob
from ...model.chains import ChainWhen, is_join
from ...model.jobs import JobSpec, JSONValue, ScheduleType, trusted_copy, trusted_spec
from ...model.notify import JobNotify, encode_notify
from ...model.policies import CatchupPolicy, JobSource, OverlapPolicy
from ...schedules.calendars import Calendar
from ...schedules.kinds import Cron, Every, Once
from ...schedules.solar import Solar
from ..protocol.values import StoredJob

__all__ = [
    "SHARED_DEFINITION",
    "as_stored",
    "job_columns",
    "job_from_columns",
    "renamed_spec",
    "spec_from_columns",
    "upstream_rows",
]

#: The columns :func:`spec_from_columns` reads but the name: jobs equal in all of
#: these are the same job under other names, and share most of one built spec.
SHARED_DEFINITION = (
    "task", "args", "kwargs", "cron", "every_seconds", "anchor_at", "run_at", "timezone",
    "enabled", "start_at", "end_at", "catchup", "max_catchup", "catchup_window_seconds",
    "overlap", "jitter_seconds", "timeout_seconds", "retries", "retry_backoff_seconds",
    "retry_backoff_max_seconds", "executor", "queue", "description", "source", "notify",
    "max_memory_bytes", "calendar", "solar", "chain_after", "chain_when",
    "chain_upstreams",
)  # fmt: skip

_DEFAULT_NOTIFY = JobNotify()
_NO_CALENDAR = Calendar()


def as_stored(spec: JobSpec, source: JobSource | None = None) -> JobSpec:
    """``spec`` as a SQL store reads it back: of ``source`` (if given), its
    cron's ``H`` fields hashed by the job's name (the hash key has no column)."""
    if source is not None and spec.source is not source:
        spec = replace(spec, source=source)
    schedule = spec.schedule
    if isinstance(schedule, Cron) and schedule.hash_key != spec.name:
        spec = replace(spec, schedule=Cron(schedule.expr, tz=schedule.tz, hash_key=spec.name))
    return spec


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
        "solar": json.dumps(schedule.to_json()) if isinstance(schedule, Solar) else None,
        "timezone": spec.timezone,
        "enabled": spec.enabled,
        "start_at": spec.start,
        "end_at": spec.end,
        "catchup": spec.policy.catchup.value,
        "max_catchup": spec.policy.max_catchup,
        "catchup_window_seconds": _seconds(spec.policy.catchup_window),
        "overlap": spec.policy.overlap.value,
        "jitter_seconds": spec.policy.jitter.total_seconds(),
        "timeout_seconds": _seconds(spec.policy.timeout),
        "retries": spec.policy.retries,
        "retry_backoff_seconds": spec.policy.retry_backoff.total_seconds(),
        "retry_backoff_max_seconds": spec.policy.retry_backoff_max.total_seconds(),
        "executor": spec.executor,
        "queue": spec.queue,
        "description": spec.description,
        "source": spec.source.value,
        # NULL while the job says nothing, as for every job stored before the column.
        "notify": None if spec.notify.is_default else json.dumps(encode_notify(spec.notify)),
        "max_memory_bytes": spec.policy.max_memory,
        # NULL while the job has no calendar, as for every job stored before the column.
        "calendar": None if spec.calendar.is_default else json.dumps(spec.calendar.to_json()),
        # NULL for a job that is not chained, as for every job stored before the columns.
        "chain_after": spec.after[0] if spec.after else None,
        "chain_when": spec.when.value if spec.after else None,
        # A join's upstreams, all of them in order, as JSON; NULL for any other job
        # (chain_after holds the one upstream of a job that has one).
        "chain_upstreams": json.dumps(list(spec.after)) if is_join(spec.after) else None,
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
        notify=_DEFAULT_NOTIFY
        if row["notify"] is None
        else JobNotify.parse(json.loads(row["notify"])),
        max_memory=row["max_memory_bytes"],
        calendar=_calendar(row["calendar"]),
        after=_after(row),
        when=ChainWhen(row.get("chain_when") or ChainWhen.SUCCEEDED.value),
    )


def upstream_rows(job_id: int, spec: JobSpec) -> list[dict[str, Any]]:
    """The rows of the upstream table (``scheduler_job_upstream``) for the job
    ``job_id`` defined by ``spec``: one per upstream of a join, none otherwise
    (the single upstream of a chained job is its ``chain_after``)."""
    if not is_join(spec.after):
        return []
    return [
        {"job_id": job_id, "position": position, "name": name}
        for position, name in enumerate(spec.after)
    ]


def _after(row: Mapping[Any, Any]) -> tuple[str, ...]:
    upstreams = row.get("chain_upstreams")
    if upstreams is not None:
        return tuple(json.loads(upstreams))
    first = row.get("chain_after")
    return () if first is None else (first,)


def _calendar(text: str | None) -> Calendar:
    return _NO_CALENDAR if text is None else _calendars(text)


@lru_cache(maxsize=1024)
def _calendars(text: str) -> Calendar:
    # Many jobs share one company calendar: read each distinct one once.
    return Calendar.parse(json.loads(text))


def renamed_spec(template: JobSpec, row: Mapping[Any, Any]) -> JobSpec:
    """The spec of ``row``, whose :data:`SHARED_DEFINITION` columns equal those of
    the row ``template`` was read from: ``template`` under the row's name (its
    cron keyed by it), with arguments of its own (JSON values may be mutable)."""
    name, schedule = row["name"], template.schedule
    return trusted_copy(
        template,
        name=name,
        schedule=schedule.keyed(name) if isinstance(schedule, Cron) else schedule,
        args=_json_args(row["args"]),
        kwargs=_json_kwargs(row["kwargs"]),
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
    if row["solar"] is not None:
        return Solar.parse(json.loads(row["solar"]))
    raise InvalidJob(f"job {row['name']!r}: stored without cron, every_seconds, run_at or solar")


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _duration(seconds: float | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=seconds)
