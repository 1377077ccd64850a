"""Cron expressions: parsing, validation and wall-clock iteration.

This is the one adapter around croniter.  It knows nothing of time zones: it
walks *naive wall-clock* times, and :mod:`scheduler.schedules` maps each wall
time onto real instants with the DST rules.  Keeping croniter away from aware
datetimes is deliberate: its own DST handling differs from cron's.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from croniter import CroniterBadCronError, CroniterBadDateError, CroniterError, croniter

from ..errors import InvalidSchedule
from .cron_fields import DAY_OF_MONTH, DAY_OF_WEEK, FIELD_NAMES, check_ranges, split_list
from .cron_words import describe_fields

__all__ = ["CronExpression", "parse_cron", "uses_hash"]

ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_RANGES = (
    "0-59",
    "0-23",
    "1-31 (or L, 15W)",
    "1-12 or JAN-DEC",
    "0-7 or SUN-SAT (or 5L, 1#2)",
    "0-59",
)
# Quartz and cronie spell "last Friday of the month" 5L; croniter wants L5.
_LAST_WEEKDAY = re.compile(r"\b([0-7]|[a-z]{3})l\b")
# croniter reads a one-value range such as 5-5 (or 5-5/10) as "*".
_DEGENERATE = re.compile(r"^([0-9a-z]+)-\1(?:/\d+)?$")
# A Jenkins-style hashed part: H, H/15, H(0-29) or H(0-29)/10.
_HASH_PART = re.compile(r"^h(?:$|[/(])")
# Far enough to find Feb 29 on a Monday-only schedule (28-year cycle).
_SEARCH_YEARS = 50
_VALIDATION_START = datetime(2001, 1, 1)


@dataclass(frozen=True, slots=True)
class CronExpression:
    """A validated cron expression.

    ``fields`` holds five fields (minute hour day-of-month month day-of-week)
    or six (the sixth counts seconds), aliases already expanded.  ``variants``
    are the croniter expressions whose union is this one (see
    :func:`_variants`), each known to match some real date.  ``hash_key``
    seeds Jenkins-style ``H`` fields; it is the job's name.
    """

    text: str
    fields: tuple[str, ...]
    variants: tuple[tuple[str, ...], ...]
    hash_key: str = ""

    @property
    def has_seconds(self) -> bool:
        return len(self.fields) == 6

    @property
    def is_wildcard(self) -> bool:
        """True when the minute or hour field starts with ``*``.

        This is cronie's distinction: a wildcard job runs on every matching
        real minute across DST changes, a fixed-time job once per wall time.
        """
        return self.fields[0].startswith("*") or self.fields[1].startswith("*")

    def walls_after(self, wall: datetime) -> Iterator[datetime]:
        """Matching naive wall-clock times strictly after ``wall``, ascending, forever."""
        while True:
            wall = self.next_wall(wall)
            yield wall

    def next_wall(self, wall: datetime) -> datetime:
        """The first matching naive wall-clock time strictly after ``wall``."""
        return min(
            _iterator(fields, self.hash_key, wall).get_next(datetime) for fields in self.variants
        )

    def describe(self) -> str:
        """A human sentence for the expression, such as ``At 02:30``.

        ``H`` fields are described by the values they hash to for this job.
        """
        try:
            return describe_fields(self.hashed_fields())
        except Exception:  # a description is a courtesy, never a failure
            return self.text

    def hashed_fields(self) -> tuple[str, ...]:
        """:attr:`fields` with each ``H`` field replaced by the values it hashes to
        for this job (``H H * * *`` might give ``("17", "3", "*", "*", "*")``): the
        expression in words any other cron reader understands."""
        if not self.hash_key:
            return self.fields
        # Only the H fields are expanded: croniter cannot read every list that
        # the other fields may hold (such as 6,2#1).
        hashed = " ".join(field if uses_hash(field) else "*" for field in self.fields)
        expanded = croniter.expand(hashed, hash_id=self.hash_key.encode())[0]
        return tuple(
            ",".join(str(value) for value in expanded[index]) if uses_hash(field) else field
            for index, field in enumerate(self.fields)
        )


def parse_cron(text: str, hash_key: str = "") -> CronExpression:
    """Validate ``text`` and return a :class:`CronExpression`.

    ``hash_key`` matters only when a field uses ``H``; otherwise it is dropped
    so that the many jobs sharing an expression share one parsed result.
    """
    if not isinstance(text, str) or not uses_hash(text):
        hash_key = ""
    return _parse_cron(text, hash_key)


@lru_cache(maxsize=4096)  # every job read back from a store asks again
def uses_hash(text: str) -> bool:
    """Whether a field of the cron expression ``text`` uses ``H``."""
    return any(_HASH_PART.match(part) for part in text.lower().replace(",", " ").split())


@lru_cache(maxsize=4096)
def _parse_cron(text: str, hash_key: str) -> CronExpression:
    """:func:`parse_cron`, cached: the result is immutable; errors are not cached.

    Raises :class:`~scheduler.errors.InvalidSchedule` naming the field that is
    wrong and its allowed range, or saying that the expression never matches.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidSchedule("a cron expression is required, got an empty value")
    normal = " ".join(text.strip().split())
    if normal.startswith("@"):
        alias = normal.lower()
        if alias not in ALIASES:
            known = ", ".join(sorted(ALIASES))
            raise InvalidSchedule(f"unknown cron alias {normal!r}; known aliases: {known}")
        normal = ALIASES[alias]
    fields = tuple(_normal_field(field) for field in normal.split(" "))
    if len(fields) not in (5, 6):
        raise InvalidSchedule(
            f"cron expression {text!r} has {len(fields)} fields; expected 5 "
            "(minute hour day-of-month month day-of-week) or 6 (with seconds last)"
        )
    if not hash_key and uses_hash(" ".join(fields)):
        raise InvalidSchedule(f"cron expression {text!r} uses H, which needs a job name to hash")
    for index, field in enumerate(fields):
        _check_field(text, fields, index, field, hash_key)
    variants = tuple(v for v in _variants(fields) if _ever_matches(v, hash_key))
    if not variants:
        raise InvalidSchedule(f"cron expression {text!r} never matches a real date")
    return CronExpression(text=text.strip(), fields=fields, variants=variants, hash_key=hash_key)


def _variants(fields: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """croniter expressions, each ANDing its day fields, whose union is ``fields``.

    Cron ORs day-of-month and day-of-week when both are restricted.  croniter
    gets that OR wrong as soon as L, W or # is involved, so the OR is computed
    here as a union of two expressions that each leave one day field open.
    A day list mixing plain values with ``15W``, ``5L`` or ``1#2`` is a union
    too (see :func:`~.cron_fields.split_list`): one expression per part.
    """
    if _unrestricted(fields[DAY_OF_MONTH]) or _unrestricted(fields[DAY_OF_WEEK]):
        return _split(fields, DAY_OF_MONTH, DAY_OF_WEEK)
    by_month_day = (*fields[:DAY_OF_WEEK], "*", *fields[DAY_OF_WEEK + 1 :])
    by_week_day = (*fields[:DAY_OF_MONTH], "*", *fields[DAY_OF_MONTH + 1 :])
    return (*_split(by_month_day, DAY_OF_MONTH), *_split(by_week_day, DAY_OF_WEEK))


def _split(fields: tuple[str, ...], *indexes: int) -> tuple[tuple[str, ...], ...]:
    variants = [fields]
    for index in indexes:
        variants = [
            (*variant[:index], part, *variant[index + 1 :])
            for variant in variants
            for part in split_list(index, variant[index])
        ]
    return tuple(variants)


def _ever_matches(fields: tuple[str, ...], hash_key: str) -> bool:
    try:
        _iterator(fields, hash_key, _VALIDATION_START).get_next(datetime)
    except CroniterBadDateError:
        return False
    return True


def _check_field(text: str, fields: tuple[str, ...], index: int, field: str, hash_key: str) -> None:
    if field == "lw" or "lw" in field.split(","):
        raise InvalidSchedule(
            f"cron expression {text!r}: 'LW' (last weekday of the month) is not supported; "
            "use 'L' or an explicit day such as '28-31' with a weekday"
        )
    check_ranges(text, index, field)
    for part in split_list(index, field):
        probe = ["*"] * len(fields)
        probe[index] = part
        try:
            croniter(" ".join(probe), _VALIDATION_START, hash_id=hash_key or None)
        except (CroniterError, ValueError, KeyError, IndexError) as error:
            raise InvalidSchedule(
                f"cron expression {text!r}: the {FIELD_NAMES[index]} field {field.upper()!r} "
                f"is not valid (allowed: {_RANGES[index]})"
            ) from error


def _normal_field(field: str) -> str:
    parts = (_DEGENERATE.sub(r"\1", part) for part in field.lower().split(","))
    return _LAST_WEEKDAY.sub(r"l\1", ",".join(parts))


def _unrestricted(field: str) -> bool:
    return field.startswith(("*", "?"))


@lru_cache(maxsize=1024)
def _template(fields: tuple[str, ...], hash_key: str) -> croniter:
    return croniter(
        " ".join(fields),
        _VALIDATION_START,
        day_or=False,
        hash_id=hash_key or None,
        max_years_between_matches=_SEARCH_YEARS,
    )


def _iterator(fields: tuple[str, ...], hash_key: str, wall: datetime) -> croniter:
    # Building a croniter parses the expression (~80 us); copying the parsed
    # template and moving its cursor is several times cheaper.
    try:
        template = _template(fields, hash_key)
    except CroniterBadCronError as error:  # pragma: no cover - parse_cron validated it
        raise InvalidSchedule(str(error)) from error
    iterator = copy.copy(template)
    iterator.set_current(wall, force=True)
    return iterator
