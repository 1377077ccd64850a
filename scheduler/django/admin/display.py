"""How the admin shows times, schedules and statuses: small pure functions.

Instants are shown in the job's own time zone, with the zone's abbreviation
(``2026-03-28 02:30:00 CET``), and relative to "now" (``in 3 min``), so a reader
never has to convert in their head.  Nothing here queries the database.
"""

from __future__ import annotations

from datetime import datetime

from django.utils.html import format_html
from django.utils.safestring import SafeString

from ...model.chains import after_text, is_chain_only
from ...model.jobs import JobSpec
from ...model.runs import RunStatus
from ...model.words import plural
from ...schedules.kinds import Cron, Once, get_zone

__all__ = [
    "first_line",
    "local_time",
    "relative",
    "run_duration",
    "schedule_expression",
    "schedule_words",
    "status_badge",
]

_MINUTE, _HOUR, _DAY = 60, 3600, 86400

# The badge colour says how a run ended, or that it has not yet.
_TONE = {
    RunStatus.PENDING: "waiting",
    RunStatus.QUEUED: "waiting",
    RunStatus.RUNNING: "running",
    RunStatus.SUCCEEDED: "good",
    RunStatus.FAILED: "bad",
    RunStatus.TIMED_OUT: "bad",
    RunStatus.LOST: "bad",
    RunStatus.SKIPPED: "quiet",
    RunStatus.MISSED: "quiet",
    RunStatus.CANCELLED: "quiet",
}


def local_time(instant: datetime, zone: str) -> str:
    """``instant`` on the wall clock of ``zone``: ``2026-03-28 02:30:00 CET``.

    Always with seconds, as the command line prints slots: a list that mixes
    ``21:28`` and ``21:28:10`` reads as two formats.
    """
    wall = instant.astimezone(get_zone(zone))
    return f"{wall:%Y-%m-%d %H:%M:%S} {wall.tzname()}"


def relative(instant: datetime, now: datetime) -> str:
    """``instant`` as seen from ``now``: ``in 3 min``, ``2 h 5 min ago``, ``now``."""
    seconds = (instant - now).total_seconds()
    if abs(seconds) < 1:
        return "now"
    span = _span(abs(seconds))
    return f"in {span}" if seconds > 0 else f"{span} ago"


def _span(seconds: float) -> str:
    whole = int(seconds)
    if whole < _MINUTE:
        return f"{whole} s"
    if whole < _HOUR:
        return f"{whole // _MINUTE} min"
    if whole < _DAY:
        hours, minutes = divmod(whole // _MINUTE, 60)
        return f"{hours} h {minutes} min" if minutes and hours < 10 else f"{hours} h"
    return plural(whole // _DAY, "day")


def schedule_words(spec: JobSpec) -> str:
    """The schedule in words, without the expression: ``At 02:30``, ``every 15m``,
    then its calendar's (``At 09:00, business days in DE-BY``), or ``after extract
    succeeded`` (a join: ``after a and b both succeeded for one slot``); a chained
    job with a schedule says both."""
    chain = after_text(spec.after, spec.when) if spec.after else ""
    if is_chain_only(spec.schedule):
        return chain
    words = _own_schedule_words(spec)
    return f"{words}, and {chain}" if chain else words


def _own_schedule_words(spec: JobSpec) -> str:
    schedule = spec.schedule
    if isinstance(schedule, Once):
        return f"once at {local_time(schedule.at, spec.timezone)}"
    words = schedule.expression.describe() if isinstance(schedule, Cron) else schedule.describe()
    calendar = spec.calendar.describe()
    return f"{words}, {calendar}" if calendar else words


def schedule_expression(spec: JobSpec) -> str:
    """What was written: the cron expression, or ``""`` for the other schedules."""
    schedule = spec.schedule
    return schedule.expr if isinstance(schedule, Cron) else ""


def status_badge(status: str | None) -> SafeString:
    """A coloured badge for a run status; an em dash when there is none."""
    if not status:
        return format_html('<span class="tw-none">{}</span>', "\u2014")
    known = status in RunStatus.__members__.values()
    return format_html(
        '<span class="tw-badge tw-{}" title="{}">{}</span>',
        _TONE[RunStatus(status)] if known else "quiet",
        RunStatus(status).__doc__ if known else "",
        status.replace("_", " "),
    )


def run_duration(seconds: float | None) -> str:
    """``0.25 s``, ``3 min 2 s``, ``1 h 4 min``; ``""`` when unknown."""
    if seconds is None:
        return ""
    if seconds < _MINUTE:
        return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.0f} s"
    whole = int(seconds)
    if whole < _HOUR:
        return f"{whole // _MINUTE} min {whole % _MINUTE} s"
    return f"{whole // _HOUR} h {whole % _HOUR // _MINUTE} min"


def first_line(text: str, limit: int = 120) -> str:
    """The first non-blank line of ``text``, cut to ``limit`` characters."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "\u2026"
