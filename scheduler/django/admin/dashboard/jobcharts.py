"""A job's own charts on its page: its last runs as a strip of marks, and their durations.

One query reads the job's :data:`DURATIONS_SHOWN` newest runs (through the
``(job_id, scheduled_for)`` history index); the strip draws the newest
:data:`STRIP_SHOWN` of them, each a link to the run's page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ...models import Run
from ..common import database
from ..display import local_time, run_duration
from .marks import shape
from .svg import frame, join, line, text, titled

__all__ = ["DURATIONS_SHOWN", "STRIP_SHOWN", "JobCharts", "RunPoint", "job_charts"]

STRIP_SHOWN = 50
DURATIONS_SHOWN = 200
_NEWEST_FIRST = ("-scheduled_for", "-attempt", "-id")
_CELL, _WIDTH, _LEFT, _TOP, _PLOT, _BOTTOM = 18, 960, 56, 10, 140, 20


@dataclass(frozen=True, slots=True, kw_only=True)
class RunPoint:
    """What a chart needs of one run."""

    id: int
    slot: datetime
    status: str
    duration: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class JobCharts:
    """A job's charts, with the runs they draw (oldest first) for the tables beside them."""

    strip: SafeString
    durations: SafeString
    strip_runs: tuple[RunPoint, ...]
    timed_runs: tuple[RunPoint, ...]


def job_charts(job_id: int, zone: str, site: str) -> JobCharts:
    """The charts of job ``job_id``, times on its clock ``zone``, links into admin ``site``."""
    rows = Run.objects.using(database()).filter(job_id=job_id).order_by(*_NEWEST_FIRST)
    fields = rows.values_list("id", "scheduled_for", "status", "duration_seconds")
    points = [
        RunPoint(id=pk, slot=slot, status=status, duration=seconds)
        for pk, slot, status, seconds in fields[:DURATIONS_SHOWN]
    ]
    points.reverse()
    strip_runs = tuple(points[-STRIP_SHOWN:])
    timed = tuple(point for point in points if point.duration is not None)
    return JobCharts(
        strip=_strip(strip_runs, zone, site),
        durations=_durations(timed, len(points), zone),
        strip_runs=strip_runs,
        timed_runs=timed,
    )


def _label(point: RunPoint, zone: str) -> str:
    took = run_duration(point.duration)
    return f"{local_time(point.slot, zone)}: {point.status.replace('_', ' ')}" + (
        f", {took}" if took else ""
    )


def _strip(points: tuple[RunPoint, ...], zone: str, site: str) -> SafeString:
    marks = join(
        format_html(
            '<a href="{}" class="tw-strip-run" data-status="{}" aria-label="{}">{}{}</a>',
            reverse(f"{site}:scheduler_run_change", args=[point.id]),
            point.status,
            _label(point, zone),
            format_html("<title>{}</title>", _label(point, zone)),
            shape(point.status, _CELL * index + _CELL / 2, _CELL / 2 + 2),
        )
        for index, point in enumerate(points)
    )
    counts = _tally(points)
    return frame(
        key="tw-strip",
        width=max(_CELL * STRIP_SHOWN, 1),
        height=_CELL + 4,
        title=f"The last {len(points)} runs, oldest first",
        desc=counts or "No runs yet.",
        body=marks,
    )


def _durations(points: tuple[RunPoint, ...], read: int, zone: str) -> SafeString:
    top = max((point.duration or 0.0 for point in points), default=0.0) or 1.0
    # A few runs spread over the width; from STRIP_SHOWN on, each has its own column.
    step = (_WIDTH - _LEFT - 8) / max(len(points), STRIP_SHOWN)
    base = _TOP + _PLOT
    parts = [
        line(_LEFT, _TOP, _LEFT, base),
        line(_LEFT, base, _WIDTH - 8, base),
        text(_LEFT - 4, _TOP + 8, run_duration(top), "end"),
        text(_LEFT - 4, base, "0", "end"),
    ]
    for index, point in enumerate(points):
        x = _LEFT + step * (index + 0.5)
        y = base - _PLOT * (point.duration or 0.0) / top
        parts.append(titled(shape(point.status, x, y), _label(point, zone)))
    untimed = read - len(points)
    desc = f"{len(points)} runs with a duration, longest {run_duration(top)}" if points else ""
    desc += f"; {untimed} without one (not started)" if untimed else ""
    return frame(
        key="tw-durations",
        width=_WIDTH,
        height=base + _BOTTOM,
        title=f"Duration of the last {len(points)} timed runs, oldest first",
        desc=desc or "No run with a duration yet.",
        body=join(parts),
    )


def _tally(points: tuple[RunPoint, ...]) -> str:
    counts: dict[str, int] = {}
    for point in points:
        counts[point.status] = counts.get(point.status, 0) + 1
    return ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in sorted(counts.items()))
