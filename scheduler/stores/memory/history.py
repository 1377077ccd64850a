"""The memory store's history: reading runs back, and pruning them and finished one-offs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from ...model.policies import JobSource
from ...model.runs import TERMINAL_STATUSES, Run, RunStatus
from ...schedules.kinds import Once
from ..protocol.values import JOB_STATES, StoreOverview
from .state import State, newest_first, slot_of, unclaimed

__all__ = ["get_run", "list_runs", "overview", "prune"]


def get_run(state: State, run_id: int) -> Run:
    return state.run(run_id)


def list_runs(
    state: State, job_name: str | None, status: RunStatus | None, limit: int
) -> list[Run]:
    runs = [
        run
        for run in state.runs.values()
        if (job_name is None or run.job_name == job_name)
        and (status is None or run.status is status)
    ]
    runs.sort(key=newest_first, reverse=True)
    return runs[:limit]


def overview(state: State, now: datetime, run_ids: Sequence[int]) -> StoreOverview:
    states = Counter(job.state for job in state.jobs.values())
    due_jobs = sum(
        1
        for job in state.jobs.values()
        if job.active and job.next_run_at is not None and job.next_run_at <= now
    )
    due_runs = sum(1 for run in state.runs.values() if unclaimed(run) and run.due_at <= now)
    return StoreOverview(
        jobs_by_state={name: states[name] for name in JOB_STATES},
        due_backlog=due_jobs + due_runs,
        runs=tuple(state.runs[run_id] for run_id in run_ids if run_id in state.runs),
    )


def prune(state: State, now: datetime, keep_last: int | None, max_age: timedelta | None) -> int:
    doomed = _beyond_keep_last(state, keep_last) | _older_than(state, now, max_age)
    for run_id in doomed:
        run = state.runs.pop(run_id)
        state.slots.discard(slot_of(run.job_name, run))
        state.chained.pop(run_id, None)  # a pruned run is never followed again
    if max_age is not None:
        _forget_finished_one_offs(state, now - max_age)
    return len(doomed)


def _forget_finished_one_offs(state: State, changed_before: datetime) -> None:
    """Delete deferred calls that ran (or were cancelled) and have no history left."""
    with_runs = {run.job_name for run in state.runs.values()}
    for job in list(state.jobs.values()):
        if (
            job.spec.source is JobSource.CODE
            and isinstance(job.spec.schedule, Once)
            and job.next_run_at is None
            and job.paused_at is None
            and not job.spec.after  # a job that runs only after another is not done
            and job.updated_at < changed_before
            and job.spec.name not in with_runs
        ):
            del state.jobs[job.spec.name]


def _beyond_keep_last(state: State, keep_last: int | None) -> set[int]:
    if keep_last is None:
        return set()
    by_job: dict[str, list[Run]] = {}
    for run in state.runs.values():
        if run.status in TERMINAL_STATUSES:
            by_job.setdefault(run.job_name, []).append(run)
    doomed: set[int] = set()
    for runs in by_job.values():
        runs.sort(key=newest_first, reverse=True)
        doomed.update(run.id for run in runs[keep_last:])
    return doomed


def _older_than(state: State, now: datetime, max_age: timedelta | None) -> set[int]:
    if max_age is None:
        return set()
    cutoff = now - max_age
    return {
        run.id
        for run in state.runs.values()
        if run.status in TERMINAL_STATUSES
        and run.finished_at is not None
        and run.finished_at < cutoff
    }
