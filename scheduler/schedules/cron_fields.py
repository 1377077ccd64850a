"""Rules about single cron fields that croniter does not keep: reversed ranges,
and day lists that mix plain values with ``15W``, ``5L`` or ``1#2``.

Fields arrive here already normalised by :mod:`.cron`: lower case, ``5L``
spelt ``l5`` (croniter's order), a one-value range such as ``5-5`` shortened.
"""

from __future__ import annotations

import re

from ..errors import InvalidSchedule

__all__ = ["DAY_OF_MONTH", "DAY_OF_WEEK", "FIELD_NAMES", "check_ranges", "split_list"]

FIELD_NAMES = ("minute", "hour", "day-of-month", "month", "day-of-week", "second")
DAY_OF_MONTH, DAY_OF_WEEK = 2, 4
# The lowest and highest value of each field, as cron numbers them.
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7), (0, 59))
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_NAMES = {
    3: {name: number for number, name in enumerate(_MONTHS, 1)},
    4: {name: number for number, name in enumerate(_DAYS)},
}
_WRAPS_PAST = (
    "the hour",
    "midnight",
    "the end of the month",
    "the end of the year",
    "Sunday",
    "the minute",
)
# start-end, optionally /step; also H(start-end), the range H hashes into.
_RANGE = re.compile(r"^(?:h\()?([0-9a-z]+)-([0-9a-z]+)\)?(?:/(\d+))?$")
# The list elements croniter reads only when they stand alone: 15W in day of
# month, 5L (spelt l5 by then) or 1#2 in day of week.  L in day of month it
# reads in a list, but cron-descriptor does not: it is split off too.
_SPECIAL = {
    DAY_OF_MONTH: re.compile(r"^(?:\d+w|l)$"),
    DAY_OF_WEEK: re.compile(r"^(?:l[0-7a-z]|[0-7a-z]+#)"),
}


def check_ranges(text: str, index: int, field: str) -> None:
    """Refuse a range whose start is above its end, as cronie does.

    croniter would read ``17-9`` as a range that wraps past midnight; cron
    refuses it, and a wrap is easy to write as two ranges.  Day-of-week
    counts Sunday as 0 or 7, so ``5-7`` is Friday to Sunday and ``5-0`` is
    reversed.  Parts that are not numeric or named ranges are left to croniter.
    """
    for part in field.split(","):
        match = _RANGE.match(part)
        if match is None:
            continue
        first, last = _number(index, match[1]), _number(index, match[2])
        if first is None or last is None or first <= last or not _in_bounds(index, first, last):
            continue  # not a reversed range, or out of bounds: croniter's message says so
        raise InvalidSchedule(
            f"cron expression {text!r}: the {FIELD_NAMES[index]} field has the range "
            f"{part.upper()!r}, which starts after it ends; {_hint(index, first, last, match[3])}"
        )


def _in_bounds(index: int, *values: int) -> bool:
    low, high = _BOUNDS[index]
    return all(low <= value <= high for value in values)


def _number(index: int, token: str) -> int | None:
    if token.isdigit():
        return int(token)
    return _NAMES.get(index, {}).get(token)


def _hint(index: int, first: int, last: int, step: str | None) -> str:
    low, high = _BOUNDS[index]
    if index == DAY_OF_WEEK:
        # Sunday is 0 and 7: a range ending on Sunday ends on 7, and the
        # wrapped-around part starts on Monday.
        high, low = 7, 1
        if first == 7:
            return f"write 0-{last} for a range that starts on Sunday (0 and 7 are both Sunday)"
        if last == 0:
            return f"write {first}-7 for a range that ends on Sunday (0 and 7 are both Sunday)"
    every = f"/{step}" if step else ""
    pieces = [_span(first, high), _span(low, last)]
    wrapped = ",".join(piece + every for piece in pieces)
    return f"write {wrapped} for a range that wraps past {_WRAPS_PAST[index]}"


def _span(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}-{last}"


def split_list(index: int, field: str) -> tuple[str, ...]:
    """Field ``index`` as the fields whose union it is.

    A cron list is the union of its elements, but croniter drops the plain
    weekdays of ``4,4#2``, refuses ``6,2#1`` and refuses ``L,15W``: in day of
    month and day of week, each ``W``, ``L`` or ``#`` element that croniter
    reads only alone becomes a field of its own, and the plain elements stay
    together, first.  Other fields come back whole.
    """
    pattern = _SPECIAL.get(index)
    parts = field.split(",")
    special = [part for part in parts if pattern is not None and pattern.match(part)]
    if not special or len(parts) == 1:
        return (field,)
    plain = [part for part in parts if part not in special]
    return (*([",".join(plain)] if plain else []), *dict.fromkeys(special))
