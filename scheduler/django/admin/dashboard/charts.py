"""The dashboard's two charts: runs over time stacked by status, and the upcoming-runs timeline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.utils.html import format_html
from django.utils.safestring import SafeString

from ..display import local_time
from .marks import num, pattern_defs, pattern_id, status_class
from .periods import CHART_STATUSES
from .svg import frame, join, line, text, titled
from .timeline import Timeline

__all__ = ["runs_chart", "timeline_chart"]

_WIDTH, _LEFT, _RIGHT, _TOP, _BOTTOM = 960, 48, 8, 10, 26
_PLOT = 180  # height of the bars' area
_STATUSES = tuple(status.value for status in CHART_STATUSES)


def runs_chart(
    bars: list[datetime], counts: dict[datetime, dict[str, int]], width: timedelta
) -> SafeString:
    """One bar per hour or day, its runs stacked by status, bottom up in :data:`CHART_STATUSES`."""
    totals = [sum(counts.get(bar, {}).values()) for bar in bars]
    top = max(totals, default=0) or 1
    step = (_WIDTH - _LEFT - _RIGHT) / max(len(bars), 1)
    base = _TOP + _PLOT
    parts = [pattern_defs("tw-runs", _STATUSES), *_y_axis(top, base)]
    for index, bar in enumerate(bars):
        x = _LEFT + index * step
        parts.append(_bar(bar, counts.get(bar, {}), x, step, base, top, width))
    parts += _x_labels(bars, step, base, width)
    every = sum(totals)
    hours = int(width.total_seconds() // 3600)
    desc = f"{every} runs in {len(bars)} bars of {'one hour' if hours == 1 else f'{hours} hours'}"
    desc += "; the table below the chart lists every bar."
    return frame(
        key="tw-runs-chart",
        width=_WIDTH,
        height=_TOP + _PLOT + _BOTTOM,
        title="Runs over time, by status",
        desc=desc,
        body=join(parts),
    )


def _bar(
    start: datetime,
    counts: dict[str, int],
    x: float,
    step: float,
    base: float,
    top: int,
    width: timedelta,
) -> SafeString:
    y, pieces = base, []
    for status in _STATUSES:
        runs = counts.get(status, 0)
        if not runs:
            continue
        height = _PLOT * runs / top
        y -= height
        pieces.append(_segment(status, runs, x, y, max(step - 1, 1), height))
    words = ", ".join(f"{counts[s]} {s.replace('_', ' ')}" for s in _STATUSES if counts.get(s))
    label = f"{_when(start, width)}: {words or 'no runs'}"
    return titled(format_html('<g class="tw-bar">{}</g>', join(pieces)), label)


def _segment(status: str, runs: int, x: float, y: float, w: float, h: float) -> SafeString:
    box = format_html('x="{}" y="{}" width="{}" height="{}"', num(x), num(y), num(w), num(h))
    return format_html(
        '<rect class="tw-fill {}" data-status="{}" data-runs="{}" {}/>'
        '<rect class="tw-pattern" fill="url(#{})" {}/>',
        status_class(status),
        status,
        runs,
        box,
        pattern_id("tw-runs", status),
        box,
    )


def _y_axis(top: int, base: float) -> list[SafeString]:
    return [
        line(_LEFT, _TOP, _LEFT, base),
        line(_LEFT, base, _WIDTH - _RIGHT, base),
        text(_LEFT - 4, _TOP + 8, str(top), "end"),
        text(_LEFT - 4, base, "0", "end"),
    ]


def _x_labels(bars: list[datetime], step: float, base: float, width: timedelta) -> list[SafeString]:
    every = max(1, len(bars) // 8)
    return [
        text(_LEFT + index * step, base + 16, _when(bar, width, short=True))
        for index, bar in enumerate(bars)
        if index % every == 0
    ]


def _when(start: datetime, width: timedelta, *, short: bool = False) -> str:
    if width >= timedelta(days=1):
        return start.strftime("%m-%d" if short else "%Y-%m-%d UTC")
    if short:
        return start.strftime("%H:%M" if start.hour else "%m-%d")
    return local_time(start, "UTC")


_ROW, _LABEL = 18, 200


def timeline_chart(found: Timeline) -> SafeString:
    """A row per job with a tick per slot, over the horizon; hours marked every three."""
    span = (found.end - found.start).total_seconds()
    plot = _WIDTH - _LABEL - _RIGHT
    height = _TOP + _ROW * max(len(found.rows), 1) + _BOTTOM

    def x_of(instant: datetime) -> float:
        return _LABEL + plot * (instant - found.start).total_seconds() / span

    parts = [*_hour_marks(found, x_of, height)]
    for index, row in enumerate(found.rows):
        y = _TOP + index * _ROW
        # One path per row, a vertical stroke per slot: a short page for many ticks.
        strokes = "".join(f"M{num(x_of(slot))} {y + 3}v{_ROW - 6}" for slot in row.slots)
        ticks = format_html('<path class="tw-tick" d="{}"/>', strokes) if strokes else join([])
        if row.more:  # the row's last drawn slot is not its last: say so where it ends
            ticks = join([ticks, text(x_of(row.slots[-1]) + 4, y + 13, "more\u2026")])
        more = " (more not drawn)" if row.more else ""
        label = f"{row.name}: {len(row.slots)} runs in the next 24 hours{more}"
        parts.append(
            titled(
                format_html(
                    '<g class="tw-timeline-row" data-job="{}" data-slots="{}">{}{}</g>',
                    row.name,
                    len(row.slots),
                    text(_LABEL - 6, y + 13, _short(row.name), "end"),
                    ticks,
                ),
                label,
            )
        )
    runs = sum(len(row.slots) for row in found.rows)
    return frame(
        key="tw-timeline",
        width=_WIDTH,
        height=height,
        title="Upcoming runs, next 24 hours",
        desc=f"{len(found.rows)} jobs, {runs} runs drawn; the table below lists them.",
        body=join(parts),
    )


def _hour_marks(
    found: Timeline, x_of: Callable[[datetime], float], height: int
) -> list[SafeString]:
    first = found.start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    marks = []
    for hours in range(0, 24, 3):
        at = first + timedelta(hours=hours)
        if at >= found.end:
            break
        x = x_of(at)
        marks.append(line(x, _TOP, x, height - _BOTTOM, "tw-grid"))
        marks.append(text(x, height - _BOTTOM + 16, at.strftime("%H:%M"), "middle"))
    return marks


def _short(name: str, limit: int = 28) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "\u2026"
