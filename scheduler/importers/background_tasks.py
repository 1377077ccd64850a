"""django-background-tasks' pending ``Task`` rows as Tickwork jobs.

A row whose ``repeat`` is 0 is one call, later: it becomes a deferred call
(a one-off ``at`` job of source ``code``, written to the database by the
Django command).  A repeating row is a job: ``every`` its ``repeat`` seconds
from its ``run_at``, up to its ``repeat_until``, written to the schedules
file, as django-background-tasks itself advances ``run_at`` by whole repeats.

The package is read through its model rows, passed in: it is never imported here.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from ..schedules.durations import format_duration
from .document import Source, Translation, as_json, check, job_name

__all__ = ["SOURCE", "is_deferred_call", "translate"]

#: The file's header and comments for django-background-tasks' repeating tasks.
SOURCE = Source(
    label="django-background-tasks",
    command="manage.py scheduler_import_background_tasks",
    noun="task",
    item="background Task",
    check_with="manage.py scheduler_check",
    stop="process_tasks",
    guide="docs/django/migrating-from-background-tasks.md",
)


def is_deferred_call(found: Translation) -> bool:
    """Whether ``found`` is a one-off call (a deferred call), not a job for the file."""
    return found.entry is not None and "at" in found.entry


def translate(row: Any, *, now: datetime) -> Translation:
    """The job for the ``background_task.models.Task`` ``row``."""
    task = str(row.task_name)
    found = Translation(name=_name(row), source_name=f"Task {row.pk}", entry=None)
    try:
        args, kwargs = _params(row.task_params)
    except (TypeError, ValueError) as error:
        found.refuse(f"its task_params are not [args, kwargs] in JSON ({error})")
        return found
    entry: dict[str, Any] = {"task": task, **_when(row, found, now)}
    entry.update({key: value for key, value in (("args", args), ("kwargs", kwargs)) if value})
    if row.queue:
        entry["queue"] = str(row.queue)
        found.notes.append(
            f"queue {row.queue!r}: process_tasks --queue picked it; here the executor gets it"
        )
    if row.verbose_name:
        entry["description"] = str(row.verbose_name)
    found.notes += _unused(row)
    found.entry = entry
    check(found, SOURCE.item)
    return found


def _name(row: Any) -> str:
    task = str(row.task_name)[:170]
    if row.repeat:  # one job per task and arguments, whatever repetition the row is
        return job_name(f"{task}:{str(row.task_hash)[:8]}", f"background-task-{row.pk}")
    return job_name(f"{task}:bgt{row.pk}", f"background-task-{row.pk}")


def _params(text: str) -> tuple[list[Any], dict[str, Any]]:
    args, kwargs = json.loads(text)
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise ValueError("expected a list and a mapping")
    return as_json(args), as_json(kwargs)


def _when(row: Any, found: Translation, now: datetime) -> dict[str, Any]:
    run_at: datetime = row.run_at
    if not row.repeat:
        if run_at < now:
            found.notes.append(f"it was due at {run_at.isoformat()}: it runs as soon as imported")
        return {"at": run_at.isoformat()}
    keys = {
        "every": format_duration(timedelta(seconds=int(row.repeat))),
        "start": run_at.isoformat(),
    }
    if row.repeat_until is not None:
        keys["end"] = row.repeat_until.isoformat()
    return keys


def _unused(row: Any) -> list[str]:
    notes = []
    if row.priority:
        notes.append(f"not carried over: priority {row.priority} (runs start when they are due)")
    if row.attempts:
        error = (str(row.last_error).strip().splitlines() or [""])[-1][:120]
        notes.append(f"it had failed {row.attempts} time(s), last with {error!r}")
    if row.locked_by:
        notes.append(f"locked by process_tasks (pid {row.locked_by}): stop process_tasks first")
    if getattr(row, "creator_object_id", None) is not None:
        notes.append("not carried over: its creator (pass it in kwargs)")
    return notes
