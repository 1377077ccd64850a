"""The jobs part of the store protocol: job definitions, synced, saved, read and paused."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol, runtime_checkable

from ...model.jobs import JobSpec
from ...model.policies import JobSource
from .values import StoredJob, SyncReport

__all__ = ["JobStore"]


@runtime_checkable
class JobStore(Protocol):
    """Where job definitions live, with each job's next slot and pause state.

    Every ``now`` must be timezone-aware: a naive one raises
    :class:`ValueError` naming it, and nothing changes.  Jobs are never
    deleted here: a job its source stops declaring is disabled, so its
    history stays.
    """

    def sync_jobs(
        self, specs: Iterable[JobSpec], *, source: JobSource, now: datetime
    ) -> SyncReport:
        """Make the stored jobs of ``source`` match ``specs``, in one transaction.

        Each spec is stored as of ``source``, whatever its own ``source`` says.
        New names are added (``next_run_at`` = first slot after ``now``);
        changed definitions are updated (``version`` + 1, ``next_run_at``
        recomputed from ``now``, ``removed_at`` cleared); jobs of ``source``
        missing from ``specs`` are disabled and get ``removed_at = now``, never
        deleted, so their history stays.  Pause state is left as it is: a
        paused job stays paused (``next_run_at`` stays ``None``) whatever its
        new definition says.  Jobs of other sources are never touched.

        Raises :class:`~scheduler.errors.InvalidJob`, changing nothing, when
        a name is given twice or is already owned by another source.

        ``specs`` may be any iterable, a generator too: the SQL stores read
        and write it a batch at a time, so a sync of a million specs need
        not hold them all (the memory store holds them anyway).
        """
        ...

    def save_job(
        self, spec: JobSpec, *, now: datetime, expected_version: int | None = None
    ) -> StoredJob:
        """Create the job, or replace the definition of the one of that name.

        Pause state is kept and ``removed_at`` cleared; an unchanged
        definition changes nothing.  Returns the job as stored.

        Raises :class:`~scheduler.errors.InvalidJob` for a job of another
        source, which is not replaced.  ``expected_version``, if given, is
        the version the change was based on (``0``: the job must not exist
        yet); if the stored job is at another version,
        :class:`~scheduler.errors.JobChanged` is raised and nothing is
        written, so two editors cannot silently overwrite each other.
        """
        ...

    def get_job(self, name: str) -> StoredJob:
        """The job called ``name``; :class:`~scheduler.errors.JobNotFound` if none."""
        ...

    def list_jobs(self) -> list[StoredJob]:
        """Every job, ordered by name."""
        ...

    def set_paused(self, name: str, paused: bool, *, now: datetime) -> StoredJob:
        """Pause (``paused_at = now``, ``next_run_at = None``) or resume a job;
        returns it as stored.

        Resuming continues from ``now``: the next slot is the first after
        ``now``, with no burst of catch-up.  Works on a job of any source; a
        no-op if the job is already in that state.  Raises
        :class:`~scheduler.errors.JobNotFound`.
        """
        ...
