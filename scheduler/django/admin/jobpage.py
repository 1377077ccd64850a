"""What the job pages show about one job: its state, schedule, next and last run,
the note on a job the admin may not change, and its recent runs.

Each function takes a job row (annotated with ``last_status`` and
``last_run_at`` by :meth:`JobAdmin.get_queryset`) and returns text or escaped
HTML; only :func:`recent_runs` queries, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ...errors import SchedulerError
from ...model.policies import JobSource
from ...model.sizes import format_size
from ...schedules.durations import format_duration
from ..models import Job, Run
from ..settings import read_settings
from .common import database
from .display import (
    first_line,
    local_time,
    relative,
    run_duration,
    schedule_expression,
    schedule_words,
    status_badge,
)
from .forms import spec_of

__all__ = [
    "RECENT_RUNS",
    "RecentRun",
    "job_note",
    "last_run_html",
    "next_run_html",
    "policies_text",
    "recent_runs",
    "schedule_html",
    "state_of",
    "window_text",
]

#: How many runs a job's page lists.
RECENT_RUNS = 20


def state_of(job: Job) -> str:
    """``removed``, ``disabled``, ``paused`` or ``active``, as ``tickwork jobs`` says it;
    or ``finished``: a one-off job (``at``, such as a deferred call) with no slot left
    (a job that runs only after another is never finished)."""
    if job.removed_at is not None:
        return "removed"
    if not job.enabled:
        return "disabled"
    if job.paused_at is not None:
        return "paused"
    one_off = job.run_at is not None and job.chain_after is None  # not a chain-only job
    return "finished" if one_off and job.next_run_at is None else "active"


def schedule_html(job: Job) -> SafeString:
    """The schedule in words, with the cron expression as written."""
    try:
        spec = spec_of(job)
    except SchedulerError as error:  # a row another program wrote badly
        return format_html('<span class="tw-problem">cannot be read: {}</span>', error)
    expression = schedule_expression(spec)
    if not expression:
        return format_html("{}", schedule_words(spec))
    return format_html(
        '{} <code class="tw-expr">{}</code> <span class="tw-zone">{}</span>',
        schedule_words(spec),
        expression,
        spec.timezone,
    )


def next_run_html(job: Job, now: datetime) -> SafeString:
    """When the job fires next, on its own clock and from now; why not, if it will not."""
    if job.next_run_at is None:
        state = state_of(job)
        why = "schedule ended" if state == "active" else state
        return format_html('<span class="tw-none">{} ({})</span>', "\u2014", why)
    return format_html(
        '{}<br><span class="tw-relative">{}</span>',
        local_time(job.next_run_at, job.timezone),
        relative(job.next_run_at, now),
    )


def last_run_html(job: Job, now: datetime) -> SafeString:
    """The latest run's status badge and how long ago its slot was."""
    status: str | None = getattr(job, "last_status", None)
    at: datetime | None = getattr(job, "last_run_at", None)
    if status is None or at is None:
        return status_badge(None)
    return format_html(
        '{} <span class="tw-relative" title="{}">{}</span>',
        status_badge(status),
        local_time(at, job.timezone),
        relative(at, now),
    )


def window_text(job: Job) -> str:
    """The start/end window on the job's clock: ``from ... until ...``, or ``always``."""
    parts = []
    if job.start_at is not None:
        parts.append(f"from {local_time(job.start_at, job.timezone)}")
    if job.end_at is not None:
        parts.append(f"until {local_time(job.end_at, job.timezone)}")
    return " ".join(parts) or "always"


def policies_text(job: Job) -> str:
    """Every policy in one line, as the form names them."""
    policy = spec_of(job).policy
    window = "" if policy.catchup_window is None else f", within {_span(policy.catchup_window)}"
    timeout = "none" if policy.timeout is None else _span(policy.timeout)
    memory = "" if policy.max_memory is None else f"; memory {format_size(policy.max_memory)}"
    return (
        f"catch-up {policy.catchup.value} (at most {policy.max_catchup}{window}); "
        f"overlap {policy.overlap.value}; jitter {_span(policy.jitter)}; timeout {timeout}"
        f"{memory}; retries {policy.retries} (backoff {_span(policy.retry_backoff)}, "
        f"at most {_span(policy.retry_backoff_max)})"
    )


def _span(value: timedelta) -> str:
    return format_duration(value)


def job_note(job: Job) -> str:
    """Why the admin shows ``job`` read-only, and where to change it; ``""`` if it does not."""
    if job.source == JobSource.ADMIN.value:
        return ""
    if job.source == JobSource.CODE.value:
        return "Declared in application code: read-only here. Pause, resume and run now work."
    path = read_settings()[0].schedules
    where = str(path) if path is not None else "a schedules file"
    if job.removed_at is not None:
        return (
            f"Removed from {where} on {local_time(job.removed_at, job.timezone)}: the file no "
            "longer declares it, so it is disabled and kept here for its history."
        )
    return (
        f"Declared in {where} (SCHEDULER['SCHEDULES']): read-only here. Change it in the "
        "file; a running scheduler applies the change within a second. Pause, resume and "
        "run now work here."
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RecentRun:
    """One line of a job's recent runs."""

    url: str
    slot: str
    relative: str
    attempt: int
    trigger: str
    status: SafeString
    duration: str
    error: str


def recent_runs(job: Job, now: datetime, site: str) -> list[RecentRun]:
    """The job's latest :data:`RECENT_RUNS` runs, newest first, in one query."""
    rows = Run.objects.using(database()).filter(job_id=job.pk)
    rows = rows.order_by("-scheduled_for", "-attempt", "-id")[:RECENT_RUNS]
    return [
        RecentRun(
            url=reverse(f"{site}:scheduler_run_change", args=[run.pk]),
            slot=local_time(run.scheduled_for, job.timezone),
            relative=relative(run.scheduled_for, now),
            attempt=run.attempt,
            trigger=run.trigger,
            status=status_badge(run.status),
            duration=run_duration(run.duration_seconds),
            error=first_line(run.error),
        )
        for run in rows
    ]
