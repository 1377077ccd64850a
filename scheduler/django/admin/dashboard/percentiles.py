"""Percentiles computed in the database: p95 duration per job, lateness p50/p99.

PostgreSQL has ``percentile_cont``: an ordered-set aggregate that
interpolates between the two nearest values, one query per figure, grouped
by job where it is per job.

SQLite, MariaDB and MySQL have no percentile aggregate.  There the runs are
numbered in the database with window functions (``ROW_NUMBER()`` in value
order and ``COUNT(*)`` over the same partition) and an outer query keeps,
per partition, the smallest value whose position reaches the fraction: the
*nearest-rank* percentile, the value of rank ceil(p x n).  It is still one
query and no run reaches Python; on a few values it can differ from
PostgreSQL's interpolated figure by up to the gap between two neighbours.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connections
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    QuerySet,
    Window,
)
from django.db.models.functions import RowNumber

from ....model.runs import Trigger
from ...models import Run
from ..common import database
from .counts import runs_in
from .periods import Span

__all__ = ["PercentileCont", "job_p95", "lateness"]

_RANK, _SIZE, _VALUE = "tw_rank", "tw_size", "tw_value"


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


def job_p95(span: Span) -> dict[int, float]:
    """The 95th percentile of the duration of each job's runs in ``span``, in seconds."""
    timed = runs_in(span).filter(duration_seconds__isnull=False)
    if _postgres():
        rows = (
            timed.values("job_id")
            .annotate(p95=PercentileCont("duration_seconds", fraction=0.95))
            .order_by()
        )
        return {row["job_id"]: row["p95"] for row in rows}
    ranked = _ranked(timed, F("duration_seconds"), FloatField(), partition="job_id")
    return {key: values[0] for key, values in _nearest_rank(ranked, (0.95,), "job_id")}


def lateness(span: Span) -> tuple[timedelta, timedelta] | None:
    """The median and 99th percentile of how late runs started after their slot
    (retries left out: their slot is the first attempt's); ``None`` without any."""
    started = runs_in(span).filter(started_at__isnull=False).exclude(trigger=Trigger.RETRY.value)
    late = ExpressionWrapper(F("started_at") - F("scheduled_for"), output_field=DurationField())
    if _postgres():
        found = started.aggregate(
            p50=PercentileCont(late, fraction=0.5, output_field=DurationField()),
            p99=PercentileCont(late, fraction=0.99, output_field=DurationField()),
        )
        if found["p50"] is None:
            return None
        return found["p50"], found["p99"]
    ranked = _ranked(started, late, DurationField(), partition=None)
    rows = _nearest_rank(ranked, (0.5, 0.99), None)
    if not rows or rows[0][1][0] is None:
        return None
    p50, p99 = (_duration(value) for value in rows[0][1])
    return p50, p99


def _ranked(
    runs: QuerySet[Run], value: Any, field: Any, *, partition: str | None
) -> QuerySet[Run, dict[str, Any]]:
    """``runs`` numbered in ``value`` order per ``partition``, with each partition's size."""
    over: dict[str, Any] = {"partition_by": [F(partition)]} if partition else {}
    numbered: QuerySet[Run, dict[str, Any]] = runs.annotate(
        **{
            _VALUE: ExpressionWrapper(value, output_field=field),
            _RANK: Window(RowNumber(), order_by=value.asc(), **over),
            _SIZE: Window(Count("id"), **over),
        }
    ).values(*([partition] if partition else []), _VALUE, _RANK, _SIZE)
    return numbered


def _nearest_rank(
    ranked: QuerySet[Run, dict[str, Any]], fractions: tuple[float, ...], partition: str | None
) -> list[tuple[Any, list[Any]]]:
    """Per partition, the smallest value whose rank reaches each fraction: one query."""
    connection = connections[database()]
    quote = connection.ops.quote_name
    # Compiled for this connection (sql_with_params would compile for "default").
    inner, params = ranked.query.get_compiler(using=database()).as_sql()
    picks = ", ".join(
        f"MIN(CASE WHEN {quote(_RANK)} >= {fraction!r} * {quote(_SIZE)} THEN {quote(_VALUE)} END)"
        for fraction in fractions
    )
    key = quote(partition) if partition else "0"
    group = f" GROUP BY {key}" if partition else ""
    sql = f"SELECT {key}, {picks} FROM ({inner}) ranked{group}"  # noqa: S608 - names, not input
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(row[0], list(row[1:])) for row in cursor.fetchall()]


def _duration(value: Any) -> timedelta:
    """A duration as the backend returns it from raw SQL: a timedelta, or microseconds."""
    if isinstance(value, timedelta):
        return value
    return timedelta(microseconds=int(value))
