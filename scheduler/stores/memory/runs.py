"""The memory store's record of a run's life: transitions, external ids, worker beats, outcomes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from ...model.runs import TERMINAL_STATUSES, Outcome, RunStatus
from ..protocol.batches import RunEnd, RunStart
from .state import State, json_copy

__all__ = [
    "beat_runs",
    "finish",
    "finish_many",
    "set_external_ids",
    "start_many",
    "transition",
]

_NOT_STARTED = frozenset({RunStatus.PENDING, RunStatus.QUEUED})


def transition(
    state: State,
    run_id: int,
    allowed: frozenset[RunStatus],
    status: RunStatus,
    changes: Mapping[str, object],
) -> bool:
    run = state.run(run_id)
    if run.status not in allowed:
        return False
    state.update(run, status=status, **changes)
    return True


def set_external_ids(state: State, external_ids: Mapping[int, str]) -> None:
    for run_id, external_id in external_ids.items():
        if run_id in state.runs:
            state.update(state.runs[run_id], external_id=external_id)


def beat_runs(state: State, run_ids: Sequence[int], now: datetime) -> None:
    for run_id in run_ids:
        run = state.runs.get(run_id)
        if run is not None and run.status is RunStatus.RUNNING:
            state.update(run, heartbeat_at=now)


def finish(state: State, run_id: int, outcome: Outcome) -> bool:
    run = state.run(run_id)
    if run.status in TERMINAL_STATUSES:
        return False
    state.update(
        run,
        status=outcome.status,
        finished_at=outcome.finished_at,
        result=json_copy(outcome.result),
        error=outcome.error,
        traceback=outcome.traceback,
    )
    return True


def start_many(state: State, starts: Sequence[RunStart]) -> set[int]:
    for start in starts:  # every id known before anything moves
        state.run(start.run_id)
    changes = ({"started_at": start.at, "worker": start.worker} for start in starts)
    return {
        start.run_id
        for start, change in zip(starts, changes, strict=True)
        if transition(state, start.run_id, _NOT_STARTED, RunStatus.RUNNING, change)
    }


def finish_many(state: State, ends: Sequence[RunEnd]) -> set[int]:
    for end in ends:
        state.run(end.run_id)
    return {end.run_id for end in ends if finish(state, end.run_id, end.outcome)}
