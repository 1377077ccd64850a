"""Declared jobs: the ``schedules.yaml`` format and keeping a store in step with it.

:mod:`.reader` turns a file into :class:`~scheduler.model.jobs.JobSpec` values
or one error listing every problem; :mod:`.nodes` keeps the YAML positions
those errors quote; :mod:`.reconcile` checks a loaded file's tasks and syncs
it into a store whenever the file changes.
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
]
