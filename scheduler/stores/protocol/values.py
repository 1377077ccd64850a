"""What the store verbs take and give: stored jobs, plans, reports, and the callbacks."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from ...model.jobs import JobSpec
from ...model.runs import NewRun, Run

__all__ = [
    "JOB_STATES",
    "NextWork",
    "Planner",
    "RecoveryReport",
    "ReplicaInfo",
    "Retrier",
    "SlotPlan",
    "StoreOverview",
    "StoredJob",
    "SyncReport",
    "TakenSlot",
    "TakenSlotsListener",
    "earliest",
]

#: The words of :attr:`StoredJob.state`, in the order listings show them.
JOB_STATES = ("active", "paused", "disabled", "removed")


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredJob:
    """A job as stored: its definition plus the scheduler's bookkeeping.

    ``paused_at`` and ``removed_at`` are operational state, not part of the
    definition: a sync never pauses or resumes a job, and pausing never
    changes ``version`` or ``definition_hash``.  ``removed_at`` is when a sync
    disabled the job because its source stopped declaring it.
    """

    spec: JobSpec
    next_run_at: datetime | None
    version: int
    definition_hash: str
    created_at: datetime
    updated_at: datetime
    paused_at: datetime | None = None
    removed_at: datetime | None = None

    @property
    def paused(self) -> bool:
        return self.paused_at is not None

    @property
    def active(self) -> bool:
        """Whether the job fires: enabled by its definition and not paused."""
        return self.spec.enabled and self.paused_at is None

    @property
    def state(self) -> str:
        """One word for listings: ``removed``, ``disabled``, ``paused`` or ``active``."""
        if self.removed_at is not None:
            return "removed"
        if not self.spec.enabled:
            return "disabled"
        return "paused" if self.paused else "active"

    def paused_as(self, paused: bool, now: datetime) -> StoredJob:
        """This job paused (or resumed) at ``now``: a resumed job's next slot is
        the first after ``now``, so time spent paused is never caught up."""
        if self.paused is paused:
            return self
        return replace(
            self,
            paused_at=now if paused else None,
            next_run_at=self.spec.next_after(now) if self.spec.enabled and not paused else None,
            updated_at=now,
        )


@dataclass(frozen=True, slots=True)
class NextWork:
    """When a store next has work, in two parts (:meth:`~scheduler.stores.base.RunQueue.next_work`).

    ``due`` is the earliest ``next_run_at`` of an active job or ``due_at`` of
    an unclaimed pending run: what the claims take.  ``chain_ends`` is the
    earliest end of a run that :meth:`~scheduler.stores.base.RunQueue.follow_chains`
    has yet to follow, ``None`` when there is none, so a wake-up of a busy
    replica skips the chains' transaction when no run it could follow ended.
    """

    due: datetime | None
    chain_ends: datetime | None = None

    @property
    def at(self) -> datetime | None:
        """The earliest of both: when anything may be due, or ``None`` when nothing is."""
        return earliest(self.due, self.chain_ends)


def earliest(*instants: datetime | None) -> datetime | None:
    """The earliest of ``instants`` that are not ``None``; ``None`` if none is."""
    return min((instant for instant in instants if instant is not None), default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class SlotPlan:
    """What the planner decided for one due job: runs to create, and its next slot."""

    runs: tuple[NewRun, ...]
    next_run_at: datetime | None


#: Called by :meth:`~scheduler.stores.base.RunQueue.claim_due` inside its
#: transaction, once per due job: ``plan(job, has_active_run, now)``.
#: ``has_active_run`` says whether the job has a run that is pending, queued or
#: running.  Pure: it must not touch the store.
Planner = Callable[[StoredJob, bool, datetime], SlotPlan]

#: A slot a planner asked for that already had a run, so the claim skipped it:
#: ``(job name, scheduled_for, attempt)``.
TakenSlot = tuple[str, datetime, int]


@runtime_checkable
class TakenSlotsListener(Protocol):
    """A :data:`Planner` that wants to know which of its planned runs a claim
    skipped because their slot and attempt already had a run.

    :meth:`~scheduler.stores.base.RunQueue.claim_due` calls :meth:`slots_taken`
    once its transaction committed, when it skipped any; the engine's planner
    then does not announce those slots as missed or skipped, and counts them.
    """

    def slots_taken(self, slots: Sequence[TakenSlot]) -> None:
        """``slots`` were planned and skipped: each already had a run."""
        ...


#: Called by :meth:`~scheduler.stores.base.ReplicaStore.recover` inside its
#: transaction, once per run it marks ``lost``: ``retry(lost_run, job)`` gets the
#: run as marked (status ``lost``, ``finished_at`` set) and returns the next
#: attempt to create, or ``None`` when the job has no retries left.  Pure: it
#: must not touch the store.
Retrier = Callable[[Run, JobSpec], NewRun | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncReport:
    """What :meth:`~scheduler.stores.base.JobStore.sync_jobs` changed, by job name."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    disabled: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.disabled)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoveryReport:
    """What :meth:`~scheduler.stores.base.ReplicaStore.recover` did with the runs
    of replicas that stopped heartbeating."""

    released: tuple[int, ...] = ()  # pending runs made claimable again
    lost: tuple[int, ...] = ()  # queued or running runs marked lost (replica or worker gone)
    retries: tuple[int, ...] = ()  # new runs: the next attempts of lost ones


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreOverview:
    """What :meth:`~scheduler.stores.base.RunHistory.overview` counted at ``now``.

    ``jobs_by_state`` has every word of :data:`JOB_STATES` as a key (a state
    with no job counts 0); ``due_backlog`` is how many active jobs are due
    (``next_run_at <= now``) plus how many unclaimed pending runs are due
    (``due_at <= now``): work that is due and not handed over yet.  ``runs``
    are the runs asked for by id that still exist, in id order.
    """

    jobs_by_state: Mapping[str, int] = field(default_factory=dict)
    due_backlog: int = 0
    runs: tuple[Run, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplicaInfo:
    """A scheduler replica as the store knows it.

    :meth:`~scheduler.stores.base.ReplicaStore.list_replicas` gives them.

    ``started_at`` is when its current life began (a replica that stopped and
    heartbeats again starts a new one); ``stopped_at`` is set when it
    recorded a clean stop, and cleared by its next heartbeat.
    """

    id: str
    hostname: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None = None

    def alive(self, now: datetime, stale_after: timedelta) -> bool:
        """Whether the replica counts as alive at ``now``: it did not stop, and
        it heartbeat within ``stale_after`` (the rule recovery applies too)."""
        return self.stopped_at is None and now - self.heartbeat_at <= stale_after

    def state(self, now: datetime, stale_after: timedelta) -> str:
        """One word: ``alive``; ``stopped`` (it recorded a clean stop); or
        ``silent`` (no clean stop, but no heartbeat within ``stale_after``:
        killed, hung, or cut off from the database)."""
        if self.stopped_at is not None:
            return "stopped"
        return "alive" if self.alive(now, stale_after) else "silent"
