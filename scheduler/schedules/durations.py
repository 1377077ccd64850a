"""Durations written the way people write them: ``90s``, ``15m``, ``1h30m``, ``2d``."""

from __future__ import annotations

import re
from datetime import timedelta

from ..errors import InvalidDuration

__all__ = ["format_duration", "parse_duration"]

_UNITS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+)([wdhms])")
_WHOLE = re.compile(r"(?:\d+[wdhms])+")


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """Parse ``value`` into a :class:`~datetime.timedelta`.

    Accepts a timedelta, a number of seconds, or a string of one or more
    ``<integer><unit>`` parts in decreasing order of size, where unit is one of
    ``w d h m s`` (``1h30m``, ``2d``, ``90s``).  A bare integer string counts
    seconds.  Raises :class:`InvalidDuration` saying what was expected.
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise InvalidDuration(f"expected a duration such as '15m' or '1h30m', got {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise InvalidDuration(f"a duration cannot be negative, got {value!r}")
        return timedelta(seconds=value)
    text = value.strip().lower().replace(" ", "")
    if text.isdigit():
        return timedelta(seconds=int(text))
    if not _WHOLE.fullmatch(text):
        raise InvalidDuration(
            f"expected a duration such as '90s', '15m', '1h30m' or '2d', got {value!r}"
        )
    parts = [(int(number), unit) for number, unit in _PART.findall(text)]
    order = [list(_UNITS).index(unit) for _, unit in parts]
    if order != sorted(set(order)):
        raise InvalidDuration(
            f"units must appear once each, largest first (like '1h30m'), got {value!r}"
        )
    return timedelta(seconds=sum(number * _UNITS[unit] for number, unit in parts))


def format_duration(value: timedelta) -> str:
    """The shortest string :func:`parse_duration` reads back as ``value``."""
    seconds = int(value.total_seconds())
    if seconds == 0:
        return "0s"
    out = []
    for unit, size in _UNITS.items():
        count, seconds = divmod(seconds, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)
