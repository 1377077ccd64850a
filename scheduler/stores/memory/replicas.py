"""The memory store's replicas: heartbeats, stops, listing, forgetting, recovering their runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from ...model.runs import ACTIVE_STATUSES, NewRun, Run, RunStatus, not_started_error
from ..protocol.values import RecoveryReport, ReplicaInfo, Retrier
from .state import Replica, State, slot_of

__all__ = ["heartbeat", "list_replicas", "prune_replicas", "recover", "stop_replica"]


def heartbeat(state: State, replica_id: str, *, hostname: str, pid: int, now: datetime) -> None:
    previous = state.replicas.get(replica_id)
    alive_since = previous is not None and previous.stopped_at is None
    started_at = previous.started_at if previous is not None and alive_since else now
    state.replicas[replica_id] = Replica(
        hostname=hostname, pid=pid, started_at=started_at, heartbeat_at=now
    )


def stop_replica(state: State, replica_id: str, *, now: datetime) -> None:
    never_beat = Replica(hostname="", pid=0, started_at=now, heartbeat_at=now)
    replica = state.replicas.setdefault(replica_id, never_beat)
    replica.stopped_at = now


def list_replicas(state: State) -> list[ReplicaInfo]:
    listed = [
        ReplicaInfo(
            id=replica_id,
            hostname=replica.hostname,
            pid=replica.pid,
            started_at=replica.started_at,
            heartbeat_at=replica.heartbeat_at,
            stopped_at=replica.stopped_at,
        )
        for replica_id, replica in state.replicas.items()
    ]
    listed.sort(key=lambda info: info.id)
    listed.sort(key=lambda info: info.heartbeat_at, reverse=True)
    return listed


def prune_replicas(state: State, *, cutoff: datetime) -> int:
    busy = {run.replica_id for run in state.runs.values() if run.status in ACTIVE_STATUSES}
    gone = [
        replica_id
        for replica_id, replica in state.replicas.items()
        if replica.heartbeat_at < cutoff
        and (replica.stopped_at is None or replica.stopped_at < cutoff)
        and replica_id not in busy
    ]
    for replica_id in gone:
        del state.replicas[replica_id]
    return len(gone)


def recover(
    state: State,
    *,
    now: datetime,
    stale_after: timedelta,
    retry: Retrier | None,
    start_timeout: timedelta | None,
) -> RecoveryReport:
    orphans = _orphans(state, now - stale_after)
    pending = [run for run in orphans if run.status is RunStatus.PENDING]
    # Why each active run is lost, the first reason found winning.
    reasons: dict[int, tuple[Run, str]] = {}
    for run in orphans:
        if run.status is not RunStatus.PENDING and not run.external_id:
            reasons[run.id] = (run, f"replica {run.replica_id} stopped heartbeating")
    for run in _silent_workers(state, now - stale_after):
        reasons.setdefault(run.id, (run, f"worker {run.worker} stopped heartbeating"))
    if start_timeout is not None:
        for run in _not_started(state, now - start_timeout):
            reasons.setdefault(run.id, (run, not_started_error(run.executor, start_timeout)))
    lost = sorted(
        (
            replace(run, status=RunStatus.LOST, finished_at=now, error=error)
            for run, error in reasons.values()
        ),
        key=lambda run: run.id,
    )
    retries = _next_attempts(state, lost, retry) if retry is not None else []
    # Everything above only read: a retrier that raises changes nothing.
    for run in pending:
        state.update(run, replica_id="", claimed_at=None)
    for run in lost:
        state.runs[run.id] = run
    created = [state.insert(name, new, now=new.due_at) for name, new in retries]
    return RecoveryReport(
        released=tuple(run.id for run in pending),
        lost=tuple(run.id for run in lost),
        retries=tuple(run.id for run in created),
    )


def _next_attempts(state: State, lost: Sequence[Run], retry: Retrier) -> list[tuple[str, NewRun]]:
    """The next attempt ``retry`` asks for of each lost run, unless it exists."""
    wanted: list[tuple[str, NewRun]] = []
    for run in lost:
        new = retry(run, state.jobs[run.job_name].spec)
        if new is not None and slot_of(run.job_name, new) not in state.slots:
            wanted.append((run.job_name, new))
    return wanted


def _not_started(state: State, claimed_before: datetime) -> list[Run]:
    """Queued runs handed to workers outside the scheduler before ``claimed_before``."""
    return [
        run
        for run in state.runs.values()
        if run.status is RunStatus.QUEUED
        and run.external_id
        and run.claimed_at is not None
        and run.claimed_at < claimed_before
    ]


def _silent_workers(state: State, stale_before: datetime) -> list[Run]:
    """Running runs of workers outside the scheduler that went quiet before ``stale_before``."""
    silent = []
    for run in state.runs.values():
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


def _orphans(state: State, stale_before: datetime) -> list[Run]:
    """The active runs of dead replicas, oldest first."""
    active = (run for run in state.runs.values() if run.status in ACTIVE_STATUSES)
    orphans = [run for run in active if _is_dead(state, run.replica_id, stale_before)]
    return sorted(orphans, key=lambda run: run.id)


def _is_dead(state: State, replica_id: str, stale_before: datetime) -> bool:
    """A replica that stopped, went quiet before ``stale_before``, or never beat."""
    if not replica_id:
        return False
    replica = state.replicas.get(replica_id)
    if replica is None or replica.stopped_at is not None:
        return True
    return replica.heartbeat_at < stale_before
