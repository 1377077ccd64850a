"""The history part of the store protocol: reading runs back, and pruning them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from ...model.runs import Run, RunStatus
from .values import StoreOverview

__all__ = ["RunHistory"]


@runtime_checkable
class RunHistory(Protocol):
    """Every run, as recorded, until retention deletes it."""

    def get_run(self, run_id: int) -> Run:
        """One run; :class:`LookupError` if there is none."""
        ...

    def list_runs(
        self, *, job_name: str | None = None, status: RunStatus | None = None, limit: int = 50
    ) -> list[Run]:
        """Up to ``limit`` runs, of ``job_name`` and in ``status`` when given,
        most recent first (by ``scheduled_for``, then attempt, then id).

        ``status`` may be given as its value (``"failed"``).  A ``limit``
        below 1 lists nothing.  An unknown job has no runs: no error.
        """
        ...

    def overview(self, *, now: datetime, run_ids: Sequence[int] = ()) -> StoreOverview:
        """Counts for monitoring at ``now``, and the runs of ``run_ids``, in one read.

        The jobs by state and the due backlog (see
        :class:`~scheduler.stores.base.StoreOverview`) are aggregates the
        database computes (a count of the jobs grouped by state, and indexed
        counts of what is due): no job or run row is loaded for them, so a
        call costs the same few queries whatever the number of jobs, though
        the count by state reads the whole job table.  Call it every few
        seconds, not on every wake-up.  ``run_ids`` that name no run (never
        made, or pruned) are left out of ``runs``.  Raises
        :class:`ValueError` for a naive ``now``.
        """
        ...

    def prune(self, *, now: datetime, keep_last: int | None, max_age: timedelta | None) -> int:
        """Delete terminal runs beyond the newest ``keep_last`` per job, or older
        than ``max_age``; active runs are never deleted.  Returns how many.

        Without either rule nothing is deleted; a ``keep_last`` below 0 counts
        as 0.  In the same transaction, with ``max_age``, delete the finished
        deferred calls whose history is gone: jobs of source ``code`` with a
        one-off schedule, no next run, not paused, not run ``after`` another
        job, no run left, and last changed before ``now - max_age``.  Other jobs are never deleted.
        Raises :class:`ValueError` for a naive ``now``.
        """
        ...
