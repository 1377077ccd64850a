"""A SQL store's sync, sorted: which specs are new, changed or unchanged, and what it reports.

The rows here are the mappings a store read of the ``scheduler_job`` rows
(at least ``definition_hash``, ``removed_at``, ``version``, ``created_at``
and ``paused_at``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, Generic, TypeVar

from ...model.jobs import JobSpec
from ..protocol.values import StoredJob, SyncReport
from ..rules import Definitions
from .jobs import as_stored

__all__ = [
    "SYNC_BATCH",
    "SyncSteps",
    "SyncTally",
    "batched",
    "batches",
    "compare_specs",
    "redefined",
    "sync_batches",
]

_Row = TypeVar("_Row", bound=Mapping[Any, Any])
_Item = TypeVar("_Item")

#: How many jobs a sync inserts or updates per statement.
SYNC_BATCH = 2000


def compare_specs(
    specs: Sequence[JobSpec], stored: Mapping[str, _Row], definitions: Definitions
) -> tuple[list[JobSpec], list[tuple[_Row, JobSpec]], list[str]]:
    """Sort ``specs`` against the ``stored`` rows of their names into new ones,
    changed ones (with their row), and the names of unchanged ones (by
    definition hash, each computed once by ``definitions``)."""
    added: list[JobSpec] = []
    changed: list[tuple[_Row, JobSpec]] = []
    same: list[str] = []
    for spec in specs:
        old = stored.get(spec.name)
        if old is None:
            added.append(spec)
        elif definitions.unchanged(old["definition_hash"], old["removed_at"], spec):
            same.append(spec.name)
        else:
            changed.append((old, spec))
    return added, changed, same


def redefined(
    changes: Sequence[tuple[_Row, JobSpec]], definitions: Definitions, *, removed: bool = False
) -> list[StoredJob]:
    """The new definitions of the jobs of ``changes`` (each a stored row and its
    new spec) at ``definitions.now``: version + 1, next slot from then unless
    paused, and ``removed_at`` set to then if ``removed``."""
    now = definitions.now
    return [
        definitions.new(
            spec,
            version=row["version"] + 1,
            created_at=row["created_at"],
            paused_at=row["paused_at"],
            removed_at=now if removed else None,
        )
        for row, spec in changes
    ]


def batches(items: Sequence[_Item], size: int = SYNC_BATCH) -> Iterator[Sequence[_Item]]:
    """``items`` in slices of ``size``: a sync writes in batches, so the rows
    it builds to write are never more than one batch, whatever the file's size."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def batched(items: Iterable[_Item], size: int = SYNC_BATCH) -> Iterator[list[_Item]]:
    """``items``, of any length, read ``size`` at a time."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class SyncTally:
    """The names a sync written a batch at a time was given and what it did
    with each, for its :class:`SyncReport`; the specs themselves are not kept."""

    __slots__ = ("added", "disabled", "given", "unchanged", "updated")

    def __init__(self) -> None:
        self.given: set[str] = set()
        self.added: list[str] = []
        self.updated: list[str] = []
        self.unchanged: list[str] = []
        self.disabled: list[str] = []

    def count(
        self,
        names: Sequence[str],
        added: Sequence[JobSpec],
        changed: Sequence[tuple[Any, JobSpec]],
        unchanged: Sequence[str],
    ) -> None:
        """Count one batch of ``names``, sorted by :func:`compare_specs`."""
        self.given.update(names)
        self.added += [spec.name for spec in added]
        self.updated += [spec.name for _, spec in changed]
        self.unchanged += unchanged

    @property
    def written(self) -> int:
        """How many jobs were added, updated or disabled."""
        return len(self.added) + len(self.updated) + len(self.disabled)

    @property
    def wrote(self) -> bool:
        """Whether anything was added, updated or disabled."""
        return self.written > 0

    def report(self) -> SyncReport:
        return SyncReport(
            added=tuple(sorted(self.added)),
            updated=tuple(sorted(self.updated)),
            disabled=tuple(sorted(self.disabled)),
            unchanged=tuple(sorted(self.unchanged)),
        )


@dataclass(frozen=True, slots=True)
class SyncSteps(Generic[_Row]):
    """How one SQL store reads and writes a sync's batch, for :func:`sync_batches`;
    each step is of the sync's source and inside its transaction."""

    #: The definition hash and removal of the jobs called these names, unlocked.
    hashes: Callable[[Sequence[str]], Mapping[str, tuple[str, datetime | None]]]
    #: What :func:`compare_specs` needs of the jobs called these names, locked
    #: until the sync commits.
    rows: Callable[[Sequence[str]], Iterable[_Row]]
    #: Raise if a job of another source has one of these names.
    refuse_foreign: Callable[[Sequence[str]], None]
    #: Insert these new jobs (one batch).
    insert: Callable[[Sequence[JobSpec]], object]
    #: Store these jobs' new definitions (one batch).
    update: Callable[[Sequence[tuple[_Row, JobSpec]]], object]


def sync_batches(
    specs: Iterable[JobSpec], definitions: Definitions, steps: SyncSteps[_Row]
) -> tuple[SyncTally, int]:
    """Sync ``specs`` (any iterable, a generator too) a batch at a time: what
    it did with each name, and how many of the names given had a live job.

    Each batch is compared with the stored rows of its own names only, first
    on plain tuples and without locks: an unchanged job costs a tuple and its
    spec's kept hash, and nothing is written for it, not even a row lock.
    The others are compared again with their rows locked, as they are now (a
    sync beside this one may have written them meanwhile), and written.  So a
    sync holds one batch of specs and the names, however many are unchanged.
    """
    tally, live = SyncTally(), 0
    for chunk in batched(specs):
        batch = [as_stored(spec) for spec in chunk]
        names = [spec.name for spec in batch]
        seen = steps.hashes(names)
        live += sum(1 for _, removed_at in seen.values() if removed_at is None)
        unchanged: list[str] = []
        maybe: list[JobSpec] = []
        for spec in batch:
            stored = seen.get(spec.name)
            if stored is not None and definitions.unchanged(stored[0], stored[1], spec):
                unchanged.append(spec.name)
            else:
                maybe.append(spec)
        added: list[JobSpec] = []
        changed: list[tuple[_Row, JobSpec]] = []
        if maybe:
            wanted = [spec.name for spec in maybe]
            mine = {row["name"]: row for row in steps.rows(wanted)}
            steps.refuse_foreign([name for name in wanted if name not in mine])
            added, changed, same = compare_specs(maybe, mine, definitions)
            unchanged += same
            if added:
                steps.insert(added)
            if changed:
                steps.update(changed)
        tally.count(names, added, changed, unchanged)
    return tally, live
