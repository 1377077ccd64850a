"""``scheduler_run`` rows <-> runs: a new run's columns, a claim's rows, an outcome's, and back."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ...model.runs import TERMINAL_STATUSES, NewRun, Outcome, Run, RunStatus, Trigger
from ..protocol.values import SlotPlan, StoredJob

__all__ = [
    "NEW_RUN_BLANKS",
    "claim_rows",
    "outcome_columns",
    "result_column",
    "run_columns",
    "run_from_columns",
    "status_values",
]

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
    "chained_at": None,
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
        "upstream_run_id": new.upstream_run_id,
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
    """The ``scheduler_run`` rows of the runs a claim's ``plans`` (checked by the
    claim's planner) create, by job id: claimed for ``replica_id``, except a
    busy job's, which wait unclaimed for its overlap rule (``claim_pending``)."""
    return [
        run_columns(
            job_id,
            new,
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
        upstream_run_id=row.get("upstream_run_id"),
    )


def result_column(result: object) -> str | None:
    """A run's result as JSON text; no result is NULL."""
    return None if result is None else json.dumps(result, allow_nan=False)


def status_values(statuses: Iterable[RunStatus]) -> list[str]:
    """``scheduler_run.status`` of each of ``statuses``, in order of value."""
    return sorted(status.value for status in statuses)
