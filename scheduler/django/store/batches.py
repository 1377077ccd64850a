"""Group commit in the Django store: the starts and ends of many runs together.

The runs reported on are locked with one read; the reports that move their
run (the rules of :func:`.runs.transition` and :func:`.runs.finish`, in the
order given, so a run reported twice moves once) are written with one
``bulk_update`` per kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Final

from ...model.runs import RunStatus
from ...stores.protocol.batches import RunEnd, RunStart
from ...stores.rows import outcome_columns
from ...stores.rules import run_not_found
from ..models import Run as RunRow
from .queries import QUEUED, RUNNING, TERMINAL, chunks, for_update, runs

__all__ = ["finish_many", "start_many"]

_NOT_STARTED: Final = frozenset({RunStatus.PENDING.value, QUEUED})
_ENDED: Final = frozenset(TERMINAL)
_OUTCOME: Final = ["status", "finished_at", "duration_seconds", "result", "error", "traceback"]


def start_many(using: str, starts: Sequence[RunStart]) -> set[int]:
    """:meth:`~scheduler.stores.checked.verbs.RunVerbs.start_many` inside a transaction."""
    found = _locked(using, (start.run_id for start in starts))
    moved: dict[int, RunRow] = {}
    for start in starts:
        status, _ = found[start.run_id]
        if status in _NOT_STARTED and start.run_id not in moved:
            moved[start.run_id] = RunRow(
                id=start.run_id, status=RUNNING, started_at=start.at, worker=start.worker
            )
    if moved:
        runs(using).bulk_update(moved.values(), ["status", "started_at", "worker"])
    return set(moved)


def finish_many(using: str, ends: Sequence[RunEnd]) -> set[int]:
    """:meth:`~scheduler.stores.checked.verbs.RunVerbs.finish_many` inside a transaction."""
    found = _locked(using, (end.run_id for end in ends))
    moved: dict[int, RunRow] = {}
    for end in ends:
        status, started_at = found[end.run_id]
        if status not in _ENDED and end.run_id not in moved:
            columns = outcome_columns(
                end.outcome, started_at=started_at, finished_at=end.outcome.finished_at
            )
            moved[end.run_id] = RunRow(id=end.run_id, **columns)
    if moved:
        runs(using).bulk_update(moved.values(), _OUTCOME)
    return set(moved)


def _locked(using: str, run_ids: Iterable[int]) -> dict[int, tuple[str, datetime | None]]:
    """The status and start of each run, locked until the transaction ends;
    :class:`LookupError` for the first id that names no run."""
    ids = list(dict.fromkeys(run_ids))
    found: dict[int, tuple[str, datetime | None]] = {}
    for chunk in chunks(using, ids):
        query = for_update(runs(using).filter(id__in=chunk), using)
        found.update(
            (row["id"], (row["status"], row["started_at"]))
            for row in query.values("id", "status", "started_at")
        )
    for run_id in ids:
        if run_id not in found:
            raise run_not_found(run_id)
    return found
