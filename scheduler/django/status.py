"""What ``manage.py scheduler_status`` reports: replicas by heartbeat, and the latest runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..cli.tables import render_table
from ..model.runs import Run
from .models import Replica
from .store import DjangoStore

__all__ = ["ReplicaState", "replicas", "replicas_table", "runs_table"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplicaState:
    """One scheduler process as its heartbeats tell it."""

    id: str
    hostname: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None
    alive: bool


def replicas(using: str, *, now: datetime, stale_after: timedelta) -> list[ReplicaState]:
    """Every replica that ever heartbeated, newest heartbeat first; ``alive`` when it
    beat within ``stale_after`` and did not stop."""
    rows = Replica.objects.using(using).order_by("-heartbeat_at", "id")
    return [
        ReplicaState(
            id=row.id,
            hostname=row.hostname,
            pid=row.pid,
            started_at=row.started_at,
            heartbeat_at=row.heartbeat_at,
            stopped_at=row.stopped_at,
            alive=row.stopped_at is None and now - row.heartbeat_at <= stale_after,
        )
        for row in rows
    ]


def replicas_table(states: list[ReplicaState], *, now: datetime) -> str:
    rows = [
        [
            state.id,
            f"{state.hostname}:{state.pid}",
            "alive" if state.alive else ("stopped" if state.stopped_at else "silent"),
            f"{(now - state.heartbeat_at).total_seconds():.0f}s ago",
            state.started_at.strftime("%Y-%m-%d %H:%M:%S"),
        ]
        for state in states
    ]
    return render_table(["REPLICA", "PROCESS", "STATE", "LAST HEARTBEAT", "STARTED (UTC)"], rows)


def runs_table(store: DjangoStore, *, limit: int) -> str:
    runs: list[Run] = store.list_runs(limit=limit)
    rows = [
        [
            str(run.id),
            run.job_name,
            run.scheduled_for.strftime("%Y-%m-%d %H:%M:%S"),
            run.status.value,
            "" if run.duration is None else f"{run.duration:.3f}",
            run.replica_id,
        ]
        for run in runs
    ]
    return render_table(["ID", "JOB", "SCHEDULED FOR (UTC)", "STATUS", "SECONDS", "REPLICA"], rows)
