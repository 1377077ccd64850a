"""A SQL store's sync, sorted: which specs are new, changed or unchanged, and what it reports.

The rows here are the mappings a store read of the ``scheduler_job`` rows
(at least ``definition_hash``, ``removed_at``, ``version``, ``created_at``
and ``paused_at``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, TypeVar

from ...model.jobs import JobSpec
from ..protocol.values import StoredJob, SyncReport
from ..rules import Definitions

__all__ = [
    "SYNC_BATCH",
    "SyncTally",
    "batched",
    "batches",
    "compare_specs",
    "redefined",
    "sync_report",
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


def sync_report(
    added: Sequence[JobSpec],
    changed: Sequence[tuple[Any, JobSpec]],
    disabled: Sequence[tuple[Any, JobSpec]],
    unchanged: Sequence[str],
) -> SyncReport:
    """The :class:`SyncReport` of a sync that sorted its specs with
    :func:`compare_specs` and disabled the jobs of ``disabled``."""
    return SyncReport(
        added=tuple(sorted(spec.name for spec in added)),
        updated=tuple(sorted(spec.name for _, spec in changed)),
        disabled=tuple(sorted(spec.name for _, spec in disabled)),
        unchanged=tuple(sorted(unchanged)),
    )


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
