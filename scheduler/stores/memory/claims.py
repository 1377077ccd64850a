"""The memory store's claims: what is due next, claiming jobs and pending runs, adding runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ...model.policies import OverlapPolicy
from ...model.runs import ACTIVE_STATUSES, ClaimedRun, NewRun, Run, RunStatus
from ..checked.verbs import Claim
from ..protocol.values import NextWork, Planner, StoredJob, earliest
from ..rules import one_run_per_queue_job
from . import chains
from .state import State, slot_of, unclaimed

__all__ = ["add_run", "claim_due", "claim_pending", "next_work"]

#: The statuses of a run handed to an executor: a ``queue`` job's next run waits for them.
_BUSY_STATUSES = frozenset({RunStatus.QUEUED, RunStatus.RUNNING})


def next_work(state: State) -> NextWork:
    jobs = (job.next_run_at for job in state.jobs.values() if job.active)
    runs = (run.due_at for run in state.runs.values() if unclaimed(run))
    ended = (item.run.finished_at for item in chains.ended_upstream_runs(state, 1))
    return NextWork(earliest(*jobs, *runs), earliest(*ended))


def claim_due(state: State, *, now: datetime, replica_id: str, limit: int, plan: Planner) -> Claim:
    active = state.jobs_with_runs_in(ACTIVE_STATUSES)
    due = _due_jobs(state, now, limit)
    plans = [(job, plan(job, job.spec.name in active, now)) for job in due]
    # Nothing was written above: from here on, nothing can fail.
    result = Claim(due_jobs=len(due))
    for job, chosen in plans:
        name = job.spec.name
        state.jobs[name] = replace(job, next_run_at=chosen.next_run_at)
        # A busy job's new runs wait for claim_pending and its overlap rule.
        claim_for = "" if name in active else replica_id
        for new in chosen.runs:
            if state.taken(slot_of(name, new)):
                result.taken.append(slot_of(name, new))
                continue
            run = state.insert(name, new, now=now, claim_for=claim_for, executor=job.spec.executor)
            if run.replica_id:
                result.claimed.append(ClaimedRun(run=run, job=job.spec))
    return result


def claim_pending(state: State, *, now: datetime, replica_id: str, limit: int) -> list[ClaimedRun]:
    ready = [run for run in state.runs.values() if unclaimed(run) and run.due_at <= now]
    ready.sort(key=lambda run: (run.due_at, run.id))
    waiting = _jobs_waiting_in_queue(state)
    free = [run for run in ready if run.job_name not in waiting]
    claimed = []
    for run in one_run_per_queue_job(free, lambda run: state.jobs[run.job_name].spec)[:limit]:
        job = state.jobs[run.job_name].spec
        queued = state.update(
            run,
            status=RunStatus.QUEUED,
            executor=job.executor,
            replica_id=replica_id,
            claimed_at=now,
        )
        claimed.append(ClaimedRun(run=queued, job=job))
    return claimed


def add_run(state: State, job_name: str, new: NewRun) -> Run:
    state.job(job_name)
    state.check_unique([(job_name, new)])
    return state.insert(job_name, new, now=new.due_at)


def _due_jobs(state: State, now: datetime, limit: int) -> list[StoredJob]:
    due = [
        job
        for job in state.jobs.values()
        if job.active and job.next_run_at is not None and job.next_run_at <= now
    ]
    due.sort(key=lambda job: (job.next_run_at, job.spec.name))
    return due[:limit]


def _jobs_waiting_in_queue(state: State) -> set[str]:
    """Jobs with overlap ``queue`` whose previous run is queued or running."""
    busy = state.jobs_with_runs_in(_BUSY_STATUSES)
    return {name for name in busy if state.jobs[name].spec.policy.overlap is OverlapPolicy.QUEUE}
