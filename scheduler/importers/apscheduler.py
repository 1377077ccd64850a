"""APScheduler 3 jobs as Tickwork jobs.

:func:`translate` turns one job read by :mod:`.apscheduler_store` into a
:class:`~.document.Translation`: its trigger becomes ``cron``, ``every`` or
``at``, its policies become ours (the table in docs/how-to/migrate-from-apscheduler.md),
and whatever does not carry over is a note.  APScheduler is imported lazily:
it is only needed to import from it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..schedules.durations import format_duration
from .apscheduler_cron import cron_text, year_span
from .apscheduler_store import PickledJob
from .document import Source, Translation, as_json, check, job_name

__all__ = ["SOURCE", "translate"]

#: The file's header and comments for APScheduler's jobs.
SOURCE = Source(
    label="APScheduler",
    command="tickwork import apscheduler",
    noun="job",
    item="APScheduler job",
    check_with="tickwork check",
    stop="APScheduler",
    guide="docs/how-to/migrate-from-apscheduler.md",
)
#: Tickwork's grace before a slot counts as late.
_ON_TIME = timedelta(seconds=60)


def translate(
    row: PickledJob, *, now: datetime, known: Callable[[str], bool] | None = None
) -> Translation:
    """The job for ``row``.  ``known`` says whether a task is registered; without
    it, a task is taken when its callable imports."""
    name = job_name(row.job_id, "apscheduler-job")
    found = Translation(name=name, source_name=row.job_id, entry=None)
    if row.state is None:
        found.refuse(f"its pickled state cannot be read ({row.error})")
        return found
    state = row.state
    task = _task(str(state["func"]), found, known)
    schedule = _schedule(state["trigger"], found, now) if task else None
    if task is None or schedule is None:
        return found
    try:
        args, kwargs = as_json(list(state["args"])), as_json(dict(state["kwargs"]))
    except (TypeError, ValueError) as error:
        found.refuse(f"its args or kwargs are not JSON ({error})")
        return found
    entry: dict[str, Any] = {"task": task, **schedule}
    entry.update({key: value for key, value in (("args", args), ("kwargs", kwargs)) if value})
    entry.update(_policies(state, found))
    if state.get("next_run_time") is None:
        found.notes.append("it was paused in APScheduler: imported disabled")
        entry["enabled"] = False
    elif found.needs_a_look:
        entry["enabled"] = False
    if state.get("name") and str(state["name"]) != str(state["func"]).rpartition(":")[2]:
        entry["description"] = str(state["name"])
    found.entry = entry
    check(found, SOURCE.item)
    return found


def _task(ref: str, found: Translation, known: Callable[[str], bool] | None) -> str | None:
    task = ref.replace(":", ".")
    if known is not None:
        if not known(task):
            found.refuse(f"its task {task!r} is not registered (use @job, or --allow)")
            return None
        return task
    util = importlib.import_module("apscheduler.util")
    try:
        util.ref_to_obj(ref)
    except Exception as error:  # whatever importing the user's module raises
        found.refuse(f"its callable {ref!r} does not import ({type(error).__name__}: {error})")
        return None
    return task


def _schedule(trigger: Any, found: Translation, now: datetime) -> dict[str, Any] | None:
    kind = type(trigger).__name__
    module = type(trigger).__module__
    if kind == "CronTrigger" and module.startswith("apscheduler."):
        return _cron(trigger, found)
    if kind == "IntervalTrigger" and module.startswith("apscheduler."):
        return _interval(trigger, found)
    if kind == "DateTrigger" and module.startswith("apscheduler."):
        at: datetime = trigger.run_date
        if at < now:
            found.notes.append(f"its time, {at.isoformat()}, has passed: it will not run")
        return {"at": at.isoformat(), **_zone(at.tzinfo, found, required=False)}
    advice = _ADVICE.get(kind, "write it by hand")
    found.refuse(f"its trigger {trigger} ({kind}) has no Tickwork equivalent: {advice}")
    return None


def _cron(trigger: Any, found: Translation) -> dict[str, Any] | None:
    text = cron_text(trigger)
    if text.expr is None:
        found.refuse(text.problem or "its trigger cannot be written as cron")
        return None
    zone = _zone(trigger.timezone, found, required=True)
    if not zone:
        return None
    if text.problem:
        found.notes.append(f"CHECK: {text.problem}, so it is imported disabled: rewrite it")
    window = _window(trigger)
    years = year_span(trigger)
    if years.first is not None and years.last is not None:
        tz = ZoneInfo(zone["timezone"])
        start, end = _within_years(window, years.first, years.last, tz)
        if start >= end:
            found.refuse(f"{_years(years.first, years.last)} and its dates leave no time to run")
            return None
        window = {"start": start.astimezone(tz).isoformat(), "end": end.astimezone(tz).isoformat()}
        found.notes.append(f"{_years(years.first, years.last)} became its window (start and end)")
    return {"cron": text.expr, **zone, **window, **_jitter(trigger, found)}


def _interval(trigger: Any, found: Translation) -> dict[str, Any] | None:
    interval: timedelta = trigger.interval
    if interval % timedelta(seconds=1):
        found.refuse(f"its interval {interval} is not a whole number of seconds")
        return None
    every = format_duration(interval)
    zone = _zone(trigger.timezone, found, required=False)
    return {"every": every, **zone, **_window(trigger), **_jitter(trigger, found)}


def _zone(zone: Any, found: Translation, *, required: bool) -> dict[str, str]:
    name = getattr(zone, "key", None) or getattr(zone, "zone", None)
    if name is None and zone == UTC:
        name = "UTC"
    if name is None and required:
        found.refuse(f"its time zone {zone} is a fixed offset, not an IANA zone name")
    return {"timezone": str(name)} if name else {}


def _window(trigger: Any) -> dict[str, str]:
    window = {}
    if getattr(trigger, "start_date", None) is not None:
        window["start"] = trigger.start_date.isoformat()
    if getattr(trigger, "end_date", None) is not None:
        window["end"] = trigger.end_date.isoformat()
    return window


def _years(first: int, last: int) -> str:
    return f"its year {first}" if first == last else f"its years {first}-{last}"


def _within_years(
    window: dict[str, str], first: int, last: int, zone: ZoneInfo
) -> tuple[datetime, datetime]:
    """``window`` narrowed to the years ``first`` to ``last`` on ``zone``'s wall clock
    (the end is inclusive in Tickwork: the last second of the last year)."""
    start = datetime(first, 1, 1, tzinfo=zone)
    end = datetime(last, 12, 31, 23, 59, 59, tzinfo=zone)
    if "start" in window:
        start = max(start, datetime.fromisoformat(window["start"]))
    if "end" in window:
        end = min(end, datetime.fromisoformat(window["end"]))
    return start, end


def _jitter(trigger: Any, found: Translation) -> dict[str, str]:
    if not trigger.jitter:
        return {}
    found.notes.append(
        f"jitter {trigger.jitter}s: APScheduler picked a random delay per run; Tickwork's "
        "delay is derived from the job and slot, the same on every replica"
    )
    return {"jitter": format_duration(timedelta(seconds=int(trigger.jitter)))}


def _policies(state: dict[str, Any], found: Translation) -> dict[str, Any]:
    policies: dict[str, Any] = {}
    if not state.get("coalesce", True):
        policies["catchup"] = "all"
        found.notes.append("coalesce off: each missed run fires, at most 100 (max_catchup)")
    grace = state.get("misfire_grace_time")
    if grace is not None:
        policies["catchup_window"] = format_duration(timedelta(seconds=int(grace)))
        if timedelta(seconds=grace) < _ON_TIME:
            found.notes.append(
                f"misfire_grace_time {grace}s: a run up to 60s late is on time here all the same"
            )
    instances = int(state.get("max_instances") or 1)
    if instances > 1:
        policies["overlap"] = "allow"
        found.notes.append(f"max_instances {instances}: 'overlap: allow' sets no limit")
    executor = state.get("executor") or "default"
    if executor != "default":
        found.notes.append(f"not carried over: executor {executor!r} (name one of ours)")
    return policies


_ADVICE = {
    "OrTrigger": "give each of its triggers a job of its own",
    "AndTrigger": "it fires only when all its triggers agree; a calendar may express it",
}
