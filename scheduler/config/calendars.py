"""The calendars of a schedules file: the top-level ``calendars`` and each job's own.

.. code-block:: yaml

    calendars:
      company:                     # written once, named by many jobs
        holidays: {country: DE, subdivision: BY}
        business_days: true
        exclude: [2026-12-24..2027-01-01]
    jobs:
      payroll:
        task: hr.tasks.payroll
        cron: "0 9 * * *"
        calendar: company          # the shared calendar...
        exclude: 2026-08-14        # ...plus the job's own days
        on_excluded: next_business_day

A job's calendar is the named one with the job's own keys added (its
``on_excluded`` wins).  Every problem is recorded with the walker, located.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from ..errors import SchedulerError
from ..schedules.calendars import CALENDAR_KEYS, Calendar, OnExcluded
from .nodes import Entry, child_path
from .walker import Setting, Walker

__all__ = ["job_calendar", "named_calendars"]


def named_calendars(walker: Walker, entry: Entry | None) -> dict[str, Calendar]:
    """The file's ``calendars`` by name (the good ones; problems recorded)."""
    if entry is None or walker.is_null(entry.value):
        return {}
    what = "a mapping of calendar names to calendar settings"
    found: dict[str, Calendar] = {}
    for item in walker.mapping(entry.value, "calendars", what) or []:
        name = str(item.key_node.value)
        path = child_path("calendars", name)
        pairs = walker.mapping(item.value, path, f"a mapping of {', '.join(CALENDAR_KEYS)}")
        if pairs is None:
            continue
        settings = walker.settings(walker.known(pairs, CALENDAR_KEYS, path), path)
        calendar = _calendar(walker, settings, name, item, path)
        if calendar is not None:
            found[name] = calendar
    return found


def job_calendar(
    walker: Walker,
    merged: Mapping[str, Setting],
    named: Mapping[str, Calendar],
    entry: Entry,
    path: str,
) -> Calendar | None:
    """The calendar of one job from its (and its defaults') settings; ``None`` if wrong."""
    base = Calendar()
    reference = merged.get("calendar")
    if reference is not None and reference.value is not None:  # null: no named calendar
        found = named.get(reference.value)
        if found is None:
            known = ", ".join(sorted(named)) or "none"
            message = f"unknown calendar {reference.value!r}; the calendars of this file: {known}"
            walker.issue(reference.node, reference.path, message)
            return None
        base = found
    own = _calendar(walker, merged, "", entry, path)
    if own is None:
        return None
    combined = base.merged(own)
    # A job that only says how to treat excluded days has no calendar of its
    # own (``own`` dropped its on_excluded): the named one's days, its policy.
    policy = merged.get("on_excluded")
    if policy is not None and policy.value is not None:
        combined = replace(combined, on_excluded=OnExcluded(policy.value))
    return combined


def _calendar(
    walker: Walker, settings: Mapping[str, Setting], name: str, entry: Entry, path: str
) -> Calendar | None:
    values = {key: settings[key].value for key in CALENDAR_KEYS if key in settings}
    try:
        return Calendar.parse({**values, "name": name})
    except SchedulerError as error:
        walker.issue(entry.key_node, path, str(error))
        return None
