"""A ``CELERY_BEAT_SCHEDULE`` setting (or a Celery app's ``beat_schedule``) as jobs.

:func:`read_setting` finds the schedule dict and the zone Celery reads its
crontabs in; :func:`translate` turns one entry into a job: ``crontab`` into
``cron`` and ``solar`` into ``solar`` (:mod:`.celery`), a ``timedelta``, a
number of seconds or a ``schedule`` into ``every``.  Celery is imported only
to recognise its schedule classes, and only if it is installed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ImportSourceError
from ..schedules.durations import format_duration
from .celery import GUIDE, crontab_entry, field_text, solar_entry
from .document import Source, Translation, as_json, check, job_name

__all__ = ["SOURCE", "chosen_zone", "read_setting", "schedule_of", "translate", "zone_of"]

#: The file's header and comments for a beat schedule setting.
SOURCE = Source(
    label="a Celery beat schedule setting",
    command="tickwork import celery-beat-setting",
    noun="periodic task",
    item="beat schedule entry",
    check_with="tickwork check",
    stop="celery beat",
    guide=GUIDE,
)
_KEYS = {"task", "schedule", "args", "kwargs", "options", "relative"}
_ROUTING = ("exchange", "routing_key", "priority", "headers")


def read_setting(module: str, name: str = "CELERY_BEAT_SCHEDULE") -> tuple[Mapping[str, Any], str]:
    """The beat schedule named ``name`` in ``module`` (a dotted path of attributes:
    ``app`` or ``app.conf.beat_schedule`` for a Celery app), and its time zone.

    Raises :class:`~scheduler.errors.ImportSourceError` when the module does not
    import, has no such attribute, or it is neither a dict nor a Celery app."""
    try:
        found: Any = importlib.import_module(module)
    except Exception as error:  # whatever importing a settings module raises
        raise ImportSourceError(
            f"cannot import the module {module!r}: {type(error).__name__}: {error}"
        ) from error
    holder = found
    for part in name.split("."):
        if not hasattr(found, part):
            raise ImportSourceError(f"the module {module!r} has no {name!r}")
        holder, found = found, getattr(found, part)
    conf = getattr(found, "conf", None)
    if conf is not None and hasattr(conf, "beat_schedule"):  # a Celery app
        return dict(conf.beat_schedule or {}), zone_of(conf.timezone)
    if not isinstance(found, Mapping):
        raise ImportSourceError(
            f"{module}.{name} is a {type(found).__name__}, not a beat schedule dict or a Celery app"
        )
    zone_name = name.rpartition(".")[2].replace("BEAT_SCHEDULE", "TIMEZONE")
    zone_name = zone_name.replace("beat_schedule", "timezone")
    return found, zone_of(getattr(holder, zone_name, None))


def chosen_zone(name: str) -> str:
    """``name`` (a ``--timezone`` given to an import) if it is an IANA zone; an
    :class:`~scheduler.errors.ImportSourceError` saying so if not."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImportSourceError(
            f"--timezone {name!r} is not a time zone name; give an IANA name such as "
            "'Europe/Berlin' or 'UTC'"
        ) from None
    return name


def zone_of(zone: Any) -> str:
    """A Celery ``timezone`` setting as a zone name; Celery's default is UTC."""
    if not zone:
        return "UTC"
    return str(getattr(zone, "key", None) or zone)


def translate(
    name: str,
    spec: Any,
    *,
    zone: str,
    now: datetime,
    known: Callable[[str], bool] | None = None,
) -> Translation:
    """The job for the beat schedule entry ``name``: ``spec`` is its dict."""
    found = Translation(name=job_name(str(name), "beat-entry"), source_name=str(name), entry=None)
    if not isinstance(spec, Mapping) or "task" not in spec or "schedule" not in spec:
        found.refuse("an entry needs 'task' and 'schedule'")
        return found
    task = str(spec["task"])
    if known is not None and not known(task):
        found.refuse(f"its task {task!r} is not registered (use @job, or --allow)")
        return found
    schedule = schedule_of(spec["schedule"], zone, found)
    if schedule is None:
        return found
    entry: dict[str, Any] = {"task": task, **schedule}
    try:
        args, kwargs = (
            as_json(list(spec.get("args") or ())),
            as_json(dict(spec.get("kwargs") or {})),
        )
    except (TypeError, ValueError) as error:
        found.refuse(f"its args or kwargs are not JSON ({error})")
        return found
    entry.update({key: value for key, value in (("args", args), ("kwargs", kwargs)) if value})
    entry.update(_options(spec, found))
    found.notes += [f"not carried over: {key!r}" for key in sorted(set(spec) - _KEYS)]
    if spec.get("relative"):
        found.notes.append("not carried over: relative (Tickwork's slots count from 'start')")
    found.entry = entry
    check(found, SOURCE.item)
    return found


def schedule_of(value: Any, zone: str, found: Translation) -> dict[str, Any] | None:
    """The schedule keys for a beat ``schedule`` value, or None (and a note)."""
    kind = type(value).__name__
    from_celery = type(value).__module__.startswith("celery.")
    if from_celery and kind == "crontab":
        names = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
        fields = [field_text(getattr(value, f"_orig_{name}")) for name in names]
        return crontab_entry(fields, zone, found, weekdays=set(value.day_of_week))
    if from_celery and kind == "solar":
        return solar_entry(value.event, value.lat, value.lon, found)
    if from_celery and kind == "schedule":
        value = value.run_every
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = timedelta(seconds=value)
    if isinstance(value, timedelta):
        return _every(value, found)
    found.refuse(f"its schedule {value!r} ({kind}) is not a crontab, solar, timedelta or number")
    return None


def _every(interval: timedelta, found: Translation) -> dict[str, Any] | None:
    if interval <= timedelta(0) or interval % timedelta(seconds=1):
        found.refuse(f"its interval {interval} is not a positive whole number of seconds")
        return None
    found.notes.append(
        "beat counted this interval from the last run; Tickwork counts from the "
        "Unix epoch (give 'start' to move the slots)"
    )
    return {"every": format_duration(interval)}


def _options(spec: Mapping[str, Any], found: Translation) -> dict[str, Any]:
    options = dict(spec.get("options") or {})
    keys: dict[str, Any] = {}
    if options.get("queue"):
        keys["queue"] = str(options.pop("queue"))
    expires = options.pop("expires", None)
    if isinstance(expires, (int, float)) and not isinstance(expires, bool) and expires > 0:
        keys["catchup_window"] = format_duration(timedelta(seconds=int(expires)))
    elif isinstance(expires, datetime):
        keys["end"] = expires.isoformat()
    elif expires is not None:
        options["expires"] = expires
    for key, value in sorted(options.items()):
        hint = " (use Celery's task_routes)" if key in _ROUTING else ""
        found.notes.append(f"not carried over: option {key} {value!r}{hint}")
    return keys
