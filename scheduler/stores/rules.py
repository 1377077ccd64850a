"""The rules a store's verbs apply to what it holds, whatever it holds it in.

Each is written once and used by every store (memory, SQLAlchemy, Django):
who may replace a job, when a save is stale, what a job's new definition
is, and the errors for what is not there.  The rules for the arguments
themselves are :mod:`scheduler.stores.checked.arguments`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from ..errors import InvalidJob, JobChanged, JobNotFound
from ..model.jobs import JobSpec
from ..model.policies import JobSource, OverlapPolicy
from ..schedules.kinds import Cron
from .protocol.values import StoredJob

__all__ = [
    "DUPLICATE_SLOT",
    "Definitions",
    "check_replace",
    "check_version",
    "foreign_source",
    "job_not_found",
    "new_definition",
    "one_run_per_queue_job",
    "run_not_found",
    "unchanged",
]

T = TypeVar("T")

#: What a second run of one slot and attempt is refused with.
DUPLICATE_SLOT = "a run for the same job, slot and attempt already exists"


def check_replace(
    spec: JobSpec, stored: tuple[str, int] | None, expected_version: int | None
) -> None:
    """Refuse to save ``spec`` over the stored job of its name, ``stored`` as
    (source value, version), or ``None`` if there is none:
    :class:`InvalidJob` if it belongs to another source,
    :class:`JobChanged` if it is not at ``expected_version`` (see :func:`check_version`)."""
    if stored is not None and stored[0] != spec.source.value:
        raise foreign_source(spec.name, stored[0], spec.source)
    check_version(spec.name, None if stored is None else stored[1], expected_version)


def foreign_source(name: str, owner: str, source: JobSource) -> InvalidJob:
    """The error for a job of ``source`` that would replace one of source ``owner``."""
    return InvalidJob(
        f"job {name!r} already exists from source {owner!r}; "
        f"a {source.value!r} job may not replace it"
    )


def check_version(name: str, stored: int | None, expected: int | None) -> None:
    """:class:`JobChanged` unless the job ``name``, stored at version
    ``stored`` (``None``: not stored), is at the ``expected`` one (``0``: not
    stored yet; ``None``: any)."""
    actual = stored or 0
    if expected is None or actual == expected:
        return
    if expected == 0:
        problem = f"was created by someone else meanwhile (it is at version {actual})"
    elif actual == 0:
        problem = "was deleted meanwhile"
    else:
        problem = (
            f"was changed by someone else meanwhile: it is at version {actual}, "
            f"this change was based on version {expected}"
        )
    raise JobChanged(f"job {name!r} {problem}; nothing was saved")


def unchanged(definition_hash: str, removed_at: datetime | None, spec: JobSpec) -> bool:
    """Whether storing ``spec`` over a job stored with ``definition_hash`` and
    ``removed_at`` would change nothing."""
    return definition_hash == spec.definition_hash() and removed_at is None


def new_definition(
    spec: JobSpec,
    now: datetime,
    *,
    version: int,
    created_at: datetime,
    paused_at: datetime | None = None,
    removed_at: datetime | None = None,
) -> StoredJob:
    """``spec`` stored as a job's new definition at ``now``: its next slot is the
    first after ``now``, unless it is disabled or paused."""
    return Definitions(now).new(
        spec, version=version, created_at=created_at, paused_at=paused_at, removed_at=removed_at
    )


class Definitions:
    """The new definitions a sync stores at ``now``, for many jobs at once.

    A next slot is computed once per distinct schedule and window: 100,000
    jobs on five cron expressions ask croniter five times, not 100,000.  (Each
    spec keeps its own definition hash, so no spec is held here: a sync
    written a batch at a time holds one batch.)
    """

    __slots__ = ("_slots", "now")

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._slots: dict[tuple[object, ...], datetime | None] = {}

    def hash(self, spec: JobSpec) -> str:
        """``spec.definition_hash()`` (which a spec computes once and keeps)."""
        return spec.definition_hash()

    def unchanged(self, definition_hash: str, removed_at: datetime | None, spec: JobSpec) -> bool:
        """:func:`unchanged`, with the hash computed once."""
        return definition_hash == self.hash(spec) and removed_at is None

    def next_slot(self, spec: JobSpec) -> datetime | None:
        """``spec.next_after(now)``, computed once per schedule and window."""
        schedule = spec.schedule
        # A Cron compares by job name too (for H); its parsed expression does not.
        identity = (schedule.expression, schedule.tz) if isinstance(schedule, Cron) else schedule
        key = (identity, spec.start, spec.end)
        if key not in self._slots:
            self._slots[key] = spec.next_after(self.now)
        return self._slots[key]

    def new(
        self,
        spec: JobSpec,
        *,
        version: int,
        created_at: datetime,
        paused_at: datetime | None = None,
        removed_at: datetime | None = None,
    ) -> StoredJob:
        """:func:`new_definition` of ``spec`` at :attr:`now`."""
        return StoredJob(
            spec=spec,
            next_run_at=self.next_slot(spec) if spec.enabled and paused_at is None else None,
            paused_at=paused_at,
            removed_at=removed_at,
            version=version,
            definition_hash=self.hash(spec),
            created_at=created_at,
            updated_at=self.now,
        )


def job_not_found(name: str) -> JobNotFound:
    return JobNotFound(f"no job is called {name!r}")


def run_not_found(run_id: int) -> LookupError:
    return LookupError(f"no run has id {run_id}")


def one_run_per_queue_job(runs: Sequence[T], spec_of: Callable[[T], JobSpec]) -> list[T]:
    """``runs`` (pending runs about to be claimed, oldest due first) without the
    second and later runs of each job whose overlap policy is ``queue``: such a
    job runs one run at a time, so its next run waits for the one claimed now."""
    kept: list[T] = []
    queued: set[str] = set()
    for run in runs:
        spec = spec_of(run)
        if spec.policy.overlap is OverlapPolicy.QUEUE:
            if spec.name in queued:
                continue
            queued.add(spec.name)
        kept.append(run)
    return kept
