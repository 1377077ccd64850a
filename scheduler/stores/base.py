"""The Store protocol: where jobs and runs live.

The engine speaks to storage only through :class:`Store`.  Its verbs are the
scheduler's, not CRUD: *sync* a declared set of jobs, *claim* what is due,
*record* what happened to a run, *recover* the runs of dead replicas, *prune*
history.  Every implementation (memory, SQLAlchemy, Django) passes the same
contract tests in ``tests/contract/``.

Promises every store keeps:

* instants go in and come out timezone-aware in UTC;
* ``(job, scheduled_for, attempt)`` is unique: a second run for the same slot
  and attempt is refused, whatever locking did or did not happen;
* :meth:`Store.claim_due` is atomic: the runs it creates and the jobs'
  advanced ``next_run_at`` are committed together, or not at all, and two
  replicas calling it at once never claim the same job;
* a claimed run leaves its claim already ``queued`` to its job's executor, in
  the claim's own transaction: the replica hands it over as soon as the claim
  returns, so a wake-up commits once, and a run whose replica dies after the
  claim is recovered as ``lost`` (and retried), never handed to a second
  replica while the first might still start it;
* a wake-up with nothing due costs a constant number of cheap queries,
  whatever the number of jobs.

A store may also implement :class:`NotifiesChanges`, so that an engine
sleeping between wake-ups hears at once when another process changes its
jobs; without it, engines poll.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from ..model.jobs import JobSpec
from ..model.policies import JobSource
from ..model.runs import ClaimedRun, NewRun, Outcome, Run, RunStatus

__all__ = [
    "CHANGE_CHANNEL",
    "ChangeListener",
    "NotifiesChanges",
    "Planner",
    "RecoveryReport",
    "Retrier",
    "SlotPlan",
    "Store",
    "StoredJob",
    "SyncReport",
]


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


@dataclass(frozen=True, slots=True, kw_only=True)
class SlotPlan:
    """What the planner decided for one due job: runs to create, and its next slot."""

    runs: tuple[NewRun, ...]
    next_run_at: datetime | None


#: Called by :meth:`Store.claim_due` inside its transaction, once per due job:
#: ``plan(job, has_active_run, now)``.  ``has_active_run`` says whether the job
#: has a run that is pending, queued or running.  Pure: it must not touch the store.
Planner = Callable[[StoredJob, bool, datetime], SlotPlan]

#: Called by :meth:`Store.recover` inside its transaction, once per run it
#: marks ``lost``: ``retry(lost_run, job)`` gets the run as marked (status
#: ``lost``, ``finished_at`` set) and returns the next attempt to create, or
#: ``None`` when the job has no retries left.  Pure: it must not touch the store.
Retrier = Callable[[Run, JobSpec], NewRun | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncReport:
    """What :meth:`Store.sync_jobs` changed, by job name."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    disabled: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.disabled)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoveryReport:
    """What :meth:`Store.recover` did with the runs of replicas that stopped heartbeating."""

    released: tuple[int, ...] = ()  # pending runs made claimable again
    lost: tuple[int, ...] = ()  # queued or running runs marked lost (replica or worker gone)
    retries: tuple[int, ...] = ()  # new runs: the next attempts of lost ones


@runtime_checkable
class Store(Protocol):
    """Persistence for jobs, runs and replica heartbeats."""

    # -- jobs ---------------------------------------------------------------
    def sync_jobs(
        self, specs: Sequence[JobSpec], *, source: JobSource, now: datetime
    ) -> SyncReport:
        """Make the stored jobs of ``source`` match ``specs``, in one transaction.

        New names are added (``next_run_at`` = first slot after ``now``);
        changed definitions are updated (``version`` + 1, ``next_run_at``
        recomputed from ``now``, ``removed_at`` cleared); jobs of ``source``
        missing from ``specs`` are disabled and get ``removed_at = now``, never
        deleted, so their history stays.  Pause state is left as it is: a
        paused job stays paused (``next_run_at`` stays ``None``) whatever its
        new definition says.  Jobs of other sources are never touched: a name
        already owned by another source is refused with
        :class:`~scheduler.errors.InvalidJob` and nothing changes.
        """
        ...

    def save_job(
        self, spec: JobSpec, *, now: datetime, expected_version: int | None = None
    ) -> StoredJob:
        """Create the job, or replace the definition of the one of that name.

        Pause state is kept and ``removed_at`` cleared.  A job of another
        source is not replaced: :class:`~scheduler.errors.InvalidJob`.
        ``expected_version``, if given, is the version the change was based
        on (``0``: the job must not exist yet); if the stored job is at
        another version, :class:`~scheduler.errors.JobChanged` is raised and
        nothing is written, so two editors cannot silently overwrite each
        other.  Returns the job as stored.
        """
        ...

    def get_job(self, name: str) -> StoredJob:
        """The job called ``name``; :class:`~scheduler.errors.JobNotFound` if none."""
        ...

    def list_jobs(self) -> list[StoredJob]:
        """Every job, ordered by name."""
        ...

    def set_paused(self, name: str, paused: bool, *, now: datetime) -> StoredJob:
        """Pause (``paused_at = now``, ``next_run_at = None``) or resume a job.

        Resuming continues from ``now``: the next slot is the first after
        ``now``, with no burst of catch-up.  Works on a job of any source; a
        no-op if the job is already in that state.  Raises
        :class:`~scheduler.errors.JobNotFound`.
        """
        ...

    # -- the due-queue ------------------------------------------------------
    def next_wake(self) -> datetime | None:
        """The earliest instant at which anything may be due: the smallest
        ``next_run_at`` of an active job, or ``due_at`` of an unclaimed
        pending run.  ``None`` when nothing is scheduled."""
        ...

    def claim_due(
        self, *, now: datetime, replica_id: str, limit: int, plan: Planner
    ) -> list[ClaimedRun]:
        """Claim up to ``limit`` active jobs whose ``next_run_at <= now``.

        In one transaction: call ``plan`` for each, insert the runs it asks
        for, set each job's ``next_run_at`` to the plan's, and claim the new
        pending runs whose ``due_at <= now``: they are inserted ``queued`` to
        their job's executor (``executor``), claimed by ``replica_id`` at
        ``claimed_at = now``, for the caller to hand over as soon as this
        returns.  The new runs of a job that had an active run are not
        claimed: they stay ``pending`` and unclaimed for :meth:`claim_pending`,
        which applies the ``queue`` overlap rule.  Jobs are taken earliest
        ``next_run_at`` first (jobs due at the same instant in no particular
        order); jobs locked by another replica are skipped, not waited for.
        Returns the claimed runs, oldest slot first.  The statements sent are
        a fixed number, whatever the number of due jobs.
        """
        ...

    def claim_pending(self, *, now: datetime, replica_id: str, limit: int) -> list[ClaimedRun]:
        """Claim unclaimed pending runs whose ``due_at <= now`` (retries,
        jittered and manual runs, runs released by recovery), oldest due
        first, as :meth:`claim_due` claims: each becomes ``queued`` to its
        job's executor, claimed by ``replica_id`` at ``claimed_at = now``.  A
        run of a job whose overlap policy is ``queue`` waits while that job
        has a queued or running run."""
        ...

    def add_run(self, job_name: str, new: NewRun) -> Run:
        """Insert one unclaimed run (a retry, a manual run).  Raises
        :class:`~scheduler.errors.DuplicateRun` if the slot and attempt exist."""
        ...

    # -- recording ----------------------------------------------------------
    def mark_queued(self, run_id: int, *, executor: str, external_id: str, now: datetime) -> None:
        """The run was handed to ``executor`` (``external_id``: e.g. a Celery task id)."""
        ...

    def set_external_ids(self, external_ids: Mapping[int, str]) -> None:
        """Record, in one statement, the id each run got from the executor it was
        handed to (a Celery task id), once it is ``queued``.

        A run with an external id is executed outside the scheduler: recovery
        leaves it alone when its replica stops, and watches its worker's
        heartbeat instead (:meth:`beat_runs`).  Unknown ids are ignored.
        """
        ...

    def beat_runs(self, run_ids: Sequence[int], *, now: datetime) -> None:
        """A worker outside the scheduler is still executing these runs:
        ``heartbeat_at = now`` for those of them that are ``running``; others
        are left as they are."""
        ...

    def mark_running(self, run_id: int, *, worker: str, now: datetime) -> bool:
        """The run started on ``worker`` (``host:pid``).  Returns False, changing
        nothing, if it already started or ended: the caller must not execute it."""
        ...

    def mark_finished(self, run_id: int, outcome: Outcome) -> None:
        """Record how the run ended.  A run already in a terminal status is left as it is."""
        ...

    def cancel_run(self, run_id: int, *, now: datetime) -> bool:
        """Cancel a run that has not started; False if it already started or ended."""
        ...

    # -- replicas and recovery ----------------------------------------------
    def heartbeat(self, replica_id: str, *, hostname: str, pid: int, now: datetime) -> None:
        """Record that ``replica_id`` is alive."""
        ...

    def stop_replica(self, replica_id: str, *, now: datetime) -> None:
        """Record a clean shutdown of ``replica_id``."""
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
        """
        ...

    # -- history --------------------------------------------------------------
    def get_run(self, run_id: int) -> Run:
        """One run; :class:`LookupError` if there is none."""
        ...

    def list_runs(
        self, *, job_name: str | None = None, status: RunStatus | None = None, limit: int = 50
    ) -> list[Run]:
        """Most recent first (by ``scheduled_for``, then attempt)."""
        ...

    def prune(self, *, now: datetime, keep_last: int | None, max_age: timedelta | None) -> int:
        """Delete terminal runs beyond the newest ``keep_last`` per job, or older
        than ``max_age``; active runs are never deleted.  Returns how many.

        In the same transaction, with ``max_age``, delete the finished deferred
        calls whose history is gone: jobs of source ``code`` with a one-off
        schedule, no next run, not paused, no run left, and last changed
        before ``now - max_age``.  Other jobs are never deleted.
        """
        ...


# -- waking a sleeping engine (optional) ------------------------------------------

#: The PostgreSQL channel a store NOTIFYs, inside the writing transaction, when
#: it saves or syncs jobs, pauses or resumes one, or adds a run: every store on
#: one database uses it, so an edit made through any of them (the Django admin,
#: ``tickwork pause``) wakes every listening engine.
CHANGE_CHANNEL = "scheduler_change"


@runtime_checkable
class ChangeListener(Protocol):
    """A dedicated connection that hears other processes' changes.

    Used from one thread (the engine's loop), except :meth:`interrupt`.
    """

    def wait(self, timeout: float) -> bool:
        """Block until a change is notified, :meth:`interrupt` is called, or
        ``timeout`` seconds pass, whichever is first.  Returns True when a change
        was notified (changes notified since the previous call count, so none
        is missed between calls; the process's own changes count too).

        Never raises for a lost connection: it logs, sleeps out the timeout,
        and reconnects on a later call; changes made while it was away are
        not reported, so callers still bound their sleep by a poll interval.
        """
        ...

    def interrupt(self) -> None:
        """Make the current, or else the next, :meth:`wait` return at once.
        Safe from another thread and from a signal handler."""
        ...

    def close(self) -> None:
        """Stop listening and close the connection."""
        ...


@runtime_checkable
class NotifiesChanges(Protocol):
    """A store that can wake a sleeping engine when another process changes its jobs."""

    def listen_for_changes(self) -> ChangeListener | None:
        """Start listening now: a change committed after this returns wakes
        :meth:`ChangeListener.wait`.  ``None`` when this database cannot
        notify (SQLite): the engine then polls.  The caller closes the listener.

        Does not raise when the database cannot be reached: the listener then
        starts disconnected and connects on a later :meth:`~ChangeListener.wait`.
        """
        ...
