"""The job form's values for a stored definition: what the fields show when it opens."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ...model.chains import is_chain_only
from ...model.jobs import JobSpec
from ...model.sizes import format_size
from ...schedules.durations import format_duration
from ...schedules.kinds import Cron, Every, Once, get_zone
from ...schedules.solar import Solar
from .inputs import solar_text

__all__ = ["KIND_TYPES", "form_values"]

#: Each kind of schedule the form offers, and the class of its schedules.
KIND_TYPES = (("cron", Cron), ("every", Every), ("at", Once), ("solar", Solar))
_DURATIONS = ("catchup_window", "jitter", "timeout", "retry_backoff", "retry_backoff_max")


def form_values(spec: JobSpec) -> dict[str, Any]:
    """The form's values for a stored definition."""
    schedule = spec.schedule
    if is_chain_only(schedule):  # runs only after other jobs
        kind = "after"
    else:
        kind = next(name for name, cls in KIND_TYPES if isinstance(schedule, cls))
    values: dict[str, Any] = {
        "name": spec.name,
        "task": spec.task,
        "description": spec.description,
        "schedule_type": kind,
        "cron": schedule.expr if isinstance(schedule, Cron) else "",
        "every": format_duration(schedule.interval) if isinstance(schedule, Every) else "",
        "at": _wall(schedule.at, spec.timezone)
        if kind == "at" and isinstance(schedule, Once)
        else "",
        "solar": solar_text(schedule) if isinstance(schedule, Solar) else "",
        "timezone": spec.timezone,
        "enabled": spec.enabled,
        "start": _wall(spec.start, spec.timezone),
        "end": _wall(spec.end, spec.timezone),
        "args": _json(list(spec.args)),
        "kwargs": _json(spec.kwargs),
        "catchup": spec.policy.catchup.value,
        "max_catchup": spec.policy.max_catchup,
        "overlap": spec.policy.overlap.value,
        "retries": spec.policy.retries,
        "executor": spec.executor,
        "queue": spec.queue or "",
        "max_memory": "" if spec.policy.max_memory is None else format_size(spec.policy.max_memory),
        "after": ", ".join(spec.after),
        "when": spec.when.value,
    }
    for key in _DURATIONS:
        duration = getattr(spec.policy, key)
        values[key] = "" if duration is None else format_duration(duration)
    return values


def _wall(instant: datetime | None, zone: str) -> str:
    """An instant as the form shows it: ISO 8601 with the zone's offset."""
    if instant is None:
        return ""
    return instant.astimezone(get_zone(zone)).isoformat(sep=" ")


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)
