"""The class every store is built on: each public verb checks its arguments, then does its work.

A verb of :class:`CheckedStore` applies the argument rules
(:mod:`.arguments`), opens the store's transaction (``_write()``) or read
(``_read()``) and calls the store's function for it (:mod:`.verbs`).
What every store did alike around its work is here once too: verbs with
nothing to do return before opening anything, a claim's runs are put in
order and logged, the run transitions are spelled out, and a slot conflict
reported by the database becomes :class:`~scheduler.errors.DuplicateRun`.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from ...clock import ensure_aware_utc
from ...errors import DuplicateRun
from ...model.jobs import JobSpec
from ...model.policies import JobSource
from ...model.runs import TERMINAL_STATUSES, ClaimedRun, NewRun, Outcome, Run, RunStatus
from ...model.words import plural
from ..base import (
    NextWork,
    Planner,
    RecoveryReport,
    ReplicaInfo,
    Retrier,
    RunEnd,
    RunStart,
    Store,
    StoredJob,
    StoreOverview,
    SyncReport,
    Transitions,
)
from ..rows.constraints import slot_conflict
from .arguments import (
    checked_planner,
    checked_retrier,
    checked_start,
    finished,
    pending_run,
    run_status,
    specs_of,
)
from .chains import ChainVerbs, follow
from .taken import report_taken
from .verbs import ClaimVerbs, HistoryVerbs, JobVerbs, ReplicaVerbs, RunVerbs

__all__ = ["CheckedStore"]

logger = logging.getLogger("scheduler.stores")

Db = TypeVar("Db")

_PENDING = frozenset({RunStatus.PENDING})
_NOT_STARTED = frozenset({RunStatus.PENDING, RunStatus.QUEUED})


class CheckedStore(Store, Generic[Db]):
    """A :class:`~scheduler.stores.base.Store` whose verbs check their arguments
    the one way every store does, then call the store's own work.

    A store built on it names the modules that do its work, one per part of
    :mod:`.verbs` (``_jobs``, ``_claims``, ``_runs``, ``_replicas``,
    ``_history``), and implements ``_write()``, a transaction that writes all
    or nothing, and ``_read()``, a consistent read; each yields the ``db``
    those functions work through.  The rules it then gets for free:

    * every instant given is refused when naive (:class:`ValueError` naming
      it: ``now``, ``finished_at``, a planned run's ``scheduled_for`` or
      ``next_run_at``) and converted to UTC, before anything is written;
    * a ``limit`` below 1 claims or lists nothing, and opens nothing; so
      does a prune without rules, a beat of no runs, no external ids;
    * the runs a planner or retrier asks for, and those given to ``add_run``,
      are checked new runs (``add_run``'s pending); an outcome is terminal;
    * a sync stores its specs as of its source, and refuses a name given twice;
    * the run transitions (queued, running, cancelled) allow the same statuses
      in every store, and a database's slot conflict is ``DuplicateRun``.
    """

    # The store's work, by part: class attributes, each a module of the store.
    _jobs: JobVerbs[Db]
    _claims: ClaimVerbs[Db]
    _runs: RunVerbs[Db]
    _replicas: ReplicaVerbs[Db]
    _history: HistoryVerbs[Db]
    _chains: ChainVerbs[Db]

    @abstractmethod
    def _write(self) -> AbstractContextManager[Db]:
        """A transaction that writes: all of it is kept, or none."""

    @abstractmethod
    def _read(self) -> AbstractContextManager[Db]:
        """A read that sees one consistent state."""

    # -- jobs ---------------------------------------------------------------------
    def sync_jobs(
        self, specs: Iterable[JobSpec], *, source: JobSource, now: datetime
    ) -> SyncReport:
        now = ensure_aware_utc(now, "now")
        specs = specs_of(specs, source)
        with self._write() as db:
            return self._jobs.sync_jobs(db, specs, source, now)

    def save_job(
        self, spec: JobSpec, *, now: datetime, expected_version: int | None = None
    ) -> StoredJob:
        now = ensure_aware_utc(now, "now")
        with self._write() as db:
            return self._jobs.save_job(db, spec, now, expected_version)

    def get_job(self, name: str) -> StoredJob:
        with self._read() as db:
            return self._jobs.get_job(db, name)

    def list_jobs(self) -> list[StoredJob]:
        with self._read() as db:
            return self._jobs.list_jobs(db)

    def set_paused(self, name: str, paused: bool, *, now: datetime) -> StoredJob:
        now = ensure_aware_utc(now, "now")
        with self._write() as db:
            return self._jobs.set_paused(db, name, paused, now)

    # -- the run queue ------------------------------------------------------------
    def next_wake(self) -> datetime | None:
        return self.next_work().at

    def next_work(self) -> NextWork:
        with self._read() as db:
            return self._claims.next_work(db)

    def claim_due(
        self, *, now: datetime, replica_id: str, limit: int, plan: Planner
    ) -> list[ClaimedRun]:
        now = ensure_aware_utc(now, "now")
        if limit <= 0:
            return []
        checked = checked_planner(plan)
        with self._slot_conflicts("claim_due"), self._write() as db:
            claim = self._claims.claim_due(
                db, now=now, replica_id=replica_id, limit=limit, plan=checked
            )
        claimed = sorted(
            claim.claimed, key=lambda c: (c.run.scheduled_for, c.run.job_name, c.run.id)
        )
        if claim.due_jobs:
            logger.debug(
                "replica %s claimed %s of %s",
                replica_id,
                plural(len(claimed), "run"),
                plural(claim.due_jobs, "due job"),
                extra={
                    "replica_id": replica_id,
                    "claimed": len(claimed),
                    "due_jobs": claim.due_jobs,
                },
            )
        if claim.taken:
            report_taken(claim.taken, replica_id, plan)
        return claimed

    def claim_pending(self, *, now: datetime, replica_id: str, limit: int) -> list[ClaimedRun]:
        now = ensure_aware_utc(now, "now")
        if limit <= 0:
            return []
        with self._write() as db:
            return self._claims.claim_pending(db, now=now, replica_id=replica_id, limit=limit)

    def add_run(self, job_name: str, new: NewRun) -> Run:
        new = pending_run(job_name, new)
        slot = f"job {job_name!r}, slot {new.scheduled_for.isoformat()}, attempt {new.attempt}"
        with self._slot_conflicts(slot), self._write() as db:
            return self._claims.add_run(db, job_name, new)

    def follow_chains(self, *, now: datetime, limit: int) -> list[Run]:
        now = ensure_aware_utc(now, "now")
        if limit <= 0:
            return []
        with self._read() as db:
            if not self._chains.anything_to_follow(db):
                return []
        with self._write() as db:
            return follow(self._chains, db, now, limit)

    def mark_queued(self, run_id: int, *, executor: str, external_id: str, now: datetime) -> None:
        ensure_aware_utc(now, "now")
        changes = {"executor": executor, "external_id": external_id}
        self._transition(run_id, _PENDING, RunStatus.QUEUED, changes)

    def set_external_ids(self, external_ids: Mapping[int, str]) -> None:
        if not external_ids:
            return
        with self._write() as db:
            self._runs.set_external_ids(db, external_ids)

    def beat_runs(self, run_ids: Sequence[int], *, now: datetime) -> None:
        now = ensure_aware_utc(now, "now")
        if not run_ids:
            return
        with self._write() as db:
            self._runs.beat_runs(db, run_ids, now)

    def mark_running(self, run_id: int, *, worker: str, now: datetime) -> bool:
        changes = {"started_at": ensure_aware_utc(now, "now"), "worker": worker}
        return self._transition(run_id, _NOT_STARTED, RunStatus.RUNNING, changes)

    def mark_finished(self, run_id: int, outcome: Outcome, *, retry: Retrier | None = None) -> bool:
        outcome = finished(outcome)
        if retry is None:
            with self._write() as db:
                return self._runs.finish(db, run_id, outcome)
        checked = checked_retrier(retry) or retry
        try:
            with self._slot_conflicts(f"the retry of run {run_id}"), self._write() as db:
                # The retry first: every store refuses it before writing anything.
                run = self._history.get_run(db, run_id)
                new = _next_attempt(
                    run, outcome, self._jobs.get_job(db, run.job_name).spec, checked
                )
                if new is not None:
                    self._claims.add_run(db, run.job_name, pending_run(run.job_name, new))
                ended = self._runs.finish(db, run_id, outcome)
                if new is not None and not ended:
                    raise _EndedMeanwhile  # rolls the retry back
                return ended
        except _EndedMeanwhile:
            return False

    def release_runs(self, run_ids: Sequence[int], *, replica_id: str) -> list[int]:
        ids = sorted(set(run_ids))
        if not ids:
            return []
        with self._write() as db:
            return [run_id for run_id in ids if self._release(db, run_id, replica_id)]

    def _release(self, db: Db, run_id: int, replica_id: str) -> bool:
        """Release one run inside the transaction of ``db``.  A run that is not
        started yet can change owner only by being released first, so the owner
        read here is the owner when the status moves."""
        try:
            run = self._history.get_run(db, run_id)
        except LookupError:
            return False
        if run.replica_id != replica_id or run.external_id:
            return False
        changes = {"replica_id": "", "claimed_at": None}
        return self._runs.transition(db, run_id, _NOT_STARTED, RunStatus.PENDING, changes)

    def record_transitions(
        self,
        starts: Sequence[RunStart],
        ends: Sequence[RunEnd],
        *,
        retry: Retrier | None = None,
    ) -> Transitions:
        starts = [checked_start(start, index) for index, start in enumerate(starts)]
        ends = [replace(end, outcome=finished(end.outcome)) for end in ends]
        if not starts and not ends:
            return Transitions()
        checked = checked_retrier(retry)
        with self._slot_conflicts("a retry in a group commit"), self._write() as db:
            started = self._runs.start_many(db, starts) if starts else set()
            ended = self._runs.finish_many(db, ends) if ends else set()
            if checked is not None:
                for end in ends:
                    if end.retry and end.run_id in ended:
                        self._add_retry(db, end.run_id, checked)
        return Transitions(started=frozenset(started), ended=frozenset(ended))

    def _add_retry(self, db: Db, run_id: int, retry: Retrier) -> None:
        """Insert the next attempt ``retry`` asks for after ``run_id`` ended."""
        run = self._history.get_run(db, run_id)
        new = retry(run, self._jobs.get_job(db, run.job_name).spec)
        if new is not None:
            self._claims.add_run(db, run.job_name, pending_run(run.job_name, new))

    def cancel_run(self, run_id: int, *, now: datetime) -> bool:
        changes = {"finished_at": ensure_aware_utc(now, "now")}
        return self._transition(run_id, _NOT_STARTED, RunStatus.CANCELLED, changes)

    def _transition(
        self,
        run_id: int,
        allowed: frozenset[RunStatus],
        status: RunStatus,
        changes: Mapping[str, object],
    ) -> bool:
        with self._write() as db:
            return self._runs.transition(db, run_id, allowed, status, changes)

    # -- replicas and recovery ------------------------------------------------------
    def heartbeat(self, replica_id: str, *, hostname: str, pid: int, now: datetime) -> None:
        now = ensure_aware_utc(now, "now")
        with self._write() as db:
            self._replicas.heartbeat(db, replica_id, hostname=hostname, pid=pid, now=now)

    def stop_replica(self, replica_id: str, *, now: datetime) -> None:
        now = ensure_aware_utc(now, "now")
        with self._write() as db:
            self._replicas.stop_replica(db, replica_id, now=now)

    def list_replicas(self) -> list[ReplicaInfo]:
        with self._read() as db:
            return self._replicas.list_replicas(db)

    def prune_replicas(self, *, now: datetime, older_than: timedelta) -> int:
        cutoff = ensure_aware_utc(now, "now") - older_than
        with self._write() as db:
            return self._replicas.prune_replicas(db, cutoff=cutoff)

    def recover(
        self,
        *,
        now: datetime,
        stale_after: timedelta,
        retry: Retrier | None = None,
        start_timeout: timedelta | None = None,
    ) -> RecoveryReport:
        now = ensure_aware_utc(now, "now")
        checked = checked_retrier(retry)
        with self._write() as db:
            return self._replicas.recover(
                db, now=now, stale_after=stale_after, retry=checked, start_timeout=start_timeout
            )

    # -- history ----------------------------------------------------------------
    def get_run(self, run_id: int) -> Run:
        with self._read() as db:
            return self._history.get_run(db, run_id)

    def list_runs(
        self, *, job_name: str | None = None, status: RunStatus | None = None, limit: int = 50
    ) -> list[Run]:
        status = run_status(status)
        if limit <= 0:
            return []
        with self._read() as db:
            return self._history.list_runs(db, job_name, status, limit)

    def overview(self, *, now: datetime, run_ids: Sequence[int] = ()) -> StoreOverview:
        now = ensure_aware_utc(now, "now")
        ids = sorted(set(run_ids))
        with self._read() as db:
            return self._history.overview(db, now, ids)

    def prune(self, *, now: datetime, keep_last: int | None, max_age: timedelta | None) -> int:
        now = ensure_aware_utc(now, "now")
        if keep_last is None and max_age is None:
            return 0
        keep_last = None if keep_last is None else max(keep_last, 0)
        with self._write() as db:
            return self._history.prune(db, now, keep_last, max_age)

    # -- slot conflicts -----------------------------------------------------------
    @contextmanager
    def _slot_conflicts(self, what: str) -> Iterator[None]:
        """Turn the database's refusal of a second run of one slot and attempt
        (its library's error, caused by the driver's) into DuplicateRun about ``what``."""
        try:
            yield
        except DuplicateRun:
            raise
        except Exception as error:
            conflict = slot_conflict(error.__cause__)
            if conflict is None:
                raise
            raise DuplicateRun(f"{what}: {conflict}") from error


class _EndedMeanwhile(Exception):
    """Another transaction ended the run between reading and finishing it."""


def _next_attempt(run: Run, outcome: Outcome, job: JobSpec, retry: Retrier) -> NewRun | None:
    """What ``retry`` asks for after ``run`` ends as ``outcome``; nothing if it had ended."""
    if run.status in TERMINAL_STATUSES:
        return None
    ended = replace(
        run, status=outcome.status, finished_at=outcome.finished_at, error=outcome.error
    )
    return retry(ended, job)
