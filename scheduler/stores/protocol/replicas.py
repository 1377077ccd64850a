"""The replicas part of the store protocol: heartbeats, listing, recovering what dead ones held."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from .values import RecoveryReport, ReplicaInfo, Retrier

__all__ = ["ReplicaStore"]


@runtime_checkable
class ReplicaStore(Protocol):
    """Which scheduler replicas are alive, and what happens to the runs of dead ones.

    Every ``now`` must be timezone-aware: a naive one raises
    :class:`ValueError` naming it, and nothing changes.
    """

    def heartbeat(self, replica_id: str, *, hostname: str, pid: int, now: datetime) -> None:
        """Record that ``replica_id`` is alive; one that had stopped starts a new life."""
        ...

    def stop_replica(self, replica_id: str, *, now: datetime) -> None:
        """Record a clean shutdown of ``replica_id``, even of one that never heartbeat."""
        ...

    def list_replicas(self) -> list[ReplicaInfo]:
        """Every replica the store knows, newest heartbeat first (ties by id).

        Stopped and silent ones are listed too, until
        :meth:`prune_replicas` forgets them; whether one counts as alive is
        :meth:`ReplicaInfo.alive <scheduler.stores.base.ReplicaInfo.alive>`.
        """
        ...

    def prune_replicas(self, *, now: datetime, older_than: timedelta) -> int:
        """Forget replicas gone for longer than ``older_than``: delete the rows
        of replicas whose last heartbeat, and stop if they recorded one, are
        both before ``now - older_than``, unless a pending, queued or running
        run is still claimed by them.  Returns how many were deleted.

        A replica heartbeating again later simply gets a new row; runs that
        name a forgotten replica count as a dead replica's for :meth:`recover`.
        """
        ...

    def recover(
        self,
        *,
        now: datetime,
        stale_after: timedelta,
        retry: Retrier | None = None,
        start_timeout: timedelta | None = None,
    ) -> RecoveryReport:
        """Handle the active runs of replicas that stopped, or whose last
        heartbeat is older than ``stale_after``, in one transaction: pending
        runs become claimable again (``replica_id`` and ``claimed_at``
        cleared); queued or running runs executed inside that replica (no
        ``external_id``) become ``lost`` (``finished_at = now``, error
        "replica NAME stopped heartbeating").

        Runs executed by workers outside the scheduler are judged by their own
        heartbeat instead: a ``running`` run whose ``heartbeat_at`` is older
        than ``stale_after`` (or, with an ``external_id`` and no heartbeat
        yet, whose ``started_at`` is) becomes ``lost`` too, whatever its
        replica's state.  With ``start_timeout``, a ``queued`` run handed to
        such a worker (it has an ``external_id``) that no worker started within
        ``start_timeout`` of its ``claimed_at`` becomes ``lost`` as well (error
        "not started by a worker of executor NAME within ..."): a queue nobody
        consumes must not keep a run, and the job's overlap policy, waiting for
        ever.  All three kinds are in :attr:`RecoveryReport.lost`.

        For each lost run, ``retry`` (when given) is asked for its next
        attempt, which is inserted as an unclaimed pending run in the same
        transaction, so a loss is never recorded without its retry.  An
        attempt that already exists is not created again, and is no error.
        Returns the ids of each kind, ascending.

        Nothing changes when ``retry`` raises (its error propagates) or asks
        for a run that is not a valid new run (:class:`ValueError`).
        """
        ...
