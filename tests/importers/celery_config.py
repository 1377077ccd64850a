"""A real Celery configuration: an app whose ``beat_schedule`` has every kind of entry,
and the same schedule as a settings module's ``CELERY_BEAT_SCHEDULE``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

pytest.importorskip("celery", reason="Celery comes with tickwork[celery]")
pytest.importorskip("ephem", reason="Celery's solar schedules need ephem (tickwork[test])")
from celery import Celery
from celery.schedules import crontab, schedule, solar

app = Celery("importers-test", set_as_current=False)
app.conf.timezone = "Europe/Berlin"

#: Entries Tickwork runs at the same instants as beat (crontab, solar) or at the same pace.
MAPPED: dict[str, dict[str, Any]] = {
    "nightly": {
        "task": "reports.tasks.nightly",
        "schedule": crontab(minute=30, hour=2, app=app),
        "kwargs": {"format": "pdf"},
    },
    "weekday-mornings": {
        "task": "reports.tasks.digest",
        "schedule": crontab(minute=0, hour="8-10", day_of_week="mon-fri", app=app),
        "options": {"queue": "reports", "expires": 600},
    },
    "first-monday": {
        "task": "billing.tasks.invoice",
        "schedule": crontab(minute=0, hour=9, day_of_month="1-7", day_of_week="monday", app=app),
    },
    "odd-days-on-weekends": {
        "task": "ops.tasks.rotate",
        "schedule": crontab(minute=15, hour=4, day_of_month="*/2", day_of_week="sat,sun", app=app),
    },
    "fifteenth-any-weekday": {
        "task": "billing.tasks.statement",
        "schedule": crontab(minute=0, hour=7, day_of_month=15, day_of_week="0-6", app=app),
    },
    "lists-and-months": {
        "task": "ops.tasks.sample",
        "schedule": crontab(minute=[0, 30], hour="*/4", month_of_year="jan-jun", app=app),
    },
    "sunset-oslo": {
        "task": "home.tasks.lights_on",
        "schedule": solar("sunset", 59.91, 10.75, app=app),
    },
    "civil-dawn-berlin": {
        "task": "home.tasks.lights_off",
        "schedule": solar("dawn_civil", 52.52, 13.405, app=app),
    },
}
#: Interval entries: beat counts them from the last run, Tickwork from the epoch.
INTERVALS: dict[str, tuple[dict[str, Any], timedelta]] = {
    "quarter-hourly": (
        {"task": "feeds.tasks.poll", "schedule": timedelta(minutes=15), "args": (1, "a")},
        timedelta(minutes=15),
    ),
    "every-90s": ({"task": "feeds.tasks.ping", "schedule": 90.0}, timedelta(seconds=90)),
    "schedule-object": (
        {"task": "feeds.tasks.sync", "schedule": schedule(run_every=timedelta(hours=2))},
        timedelta(hours=2),
    ),
}
#: Imported disabled, marked CHECK: Celery's AND of the two day fields has no cron spelling.
FLAGGED = {
    "friday-13th": {
        "task": "fun.tasks.beware",
        "schedule": crontab(minute=0, hour=9, day_of_month=13, day_of_week=5, app=app),
    },
}
#: Not imported: the words their note must have.
REFUSED: dict[str, tuple[dict[str, Any], str]] = {
    "nautical-dawn": (
        {"task": "sea.tasks.wake", "schedule": solar("dawn_nautical", 59.91, 10.75, app=app)},
        "has no equivalent",
    ),
    "no-schedule": ({"task": "x.tasks.y"}, "needs 'task' and 'schedule'"),
    "words": ({"task": "x.tasks.y", "schedule": "every day"}, "is not a crontab"),
    "not-json": ({"task": "x.tasks.y", "schedule": 60, "args": (object(),)}, "not JSON"),
}

app.conf.beat_schedule = {
    **MAPPED,
    **{name: entry for name, (entry, _) in INTERVALS.items()},
    **FLAGGED,
    **{name: entry for name, (entry, _) in REFUSED.items()},
    "routed": {
        "task": "feeds.tasks.route",
        "schedule": 60,
        "options": {"routing_key": "a.b", "priority": 3},
        "relative": True,
    },
}

#: The same schedule, as a Django project's (or a celeryconfig module's) setting.
CELERY_BEAT_SCHEDULE = app.conf.beat_schedule
CELERY_TIMEZONE = "Europe/Berlin"
NOT_A_SCHEDULE = ["nightly"]
