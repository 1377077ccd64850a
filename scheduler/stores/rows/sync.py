"""A SQL store's sync, sorted: which specs are new, changed or unchanged, and what it reports.

The rows here are the mappings a store read of the ``scheduler_job`` rows
(at least ``definition_hash``, ``removed_at``, ``version``, ``created_at``
and ``paused_at``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from ...model.jobs import JobSpec
from ..protocol.values import StoredJob, SyncReport
from ..rules import new_definition, unchanged

__all__ = ["compare_specs", "redefined", "sync_report"]

_Row = TypeVar("_Row", bound=Mapping[Any, Any])


def compare_specs(
    specs: Sequence[JobSpec], stored: Mapping[str, _Row]
) -> tuple[list[JobSpec], list[tuple[_Row, JobSpec]], list[str]]:
    """Sort ``specs`` against the ``stored`` rows of their names into new ones,
    changed ones (with their row), and the names of unchanged ones."""
    added: list[JobSpec] = []
    changed: list[tuple[_Row, JobSpec]] = []
    same: list[str] = []
    for spec in specs:
        old = stored.get(spec.name)
        if old is None:
            added.append(spec)
        elif unchanged(old["definition_hash"], old["removed_at"], spec):
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
    changes: Sequence[tuple[_Row, JobSpec]], now: datetime, *, removed: bool = False
) -> list[StoredJob]:
    """The new definitions of the jobs of ``changes`` (each a stored row and its
    new spec) at ``now``: version + 1, next slot from ``now`` unless paused, and
    ``removed_at`` set to ``now`` if ``removed``."""
    return [
        new_definition(
            spec,
            now,
            version=row["version"] + 1,
            created_at=row["created_at"],
            paused_at=row["paused_at"],
            removed_at=now if removed else None,
        )
        for row, spec in changes
    ]
