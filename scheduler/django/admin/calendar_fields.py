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
from dataclasses import replace
from typing import Any

from django import forms

from ...errors import SchedulerError
from ...schedules.calendars import Calendar, DateRange, Holidays, OnExcluded
from ..models import SharedCalendar
from .common import database
from .inputs import FieldProblem

__all__ = [
    "CALENDAR_FIELDS",
    "CalendarFields",
    "JobCalendarFields",
    "calendar_initial",
    "read_calendar",
    "read_job_calendar",
    "shared_calendar",
]

#: The form fields of a calendar, as posted (and as the preview reads them).
CALENDAR_FIELDS = ("exclude", "holidays", "business_days", "on_excluded")
_SEPARATORS = re.compile(r"[\s,]+")
_BOTH = (
    "Choose a shared calendar or days of the job's own, not both: clear the "
    "fields below, or choose none."
)
_POLICY = (
    "The shared calendar says what happens to slots on its excluded days: leave "
    "this at 'is skipped', or change the shared calendar."
)
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

    #: The fields :meth:`read` reads.
    calendar_fields: tuple[str, ...] = CALENDAR_FIELDS

    def calendar_value(self) -> Calendar:
        """The :class:`Calendar` the fields say; an error on the field at fault, if any
        (and then the empty calendar)."""
        values = {key: _text(self.cleaned_data.get(key)) for key in self.calendar_fields}
        try:
            return self.read(values)
        except FieldProblem as problem:
            if problem.field not in self.errors:
                self.add_error(problem.field, problem.message)
            return Calendar()

    def read(self, values: Mapping[str, str]) -> Calendar:
        """The calendar of the posted ``values``."""
        return read_calendar(values)


class JobCalendarFields(CalendarFields):
    """A job's calendar fields: a shared calendar, or the days of the job's own."""

    shared_calendar = forms.ChoiceField(
        required=False,
        label="Shared calendar",
        help_text="Written once under Shared calendars, for many jobs. None: the days below.",
        error_messages={
            "invalid_choice": "There is no shared calendar called %(value)s (any more)."
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["shared_calendar"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        names = SharedCalendar.objects.using(database()).values_list("name", flat=True)
        field.choices = [("", "None: the days below"), *((name, name) for name in names)]

    calendar_fields = ("shared_calendar", *CALENDAR_FIELDS)

    def read(self, values: Mapping[str, str]) -> Calendar:
        """The shared calendar chosen, else the job's own days."""
        return read_job_calendar(values)


#: The job form's calendar fields.
JOB_CALENDAR_FIELDS = JobCalendarFields.calendar_fields


def read_job_calendar(values: Mapping[str, str]) -> Calendar:
    """A job's calendar from its form's ``values``: the shared calendar named in
    ``shared_calendar``, else :func:`read_calendar` of the others."""
    own = read_calendar(values)
    chosen = values.get("shared_calendar", "").strip()
    if not chosen:
        return own
    if not own.is_default:
        raise FieldProblem("shared_calendar", _BOTH)
    if own.on_excluded is not OnExcluded.SKIP:
        raise FieldProblem("on_excluded", _POLICY)
    row = SharedCalendar.objects.using(database()).filter(name=chosen).first()
    if row is None:
        raise FieldProblem(
            "shared_calendar", f"There is no shared calendar called {chosen} (any more)."
        )
    return shared_calendar(row)


def shared_calendar(row: SharedCalendar) -> Calendar:
    """The calendar a shared calendar's row says, named after it."""
    values = {key: str(getattr(row, key) or "") for key in CALENDAR_FIELDS}
    values["business_days"] = "on" if row.business_days else ""
    return replace(read_calendar(values), name=row.name)


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
    """The job form's values for a stored calendar: its shared calendar's name if
    it is one (the days are that calendar's), else its days."""
    if calendar.name and SharedCalendar.objects.using(database()).filter(name=calendar.name):
        return {"shared_calendar": calendar.name}
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
