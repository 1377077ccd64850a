"""What a store built on :class:`~scheduler.stores.checked.CheckedStore` implements.

A store's work is done by five modules of functions, one per part below and
named alike in every store (``jobs``, ``claims``, ``runs``, ``replicas``,
``history``).  Each function does one verb's work through ``db``: whatever
the store's ``_write()`` or ``_read()`` yields (the memory store's state, a
SQLAlchemy connection, a Django database alias).  The public verb has
already checked and normalised the arguments (:mod:`.arguments`: instants
aware and in UTC, new runs and outcomes valid, limits above 0, plans and
retries checked as they are made) and opened the transaction; the function
keeps the verb's promises (:mod:`scheduler.stores.base`) and raises what the
verb raises for what it finds (:class:`~scheduler.errors.JobNotFound`,
:class:`LookupError`, :class:`~scheduler.errors.InvalidJob`, ...).  mypy
checks each module against its part.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from ...model.jobs import JobSpec
from ...model.policies import JobSource
from ...model.runs import ClaimedRun, NewRun, Outcome, Run, RunStatus
from ..protocol.batches import RunEnd, RunStart
from ..protocol.values import (
    NextWork,
    Planner,
    RecoveryReport,
    ReplicaInfo,
    Retrier,
    StoredJob,
    StoreOverview,
    SyncReport,
    TakenSlot,
)

__all__ = ["Claim", "ClaimVerbs", "HistoryVerbs", "JobVerbs", "ReplicaVerbs", "RunVerbs"]

Db = TypeVar("Db", contravariant=True)


class JobVerbs(Protocol[Db]):
    """The work of :class:`~scheduler.stores.base.JobStore` (a store's ``jobs``)."""

    def sync_jobs(
        self, db: Db, specs: Iterable[JobSpec], source: JobSource, now: datetime
    ) -> SyncReport:
        """``specs`` are of ``source``; a name given twice raises
        :class:`~scheduler.errors.InvalidJob` as it is read, before the
        transaction ``db`` commits (so nothing is kept)."""
        ...

    def save_job(
        self, db: Db, spec: JobSpec, now: datetime, expected_version: int | None
    ) -> StoredJob: ...

    def get_job(self, db: Db, name: str) -> StoredJob: ...

    def list_jobs(self, db: Db) -> list[StoredJob]: ...

    def set_paused(self, db: Db, name: str, paused: bool, now: datetime) -> StoredJob: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """What a store's ``claim_due`` did: the runs it claimed (in any order), how
    many jobs were due, and the planned slots it skipped because each already
    had a run (:data:`~scheduler.stores.base.TakenSlot`)."""

    claimed: list[ClaimedRun] = field(default_factory=list)
    due_jobs: int = 0
    taken: list[TakenSlot] = field(default_factory=list)


class ClaimVerbs(Protocol[Db]):
    """The claims of :class:`~scheduler.stores.base.RunQueue` (a store's ``claims``)."""

    def next_work(self, db: Db) -> NextWork: ...

    def claim_due(
        self, db: Db, *, now: datetime, replica_id: str, limit: int, plan: Planner
    ) -> Claim:
        """Every plan has no slot and attempt twice (the public verb checked);
        a planned run whose slot and attempt already has a run is not
        inserted, and is reported in :attr:`Claim.taken`."""
        ...

    def claim_pending(
        self, db: Db, *, now: datetime, replica_id: str, limit: int
    ) -> list[ClaimedRun]: ...

    def add_run(self, db: Db, job_name: str, new: NewRun) -> Run:
        """``new`` is pending.  A slot and attempt that exists is
        :class:`~scheduler.errors.DuplicateRun`, or the database's refusal of
        the slot constraint, which the public verb turns into it."""
        ...


class RunVerbs(Protocol[Db]):
    """The records of :class:`~scheduler.stores.base.RunQueue` (a store's ``runs``)."""

    def transition(
        self,
        db: Db,
        run_id: int,
        allowed: frozenset[RunStatus],
        status: RunStatus,
        changes: Mapping[str, object],
    ) -> bool:
        """Move the run to ``status``, with ``changes`` (fields of
        :class:`~scheduler.model.runs.Run`, named as its columns are), if it is
        in one of the ``allowed`` statuses; False, changing nothing, if not."""
        ...

    def set_external_ids(self, db: Db, external_ids: Mapping[int, str]) -> None:
        """``external_ids`` is not empty."""
        ...

    def beat_runs(self, db: Db, run_ids: Sequence[int], now: datetime) -> None:
        """``run_ids`` is not empty."""
        ...

    def finish(self, db: Db, run_id: int, outcome: Outcome) -> bool:
        """``outcome`` is terminal; True when the run was not terminal yet."""
        ...

    def start_many(self, db: Db, starts: Sequence[RunStart]) -> set[int]:
        """``starts`` is not empty, its instants aware UTC: :meth:`transition` of
        each from pending or queued to running, with its ``started_at`` and
        ``worker``, in order; the ids moved.  An unknown id raises LookupError."""
        ...

    def finish_many(self, db: Db, ends: Sequence[RunEnd]) -> set[int]:
        """``ends`` is not empty, its outcomes terminal: :meth:`finish` of each,
        in order; the ids this call ended.  An unknown id raises LookupError."""
        ...


class ReplicaVerbs(Protocol[Db]):
    """The work of :class:`~scheduler.stores.base.ReplicaStore` (a store's ``replicas``)."""

    def heartbeat(
        self, db: Db, replica_id: str, *, hostname: str, pid: int, now: datetime
    ) -> None: ...

    def stop_replica(self, db: Db, replica_id: str, *, now: datetime) -> None: ...

    def list_replicas(self, db: Db) -> list[ReplicaInfo]:
        """Every replica, newest heartbeat first, ties by id."""
        ...

    def prune_replicas(self, db: Db, *, cutoff: datetime) -> int:
        """Forget the replicas not seen since before ``cutoff``, as
        :meth:`~scheduler.stores.base.ReplicaStore.prune_replicas` says."""
        ...

    def recover(
        self,
        db: Db,
        *,
        now: datetime,
        stale_after: timedelta,
        retry: Retrier | None,
        start_timeout: timedelta | None,
    ) -> RecoveryReport: ...


class HistoryVerbs(Protocol[Db]):
    """The work of :class:`~scheduler.stores.base.RunHistory` (a store's ``history``)."""

    def get_run(self, db: Db, run_id: int) -> Run: ...

    def list_runs(
        self, db: Db, job_name: str | None, status: RunStatus | None, limit: int
    ) -> list[Run]: ...

    def overview(self, db: Db, now: datetime, run_ids: Sequence[int]) -> StoreOverview:
        """``run_ids`` has no id twice, in increasing order; it may be empty."""
        ...

    def prune(self, db: Db, now: datetime, keep_last: int | None, max_age: timedelta | None) -> int:
        """At least one rule is given, and ``keep_last`` is not below 0."""
        ...
