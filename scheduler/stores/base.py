"""The Store protocol: where jobs and runs live.

The engine speaks to storage only through :class:`Store`.  Its verbs are the
scheduler's, not CRUD: *sync* a declared set of jobs, *claim* what is due,
*record* what happened to a run, *recover* the runs of dead replicas, *prune*
history.  They come in four parts, one per concern, each a small protocol of
its own: :class:`JobStore` (the job definitions), :class:`RunQueue` (claiming
runs and recording their life), :class:`ReplicaStore` (heartbeats and
recovery) and :class:`RunHistory` (reading and pruning runs).  :class:`Store`
is all four, and what the engine and every caller ask for.  Every
implementation (memory, SQLAlchemy, Django) passes the same contract tests in
``tests/contract/``.

Promises every store keeps:

* instants go in and come out timezone-aware in UTC: a naive instant is
  refused with a :class:`ValueError` that names the argument, and nothing
  changes;
* ``(job, scheduled_for, attempt)`` is unique: a second run for the same slot
  and attempt is refused (:meth:`RunQueue.add_run` raises
  :class:`~scheduler.errors.DuplicateRun`), whatever locking did or did not
  happen; a claim whose planner asks for a slot that already has a run skips
  that slot and moves the job past it (a job set back by an edit made with a
  clock behind a replica's must not stop every later claim);
* :meth:`RunQueue.claim_due` is atomic: the runs it creates and the jobs'
  advanced ``next_run_at`` are committed together, or not at all, and two
  replicas calling it at once never claim the same job;
* a claimed run leaves its claim already ``queued`` to its job's executor, in
  the claim's own transaction: the replica hands it over as soon as the claim
  returns, so a wake-up commits once, and a run whose replica dies after the
  claim is recovered as ``lost`` (and retried), never handed to a second
  replica while the first might still start it;
* a wake-up with nothing due costs a constant number of cheap queries,
  whatever the number of jobs.

The stores that ship keep the argument rules in one place: they are built on
:class:`~scheduler.stores.checked.CheckedStore`, whose public verbs check and
normalise their arguments, then call the store's own implementation.

A store may also implement :class:`NotifiesChanges`, so that an engine
sleeping between wake-ups hears at once when another process changes its
jobs; without it, engines poll.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from .protocol.batches import RunEnd, RunStart, Transitions
from .protocol.changes import CHANGE_CHANNEL, ChangeListener, NotifiesChanges
from .protocol.history import RunHistory
from .protocol.jobs import JobStore
from .protocol.queue import RunQueue
from .protocol.replicas import ReplicaStore
from .protocol.values import (
    JOB_STATES,
    NextWork,
    Planner,
    RecoveryReport,
    ReplicaInfo,
    Retrier,
    SlotPlan,
    StoredJob,
    StoreOverview,
    SyncReport,
    TakenSlot,
    TakenSlotsListener,
)

__all__ = [
    "CHANGE_CHANNEL",
    "JOB_STATES",
    "ChangeListener",
    "JobStore",
    "NextWork",
    "NotifiesChanges",
    "Planner",
    "RecoveryReport",
    "ReplicaInfo",
    "ReplicaStore",
    "Retrier",
    "RunEnd",
    "RunHistory",
    "RunQueue",
    "RunStart",
    "SlotPlan",
    "Store",
    "StoreOverview",
    "StoredJob",
    "SyncReport",
    "TakenSlot",
    "TakenSlotsListener",
    "Transitions",
]


@runtime_checkable
class Store(JobStore, RunQueue, ReplicaStore, RunHistory, Protocol):
    """Persistence for jobs, runs and replica heartbeats: every part of the protocol.

    Its methods are those of :class:`JobStore`, :class:`RunQueue`,
    :class:`ReplicaStore` and :class:`RunHistory`, documented there.
    """
