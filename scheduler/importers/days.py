"""Day-of-month and day-of-week, for importers whose source ANDs them.

Celery's ``crontab`` and APScheduler's ``CronTrigger`` run on days that match
both fields; cron (and so Tickwork) runs on days that match either when both are
restricted.  Where both-fields-at-once is a week of the month, the same days are
written as cron's ``#`` (``1-7`` and Monday is ``1#1``, the first Monday), so the
meaning is kept; otherwise the importer says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["CRON_WEEKDAYS", "nth_weekdays", "weekday_list"]

#: Cron's weekday names, by cron's numbers (0 is Sunday).
CRON_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")

_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")
_WEEKS = {(1, 7): 1, (8, 14): 2, (15, 21): 3, (22, 28): 4}


def weekday_list(days: Iterable[int]) -> str:
    """Cron's weekdays ``days`` (0 is Sunday) as names, runs as ranges: ``mon-fri,sun``.

    Sunday is written last and on its own, since ``sat-sun`` would be a range
    that wraps, which cron refuses."""
    chosen = sorted(set(days) - {0}) + ([7] if 0 in set(days) or 7 in set(days) else [])
    parts: list[str] = []
    start = previous = None
    for day in [*chosen, None]:
        if day is not None and previous is not None and day == previous + 1 and day != 7:
            previous = day
            continue
        if start is not None and previous is not None:
            first, last = CRON_WEEKDAYS[start % 7], CRON_WEEKDAYS[previous % 7]
            parts.append(first if start == previous else f"{first}-{last}")
        start = previous = day
    return ",".join(parts)


def nth_weekdays(day_of_month: str, days: Iterable[int]) -> str | None:
    """The day-of-week field for "days ``day_of_month`` that are one of ``days``"
    (cron's numbers), when ``day_of_month`` is a whole week of the month
    (``1-7``, ``8-14``, ``15-21`` or ``22-28``); else ``None``."""
    match = _RANGE.match(day_of_month.strip())
    if match is None:
        return None
    first, last = int(match.group(1)), int(match.group(2) or match.group(1))
    week = _WEEKS.get((first, last))
    if week is None:
        return None
    return ",".join(f"{day % 7}#{week}" for day in sorted({day % 7 for day in days}))
