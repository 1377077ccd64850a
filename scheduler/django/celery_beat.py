"""django-celery-beat's periodic tasks, written as a ``schedules.yaml``.

:func:`translate` turns one ``PeriodicTask`` into a job, and notes whatever a
person must look at; :func:`render` writes the file.  Nothing is guessed
silently: a task whose meaning would change is imported disabled with a
``CHECK`` comment saying why, and one that cannot be expressed (a solar
schedule at an event Tickwork lacks) is listed in a comment instead.  Every
job written is checked with the schedules-file reader itself, so the file
always loads.  The crontab and solar schedules are read as the settings
importer reads Celery's own (:mod:`scheduler.importers.celery`).

django-celery-beat is read through its models but never imported here: the
command passes the rows in.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..importers.celery import GUIDE, crontab_entry, solar_entry
from ..importers.document import Source, Translation, check, job_name
from ..importers.document import render as render_file

__all__ = ["SOURCE", "Translation", "render", "translate"]

_UNITS = {"days": "d", "hours": "h", "minutes": "m", "seconds": "s"}

#: The file's header and comments for django-celery-beat's periodic tasks.
SOURCE = Source(
    label="django-celery-beat",
    command="manage.py scheduler_import_celery_beat",
    noun="periodic task",
    item="PeriodicTask",
    check_with="manage.py scheduler_check",
    stop="celery beat",
    guide=GUIDE,
)


def translate(task: Any, *, now: datetime) -> Translation:
    """The job for the django-celery-beat ``PeriodicTask`` ``task``."""
    found = Translation(name=_job_name(task), source_name=task.name, entry=None)
    try:
        args, kwargs = json.loads(task.args or "[]"), json.loads(task.kwargs or "{}")
    except ValueError as error:
        found.notes.append(f"not imported: its args or kwargs are not JSON ({error})")
        return found
    schedule = _schedule(task, found, now)
    if schedule is None:
        return found
    entry: dict[str, Any] = {"task": task.task, **schedule}
    if args:
        entry["args"] = args
    if kwargs:
        entry["kwargs"] = kwargs
    entry.update(_window(task))
    _options(task, entry, found)
    if not task.enabled:
        entry["enabled"] = False
    if task.description:
        entry["description"] = task.description
    found.entry = entry
    check(found, SOURCE.item)
    return found


def _job_name(task: Any) -> str:
    return job_name(str(task.name), f"periodic-task-{task.pk}")


def _schedule(task: Any, found: Translation, now: datetime) -> dict[str, Any] | None:
    if task.crontab is not None:
        return _crontab(task, found)
    if task.interval is not None:
        return _interval(task, found)
    if task.clocked is not None:
        at = task.clocked.clocked_time
        if at < now:
            found.notes.append(f"its time, {at.isoformat()}, has passed: it will not run")
        return {"at": at.isoformat()}
    if task.solar is not None:
        solar = task.solar
        return solar_entry(solar.event, solar.latitude, solar.longitude, found)
    found.notes.append("not imported: it has no schedule")
    return None


def _crontab(task: Any, found: Translation) -> dict[str, Any]:
    cron = task.crontab
    zone = getattr(cron.timezone, "key", None) or str(cron.timezone)
    fields = (cron.minute, cron.hour, cron.day_of_month, cron.month_of_year, cron.day_of_week)
    return crontab_entry([str(value).strip() for value in fields], zone, found)


def _interval(task: Any, found: Translation) -> dict[str, Any]:
    interval = task.interval
    unit = _UNITS.get(interval.period)
    every: str | float = (
        f"{interval.every}{unit}" if unit else interval.every / 1_000_000  # microseconds
    )
    found.notes.append(
        "beat counted this interval from the last run; Tickwork counts from "
        + ("its start" if task.start_time else "the Unix epoch (give 'start' to move the slots)")
    )
    return {"every": every}


def _window(task: Any) -> dict[str, str]:
    window = {}
    if task.start_time is not None:
        window["start"] = task.start_time.isoformat()
    if task.expires is not None:
        window["end"] = task.expires.isoformat()
    return window


def _options(task: Any, entry: dict[str, Any], found: Translation) -> None:
    if task.expire_seconds:
        entry["catchup_window"] = f"{task.expire_seconds}s"
    if task.queue:
        entry["queue"] = task.queue
    unused = {
        "exchange": task.exchange,
        "routing_key": task.routing_key,
        "priority": task.priority,
        "headers": None if (task.headers or "{}").strip() in ("{}", "") else task.headers,
    }
    for key, value in unused.items():
        if value not in (None, ""):
            found.notes.append(f"not carried over: {key} {value!r} (use Celery's task_routes)")
    if task.one_off and task.clocked is None:
        found.notes.append(
            "CHECK: one_off ran it once in beat; it is imported disabled: give it an 'at' "
            "instant instead of its schedule, or defer() it from code"
        )
        entry["enabled"] = False


def render(translations: Sequence[Translation], *, now: datetime) -> str:
    """A complete schedules file: a header, then each task with its notes as comments."""
    return render_file(translations, SOURCE, now=now)
