"""A real APScheduler 3.11 SQLAlchemyJobStore with jobs of every kind, made by APScheduler.

:func:`fill_store` adds the jobs through APScheduler's own scheduler, so the
rows are exactly what an application of it leaves behind, and returns the
triggers by job id (the oracle of the next-run comparison).  Two jobs are
made to go wrong after they were stored: one names a function whose module
is then deleted, one has a trigger whose class is then deleted.
"""

from __future__ import annotations

import importlib
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

aps = pytest.importorskip("apscheduler", reason="APScheduler 3 comes with tickwork[apscheduler]")
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore  # noqa: E402
from apscheduler.schedulers.background import BackgroundScheduler  # noqa: E402
from apscheduler.triggers.combining import AndTrigger, OrTrigger  # noqa: E402
from apscheduler.triggers.cron import CronTrigger  # noqa: E402
from apscheduler.triggers.date import DateTrigger  # noqa: E402
from apscheduler.triggers.interval import IntervalTrigger  # noqa: E402

__all__ = ["BROKEN", "IMPORTED", "NOT_IMPORTED", "fill_store"]

TICK = "tests.importers.apsjobs:tick"
BERLIN = ZoneInfo("Europe/Berlin")

#: id -> (trigger, add_job keywords): the jobs that import.
IMPORTED: dict[str, tuple[Any, dict[str, Any]]] = {
    # Years become the window: four runs, on 1 January and 1 July of 2027 and 2028.
    "cron-years-2027-2028": (
        CronTrigger(year="2027-2028", month="1,7", day=1, hour=5, timezone="Europe/Berlin"),
        {},
    ),
    "cron-nightly-berlin": (
        CronTrigger(hour=2, minute=30, timezone="Europe/Berlin"),
        {"args": [1, "a"], "coalesce": True, "misfire_grace_time": 3600},
    ),
    "cron-weekdays-new-york": (
        CronTrigger(day_of_week="mon-fri", hour=8, timezone="America/New_York"),
        {"kwargs": {"region": "us", "limit": 20}},
    ),
    "cron-weekend-names": (
        CronTrigger(day_of_week="sat,sun", hour=10, minute=15, timezone="UTC"),
        {},
    ),
    "cron-quarter-hours": (CronTrigger(minute="*/15", timezone="UTC"), {"max_instances": 2}),
    "cron-last-friday-tokyo": (
        CronTrigger(day="last fri", hour=17, timezone="Asia/Tokyo"),
        {},
    ),
    "cron-first-monday": (CronTrigger(day="1-7", day_of_week="mon", hour=9, timezone="UTC"), {}),
    "cron-month-end": (CronTrigger(day="last", hour=23, minute=59, timezone="UTC"), {}),
    "cron-seconds": (CronTrigger(minute="*/5", second="*/20", timezone="UTC"), {}),
    "cron-jan-jul-window": (
        CronTrigger(
            month="jan,jul",
            day=1,
            hour=6,
            timezone="Europe/Paris",
            start_date=datetime(2027, 1, 1, tzinfo=UTC),
            end_date=datetime(2030, 1, 1, tzinfo=UTC),
        ),
        {},
    ),
    "cron-every-other-weekday": (CronTrigger(day_of_week="*/2", hour=12, timezone="UTC"), {}),
    # APScheduler reads 1-5 of a crontab as Tuesday to Saturday (its weekdays start on
    # Monday at 0): the import keeps that meaning, not the text.
    "cron-from-crontab": (CronTrigger.from_crontab("0 9 * * 1-5", timezone="Europe/London"), {}),
    "cron-jitter": (CronTrigger(hour="*/6", jitter=30, timezone="UTC"), {}),
    "interval-quarter-hour": (
        IntervalTrigger(minutes=15, start_date=datetime(2026, 1, 1, 0, 5, tzinfo=UTC)),
        {"coalesce": False, "misfire_grace_time": 300, "max_instances": 3},
    ),
    "interval-sydney": (
        IntervalTrigger(
            hours=1,
            minutes=30,
            start_date=datetime(2026, 6, 1, 9, 10, tzinfo=ZoneInfo("Australia/Sydney")),
            timezone="Australia/Sydney",
        ),
        {"misfire_grace_time": None},
    ),
    "interval-two-days-windowed": (
        IntervalTrigger(
            days=2,
            start_date=datetime(2026, 12, 1, 7, tzinfo=BERLIN),
            end_date=datetime(2027, 12, 1, tzinfo=BERLIN),
        ),
        {},
    ),
    "date-berlin": (DateTrigger(run_date=datetime(2027, 1, 2, 9, tzinfo=BERLIN)), {}),
    "date-utc": (DateTrigger(run_date=datetime(2027, 3, 1, 12, 30, tzinfo=UTC)), {}),
}
#: Imported, but disabled (a meaning that would change, a paused job).
DISABLED: dict[str, tuple[Any, dict[str, Any]]] = {
    "cron-friday-13th": (CronTrigger(day=13, day_of_week="fri", timezone="UTC"), {}),
    "paused": (CronTrigger(hour=4, timezone="UTC"), {"next_run_time": None}),
}
#: Listed, not imported, each with the words its note must have.
NOT_IMPORTED: dict[str, tuple[Any, str]] = {
    "or-trigger": (OrTrigger([CronTrigger(hour=1), CronTrigger(hour=13)]), "OrTrigger"),
    "and-trigger": (
        AndTrigger([CronTrigger(day_of_week="mon", hour="*"), CronTrigger(hour=9)]),
        "AndTrigger",
    ),
    "cron-every-other-year": (
        CronTrigger(year="*/2", hour=5, timezone="UTC"),
        "year field '*/2' is not one year or one range of years",
    ),
    "cron-years-ended": (
        CronTrigger(year="2027", hour=5, end_date="2026-12-31", timezone="UTC"),
        "leave no time to run",
    ),
}
#: Stored fine, then broken: id -> the words their note must have.
BROKEN = {
    "callable-gone": "does not import",
    "trigger-class-gone": "cannot be read",
}


def fill_store(url: str, tmp_path: Path) -> None:
    """Add every job above to a new SQLAlchemyJobStore at ``url``, as APScheduler does."""
    store = SQLAlchemyJobStore(url=url)
    scheduler = BackgroundScheduler(jobstores={"default": store}, timezone="UTC")
    scheduler.start(paused=True)
    try:
        for job_id, (trigger, options) in {**IMPORTED, **DISABLED}.items():
            scheduler.add_job(TICK, trigger, id=job_id, **options)
        for job_id, (trigger, _) in NOT_IMPORTED.items():
            scheduler.add_job(TICK, trigger, id=job_id)
        with _vanishing_module(tmp_path) as module:
            scheduler.add_job(f"{module.__name__}:gone", "interval", id="callable-gone", hours=1)
            scheduler.add_job(TICK, module.GoneTrigger(), id="trigger-class-gone")
    finally:
        scheduler.shutdown()
        # Its thread looks for due jobs once more after the store was shut down,
        # opening a connection again: close it, now that the thread has ended.
        store.engine.dispose()


class _vanishing_module:
    """A module that exists while jobs are added, and never again."""

    def __init__(self, tmp_path: Path) -> None:
        self.name = f"vanishing_{tmp_path.name.replace('-', '_')}"
        self.path = tmp_path / f"{self.name}.py"
        self.path.write_text(
            "from datetime import datetime, timedelta, timezone\n"
            "from apscheduler.triggers.base import BaseTrigger\n\n"
            "def gone():\n    pass\n\n"
            "class GoneTrigger(BaseTrigger):\n"
            "    def get_next_fire_time(self, previous_fire_time, now):\n"
            "        return now + timedelta(hours=1)\n"
        )

    def __enter__(self) -> Any:
        sys.path.insert(0, str(self.path.parent))
        importlib.invalidate_caches()
        return importlib.import_module(self.name)

    def __exit__(self, *exc: object) -> None:
        sys.path.remove(str(self.path.parent))
        sys.modules.pop(self.name, None)
        self.path.unlink()
