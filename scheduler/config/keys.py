"""The keys of a schedules file, and how the value of each is read.

The reference (``docs/reference/yaml.md``) documents these keys in this order.
"""

from __future__ import annotations

from ..model.chains import ChainWhen
from ..model.fields import FIELD_NAMES
from ..model.job_policy import POLICY_FIELDS
from ..model.policies import CatchupPolicy, OverlapPolicy
from ..schedules.calendars import CALENDAR_KEYS, OnExcluded
from . import values
from .values import Reader

__all__ = [
    "DEFAULT_KEYS",
    "JOB_KEYS",
    "JOB_ONLY",
    "READERS",
    "SCHEDULE_KEYS",
    "SPEC_FIELDS",
    "TOP_KEYS",
]

#: The keys of the file itself.
TOP_KEYS = ("timezone", "calendars", "defaults", "jobs")
#: A job has exactly one of these.
SCHEDULE_KEYS = ("cron", "every", "at", "solar")
#: Every key a job may have, in the order the reference documents them.
JOB_KEYS = (
    "task",
    *SCHEDULE_KEYS,
    "args",
    "kwargs",
    "timezone",
    "enabled",
    "start",
    "end",
    *POLICY_FIELDS,
    "executor",
    "queue",
    "notify",
    *CALENDAR_KEYS,
    "calendar",
    "after",
    "when",
    "description",
)
#: What identifies one job makes no sense shared by all of them.
JOB_ONLY = frozenset({"task", *SCHEDULE_KEYS, "after", "description"})
#: The keys ``defaults`` may set.
DEFAULT_KEYS = tuple(key for key in JOB_KEYS if key not in JOB_ONLY)
#: The keys that are fields of a :class:`~scheduler.model.jobs.JobSpec` as they are.
#: (``calendar`` names a calendar of the file; :mod:`.calendars` builds the job's calendar.)
SPEC_FIELDS = frozenset(FIELD_NAMES) - {"calendar"}

_DURATIONS = ("every", "catchup_window", "jitter", "timeout", "retry_backoff", "retry_backoff_max")
_POSITIVE = frozenset({"every", "timeout", "catchup_window"})
_OPTIONAL = frozenset(
    {"start", "end", "catchup_window", "timeout", "max_memory", "queue", "calendar"}
)


def _readers() -> dict[str, Reader]:
    table: dict[str, Reader] = {
        "task": values.text("a task name string such as 'app.tasks.send'"),
        "cron": values.text("a cron expression string such as '30 2 * * *'"),
        "at": values.instant,
        "solar": values.json_mapping,
        "args": values.json_list,
        "kwargs": values.json_mapping,
        "timezone": values.text("an IANA time zone name such as 'Europe/Berlin'"),
        "enabled": values.boolean,
        "start": values.instant,
        "end": values.instant,
        "catchup": values.choice([policy.value for policy in CatchupPolicy]),
        "overlap": values.choice([policy.value for policy in OverlapPolicy]),
        "max_catchup": values.integer,
        "retries": values.integer,
        "executor": values.text("an executor name string"),
        "queue": values.text("a queue name string"),
        "description": values.text("a string"),
        "notify": values.json_value,
        "max_memory": values.scalar,
        "calendar": values.text("the name of a calendar under the top-level 'calendars'"),
        "exclude": values.date_ranges,
        "holidays": values.holidays,
        "business_days": values.boolean,
        "on_excluded": values.choice([policy.value for policy in OnExcluded]),
        "after": values.job_names,
        "when": values.choice([when.value for when in ChainWhen]),
    }
    for key in _DURATIONS:
        table[key] = values.duration(positive=key in _POSITIVE)
    return {key: values.optional(read) if key in _OPTIONAL else read for key, read in table.items()}


#: The reader of each key's value (``null`` reads as ``None`` where a key may be unset).
READERS = _readers()
