"""The run-queue part of the store protocol: claiming due runs and recording their life."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from ...model.runs import ClaimedRun, NewRun, Outcome, Run
from .batches import RunEnd, RunStart, Transitions
from .values import NextWork, Planner, Retrier

__all__ = ["RunQueue"]


@runtime_checkable
class RunQueue(Protocol):
    """What is due, who claimed it, and where each run is in its life.

    Every instant given (``now``, an outcome's ``finished_at``, the instants
    of the runs a planner asks for) must be timezone-aware: a naive one raises
    :class:`ValueError` naming it, and nothing changes.  A ``run_id`` that
    names no run raises :class:`LookupError`, except where a method says it
    ignores unknown ids.
    """

    def next_wake(self) -> datetime | None:
        """The earliest instant at which anything may be due: the smallest
        ``next_run_at`` of an active job, ``due_at`` of an unclaimed pending
        run, or end of a run that :meth:`follow_chains` has yet to follow.
        ``None`` when nothing is scheduled: ``next_work().at``."""
        ...

    def next_work(self) -> NextWork:
        """:meth:`next_wake` in its two parts: when the claims next have work
        (``due``), and the earliest end :meth:`follow_chains` has yet to
        follow (``chain_ends``); one read, whatever the number of jobs."""
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
        Returns the claimed runs, oldest slot first, then by job name.  The
        statements sent are a fixed number, whatever the number of due jobs;
        a ``limit`` below 1 claims nothing and sends none.

        A planned run whose slot and attempt already has a run (claimed by a
        replica before an edit, made with a clock behind that replica's, set
        the job back to it; or taken by a manual run) is not a new run: it is
        skipped, nothing else changes for it, and its job still moves to the
        plan's ``next_run_at``, while the other runs of the claim are created
        as usual.  When any is skipped, a ``plan`` that is a
        :class:`~scheduler.stores.base.TakenSlotsListener` hears which, once
        the claim committed, and the store logs each at WARNING.

        Nothing is written when anything fails: ``plan`` raising (its error
        propagates), a planned run that is not a valid new run
        (:class:`ValueError`: a status other than pending, missed or skipped,
        an attempt below 1, a naive instant), or a plan that asks for one
        slot and attempt twice (:class:`~scheduler.errors.DuplicateRun`).
        """
        ...

    def claim_pending(self, *, now: datetime, replica_id: str, limit: int) -> list[ClaimedRun]:
        """Claim unclaimed pending runs whose ``due_at <= now`` (retries,
        jittered and manual runs, runs released by recovery), oldest due
        first, as :meth:`claim_due` claims: each becomes ``queued`` to its
        job's executor, claimed by ``replica_id`` at ``claimed_at = now``.  A
        run of a job whose overlap policy is ``queue`` waits while that job
        has a queued or running run.  A ``limit`` below 1 claims nothing."""
        ...

    def follow_chains(self, *, now: datetime, limit: int) -> list[Run]:
        """Start the chained jobs whose upstream runs ended; returns the runs created.

        In one transaction: take up to ``limit`` ended runs, earliest end
        first, of the jobs that other jobs run ``after`` and whose end no
        chain has seen yet; for each, create one unclaimed pending run (due
        at ``now``, trigger ``chain``, ``upstream_run_id`` the upstream run,
        ``scheduled_for`` the upstream run's end) of every active chained job
        whose ``when`` the run's status meets and that was last changed no
        later than that end; then mark the upstream runs seen.  A job after
        two or more upstreams (a join) gets one run per slot for which every
        upstream has a qualifying ended run with that ``scheduled_for``: when
        one of those runs is seen, ``upstream_run_id`` the lowest-id one of
        the first upstream, ``scheduled_for`` the latest end joined.  A run is
        never seen twice, and ``(job, upstream_run_id)`` is unique (a run
        that would repeat one is left out quietly), so two replicas calling
        it at once create each chained run once; a replica that dies before
        its commit leaves the runs unseen for the next call.  A slot and
        attempt that is taken moves the new run a microsecond later.  A
        ``limit`` below 1 does nothing.  Raises :class:`ValueError` for a
        naive ``now``.
        """
        ...

    def add_run(self, job_name: str, new: NewRun) -> Run:
        """Insert one unclaimed pending run (a retry, a manual run); returns it.

        Raises :class:`ValueError` if ``new`` is not pending or not a valid
        new run, :class:`~scheduler.errors.JobNotFound` for an unknown job,
        and :class:`~scheduler.errors.DuplicateRun` if the slot and attempt
        exist; nothing is written then.
        """
        ...

    def mark_queued(self, run_id: int, *, executor: str, external_id: str, now: datetime) -> None:
        """The run was handed to ``executor`` (``external_id``: e.g. a Celery
        task id).  Only a ``pending`` run moves; any other is left as it is."""
        ...

    def set_external_ids(self, external_ids: Mapping[int, str]) -> None:
        """Record, in one statement, the id each run got from the executor it was
        handed to (a Celery task id), once it is ``queued``.

        A run with an external id is executed outside the scheduler: recovery
        leaves it alone when its replica stops, and watches its worker's
        heartbeat instead (:meth:`beat_runs`).  Unknown ids are ignored; no
        ids is no statement.
        """
        ...

    def beat_runs(self, run_ids: Sequence[int], *, now: datetime) -> None:
        """A worker outside the scheduler is still executing these runs:
        ``heartbeat_at = now`` for those of them that are ``running``; others,
        and unknown ids, are left as they are."""
        ...

    def mark_running(self, run_id: int, *, worker: str, now: datetime) -> bool:
        """The run started on ``worker`` (``host:pid``).  Returns False, changing
        nothing, if it already started or ended: the caller must not execute it."""
        ...

    def mark_finished(self, run_id: int, outcome: Outcome, *, retry: Retrier | None = None) -> bool:
        """Record how the run ended; True when this call ended it.

        A run already in a terminal status is left as it is, and False
        returned, so of several reports of one run's end exactly one returns
        True.  Raises :class:`ValueError` if ``outcome`` is not a terminal
        status (or its ``finished_at`` is naive), changing nothing.

        With ``retry``, when this call ends the run, ``retry`` is asked for its
        next attempt (given the run as ended and its job), which is inserted
        as an unclaimed pending run in the same transaction, as
        :meth:`~scheduler.stores.base.ReplicaStore.recover` does for lost
        runs: an outcome is never recorded without its retry.  Nothing
        changes when ``retry`` raises or asks for a run that is not a valid
        new run (:class:`ValueError`), or for one whose slot and attempt exist
        (:class:`~scheduler.errors.DuplicateRun`)."""
        ...

    def release_runs(self, run_ids: Sequence[int], *, replica_id: str) -> list[int]:
        """Give back runs ``replica_id`` claimed but never started, in one
        transaction, so that another replica claims them (:meth:`claim_pending`).

        Of ``run_ids``, each run that is still ``pending`` or ``queued``,
        claimed by ``replica_id`` and not handed to a worker outside the
        scheduler (no ``external_id``) becomes ``pending`` and unclaimed
        (``replica_id`` and ``claimed_at`` cleared); its slot and attempt stay
        as they were, so it is the same run, claimed once more by exactly one
        replica, never a new slot.  Other runs, and unknown ids, are left as
        they are.  Returns the ids released, ascending; no ids is no statement.
        """
        ...

    def record_transitions(
        self,
        starts: Sequence[RunStart],
        ends: Sequence[RunEnd],
        *,
        retry: Retrier | None = None,
    ) -> Transitions:
        """Record many starts and ends in one transaction (group commit).

        Each start is recorded as :meth:`mark_running` would and each end as
        :meth:`mark_finished` would (with ``retry`` for the ends that ask for
        it), starts first, in the order given: a run reported twice moves
        once.  Returns the runs that started and the runs that ended by this
        call; the others were left as they were.  All or nothing: an unknown
        run id (:class:`LookupError`), an outcome that is not terminal or an
        instant that is naive (:class:`ValueError`), a retry whose slot and
        attempt exist (:class:`~scheduler.errors.DuplicateRun`) change
        nothing, so the caller can record the reports one by one to learn
        which one was refused.  The statements sent are a fixed number,
        whatever the number of runs, besides one read per retry; no starts
        and no ends is no transaction.
        """
        ...

    def cancel_run(self, run_id: int, *, now: datetime) -> bool:
        """Cancel a run that has not started (``finished_at = now``); False,
        changing nothing, if it already started or ended."""
        ...
