"""Run rows: recording a run's life, from its hand-over to its outcome.

Every function that writes runs inside a transaction the store opened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from ...model.runs import Outcome, Run, RunStatus
from ...stores.rows import outcome_columns, run_from_columns, status_values
from ...stores.rules import run_not_found
from ..models import Run as RunRow
from .batches import finish_many, start_many
from .queries import (
    RUNNING,
    TERMINAL,
    Row,
    chunks,
    for_update,
    runs,
)

__all__ = [
    "beat_runs",
    "finish",
    "finish_many",
    "run_from_row",
    "set_external_ids",
    "start_many",
    "transition",
]


def run_from_row(row: Row) -> Run:
    """The :class:`Run` of a run row read with its job's name as ``job__name``."""
    return run_from_columns(row["id"], row["job__name"], row)


def set_external_ids(using: str, external_ids: Mapping[int, str]) -> None:
    rows = [RunRow(id=run_id, external_id=ext) for run_id, ext in external_ids.items()]
    runs(using).bulk_update(rows, ["external_id"])


def beat_runs(using: str, run_ids: Sequence[int], now: datetime) -> None:
    for chunk in chunks(using, list(run_ids)):
        runs(using).filter(id__in=chunk, status=RUNNING).update(heartbeat_at=now)


def transition(
    using: str,
    run_id: int,
    allowed: frozenset[RunStatus],
    status: RunStatus,
    changes: Mapping[str, object],
) -> bool:
    """Move the run to ``status`` with ``changes`` if it is in one of the ``allowed`` statuses."""
    moved = runs(using).filter(id=run_id, status__in=status_values(allowed))
    if moved.update(**changes, status=status.value) == 1:
        return True
    if not runs(using).filter(id=run_id).exists():
        raise run_not_found(run_id)
    return False


def finish(using: str, run_id: int, outcome: Outcome) -> bool:
    """:meth:`~scheduler.stores.base.RunQueue.mark_finished` inside a transaction."""
    found = list(for_update(runs(using).filter(id=run_id), using).values("status", "started_at"))
    if not found:
        raise run_not_found(run_id)
    if found[0]["status"] in TERMINAL:
        return False
    runs(using).filter(id=run_id).update(
        **outcome_columns(
            outcome, started_at=found[0]["started_at"], finished_at=outcome.finished_at
        )
    )
    return True
