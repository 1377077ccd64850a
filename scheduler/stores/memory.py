"""An in-memory :class:`~scheduler.stores.base.Store`: the reference semantics.

Everything lives in dictionaries behind one re-entrant lock, so a
:class:`MemoryStore` is safe to share between threads and every method is
atomic.  It is what the engine's tests and embedded uses run on, and what the
contract tests in ``tests/contract/`` hold the database stores to.

Nothing survives the process: use the SQLAlchemy or Django store for that.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import count
from typing import Any

from ..clock import ensure_aware_utc
from ..errors import DuplicateRun, InvalidJob
from ..model.jobs import JobSpec, JSONValue
from ..model.policies import JobSource, OverlapPolicy
from ..model.runs import (
    ACTIVE_STATUSES,
    TERMINAL_STATUSES,
    ClaimedRun,
    NewRun,
    Outcome,
    Run,
    RunStatus,
    not_started_error,
)
from ..schedules.kinds import Once
from .base import Planner, RecoveryReport, Retrier, SlotPlan, StoredJob, SyncReport
from .rules import (
    check_replace,
    foreign_source,
    job_not_found,
    new_definition,
    run_not_found,
    unchanged,
)

__all__ = ["MemoryStore"]

#: The statuses a planner (or :meth:`MemoryStore.add_run`) may create a run in.
_BUSY_STATUSES = frozenset({RunStatus.QUEUED, RunStatus.RUNNING})

_Slot = tuple[str, datetime, int]


@dataclass(slots=True)
class _Replica:
    hostname: str
    pid: int
    heartbeat_at: datetime
    stopped_at: datetime | None = None


_utc = ensure_aware_utc


def _utc_or_none(instant: datetime | None, what: str) -> datetime | None:
    return None if instant is None else _utc(instant, what)


def _slot(job_name: str, new: NewRun | Run) -> _Slot:
    return (job_name, new.scheduled_for, new.attempt)


def _newest_first(run: Run) -> tuple[datetime, int, int]:
    return (run.scheduled_for, run.attempt, run.id)


class MemoryStore:
    """A complete, thread-safe :class:`~scheduler.stores.base.Store` kept in memory.

    Run ids are increasing integers from 1.  Every public method takes the
    store's lock, so concurrent callers see each call happen all at once.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._jobs: dict[str, StoredJob] = {}
        self._runs: dict[int, Run] = {}
        self._slots: set[_Slot] = set()
        self._replicas: dict[str, _Replica] = {}
        self._ids = count(1)

    # -- jobs ---------------------------------------------------------------
    def sync_jobs(
        self, specs: Sequence[JobSpec], *, source: JobSource, now: datetime
    ) -> SyncReport:
        now = _utc(now, "now")
        specs = [spec if spec.source is source else replace(spec, source=source) for spec in specs]
        with self._lock:
            self._check_sync(specs, source)
            names: dict[str, list[str]] = {"added": [], "updated": [], "unchanged": []}
            for spec in specs:
                names[self._save(spec, now)[0]].append(spec.name)
            names["disabled"] = self._disable_missing(source, {spec.name for spec in specs}, now)
            return SyncReport(**{key: tuple(sorted(value)) for key, value in names.items()})

    def _check_sync(self, specs: Sequence[JobSpec], source: JobSource) -> None:
        seen: set[str] = set()
        for spec in specs:
            if spec.name in seen:
                raise InvalidJob(f"job {spec.name!r} is declared twice in one {source} sync")
            seen.add(spec.name)
            old = self._jobs.get(spec.name)
            if old is not None and old.spec.source is not source:
                raise foreign_source(spec.name, old.spec.source.value, source)

    def _disable_missing(self, source: JobSource, keep: set[str], now: datetime) -> list[str]:
        gone = [
            job
            for job in self._jobs.values()
            if job.spec.source is source and job.spec.name not in keep and job.removed_at is None
        ]
        for job in gone:
            self._put(replace(job.spec, enabled=False), now, removed_at=now)
        return [job.spec.name for job in gone]

    def save_job(
        self, spec: JobSpec, *, now: datetime, expected_version: int | None = None
    ) -> StoredJob:
        now = _utc(now, "now")
        with self._lock:
            old = self._jobs.get(spec.name)
            stored = None if old is None else (old.spec.source.value, old.version)
            check_replace(spec, stored, expected_version)
            return self._save(spec, now)[1]

    def _save(self, spec: JobSpec, now: datetime) -> tuple[str, StoredJob]:
        """Add or update ``spec`` unless its definition is unchanged; say which."""
        old = self._jobs.get(spec.name)
        if old is None:
            return "added", self._put(spec, now)
        if unchanged(old.definition_hash, old.removed_at, spec):
            return "unchanged", old
        return "updated", self._put(spec, now)

    def _put(
        self, spec: JobSpec, now: datetime, *, removed_at: datetime | None = None
    ) -> StoredJob:
        """Store ``spec`` as a new definition: next slot counted from ``now``;
        pause state carries over."""
        old = self._jobs.get(spec.name)
        job = new_definition(
            spec,
            now,
            version=1 if old is None else old.version + 1,
            created_at=now if old is None else old.created_at,
            paused_at=None if old is None else old.paused_at,
            removed_at=removed_at,
        )
        self._jobs[spec.name] = job
        return job

    def get_job(self, name: str) -> StoredJob:
        with self._lock:
            return self._job(name)

    def _job(self, name: str) -> StoredJob:
        try:
            return self._jobs[name]
        except KeyError:
            raise job_not_found(name) from None

    def list_jobs(self) -> list[StoredJob]:
        with self._lock:
            return [self._jobs[name] for name in sorted(self._jobs)]

    def set_paused(self, name: str, paused: bool, *, now: datetime) -> StoredJob:
        now = _utc(now, "now")
        with self._lock:
            job = self._job(name)
            changed = self._jobs[name] = job.paused_as(paused, now)
            return changed

    # -- the due-queue ------------------------------------------------------
    def next_wake(self) -> datetime | None:
        with self._lock:
            jobs = (job.next_run_at for job in self._jobs.values() if job.active)
            runs = (run.due_at for run in self._runs.values() if _unclaimed(run))
            instants = [instant for instant in (*jobs, *runs) if instant is not None]
            return min(instants, default=None)

    def claim_due(
        self, *, now: datetime, replica_id: str, limit: int, plan: Planner
    ) -> list[ClaimedRun]:
        now = _utc(now, "now")
        with self._lock:
            active = self._jobs_with_runs_in(ACTIVE_STATUSES)
            plans = [
                (job, self._checked_plan(job.spec.name, plan(job, job.spec.name in active, now)))
                for job in self._due_jobs(now, limit)
            ]
            self._check_unique((job.spec.name, new) for job, chosen in plans for new in chosen.runs)
            # Nothing was written above: from here on, nothing can fail.
            claimed: list[ClaimedRun] = []
            for job, chosen in plans:
                self._jobs[job.spec.name] = replace(job, next_run_at=chosen.next_run_at)
                # A busy job's new runs wait for claim_pending and its overlap rule.
                claim_for = "" if job.spec.name in active else replica_id
                for new in chosen.runs:
                    run = self._insert(
                        job.spec.name, new, now=now, claim_for=claim_for, executor=job.spec.executor
                    )
                    if run.replica_id:
                        claimed.append(ClaimedRun(run=run, job=job.spec))
            return sorted(claimed, key=lambda c: (c.run.scheduled_for, c.run.job_name, c.run.id))

    def _due_jobs(self, now: datetime, limit: int) -> list[StoredJob]:
        due = [
            job
            for job in self._jobs.values()
            if job.active and job.next_run_at is not None and job.next_run_at <= now
        ]
        due.sort(key=lambda job: (job.next_run_at, job.spec.name))
        return due[: max(limit, 0)]

    def _jobs_with_runs_in(self, statuses: frozenset[RunStatus]) -> set[str]:
        return {run.job_name for run in self._runs.values() if run.status in statuses}

    def _checked_plan(self, job_name: str, chosen: SlotPlan) -> SlotPlan:
        return SlotPlan(
            runs=tuple(new.checked(job_name) for new in chosen.runs),
            next_run_at=_utc_or_none(chosen.next_run_at, "next_run_at"),
        )

    def _check_unique(self, rows: Iterable[tuple[str, NewRun]]) -> None:
        seen: set[_Slot] = set()
        for job_name, new in rows:
            slot = _slot(job_name, new)
            if slot in self._slots or slot in seen:
                raise DuplicateRun(
                    f"job {job_name!r} already has a run for {new.scheduled_for.isoformat()}, "
                    f"attempt {new.attempt}"
                )
            seen.add(slot)

    def _insert(
        self, job_name: str, new: NewRun, *, now: datetime, claim_for: str, executor: str = ""
    ) -> Run:
        """Insert a checked run: one created terminal ends at ``now``; a pending
        one due by ``now`` is claimed for ``claim_for`` unless that is empty,
        and queued to ``executor``."""
        claim = bool(claim_for) and new.status is RunStatus.PENDING and new.due_at <= now
        run = Run(
            id=next(self._ids),
            job_name=job_name,
            scheduled_for=new.scheduled_for,
            due_at=new.due_at,
            attempt=new.attempt,
            trigger=new.trigger,
            status=RunStatus.QUEUED if claim else new.status,
            claimed_at=now if claim else None,
            finished_at=now if new.status in TERMINAL_STATUSES else None,
            executor=executor if claim else "",
            replica_id=claim_for if claim else "",
        )
        self._runs[run.id] = run
        self._slots.add(_slot(job_name, run))
        return run

    def claim_pending(self, *, now: datetime, replica_id: str, limit: int) -> list[ClaimedRun]:
        now = _utc(now, "now")
        with self._lock:
            ready = [run for run in self._runs.values() if _unclaimed(run) and run.due_at <= now]
            ready.sort(key=lambda run: (run.due_at, run.id))
            waiting = self._jobs_waiting_in_queue()
            chosen = [run for run in ready if run.job_name not in waiting][: max(limit, 0)]
            claimed = []
            for run in chosen:
                job = self._jobs[run.job_name].spec
                run = self._update(
                    run,
                    status=RunStatus.QUEUED,
                    executor=job.executor,
                    replica_id=replica_id,
                    claimed_at=now,
                )
                claimed.append(ClaimedRun(run=run, job=job))
            return claimed

    def _jobs_waiting_in_queue(self) -> set[str]:
        """Jobs with overlap ``queue`` whose previous run is queued or running."""
        busy = self._jobs_with_runs_in(_BUSY_STATUSES)
        return {name for name in busy if self._jobs[name].spec.overlap is OverlapPolicy.QUEUE}

    def add_run(self, job_name: str, new: NewRun) -> Run:
        with self._lock:
            self._job(job_name)
            new = new.checked(job_name)
            if new.status is not RunStatus.PENDING:
                raise ValueError(
                    f"job {job_name!r}: add_run creates pending runs, got {new.status}"
                )
            self._check_unique([(job_name, new)])
            return self._insert(job_name, new, now=new.due_at, claim_for="")

    # -- recording ----------------------------------------------------------
    def mark_queued(self, run_id: int, *, executor: str, external_id: str, now: datetime) -> None:
        with self._lock:
            run = self._run(run_id)
            if run.status is RunStatus.PENDING:
                self._update(
                    run, status=RunStatus.QUEUED, executor=executor, external_id=external_id
                )

    def set_external_ids(self, external_ids: Mapping[int, str]) -> None:
        with self._lock:
            for run_id, external_id in external_ids.items():
                if run_id in self._runs:
                    self._update(self._runs[run_id], external_id=external_id)

    def beat_runs(self, run_ids: Sequence[int], *, now: datetime) -> None:
        now = _utc(now, "now")
        with self._lock:
            for run_id in run_ids:
                run = self._runs.get(run_id)
                if run is not None and run.status is RunStatus.RUNNING:
                    self._update(run, heartbeat_at=now)

    def mark_running(self, run_id: int, *, worker: str, now: datetime) -> bool:
        now = _utc(now, "now")
        with self._lock:
            run = self._run(run_id)
            if run.status not in (RunStatus.PENDING, RunStatus.QUEUED):
                return False
            self._update(run, status=RunStatus.RUNNING, started_at=now, worker=worker)
            return True

    def mark_finished(self, run_id: int, outcome: Outcome) -> None:
        if outcome.status not in TERMINAL_STATUSES:
            raise ValueError(f"a run finishes in a terminal status, got {outcome.status}")
        finished_at = _utc(outcome.finished_at, "finished_at")
        with self._lock:
            run = self._run(run_id)
            if run.status in TERMINAL_STATUSES:
                return
            self._update(
                run,
                status=outcome.status,
                finished_at=finished_at,
                result=_json_copy(outcome.result),
                error=outcome.error,
                traceback=outcome.traceback,
            )

    def cancel_run(self, run_id: int, *, now: datetime) -> bool:
        now = _utc(now, "now")
        with self._lock:
            run = self._run(run_id)
            if run.status not in (RunStatus.PENDING, RunStatus.QUEUED):
                return False
            self._update(run, status=RunStatus.CANCELLED, finished_at=now)
            return True

    def _run(self, run_id: int) -> Run:
        try:
            return self._runs[run_id]
        except KeyError:
            raise run_not_found(run_id) from None

    def _update(self, run: Run, **changes: Any) -> Run:
        updated = replace(run, **changes)
        self._runs[run.id] = updated
        return updated

    # -- replicas and recovery ----------------------------------------------
    def heartbeat(self, replica_id: str, *, hostname: str, pid: int, now: datetime) -> None:
        now = _utc(now, "now")
        with self._lock:
            self._replicas[replica_id] = _Replica(hostname=hostname, pid=pid, heartbeat_at=now)

    def stop_replica(self, replica_id: str, *, now: datetime) -> None:
        now = _utc(now, "now")
        with self._lock:
            replica = self._replicas.setdefault(
                replica_id, _Replica(hostname="", pid=0, heartbeat_at=now)
            )
            replica.stopped_at = now

    def prune_replicas(self, *, now: datetime, older_than: timedelta) -> int:
        cutoff = _utc(now, "now") - older_than
        with self._lock:
            busy = {run.replica_id for run in self._runs.values() if run.status in ACTIVE_STATUSES}
            gone = [
                replica_id
                for replica_id, replica in self._replicas.items()
                if replica.heartbeat_at < cutoff
                and (replica.stopped_at is None or replica.stopped_at < cutoff)
                and replica_id not in busy
            ]
            for replica_id in gone:
                del self._replicas[replica_id]
            return len(gone)

    def recover(
        self,
        *,
        now: datetime,
        stale_after: timedelta,
        retry: Retrier | None = None,
        start_timeout: timedelta | None = None,
    ) -> RecoveryReport:
        now = _utc(now, "now")
        with self._lock:
            orphans = self._orphans(now - stale_after)
            pending = [run for run in orphans if run.status is RunStatus.PENDING]
            # Why each active run is lost, the first reason found winning.
            reasons: dict[int, tuple[Run, str]] = {}
            for run in orphans:
                if run.status is not RunStatus.PENDING and not run.external_id:
                    reasons[run.id] = (run, f"replica {run.replica_id} stopped heartbeating")
            for run in self._silent_workers(now - stale_after):
                reasons.setdefault(run.id, (run, f"worker {run.worker} stopped heartbeating"))
            if start_timeout is not None:
                for run in self._not_started(now - start_timeout):
                    reasons.setdefault(
                        run.id, (run, not_started_error(run.executor, start_timeout))
                    )
            lost = [
                replace(run, status=RunStatus.LOST, finished_at=now, error=error)
                for run, error in reasons.values()
            ]
            lost.sort(key=lambda run: run.id)
            retries = self._next_attempts(lost, retry) if retry is not None else []
            # Everything above only read: a retrier that raises changes nothing.
            for run in pending:
                self._update(run, replica_id="", claimed_at=None)
            for run in lost:
                self._runs[run.id] = run
            created = [
                self._insert(name, new, now=new.due_at, claim_for="") for name, new in retries
            ]
            return RecoveryReport(
                released=tuple(run.id for run in pending),
                lost=tuple(run.id for run in lost),
                retries=tuple(run.id for run in created),
            )

    def _next_attempts(self, lost: Sequence[Run], retry: Retrier) -> list[tuple[str, NewRun]]:
        """The next attempt ``retry`` asks for of each lost run, unless it exists."""
        wanted: list[tuple[str, NewRun]] = []
        for run in lost:
            new = retry(run, self._jobs[run.job_name].spec)
            if new is not None:
                new = new.checked(run.job_name)
                if _slot(run.job_name, new) not in self._slots:
                    wanted.append((run.job_name, new))
        return wanted

    def _not_started(self, claimed_before: datetime) -> list[Run]:
        """Queued runs handed to workers outside the scheduler before ``claimed_before``."""
        return [
            run
            for run in self._runs.values()
            if run.status is RunStatus.QUEUED
            and run.external_id
            and run.claimed_at is not None
            and run.claimed_at < claimed_before
        ]

    def _silent_workers(self, stale_before: datetime) -> list[Run]:
        """Running runs of workers outside the scheduler that went quiet before ``stale_before``."""
        silent = []
        for run in self._runs.values():
            if run.status is not RunStatus.RUNNING:
                continue
            if run.heartbeat_at is not None:
                last = run.heartbeat_at
            elif run.external_id and run.started_at is not None:
                last = run.started_at
            else:
                continue
            if last < stale_before:
                silent.append(run)
        return sorted(silent, key=lambda run: run.id)

    def _orphans(self, stale_before: datetime) -> list[Run]:
        """The active runs of dead replicas, oldest first."""
        active = (run for run in self._runs.values() if run.status in ACTIVE_STATUSES)
        orphans = [run for run in active if self._is_dead(run.replica_id, stale_before)]
        return sorted(orphans, key=lambda run: run.id)

    def _is_dead(self, replica_id: str, stale_before: datetime) -> bool:
        """A replica that stopped, went quiet before ``stale_before``, or never beat."""
        if not replica_id:
            return False
        replica = self._replicas.get(replica_id)
        if replica is None or replica.stopped_at is not None:
            return True
        return replica.heartbeat_at < stale_before

    # -- history --------------------------------------------------------------
    def get_run(self, run_id: int) -> Run:
        with self._lock:
            return self._run(run_id)

    def list_runs(
        self, *, job_name: str | None = None, status: RunStatus | None = None, limit: int = 50
    ) -> list[Run]:
        with self._lock:
            runs = [
                run
                for run in self._runs.values()
                if (job_name is None or run.job_name == job_name)
                and (status is None or run.status is status)
            ]
        runs.sort(key=_newest_first, reverse=True)
        return runs[: max(limit, 0)]

    def prune(self, *, now: datetime, keep_last: int | None, max_age: timedelta | None) -> int:
        now = _utc(now, "now")
        with self._lock:
            doomed = self._beyond_keep_last(keep_last) | self._older_than(now, max_age)
            for run_id in doomed:
                run = self._runs.pop(run_id)
                self._slots.discard(_slot(run.job_name, run))
            if max_age is not None:
                self._forget_finished_one_offs(now - max_age)
            return len(doomed)

    def _forget_finished_one_offs(self, changed_before: datetime) -> None:
        """Delete deferred calls that ran (or were cancelled) and have no history left."""
        with_runs = {run.job_name for run in self._runs.values()}
        for job in list(self._jobs.values()):
            if (
                job.spec.source is JobSource.CODE
                and isinstance(job.spec.schedule, Once)
                and job.next_run_at is None
                and job.paused_at is None
                and job.updated_at < changed_before
                and job.spec.name not in with_runs
            ):
                del self._jobs[job.spec.name]

    def _beyond_keep_last(self, keep_last: int | None) -> set[int]:
        if keep_last is None:
            return set()
        by_job: dict[str, list[Run]] = {}
        for run in self._runs.values():
            if run.status in TERMINAL_STATUSES:
                by_job.setdefault(run.job_name, []).append(run)
        doomed: set[int] = set()
        for runs in by_job.values():
            runs.sort(key=_newest_first, reverse=True)
            doomed.update(run.id for run in runs[max(keep_last, 0) :])
        return doomed

    def _older_than(self, now: datetime, max_age: timedelta | None) -> set[int]:
        if max_age is None:
            return set()
        cutoff = now - max_age
        return {
            run.id
            for run in self._runs.values()
            if run.status in TERMINAL_STATUSES
            and run.finished_at is not None
            and run.finished_at < cutoff
        }


def _json_copy(value: JSONValue) -> JSONValue:
    """What a database store would give back: JSON only, tuples become lists."""
    copied: JSONValue = json.loads(json.dumps(value, allow_nan=False))
    return copied


def _unclaimed(run: Run) -> bool:
    return run.status is RunStatus.PENDING and not run.replica_id
