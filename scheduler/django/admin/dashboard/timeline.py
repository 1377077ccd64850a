"""The upcoming-runs timeline: the next 24 hours of every enabled job, from the schedule math.

Nothing here is stored: the slots are what each job's schedule says after
now (``scheduler.schedules.upcoming``), inside its start/end window.  The
jobs are those due within the horizon (the ``(enabled, next_run_at)`` index
finds them), soonest first; past :data:`ROWS_SHOWN` jobs the page says how
many more there are, and past :data:`TICKS_SHOWN` slots a row says it has more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ....errors import SchedulerError
from ....schedules.kinds import upcoming
from ...models import Job
from ..common import database
from ..forms import spec_of

__all__ = ["HORIZON", "ROWS_SHOWN", "TICKS_SHOWN", "Timeline", "TimelineRow", "timeline"]

#: How far ahead the timeline looks.
HORIZON = timedelta(hours=24)
#: How many jobs it draws, and how many slots per job: each slot is a step of
#: the schedule math (about 0.1 ms for a cron job), and the page stays quick.
ROWS_SHOWN = 20
TICKS_SHOWN = 24


@dataclass(frozen=True, slots=True, kw_only=True)
class TimelineRow:
    """One job's slots in the horizon (at most :data:`TICKS_SHOWN`)."""

    job_id: int
    name: str
    slots: tuple[datetime, ...]
    #: Whether the job has more slots in the horizon than are drawn.
    more: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeline:
    """The rows drawn, and how many jobs due in the horizon are not."""

    start: datetime
    end: datetime
    rows: tuple[TimelineRow, ...]
    hidden: int


def timeline(now: datetime) -> Timeline:
    """The enabled, unpaused jobs due before ``now + HORIZON``: two queries."""
    end = now + HORIZON
    due = Job.objects.using(database()).filter(
        enabled=True, paused_at__isnull=True, removed_at__isnull=True, next_run_at__lt=end
    )
    jobs = list(due.order_by("next_run_at", "name")[:ROWS_SHOWN])
    hidden = due.count() - len(jobs)
    rows = tuple(row for row in (_row(job, now, end) for job in jobs) if row is not None)
    return Timeline(start=now, end=end, rows=rows, hidden=hidden)


def _row(job: Job, now: datetime, end: datetime) -> TimelineRow | None:
    try:
        spec = spec_of(job)
    except SchedulerError:  # a row another program wrote badly: the job page says why
        return None
    slots = [slot for slot in upcoming(spec, now, TICKS_SHOWN + 1) if slot < end]
    return TimelineRow(
        job_id=job.pk,
        name=job.name,
        slots=tuple(slots[:TICKS_SHOWN]),
        more=len(slots) > TICKS_SHOWN,
    )
