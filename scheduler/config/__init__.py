"""Declared jobs: the ``schedules.yaml`` format and keeping a store in step with it.

:mod:`.reader` turns a file into :class:`~scheduler.model.jobs.JobSpec` values
or one error listing every problem, with :mod:`.jobs` reading each job;
:mod:`.keys` says which keys a file may have and :mod:`.values` how each value
is read; :mod:`.walker` records every problem at its position, which
:mod:`.nodes` keeps; :mod:`.loaded` is what a read file gives back, with those
positions.  :mod:`.reconcile` checks a loaded file's tasks and syncs it into a
store whenever the file changes.
"""

from __future__ import annotations

from .reader import (
    DEFAULT_KEYS,
    JOB_KEYS,
    SCHEDULE_KEYS,
    TOP_KEYS,
    LoadedSchedules,
    Location,
    load_schedules,
    parse_schedules,
    read_schedules,
    read_schedules_text,
    survey_schedules,
)

__all__ = [
    "DEFAULT_KEYS",
    "JOB_KEYS",
    "SCHEDULE_KEYS",
    "TOP_KEYS",
    "LoadedSchedules",
    "Location",
    "load_schedules",
    "parse_schedules",
    "read_schedules",
    "read_schedules_text",
    "survey_schedules",
]
