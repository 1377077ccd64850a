"""The memory store's job verbs: syncing, saving, reading and pausing job definitions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from ...model.jobs import JobSpec
from ...model.policies import JobSource
from ..protocol.values import StoredJob, SyncReport
from ..rules import check_replace, foreign_source, new_definition, unchanged
from .state import State

__all__ = ["get_job", "list_jobs", "save_job", "set_paused", "sync_jobs"]


def sync_jobs(
    state: State, specs: Iterable[JobSpec], source: JobSource, now: datetime
) -> SyncReport:
    specs = list(specs)  # every check before any change: the memory store has no rollback
    for spec in specs:
        old = state.jobs.get(spec.name)
        if old is not None and old.spec.source is not source:
            raise foreign_source(spec.name, old.spec.source.value, source)
    names: dict[str, list[str]] = {"added": [], "updated": [], "unchanged": []}
    for spec in specs:
        names[_save(state, spec, now)[0]].append(spec.name)
    names["disabled"] = _disable_missing(state, source, {spec.name for spec in specs}, now)
    return SyncReport(**{key: tuple(sorted(value)) for key, value in names.items()})


def save_job(state: State, spec: JobSpec, now: datetime, expected_version: int | None) -> StoredJob:
    old = state.jobs.get(spec.name)
    check_replace(
        spec, None if old is None else (old.spec.source.value, old.version), expected_version
    )
    return _save(state, spec, now)[1]


def get_job(state: State, name: str) -> StoredJob:
    return state.job(name)


def list_jobs(state: State) -> list[StoredJob]:
    return [state.jobs[name] for name in sorted(state.jobs)]


def set_paused(state: State, name: str, paused: bool, now: datetime) -> StoredJob:
    changed = state.jobs[name] = state.job(name).paused_as(paused, now)
    return changed


def _save(state: State, spec: JobSpec, now: datetime) -> tuple[str, StoredJob]:
    """Add or update ``spec`` unless its definition is unchanged; say which."""
    old = state.jobs.get(spec.name)
    if old is None:
        return "added", _put(state, spec, now)
    if unchanged(old.definition_hash, old.removed_at, spec):
        return "unchanged", old
    return "updated", _put(state, spec, now)


def _disable_missing(state: State, source: JobSource, keep: set[str], now: datetime) -> list[str]:
    gone = [
        job
        for job in state.jobs.values()
        if job.spec.source is source and job.spec.name not in keep and job.removed_at is None
    ]
    for job in gone:
        _put(state, replace(job.spec, enabled=False), now, removed_at=now)
    return [job.spec.name for job in gone]


def _put(
    state: State, spec: JobSpec, now: datetime, *, removed_at: datetime | None = None
) -> StoredJob:
    """Store ``spec`` as a new definition: next slot counted from ``now``;
    pause state carries over."""
    old = state.jobs.get(spec.name)
    job = new_definition(
        spec,
        now,
        version=1 if old is None else old.version + 1,
        created_at=now if old is None else old.created_at,
        paused_at=None if old is None else old.paused_at,
        removed_at=removed_at,
    )
    state.jobs[spec.name] = job
    return job
