"""Following chains, the part every store does alike: which ended runs start which jobs.

A store finds the ended runs of upstream jobs that no chain has seen yet,
each with the active jobs chained after its job (:class:`ChainVerbs`); here
each pair becomes a new run when the upstream run ended the way the chained
job's ``when`` asks, and after the chained job was last changed (a job edited,
paused or resumed does not run for what ended before).  The store inserts
them and marks the upstream runs seen, in the same transaction.

A job after two or more upstreams (a join) runs once per slot for which each
of them has such a run (:func:`chain_rows`): when one of those runs is
followed, the store reads the ended runs of the other upstreams at the same
slot.  Whichever run of the set is followed last sees the others, because each
is followed by a transaction that starts after its end was committed.  Every
replica that completes one join gives its run the same key, the lowest-id
qualifying run of the first upstream, so the unique index on ``(job,
upstream run)`` lets one of them in, and the store leaves the others out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from ...model.chains import is_join
from ...model.runs import NewRun, Run, Trigger
from ..protocol.values import StoredJob

__all__ = ["ChainVerbs", "EndedUpstream", "chain_rows", "follow"]

Db = TypeVar("Db", contravariant=True)

#: Ended runs by (job name, slot).
_BySlot = Mapping[tuple[str, datetime], Sequence[Run]]


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

    def ended_runs_at(
        self, db: Db, job_names: Collection[str], slots: Collection[datetime]
    ) -> list[Run]:
        """The ended runs, seen by a chain or not, of the jobs ``job_names`` whose
        ``scheduled_for`` is one of ``slots`` (may hold runs of other pairs)."""
        ...

    def add_chain_runs(self, db: Db, rows: Sequence[tuple[str, NewRun]]) -> list[Run]:
        """Insert each (job name, pending run); a slot and attempt that is taken
        moves the run's ``scheduled_for`` a microsecond later, until it is free.
        A run whose job already has one for its ``upstream_run_id`` is left
        out, quietly; the runs inserted are returned."""
        ...

    def mark_chained(self, db: Db, run_ids: Sequence[int], now: datetime) -> None:
        """Record that the ends of ``run_ids`` were passed to their chains at ``now``."""
        ...


def chain_rows(
    ended: Sequence[EndedUpstream], now: datetime, slot_runs: Sequence[Run] = ()
) -> list[tuple[str, NewRun]]:
    """The runs the ended upstream runs start: one per qualifying (run, chained job)
    for a job after one upstream; one per completed (slot, join) for a join,
    ``slot_runs`` being the ended runs of its upstreams at the slots of ``ended``."""
    by_slot: defaultdict[tuple[str, datetime], list[Run]] = defaultdict(list)
    for run in slot_runs:
        by_slot[run.job_name, run.scheduled_for].append(run)
    rows: list[tuple[str, NewRun]] = []
    joined: set[tuple[str, int]] = set()
    for item in ended:
        run = item.run
        assert run.finished_at is not None  # noqa: S101 - only ended runs are found
        for job in item.dependents:
            if not _qualifies(run, job):
                continue
            if not is_join(job.spec.after):
                new = NewRun(
                    scheduled_for=run.finished_at,
                    due_at=now,
                    trigger=Trigger.CHAIN,
                    upstream_run_id=run.id,
                )
                rows.append((job.spec.name, new))
                continue
            new_join = _join(job, run.scheduled_for, by_slot, now)
            if new_join is not None and new_join.upstream_run_id is not None:
                key = (job.spec.name, new_join.upstream_run_id)
                if key not in joined:  # both ends of one join in this batch
                    joined.add(key)
                    rows.append((job.spec.name, new_join))
    return rows


def join_slots(ended: Sequence[EndedUpstream]) -> tuple[set[str], set[datetime]]:
    """The upstream jobs and the slots a pass over ``ended`` needs the ended runs
    of, to complete joins; both empty when no join follows any of them."""
    names: set[str] = set()
    slots: set[datetime] = set()
    for item in ended:
        for job in item.dependents:
            if is_join(job.spec.after) and _qualifies(item.run, job):
                names.update(job.spec.after)
                slots.add(item.run.scheduled_for)
    return names, slots


def follow(chains: ChainVerbs[Db], db: Db, now: datetime, limit: int) -> list[Run]:
    """:meth:`~scheduler.stores.base.RunQueue.follow_chains` inside ``db``'s transaction."""
    ended = chains.ended_upstream_runs(db, limit)
    if not ended:
        return []
    names, slots = join_slots(ended)
    # Read after the runs were locked: a fresh statement sees every end committed so far.
    slot_runs = chains.ended_runs_at(db, names, slots) if names else []
    rows = chain_rows(ended, now, slot_runs)
    # One order for every replica: two completing the same joins insert them in
    # the same order, so each waits for the other's insert at most once (no
    # deadlock: neither holds a key the other needs before the one it waits for).
    rows.sort(key=lambda row: (row[0], row[1].upstream_run_id or 0))
    created = chains.add_chain_runs(db, rows)
    chains.mark_chained(db, [item.run.id for item in ended], now)
    return created


def _join(job: StoredJob, slot: datetime, by_slot: _BySlot, now: datetime) -> NewRun | None:
    """The run of the join ``job`` for ``slot`` if each of its upstreams has a
    qualifying ended run there: keyed by the lowest-id one of the first
    upstream, scheduled for the latest end among the lowest-id one of each."""
    chosen: list[Run] = []
    for upstream in job.spec.after:
        qualifying = [run for run in by_slot.get((upstream, slot), ()) if _qualifies(run, job)]
        if not qualifying:
            return None
        chosen.append(min(qualifying, key=lambda run: run.id))
    ends = [run.finished_at for run in chosen if run.finished_at is not None]
    return NewRun(
        scheduled_for=max(ends),
        due_at=now,
        trigger=Trigger.CHAIN,
        upstream_run_id=chosen[0].id,
    )


def _qualifies(run: Run, job: StoredJob) -> bool:
    return (
        job.active
        and job.removed_at is None
        and run.status in job.spec.when.statuses
        and run.finished_at is not None
        and run.finished_at >= job.updated_at
    )
