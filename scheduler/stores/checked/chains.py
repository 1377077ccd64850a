"""Following chains, the part every store does alike: which ended runs start which jobs.

A store finds the ended runs of upstream jobs that no chain has seen yet,
each with the active jobs chained after its job (:class:`ChainVerbs`); here
each pair becomes a new run when the upstream run ended the way the chained
job's ``when`` asks, and after the chained job was last changed (a job edited,
paused or resumed does not run for what ended before).  The store inserts
them and marks the upstream runs seen, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from ...model.runs import NewRun, Run, Trigger
from ..protocol.values import StoredJob

__all__ = ["ChainVerbs", "EndedUpstream", "chain_rows", "follow"]

Db = TypeVar("Db", contravariant=True)


@dataclass(frozen=True, slots=True)
class EndedUpstream:
    """An ended run no chain has seen yet, and the jobs chained after its job."""

    run: Run
    dependents: tuple[StoredJob, ...]


class ChainVerbs(Protocol[Db]):
    """The work of :meth:`~scheduler.stores.base.RunQueue.follow_chains` (a store's ``chains``)."""

    def anything_to_follow(self, db: Db) -> bool:
        """Whether a job that an enabled job runs after has an ended run no chain
        has seen: one cheap read, so that a wake-up with nothing to follow
        opens no transaction."""
        ...

    def ended_upstream_runs(self, db: Db, limit: int) -> list[EndedUpstream]:
        """Up to ``limit`` ended runs, not yet seen by a chain, of the jobs that
        enabled jobs not removed run after; earliest end first.  A database
        store locks them, skipping those another replica holds."""
        ...

    def add_chain_runs(self, db: Db, rows: Sequence[tuple[str, NewRun]]) -> list[Run]:
        """Insert each (job name, pending run); a slot and attempt that is taken
        moves the run's ``scheduled_for`` a microsecond later, until it is free."""
        ...

    def mark_chained(self, db: Db, run_ids: Sequence[int], now: datetime) -> None:
        """Record that the ends of ``run_ids`` were passed to their chains at ``now``."""
        ...


def chain_rows(ended: Sequence[EndedUpstream], now: datetime) -> list[tuple[str, NewRun]]:
    """The runs the ended upstream runs start: one per qualifying (run, chained job)."""
    rows: list[tuple[str, NewRun]] = []
    for item in ended:
        run = item.run
        assert run.finished_at is not None  # noqa: S101 - only ended runs are found
        for job in item.dependents:
            if not _qualifies(run, job):
                continue
            new = NewRun(
                scheduled_for=run.finished_at,
                due_at=now,
                trigger=Trigger.CHAIN,
                upstream_run_id=run.id,
            )
            rows.append((job.spec.name, new))
    return rows


def follow(chains: ChainVerbs[Db], db: Db, now: datetime, limit: int) -> list[Run]:
    """:meth:`~scheduler.stores.base.RunQueue.follow_chains` inside ``db``'s transaction."""
    ended = chains.ended_upstream_runs(db, limit)
    if not ended:
        return []
    created = chains.add_chain_runs(db, chain_rows(ended, now))
    chains.mark_chained(db, [item.run.id for item in ended], now)
    return created


def _qualifies(run: Run, job: StoredJob) -> bool:
    return (
        job.active
        and job.removed_at is None
        and run.status in job.spec.when.statuses
        and run.finished_at is not None
        and run.finished_at >= job.updated_at
    )
