"""The memory store's chains: ended upstream runs, and the runs they start."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from ...model.runs import NewRun, Run
from ..checked.chains import EndedUpstream
from ..protocol.values import StoredJob
from .state import State, slot_of

__all__ = [
    "add_chain_runs",
    "anything_to_follow",
    "ended_runs_at",
    "ended_upstream_runs",
    "mark_chained",
]

_MICROSECOND = timedelta(microseconds=1)


def anything_to_follow(state: State) -> bool:
    return bool(ended_upstream_runs(state, 1))


def ended_upstream_runs(state: State, limit: int) -> list[EndedUpstream]:
    dependents = _dependents(state)
    if not dependents:
        return []
    ended = [
        run
        for run in state.runs.values()
        if run.job_name in dependents
        and run.finished_at is not None
        and run.id not in state.chained
    ]
    ended.sort(key=lambda run: (run.finished_at, run.id))
    return [EndedUpstream(run, tuple(dependents[run.job_name])) for run in ended[:limit]]


def ended_runs_at(
    state: State, job_names: Collection[str], slots: Collection[datetime]
) -> list[Run]:
    return [
        run
        for run in state.runs.values()
        if run.job_name in job_names and run.scheduled_for in slots and run.finished_at is not None
    ]


def add_chain_runs(state: State, rows: Sequence[tuple[str, NewRun]]) -> list[Run]:
    created = []
    for job_name, new in rows:
        state.job(job_name)
        if new.upstream_run_id is not None and (job_name, new.upstream_run_id) in state.upstreams:
            continue  # another pass completed the same join, or followed the same end
        while state.taken(slot_of(job_name, new)):
            new = replace(new, scheduled_for=new.scheduled_for + _MICROSECOND)
        created.append(state.insert(job_name, new, now=new.due_at))
    return created


def mark_chained(state: State, run_ids: Sequence[int], now: datetime) -> None:
    for run_id in run_ids:
        state.chained[run_id] = now


def _dependents(state: State) -> dict[str, list[StoredJob]]:
    found: defaultdict[str, list[StoredJob]] = defaultdict(list)
    for job in state.jobs.values():
        if job.spec.after and job.spec.enabled and job.removed_at is None:
            for upstream in job.spec.after:
                found[upstream].append(job)
    return found
