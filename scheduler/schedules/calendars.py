"""Days a job does not run on: :class:`Calendar`.

A calendar excludes whole days, read in the job's time zone: dates and date
ranges written out (``exclude``), the public holidays of a country and
subdivision (``holidays``, from the `holidays`_ package, the ``calendars``
extra) and, with ``business_days``, the weekend too (the country's weekend
when a country is given, else Saturday and Sunday).

:meth:`Calendar.reason` says why a day is excluded, or ``None`` if it is not.
What happens to a slot on an excluded day (dropped, or moved to the next
allowed day) is :mod:`.calendared`'s business.

.. _holidays: https://pypi.org/project/holidays/
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from ..errors import InvalidSchedule

__all__ = ["CALENDAR_KEYS", "Calendar", "DateRange", "Holidays", "OnExcluded"]

_RANGE = re.compile(r"\s*(\d{4}-\d{2}-\d{2})\s*(?:\.\.\s*(\d{4}-\d{2}-\d{2})\s*)?")
_WEEKEND = frozenset({5, 6})  # Saturday, Sunday (date.weekday())
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_INSTALL = "holidays need the 'holidays' package: pip install 'tickwork[calendars]'"


class OnExcluded(StrEnum):
    """What becomes of a slot that falls on an excluded day."""

    SKIP = "skip"  #: no slot that day: no run, nothing recorded
    NEXT_BUSINESS_DAY = "next_business_day"  #: the same wall time on the next allowed day


@dataclass(frozen=True, slots=True, order=True)
class DateRange:
    """The days ``first`` to ``last``, both included."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise InvalidSchedule(
                f"the range {self.first.isoformat()}..{self.last.isoformat()} ends before it "
                f"starts; write {self.last.isoformat()}..{self.first.isoformat()}"
            )

    @classmethod
    def parse(cls, value: object) -> DateRange:
        """``2026-12-24``, ``2026-12-24..2027-01-01``, a :class:`~datetime.date`
        or a :class:`DateRange`."""
        if isinstance(value, DateRange):
            return value
        if isinstance(value, date):
            return cls(value, value)
        match = _RANGE.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            raise InvalidSchedule(
                f"expected a date such as 2026-12-24 or a range such as "
                f"2026-12-24..2027-01-01, got {value!r}"
            )
        try:
            first = date.fromisoformat(match[1])
            last = date.fromisoformat(match[2] or match[1])
        except ValueError as error:
            raise InvalidSchedule(f"{value!r} is not a real date: {error}") from None
        return cls(first, last)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last

    def __str__(self) -> str:
        if self.first == self.last:
            return self.first.isoformat()
        return f"{self.first.isoformat()}..{self.last.isoformat()}"


@dataclass(frozen=True, slots=True)
class Holidays:
    """The public holidays of ``country`` (ISO 3166-1 code such as ``DE``),
    optionally of one ``subdivision`` (such as ``BY`` for Bavaria)."""

    country: str
    subdivision: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.country, str) or not self.country.strip():
            raise InvalidSchedule(f"expected a country code such as 'DE', got {self.country!r}")
        if self.subdivision is not None and not isinstance(self.subdivision, str):
            raise InvalidSchedule(
                f"expected a subdivision code such as 'BY', got {self.subdivision!r}"
            )
        object.__setattr__(self, "country", self.country.strip().upper())
        if self.subdivision is not None:
            object.__setattr__(self, "subdivision", self.subdivision.strip().upper())
        _country_calendar(self.country, self.subdivision, None)  # unknown codes fail here

    @property
    def label(self) -> str:
        """``DE-BY``, or ``US``."""
        return self.country if self.subdivision is None else f"{self.country}-{self.subdivision}"

    @property
    def weekend(self) -> frozenset[int]:
        """The country's weekend days (``date.weekday()`` numbers)."""
        found = getattr(_country_calendar(self.country, self.subdivision, None), "weekend", None)
        return frozenset(found) if found else _WEEKEND

    def name_on(self, day: date) -> str | None:
        """The holiday's name on ``day``, or ``None`` if it is not one."""
        names = _country_calendar(self.country, self.subdivision, day.year).get(day)
        return None if names is None else str(names)

    @classmethod
    def parse(cls, value: object) -> Holidays:
        """``{country: DE, subdivision: BY}``, ``DE``, or a :class:`Holidays`."""
        if isinstance(value, Holidays):
            return value
        if isinstance(value, str):
            return cls(value)
        if isinstance(value, Mapping):
            unknown = sorted(map(str, set(value) - {"country", "subdivision"}))
            if unknown:
                raise InvalidSchedule(
                    f"holidays: unknown key {unknown[0]!r}; expected 'country' and "
                    "optionally 'subdivision'"
                )
            if "country" not in value:
                raise InvalidSchedule("holidays: missing 'country', such as {country: DE}")
            return cls(value["country"], value.get("subdivision"))
        raise InvalidSchedule(
            f"holidays: expected a mapping such as {{country: DE, subdivision: BY}}, got {value!r}"
        )

    def to_json(self) -> dict[str, str]:
        """The mapping :meth:`parse` reads back."""
        data = {"country": self.country}
        if self.subdivision is not None:
            data["subdivision"] = self.subdivision
        return data


#: The language of holiday names (``--explain``, the admin's preview).
_NAMES_LANGUAGE = "en_US"


@lru_cache(maxsize=256)
def _country_calendar(country: str, subdivision: str | None, year: int | None) -> Any:
    try:
        import holidays
    except ImportError:
        raise InvalidSchedule(_INSTALL) from None
    try:
        # Left to itself, the package names holidays in the language of the
        # process's locale (gettext reads LANG): one language on every machine.
        # (Every country it translates has American English; the others' names
        # are written in English.)
        return holidays.country_holidays(
            country,
            subdiv=subdivision,
            years=() if year is None else year,
            language=_NAMES_LANGUAGE,
        )
    except NotImplementedError:
        where = "" if subdivision is None else f" subdivision {subdivision!r} of"
        known = _subdivisions(country) if subdivision is not None else ""
        raise InvalidSchedule(
            f"unknown holiday calendar:{where} country {country!r}{known}; "
            "countries are ISO 3166-1 codes such as 'DE' or 'US'"
        ) from None


def _subdivisions(country: str) -> str:
    try:
        import holidays

        codes = holidays.list_supported_countries().get(country)
    except ImportError:  # pragma: no cover - checked by the caller first
        return ""
    if not codes:
        return ""
    return f" (its subdivisions: {', '.join(codes[:40])}{', ...' if len(codes) > 40 else ''})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Calendar:
    """The days a job does not run on, and what happens to its slots on them.

    ``name`` is the shared calendar it was written as (``calendar: company``),
    kept for display.  A calendar that excludes nothing (:attr:`is_default`) is
    no calendar: its ``on_excluded`` and ``name`` are dropped.
    """

    exclude: tuple[DateRange, ...] = ()
    holidays: Holidays | None = None
    business_days: bool = False
    on_excluded: OnExcluded = OnExcluded.SKIP
    name: str = ""

    def __post_init__(self) -> None:
        ranges = tuple(sorted({DateRange.parse(item) for item in self.exclude}))
        object.__setattr__(self, "exclude", ranges)
        if self.holidays is not None:
            object.__setattr__(self, "holidays", Holidays.parse(self.holidays))
        if not isinstance(self.business_days, bool):
            raise InvalidSchedule(
                f"business_days: expected true or false, got {self.business_days!r}"
            )
        try:
            object.__setattr__(self, "on_excluded", OnExcluded(self.on_excluded))
        except ValueError:
            choices = ", ".join(policy.value for policy in OnExcluded)
            raise InvalidSchedule(
                f"on_excluded: expected one of {choices}, got {self.on_excluded!r}"
            ) from None
        if not isinstance(self.name, str):
            raise InvalidSchedule(f"calendar name: expected a string, got {self.name!r}")
        if self.is_default:  # excludes nothing: no calendar, whatever it is called
            object.__setattr__(self, "on_excluded", OnExcluded.SKIP)
            object.__setattr__(self, "name", "")

    @property
    def is_default(self) -> bool:
        """Whether it excludes nothing (``on_excluded`` then changes nothing either)."""
        return not self.exclude and self.holidays is None and not self.business_days

    @property
    def weekend(self) -> frozenset[int]:
        """The weekdays excluded by ``business_days`` (none without it)."""
        if not self.business_days:
            return frozenset()
        return self.holidays.weekend if self.holidays is not None else _WEEKEND

    def reason(self, day: date) -> str | None:
        """Why ``day`` is excluded (``"public holiday in DE-BY: Christmas Day"``), or ``None``."""
        for excluded in self.exclude:
            if day in excluded:
                return f"excluded by {excluded}"
        if self.holidays is not None:
            holiday = self.holidays.name_on(day)
            if holiday is not None:
                return f"public holiday in {self.holidays.label}: {holiday}"
        if day.weekday() in self.weekend:
            return f"not a business day ({_DAY_NAMES[day.weekday()]})"
        return None

    def next_allowed(self, day: date, limit: int = 3660) -> date | None:
        """The first day after ``day`` that is not excluded, within ``limit`` days."""
        for offset in range(1, limit + 1):
            candidate = day + timedelta(days=offset)
            if self.reason(candidate) is None:
                return candidate
        return None

    def merged(self, other: Calendar) -> Calendar:
        """This calendar with ``other``'s exclusions added (``other``'s settings win)."""
        return Calendar(
            exclude=(*self.exclude, *other.exclude),
            holidays=other.holidays or self.holidays,
            business_days=self.business_days or other.business_days,
            on_excluded=other.on_excluded
            if other.on_excluded is not OnExcluded.SKIP
            else self.on_excluded,
            name=self.name or other.name,
        )

    @classmethod
    def parse(cls, value: object) -> Calendar:
        """A calendar written as a mapping (``exclude``, ``holidays``,
        ``business_days``, ``on_excluded``, ``name``), ``None`` (the empty one)
        or a :class:`Calendar`."""
        if value is None:
            return cls()
        if isinstance(value, Calendar):
            return value
        if not isinstance(value, Mapping):
            raise InvalidSchedule(
                f"calendar: expected a mapping of exclude, holidays, business_days "
                f"and on_excluded, got {value!r}"
            )
        unknown = sorted(map(str, set(value) - set(CALENDAR_KEYS) - {"name"}))
        if unknown:
            raise InvalidSchedule(
                f"calendar: unknown key {unknown[0]!r}; expected {', '.join(CALENDAR_KEYS)}"
            )
        exclude = value.get("exclude") or ()
        if isinstance(exclude, str | date) or not isinstance(exclude, Iterable):
            exclude = (exclude,)
        holidays = value.get("holidays")
        return cls(
            exclude=tuple(DateRange.parse(item) for item in exclude),
            holidays=None if holidays is None else Holidays.parse(holidays),
            business_days=value.get("business_days", False),
            on_excluded=value.get("on_excluded", OnExcluded.SKIP),
            name=value.get("name") or "",
        )

    def to_json(self) -> dict[str, Any]:
        """The mapping :meth:`parse` reads back, without the keys left at their default."""
        data: dict[str, Any] = {}
        if self.name:
            data["name"] = self.name
        if self.exclude:
            data["exclude"] = [str(item) for item in self.exclude]
        if self.holidays is not None:
            data["holidays"] = self.holidays.to_json()
        if self.business_days:
            data["business_days"] = True
        if self.on_excluded is not OnExcluded.SKIP:
            data["on_excluded"] = self.on_excluded.value
        return data

    def describe(self) -> str:
        """``business days in DE-BY, except 2026-12-24..2027-01-01``, or ``""``."""
        parts = []
        if self.business_days:
            where = f" in {self.holidays.label}" if self.holidays is not None else ""
            parts.append(f"business days{where}")
        elif self.holidays is not None:
            parts.append(f"not on public holidays in {self.holidays.label}")
        if self.exclude:
            parts.append("except " + ", ".join(map(str, self.exclude)))
        if self.is_default:
            return ""
        moved = ", moved to the next allowed day"
        text = "; ".join(parts) + (
            moved if self.on_excluded is OnExcluded.NEXT_BUSINESS_DAY else ""
        )
        return f"{self.name}: {text}" if self.name else text


#: The keys a calendar has, in a schedules file and in :meth:`Calendar.parse`.
CALENDAR_KEYS = ("exclude", "holidays", "business_days", "on_excluded")
