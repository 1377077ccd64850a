"""What a status probe reports: the replicas by heartbeat, the latest runs, and the exit code.

``tickwork status`` and ``manage.py scheduler_status`` both read a
:class:`Status` from their store and print it with :func:`status_text` or
:func:`status_json`, so they say the same thing in the same words and exit
alike: :data:`EXIT_ALIVE` when at least one replica is alive,
:data:`EXIT_NONE_ALIVE` when none is (or none ever heartbeated), and
:data:`EXIT_UNKNOWN` when the store could not be read.  Whether a replica is
alive is :meth:`~scheduler.stores.base.ReplicaInfo.alive`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..model.runs import Run
from ..model.words import plural
from ..stores.base import ReplicaInfo, Store
from .tables import render_table

__all__ = [
    "EXIT_ALIVE",
    "EXIT_NONE_ALIVE",
    "EXIT_UNKNOWN",
    "Status",
    "ago",
    "read_status",
    "replicas_table",
    "runs_table",
    "status_json",
    "status_text",
]

#: The probe's exit codes: a replica is alive; none is; the store could not be read
#: (or the command was called wrongly).
EXIT_ALIVE, EXIT_NONE_ALIVE, EXIT_UNKNOWN = 0, 1, 2

_UTC_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True, slots=True, kw_only=True)
class Status:
    """The replicas a store knows (newest heartbeat first) and its latest runs, at ``now``."""

    now: datetime
    stale_after: timedelta
    replicas: tuple[ReplicaInfo, ...]
    runs: tuple[Run, ...]

    @property
    def alive(self) -> tuple[ReplicaInfo, ...]:
        """The replicas alive at ``now``."""
        return tuple(info for info in self.replicas if info.alive(self.now, self.stale_after))

    @property
    def exit_code(self) -> int:
        """:data:`EXIT_ALIVE` when a replica is alive, else :data:`EXIT_NONE_ALIVE`."""
        return EXIT_ALIVE if self.alive else EXIT_NONE_ALIVE

    @property
    def verdict(self) -> str:
        """The last line: how many replicas are alive, or why none is."""
        count = len(self.alive)
        if count:
            return f"{plural(count, 'replica')} alive"
        if not self.replicas:
            return "no scheduler replica is alive: none has ever heartbeated"
        states = [info.state(self.now, self.stale_after) for info in self.replicas]
        seconds = self.stale_after.total_seconds()
        return (
            f"no scheduler replica is alive: {states.count('stopped')} stopped, "
            f"{states.count('silent')} silent for over {seconds:g}s"
        )


def read_status(store: Store, *, now: datetime, stale_after: timedelta, runs: int) -> Status:
    """The :class:`Status` of ``store`` at ``now``, with its latest ``runs`` runs."""
    return Status(
        now=now,
        stale_after=stale_after,
        replicas=tuple(store.list_replicas()),
        runs=tuple(store.list_runs(limit=runs)),
    )


def status_text(status: Status) -> str:
    """The replicas table, a blank line, the runs table (without the verdict)."""
    replicas = replicas_table(status) if status.replicas else "no replicas yet"
    runs = runs_table(status.runs) if status.runs else "no runs yet"
    return f"{replicas}\n\n{runs}"


def replicas_table(status: Status) -> str:
    """One row per replica: id, host:pid, state, last heartbeat (how long ago, and when)."""
    rows = [
        [
            info.id,
            f"{info.hostname}:{info.pid}",
            info.state(status.now, status.stale_after),
            ago(status.now - info.heartbeat_at),
            info.heartbeat_at.strftime(_UTC_FORMAT),
            info.started_at.strftime(_UTC_FORMAT),
        ]
        for info in status.replicas
    ]
    header = ["REPLICA", "PROCESS", "STATE", "LAST HEARTBEAT", "AT (UTC)", "STARTED (UTC)"]
    return render_table(header, rows)


def runs_table(runs: Sequence[Run]) -> str:
    """One row per run: id, job, slot, status, seconds it took, replica."""
    rows = [
        [
            str(run.id),
            run.job_name,
            run.scheduled_for.strftime(_UTC_FORMAT),
            run.status.value,
            "" if run.duration is None else f"{run.duration:.3f}",
            run.replica_id,
        ]
        for run in runs
    ]
    return render_table(["ID", "JOB", "SCHEDULED FOR (UTC)", "STATUS", "SECONDS", "REPLICA"], rows)


def ago(delta: timedelta) -> str:
    """``delta`` for people, at most two units: ``4s ago``, ``3m 20s ago``, ``2d 5h ago``;
    a heartbeat slightly in the future (another host's clock) is ``just now``."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "just now"
    units = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]
    parts: list[str] = []
    for name, size in units:
        if seconds >= size or (parts and len(parts) < 2):
            value, seconds = divmod(seconds, size)
            parts.append(f"{value}{name}")
        if len(parts) == 2:
            break
    return " ".join(parts) + " ago"


def status_json(status: Status) -> str:
    """The status as one JSON object (instants in ISO 8601, UTC; durations in seconds)."""
    return json.dumps(
        {
            "now": status.now.isoformat(),
            "stale_after_seconds": status.stale_after.total_seconds(),
            "alive": len(status.alive),
            "replicas": [_replica_json(status, info) for info in status.replicas],
            "runs": [_run_json(run) for run in status.runs],
        },
        indent=2,
    )


def _replica_json(status: Status, info: ReplicaInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "hostname": info.hostname,
        "pid": info.pid,
        "state": info.state(status.now, status.stale_after),
        "started_at": info.started_at.isoformat(),
        "heartbeat_at": info.heartbeat_at.isoformat(),
        "heartbeat_age_seconds": round((status.now - info.heartbeat_at).total_seconds(), 3),
        "stopped_at": None if info.stopped_at is None else info.stopped_at.isoformat(),
    }


def _run_json(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "job": run.job_name,
        "scheduled_for": run.scheduled_for.isoformat(),
        "attempt": run.attempt,
        "status": run.status.value,
        "duration_seconds": run.duration,
        "replica_id": run.replica_id,
    }
