"""The job form's calendar fields: the days a job does not run on (``calendar:``).

Four fields stand for one :class:`~scheduler.schedules.calendars.Calendar`:
``exclude`` (dates and ranges, one per line or separated by commas),
``holidays`` (a country code, and a subdivision after a dash: ``DE-BY``),
``business_days`` and ``on_excluded``.  They are read by the core's own
classes, so the admin accepts exactly what a schedules file accepts, and the
next-runs preview reads them with :func:`read_calendar` as the form does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django import forms

from ...errors import SchedulerError
from ...schedules.calendars import Calendar, DateRange, Holidays, OnExcluded
from .inputs import FieldProblem

__all__ = ["CALENDAR_FIELDS", "CalendarFields", "calendar_initial", "read_calendar"]

#: The form fields of a calendar, as posted (and as the preview reads them).
CALENDAR_FIELDS = ("exclude", "holidays", "business_days", "on_excluded")
_SEPARATORS = re.compile(r"[\s,]+")
_CHECKED = ("on", "true", "1", "True")


class CalendarFields(forms.Form):
    """The calendar fields, mixed into the job form; :meth:`calendar_value` reads them."""

    exclude = forms.CharField(
        required=False,
        label="Excluded days",
        widget=forms.Textarea(attrs={"rows": 2, "class": "tw-code"}),
        help_text=(
            "Days the job does not run on, in its time zone: dates and ranges, one per "
            "line or separated by commas, such as 2026-12-24 or 2026-12-24..2027-01-01."
        ),
    )
    holidays = forms.CharField(
        required=False,
        max_length=16,
        label="Public holidays of",
        help_text=(
            "A country code, and a subdivision after a dash: DE-BY is Bavaria, US the "
            "United States. Blank: none. Needs the 'holidays' package "
            "(pip install 'tickwork[calendars]')."
        ),
    )
    business_days = forms.BooleanField(
        required=False,
        label="Business days only",
        help_text="Leave out Saturdays and Sundays (the country's weekend, with holidays).",
    )
    on_excluded = forms.ChoiceField(
        required=False,
        initial=OnExcluded.SKIP.value,
        label="A slot on an excluded day",
        choices=[
            (OnExcluded.SKIP.value, "is skipped: no run"),
            (
                OnExcluded.NEXT_BUSINESS_DAY.value,
                "moves to the same time on the next day the calendar allows",
            ),
        ],
    )

    def calendar_value(self) -> Calendar:
        """The :class:`Calendar` the fields say; an error on the field at fault, if any
        (and then the empty calendar)."""
        values = {key: _text(self.cleaned_data.get(key)) for key in CALENDAR_FIELDS}
        try:
            return read_calendar(values)
        except FieldProblem as problem:
            if problem.field not in self.errors:
                self.add_error(problem.field, problem.message)
            return Calendar()


def read_calendar(values: Mapping[str, str]) -> Calendar:
    """The calendar of the fields' ``values`` (strings, as posted); a
    :class:`FieldProblem` naming the field at fault."""
    exclude: list[DateRange] = []
    for item in _SEPARATORS.split(values.get("exclude", "").strip()):
        if not item:
            continue
        try:
            exclude.append(DateRange.parse(item))
        except SchedulerError as error:
            raise FieldProblem("exclude", str(error)) from None
    holidays = None
    code = values.get("holidays", "").strip()
    if code:
        country, _, subdivision = code.partition("-")
        try:
            holidays = Holidays(country, subdivision.strip() or None)
        except SchedulerError as error:
            raise FieldProblem("holidays", str(error)) from None
    try:
        return Calendar(
            exclude=tuple(exclude),
            holidays=holidays,
            business_days=values.get("business_days", "") in _CHECKED,
            on_excluded=OnExcluded(values.get("on_excluded") or OnExcluded.SKIP.value),
        )
    except (SchedulerError, ValueError) as error:
        raise FieldProblem("on_excluded", str(error)) from None


def calendar_initial(calendar: Calendar) -> dict[str, Any]:
    """The fields' values for a stored calendar."""
    return {
        "exclude": "\n".join(str(item) for item in calendar.exclude),
        "holidays": "" if calendar.holidays is None else calendar.holidays.label,
        "business_days": calendar.business_days,
        "on_excluded": calendar.on_excluded.value,
    }


def _text(value: object) -> str:
    if value is True:
        return "on"
    return "" if value is None or value is False else str(value)
