"""Percentiles computed in the database: p95 duration per job, lateness p50/p99.

Both read each job's latest :data:`RECENT` runs that started in the window
(a bounded sample, as the job page's duration chart draws the last 200), so
their cost follows the number of jobs, not the length of the window: on 30
days of a job due every minute they read 200 of its runs, not 43,200.

PostgreSQL has ``percentile_cont``, an ordered-set aggregate that
interpolates between the two nearest values; each job's latest runs are
found with ``CROSS JOIN LATERAL (... ORDER BY scheduled_for DESC LIMIT n)``
through the ``(job_id, scheduled_for)`` history index, and one query gives
the per-job p95 and the overall lateness (``GROUPING SETS``).

SQLite, MariaDB and MySQL have no percentile aggregate.  There the runs are
numbered in the database with window functions (each job's runs newest
first, to keep its latest; then in value order, with ``COUNT(*)`` over the
same partition) and an outer query keeps the smallest value whose position
reaches the fraction: the *nearest-rank* percentile, the value of rank
ceil(p x n).  One query per figure, and no run reaches Python; on a few
values it can differ from PostgreSQL's interpolated figure by up to the gap
between two neighbours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import connections
from django.db.models import (
    Case,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber

from ....model.runs import Trigger
from ...fields import UTCDateTimeField
from ...models import Run
from ..common import database
from .counts import runs_in
from .periods import Span

__all__ = ["RECENT", "Percentiles", "percentiles"]

_RANK, _SIZE, _VALUE, _RECENT = "tw_rank", "tw_size", "tw_value", "tw_recent"


def _postgres() -> bool:
    return connections[database()].vendor == "postgresql"


#: How many of each job's latest runs in the window the percentiles read.
RECENT = 200
# Each job's latest started runs in [since, until): its duration, and how late it
# started (NULL for a retry); then per job and over all (GROUPING SETS).
_POSTGRES = """SELECT GROUPING(j.id), j.id,
    PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY r.duration),
    PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY r.late),
    PERCENTILE_CONT(0.99) WITHIN GROUP (ORDER BY r.late)
FROM scheduler_job j CROSS JOIN LATERAL (
    SELECT duration_seconds AS duration, CASE WHEN trigger <> '{retry}'
        THEN EXTRACT(EPOCH FROM started_at - scheduled_for) END AS late
    FROM scheduler_run
    WHERE job_id = j.id AND scheduled_for >= %s AND scheduled_for < %s
        AND started_at IS NOT NULL
    ORDER BY scheduled_for DESC LIMIT {recent}) r
GROUP BY GROUPING SETS ((j.id), ())"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Percentiles:
    """The dashboard's percentiles, over each job's latest :data:`RECENT` runs that
    started in the window."""

    #: Per job id: the 95th percentile of its runs' durations, in seconds.
    p95: dict[int, float]
    #: The median and 99th percentile of how late runs started after their slot
    #: (retries left out: their slot is the first attempt's); ``None`` without any.
    lateness: tuple[timedelta, timedelta] | None


def percentiles(span: Span) -> Percentiles:
    """The percentiles of ``span``: one query on PostgreSQL, two elsewhere."""
    if _postgres():
        rows = _rows(_POSTGRES.format(retry=Trigger.RETRY.value, recent=RECENT), span)
        p95 = {row[1]: row[2] for row in rows if not row[0] and row[2] is not None}
        total = next((row[3:] for row in rows if row[0]), (None, None))
        return Percentiles(p95=p95, lateness=_pair(total))
    started = runs_in(span).filter(started_at__isnull=False)
    durations = _latest(started, F("duration_seconds"), FloatField())
    p95 = {key: values[0] for key, values in _nearest_rank(durations, (0.95,), by_job=True)}
    late = Case(
        When(trigger=Trigger.RETRY.value, then=Value(None)),
        default=ExpressionWrapper(
            F("started_at") - F("scheduled_for"), output_field=DurationField()
        ),
        output_field=DurationField(),
    )
    found = _nearest_rank(_latest(started, late, DurationField()), (0.5, 0.99), by_job=False)
    return Percentiles(p95=p95, lateness=_pair(found[0][1] if found else (None, None)))


def _pair(values: Sequence[Any]) -> tuple[timedelta, timedelta] | None:
    if values[0] is None:
        return None
    return _duration(values[0]), _duration(values[1])


def _rows(sql: str, span: Span) -> list[tuple[Any, ...]]:
    """``sql``'s rows, its two parameters the span's ends as the database stores instants."""
    connection = connections[database()]
    field = UTCDateTimeField()
    ends = [field.get_db_prep_value(end, connection) for end in (span.since, span.until)]
    with connection.cursor() as cursor:
        cursor.execute(sql, ends)
        return list(cursor.fetchall())


def _latest(runs: QuerySet[Run], value: Any, field: Any) -> QuerySet[Run, dict[str, Any]]:
    """``runs`` with their ``value``, each job's numbered newest first."""
    newest_first = Window(
        RowNumber(), partition_by=[F("job_id")], order_by=F("scheduled_for").desc()
    )
    numbered: QuerySet[Run, dict[str, Any]] = runs.annotate(
        **{_VALUE: ExpressionWrapper(value, output_field=field), _RECENT: newest_first}
    ).values("job_id", _VALUE, _RECENT)
    return numbered


def _nearest_rank(
    latest: QuerySet[Run, dict[str, Any]], fractions: tuple[float, ...], *, by_job: bool
) -> list[tuple[Any, list[Any]]]:
    """Per job (or over all), the smallest value whose rank reaches each fraction,
    among each job's latest :data:`RECENT` runs: one query."""
    connection = connections[database()]
    q = connection.ops.quote_name
    # Compiled for this connection (sql_with_params would compile for "default").
    inner, params = latest.query.get_compiler(using=database()).as_sql()
    over = f"PARTITION BY {q('job_id')}" if by_job else ""
    # Names and numbers only: the inner query's values are parameters.
    ranked = (
        f"SELECT {q('job_id')}, {q(_VALUE)}, "  # noqa: S608
        f"ROW_NUMBER() OVER ({over} ORDER BY {q(_VALUE)}) AS {q(_RANK)}, "
        f"COUNT(*) OVER ({over}) AS {q(_SIZE)} "
        f"FROM ({inner}) recent WHERE {q(_RECENT)} <= {RECENT} AND {q(_VALUE)} IS NOT NULL"
    )
    picks = ", ".join(
        f"MIN(CASE WHEN {q(_RANK)} >= {fraction!r} * {q(_SIZE)} THEN {q(_VALUE)} END)"
        for fraction in fractions
    )
    key, group = (q("job_id"), f" GROUP BY {q('job_id')}") if by_job else ("0", "")
    sql = f"SELECT {key}, {picks} FROM ({ranked}) ranked{group}"  # noqa: S608 - names only
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(row[0], list(row[1:])) for row in cursor.fetchall()]


def _duration(value: Any) -> timedelta:
    """A duration as raw SQL returns it: seconds (PostgreSQL's EXTRACT), microseconds
    (SQLite's and MySQL's difference of two instants), or a timedelta."""
    if isinstance(value, timedelta):
        return value
    if _postgres():
        return timedelta(seconds=float(value))
    return timedelta(microseconds=int(value))
