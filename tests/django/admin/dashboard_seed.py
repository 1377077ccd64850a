"""Runs with known figures for the dashboard's and the job page's tests (and the browser's).

Three jobs, saved at ``now``: ``nightly`` (02:30 daily), ``hourly`` (on the
hour) and ``every-10m``; a paused and a disabled one that the timeline leaves
out.  The runs, relative to ``now`` (``H`` hours before):

=========  ======================================================================
nightly    succeeded 2 s (1H), failed 5 s (2H), timed out 30 s (3H), failed (3 days)
hourly     succeeded 1, 2, 3, 4 s (1H..4H), lost (5H), missed (6H), skipped (7H)
every-10m  60 succeeded runs of 0.5 s, 25 to 35 days before ``now`` (only the 30 days)
=========  ======================================================================

The last 24 hours hold 5 succeeded, 1 failed, 1 timed out, 1 lost, 1 missed
and 1 skipped run (10); the last 7 days one failed more.  The seven runs of
the last 24 hours that started did so 1, 1, 2, 2, 2, 9 and 9 seconds late.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from scheduler.django.models import Job, Replica, Run
from scheduler.django.store import DjangoStore
from scheduler.model.jobs import JobSpec
from scheduler.model.runs import RunStatus

PING = "tests.django.testapp.tasks.ping"
HOUR = timedelta(hours=1)
ERROR = 'Traceback (most recent call last):\n  File "t.py"\nValueError: no <pong> today'
#: Runs per status in the last 24 hours.
DAY_COUNTS = {
    "succeeded": 5,
    "failed": 1,
    "timed_out": 1,
    "lost": 1,
    "missed": 1,
    "skipped": 1,
}


def seed(store: DjangoStore, using: str, now: datetime) -> dict[str, int]:
    """Save the jobs and write the runs and a replica; the jobs' ids by name."""
    for name, schedule in (
        ("nightly", {"cron": "30 2 * * *"}),
        ("hourly", {"cron": "0 * * * *"}),
        ("every-10m", {"every": "10m"}),
        ("paused-job", {"every": "1h"}),
        ("disabled-job", {"every": "1h", "enabled": False}),
    ):
        store.save_job(JobSpec.build(name=name, task=PING, **schedule), now=now)
    store.set_paused("paused-job", True, now=now)
    ids = dict(Job.objects.using(using).values_list("name", "id"))
    runs = [
        _run(ids["nightly"], now - HOUR, "succeeded", late=1, took=2),
        _run(ids["nightly"], now - 2 * HOUR, "failed", late=2, took=5, error=ERROR),
        _run(ids["nightly"], now - 3 * HOUR, "timed_out", late=9, took=30),
        _run(ids["nightly"], now - timedelta(days=3), "failed", late=1, took=1, error="gone"),
        *(
            _run(ids["hourly"], now - hours * HOUR, "succeeded", late=late, took=hours)
            for hours, late in ((1, 1), (2, 2), (3, 2), (4, 9))
        ),
        _run(ids["hourly"], now - 5 * HOUR, "lost", error="its replica stopped"),
        _run(ids["hourly"], now - 6 * HOUR, "missed"),
        _run(ids["hourly"], now - 7 * HOUR, "skipped"),
        *(
            _run(ids["every-10m"], now - timedelta(days=25, minutes=10 * n), "succeeded", took=0.5)
            for n in range(60)
        ),
    ]
    Run.objects.using(using).bulk_create(runs)
    Replica.objects.using(using).create(
        id="web-1:42", hostname="web-1", pid=42, started_at=now - 2 * HOUR, heartbeat_at=now
    )
    return ids


def _run(
    job_id: int,
    slot: datetime,
    status: str,
    *,
    late: float | None = None,
    took: float | None = None,
    error: str = "",
) -> Run:
    started = None if late is None else slot + timedelta(seconds=late)
    finished = None if started is None or took is None else started + timedelta(seconds=took)
    fields: dict[str, Any] = {
        "job_id": job_id,
        "scheduled_for": slot,
        "due_at": slot,
        "attempt": 1,
        "trigger": "schedule",
        "status": RunStatus(status).value,
        "started_at": started,
        "finished_at": finished,
        "duration_seconds": took if started is not None else None,
        "error": error,
    }
    return Run(**fields)
