"""What Sentry Crons is told about a job: its monitor slug and its monitor configuration.

Pure functions of a :class:`~scheduler.model.jobs.JobSpec`, with no Sentry SDK
involved, so the rules can be read and tested on their own
(``docs/how-to/sentry-crons.md`` states them for users):

* the **slug** is the job's name made into what Sentry accepts: lowercase ASCII
  letters, digits, ``-`` and ``_``, at most 50 characters, not only digits;
  see :func:`monitor_slug`;
* the **schedule** is the job's cron expression (five fields, ``H`` replaced
  by the values it hashes to for this job) or its interval in the largest
  unit that divides it exactly (``week``, ``day``, ``hour``, ``minute``);
* the **check-in margin** is how late a start still counts as on time: the
  engine's grace (a minute) plus the job's jitter, rounded up to minutes;
* the **max runtime** is the job's timeout rounded up to minutes (not sent
  without a timeout, so Sentry's own setting applies).

A job Sentry cannot follow gets no monitor, with the reason
(:class:`Unmonitored`): one-off jobs, intervals that are not whole minutes,
cron expressions that fire more than once a minute or use what Sentry's
parser does not read (``15W``).
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from ..errors import SchedulerError
from ..model.fields import ScheduleType
from ..model.jobs import JobSpec
from ..model.statuses import RunStatus
from ..schedules.kinds import Cron, Every, Once

__all__ = [
    "ON_TIME",
    "Monitor",
    "SentryCronsError",
    "Unmonitored",
    "checkin_status",
    "monitor_for",
    "monitor_slug",
    "slug_clashes",
]

#: How late a run may start and still be on time, before the job's jitter: the
#: engine's default grace (``scheduler.engine.planning.DEFAULT_GRACE``).
ON_TIME = timedelta(minutes=1)
#: Sentry's limits, in minutes, for both the margin and the max runtime (28 days).
MAX_MINUTES = 40_320
SLUG_LENGTH = 50
_NOT_SLUG = re.compile(r"[^a-z0-9_-]+")
_HASH_LENGTH = 8
# The units of an interval schedule, largest first; month and year vary in length.
_UNITS = (("week", 604_800), ("day", 86_400), ("hour", 3_600), ("minute", 60))
_STATUSES = {
    RunStatus.SUCCEEDED: "ok",
    RunStatus.FAILED: "error",
    RunStatus.TIMED_OUT: "error",
    RunStatus.LOST: "error",
}
_MINUTE = timedelta(minutes=1)


class SentryCronsError(SchedulerError, ValueError):
    """Sentry Crons was switched on but cannot work: the message says why."""


class Unmonitored(ValueError):
    """A job Sentry Crons cannot monitor; the message says why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Monitor:
    """A job's Sentry monitor: its slug and the configuration upserted with each check-in.

    ``schedule`` is a crontab string when ``unit`` is empty, else a number of
    ``unit`` (``"minute"``, ``"hour"``, ``"day"`` or ``"week"``).  Margin and
    runtime are whole minutes.
    """

    slug: str
    schedule: str | int
    unit: str = ""
    timezone: str = "UTC"
    checkin_margin: int = 1
    max_runtime: int | None = None

    def config(self) -> dict[str, object]:
        """The ``monitor_config`` of a check-in; failure and recovery thresholds are
        left out, so Sentry keeps its own (or what was set in its UI)."""
        schedule: dict[str, object] = (
            {"type": "interval", "value": self.schedule, "unit": self.unit}
            if self.unit
            else {"type": "crontab", "value": self.schedule}
        )
        config: dict[str, object] = {
            "schedule": schedule,
            "timezone": self.timezone,
            "checkin_margin": self.checkin_margin,
        }
        if self.max_runtime is not None:
            config["max_runtime"] = self.max_runtime
        return config


def monitor_slug(name: str) -> str:
    """The Sentry monitor slug of job ``name``; the same name always gives the same slug.

    Letters lose their accents and are lowercased; every run of other
    characters becomes one ``-``, trimmed at both ends.  A slug that would
    be longer than 50 characters keeps its first 41 and ends with ``-`` and
    8 hex digits of the name's SHA-256, so long names that share a beginning
    still differ.  A name left empty or all digits is prefixed ``job-``
    (Sentry refuses numeric slugs), an empty one followed by the hash.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = _NOT_SLUG.sub("-", ascii_name.lower()).strip("-")
    digest = hashlib.sha256(name.encode()).hexdigest()[:_HASH_LENGTH]
    if not slug:
        return f"job-{digest}"
    if slug.isdigit():
        slug = f"job-{slug}"
    if len(slug) > SLUG_LENGTH:
        slug = f"{slug[: SLUG_LENGTH - _HASH_LENGTH - 1].rstrip('-')}-{digest}"
    return slug


def slug_clashes(names: Iterable[str]) -> dict[str, list[str]]:
    """The slugs that two or more of ``names`` map to, with those names (sorted)."""
    by_slug: dict[str, set[str]] = defaultdict(set)
    for name in names:
        by_slug[monitor_slug(name)].add(name)
    return {slug: sorted(found) for slug, found in sorted(by_slug.items()) if len(found) > 1}


def checkin_status(status: RunStatus) -> str | None:
    """The check-in status a run that ended ``status`` sends: ``ok`` for succeeded,
    ``error`` for failed, timed out and lost, ``None`` (nothing) for the rest:
    a skipped, missed or cancelled slot never ran, and Sentry notices the missing
    check-in from the monitor's schedule by itself."""
    return _STATUSES.get(status)


def monitor_for(job: JobSpec, *, on_time: timedelta = ON_TIME) -> Monitor:
    """The monitor of ``job``; :class:`Unmonitored` saying why it has none.

    ``on_time`` is how late a start may be, before jitter, and still not be
    missed: the check-in margin is ``on_time`` plus the job's jitter (plus a
    cron job's seconds), in whole minutes, at least 1.  Computed once per
    distinct definition: every check-in of a job asks again.
    """
    policy = job.policy
    return _monitor(job.name, job.schedule, job.timezone, policy.jitter, policy.timeout, on_time)


@lru_cache(maxsize=4096)
def _monitor(
    name: str,
    schedule: ScheduleType,
    timezone: str,
    jitter: timedelta,
    timeout: timedelta | None,
    on_time: timedelta,
) -> Monitor:
    late = on_time + jitter
    unit = ""
    if isinstance(schedule, Cron):
        value: str | int
        value, seconds = _crontab(schedule)
        late += seconds
    elif isinstance(schedule, Every):
        value, unit = _interval(schedule.interval)
    elif isinstance(schedule, Once):
        raise Unmonitored("a one-off job has no schedule for Sentry to watch")
    else:
        raise Unmonitored("a solar schedule has no crontab or interval form for Sentry")
    return Monitor(
        slug=monitor_slug(name),
        schedule=value,
        unit=unit,
        timezone=timezone,
        checkin_margin=_minutes(late),
        max_runtime=None if timeout is None else _minutes(timeout),
    )


def _minutes(duration: timedelta) -> int:
    """Whole minutes, rounded up, between 1 and Sentry's maximum."""
    return min(max(1, math.ceil(duration / _MINUTE)), MAX_MINUTES)


def _interval(interval: timedelta) -> tuple[int, str]:
    seconds = interval.total_seconds()
    for unit, size in _UNITS:
        if seconds >= size and seconds % size == 0:
            return int(seconds // size), unit
    raise Unmonitored(
        f"its interval ({seconds:g}s) is not a whole number of minutes, "
        "the smallest unit Sentry counts in"
    )


def _crontab(schedule: Cron) -> tuple[str, timedelta]:
    """Five fields Sentry reads, and the seconds past the minute the job fires at."""
    fields = list(schedule.expression.hashed_fields())
    offset = timedelta(0)
    if len(fields) == 6:
        seconds = fields.pop()
        if not seconds.isdigit():
            raise Unmonitored(
                f"its cron expression fires more than once a minute (seconds field "
                f"{seconds.upper()!r}); Sentry reads five fields"
            )
        offset = timedelta(seconds=int(seconds))
    crontab = " ".join(_sentry_field(index, field) for index, field in enumerate(fields))
    _check_crontab(crontab)
    return crontab, offset


def _sentry_field(index: int, field: str) -> str:
    if field == "?":
        return "*"
    if index == 4:  # this package keeps croniter's L5; cron and Sentry write 5L
        field = re.sub(r"\bl([0-7]|[a-z]{3})\b", r"\1l", field)
    return field.upper()


def _check_crontab(crontab: str) -> None:
    """Refuse what Sentry's parser (cronsim, installed with the ``sentry`` extra) refuses."""
    try:
        from cronsim import CronSim, CronSimError
    except ImportError:  # pragma: no cover - the extra installs it; Sentry decides then
        return
    try:
        CronSim(crontab, datetime(2001, 1, 1))
    except CronSimError as error:
        raise Unmonitored(f"Sentry cannot read its cron expression {crontab!r} ({error})") from None
