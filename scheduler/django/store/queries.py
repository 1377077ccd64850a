"""What every query of the Django store uses: querysets, columns, statuses, IN-list chunks.

``column IN values`` with thousands of values is one bound parameter per
value, which SQLite caps: :func:`chunks` splits such lists to fit the
database.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, Q, QuerySet, Value

from ...model.runs import ACTIVE_STATUSES, TERMINAL_STATUSES, RunStatus
from ..models import Job, Replica
from ..models import Run as RunRow

__all__ = [
    "ACTIVE",
    "BUSY",
    "ENABLED",
    "JOB_DEFINITION",
    "JOB_FIELDS",
    "PENDING",
    "QUEUED",
    "RUNNING",
    "RUN_FIELDS",
    "TERMINAL",
    "Row",
    "chunks",
    "for_update",
    "jobs",
    "replicas",
    "runs",
]

_T = TypeVar("_T")
_M = TypeVar("_M", bound=Model)
Row = Mapping[str, Any]

#: Every column of ``scheduler_job``, and all but its id.
JOB_FIELDS = tuple(field.attname for field in Job._meta.concrete_fields)
JOB_DEFINITION = tuple(name for name in JOB_FIELDS if name != "id")
#: Every column of ``scheduler_run``.
RUN_FIELDS = tuple(field.attname for field in RunRow._meta.concrete_fields)

PENDING = RunStatus.PENDING.value
ACTIVE = sorted(status.value for status in ACTIVE_STATUSES)
TERMINAL = sorted(status.value for status in TERMINAL_STATUSES)
BUSY = [RunStatus.QUEUED.value, RunStatus.RUNNING.value]
RUNNING = RunStatus.RUNNING.value
QUEUED = RunStatus.QUEUED.value

# "enabled = true", not Django's bare "WHERE enabled", which SQLite cannot
# answer from the (enabled, next_run_at) index: it would scan every job.
ENABLED = Q(enabled=Value(True))
# PostgreSQL takes an array as one parameter; elsewhere IN lists are chunked.
_CHUNK = 5_000


def jobs(using: str) -> QuerySet[Job]:
    return Job.objects.using(using)


def runs(using: str) -> QuerySet[RunRow]:
    return RunRow.objects.using(using)


def replicas(using: str) -> QuerySet[Replica]:
    return Replica.objects.using(using)


def chunks(using: str, values: Sequence[_T]) -> Iterator[Sequence[_T]]:
    """``values`` in slices small enough for one IN list on the database ``using``."""
    size = _chunk_size(connections[using])
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _chunk_size(connection: BaseDatabaseWrapper) -> int:
    limit = connection.features.max_query_params
    return _CHUNK if limit is None else min(_CHUNK, int(limit) - 10)


def for_update(
    query: QuerySet[_M], using: str, *, skip_locked: bool = False, of_self: bool = False
) -> QuerySet[_M]:
    """``query`` locking its rows: ``FOR NO KEY UPDATE`` on PostgreSQL, so inserts of
    runs that reference a locked job are not blocked, and ``FOR UPDATE`` where there
    is nothing finer (MariaDB, MySQL).  ``of_self`` locks only the rows of the
    query's own table, where the database can say so (MariaDB cannot: it locks
    the joined rows too)."""
    features = connections[using].features
    return query.select_for_update(
        skip_locked=skip_locked,
        no_key=features.has_select_for_no_key_update,
        of=("self",) if of_self and features.has_select_for_update_of else (),
    )
