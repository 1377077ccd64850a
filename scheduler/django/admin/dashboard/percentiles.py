"""Percentiles computed in the database: p95 duration per job, lateness p50/p99.

Both read each job's latest :data:`RECENT` runs in the window (the bounded
sample the job page's duration chart also draws), so their cost is bounded
by the number of jobs, not by the length of the window: on 30 days of a job
due every minute they read 200 runs of it, not 43,200.

PostgreSQL has ``percentile_cont``, an ordered-set aggregate that
interpolates between the two nearest values; each job's latest runs are
found with ``CROSS JOIN LATERAL (... ORDER BY scheduled_for DESC LIMIT n)``
through the ``(job_id, scheduled_for)`` history index.

SQLite, MariaDB and MySQL have no percentile aggregate.  There the runs are
numbered in the database with window functions (each job's runs newest
first, to keep its latest; then in value order, with ``COUNT(*)`` over the
same partition) and an outer query keeps the smallest value whose position
reaches the fraction: the *nearest-rank* percentile, the value of rank
ceil(p x n).  Still one query, and no run reaches Python; on a few values it
can differ from PostgreSQL's interpolated figure by up to the gap between two
neighbours.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connections
from django.db.models import (
    Aggregate,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    QuerySet,
    Window,
)
from django.db.models.functions import RowNumber

from ....model.runs import Trigger
from ...fields import UTCDateTimeField
from ...models import Run
from ..common import database
from .counts import runs_in
from .periods import Span

__all__ = ["RECENT", "PercentileCont", "job_p95", "lateness"]

_RANK, _SIZE, _VALUE, _RECENT = "tw_rank", "tw_size", "tw_value", "tw_recent"


class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(fraction) WITHIN GROUP (ORDER BY value)``."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: Any, *, fraction: float, **extra: Any) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError(f"a percentile's fraction is between 0 and 1, not {fraction}")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def _postgres() -> bool:
    return connections[database()].vendor == "postgresql"


#: How many of each job's latest runs in the window the percentiles read.
RECENT = 200
# Each job's latest runs in [since, until) meeting a condition, one value each (PostgreSQL).
_LATEST = """FROM scheduler_job j CROSS JOIN LATERAL (
    SELECT {value} AS value FROM scheduler_run
    WHERE job_id = j.id AND scheduled_for >= %s AND scheduled_for < %s AND {condition}
    ORDER BY scheduled_for DESC LIMIT {recent}) r"""


def job_p95(span: Span) -> dict[int, float]:
    """The 95th percentile of the duration of each job's latest runs in ``span``, in seconds."""
    if _postgres():
        latest = _LATEST.format(
            value="duration_seconds", condition="duration_seconds IS NOT NULL", recent=RECENT
        )
        p95 = "PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY r.value)"
        return dict(_rows(f"SELECT j.id, {p95} {latest} GROUP BY j.id", span))
    timed = runs_in(span).filter(duration_seconds__isnull=False)
    latest_runs = _latest(timed, F("duration_seconds"), FloatField())
    return {key: values[0] for key, values in _nearest_rank(latest_runs, (0.95,), by_job=True)}


def lateness(span: Span) -> tuple[timedelta, timedelta] | None:
    """The median and 99th percentile of how late each job's latest runs started after
    their slot (retries left out: their slot is the first attempt's); ``None`` without any."""
    if _postgres():
        latest = _LATEST.format(
            value="EXTRACT(EPOCH FROM started_at - scheduled_for)",
            condition=f"started_at IS NOT NULL AND trigger <> '{Trigger.RETRY.value}'",
            recent=RECENT,
        )
        picks = ", ".join(
            f"PERCENTILE_CONT({p}) WITHIN GROUP (ORDER BY r.value)" for p in (0.5, 0.99)
        )
        rows = _rows(f"SELECT {picks} {latest}", span)
        values = list(rows[0]) if rows else [None]
    else:
        started = runs_in(span).filter(started_at__isnull=False)
        started = started.exclude(trigger=Trigger.RETRY.value)
        late = ExpressionWrapper(F("started_at") - F("scheduled_for"), output_field=DurationField())
        found = _nearest_rank(_latest(started, late, DurationField()), (0.5, 0.99), by_job=False)
        values = found[0][1] if found else [None]
    if values[0] is None:
        return None
    p50, p99 = (_duration(value) for value in values)
    return p50, p99


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
        f"FROM ({inner}) recent WHERE {q(_RECENT)} <= {RECENT}"
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
