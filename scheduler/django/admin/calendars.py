"""Shared calendars: a company calendar written once and chosen by many jobs.

A job created in the admin either chooses a shared calendar or has days of
its own (:mod:`.calendar_fields`).  The job's row keeps the calendar itself,
named after the shared one, because the scheduler reads only job rows; so a
change to a shared calendar is written again, through the store, into every
admin job that uses it (each gets a new version and a next run that follows
the new days), in the same request.  A calendar some job uses cannot be
deleted; the page lists who uses it.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from ...errors import SchedulerError
from ...model.jobs import JobSpec, validate_field
from ...model.policies import JobSource
from ...schedules.calendars import Calendar, OnExcluded
from ..models import Job, SharedCalendar
from .calendar_fields import CALENDAR_FIELDS, CalendarFields, shared_calendar
from .common import database, now, store
from .forms import spec_of
from .writes import GuardedActions

__all__ = ["SharedCalendarAdmin", "calendar_users", "jobs_using"]

#: Who uses each calendar, read once per list page (see ``changelist_view``).
_USERS: ContextVar[dict[str, list[str]] | None] = ContextVar("tw_calendar_users", default=None)


def _with_calendars() -> QuerySet[Job]:
    admin_jobs = Job.objects.using(database()).filter(source=JobSource.ADMIN.value)
    return admin_jobs.filter(calendar__isnull=False).order_by("name")


def jobs_using(name: str) -> list[JobSpec]:
    """The admin's jobs whose calendar is the shared calendar ``name``, as definitions
    (to be written again)."""
    users = set(calendar_users().get(name, ()))
    return [spec_of(row) for row in _with_calendars().filter(name__in=users)]


def calendar_users() -> dict[str, list[str]]:
    """Per shared calendar's name, the admin jobs that use it: one query, reading
    only each job's name and its calendar's JSON (never a whole definition)."""
    found: dict[str, list[str]] = {}
    for job, text in _with_calendars().values_list("name", "calendar"):
        calendar = json.loads(text or "{}").get("name")
        if calendar:
            found.setdefault(calendar, []).append(job)
    return found


class SharedCalendarForm(forms.ModelForm, CalendarFields):  # type: ignore[type-arg]
    """A shared calendar's fields, checked by the core as a job's are."""

    name = forms.CharField(
        max_length=200,
        help_text="Unique; jobs choose it by this name. It cannot be changed later.",
    )

    class Meta:
        model = SharedCalendar
        fields = ("name", "description", *CALENDAR_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["name"].disabled = True
        self.initial.setdefault("on_excluded", OnExcluded.SKIP.value)

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        try:
            validate_field("name", name)
        except SchedulerError as error:
            raise forms.ValidationError(str(error).split(": ", 1)[-1]) from None
        taken = SharedCalendar.objects.using(database()).filter(name=name)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(f"A shared calendar called {name!r} already exists.")
        return name

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or self.cleaned_data
        calendar = self.calendar_value()
        if not self.errors and calendar.is_default:
            self.add_error(
                None, "A calendar must leave out some days: excluded days, holidays or weekends."
            )
        return data

    def _post_clean(self) -> None:
        """Copy the cleaned values onto the row; the name's uniqueness was checked
        on the scheduler's database in :meth:`clean_name`."""
        for key in ("name", "description", *CALENDAR_FIELDS):
            if key in self.cleaned_data:
                value = self.cleaned_data[key]
                setattr(self.instance, key, value if value is not None else "")


@admin.register(SharedCalendar)
class SharedCalendarAdmin(GuardedActions):
    """The shared calendars: their days in words and the jobs that use them."""

    form = SharedCalendarForm
    list_display = ("name", "days", "used_by")
    search_fields = ("name",)
    fieldsets = (
        (None, {"fields": ("name", "description")}),
        ("Days left out", {"fields": CALENDAR_FIELDS}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[SharedCalendar]:
        return super().get_queryset(request).using(database())

    @admin.display(description="Days left out")
    def days(self, row: SharedCalendar) -> str:
        try:
            return shared_calendar(row).describe().split(": ", 1)[-1]
        except SchedulerError as error:
            return f"cannot be read: {error}"

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        """The list, with who uses each calendar read once for the page."""
        token = _USERS.set(calendar_users())
        try:
            response = super().changelist_view(request, extra_context)
            if hasattr(response, "render"):
                response.render()  # while the page's reading is set
            return response
        finally:
            _USERS.reset(token)

    @admin.display(description="Used by")
    def used_by(self, row: SharedCalendar) -> str:
        users = _USERS.get()
        names = (users if users is not None else calendar_users()).get(row.name, [])
        return ", ".join(names) if names else "no job"

    def save_model(
        self, request: HttpRequest, obj: SharedCalendar, form: Any, change: bool
    ) -> None:
        """Save the row, then write the new days into every job that uses it."""
        obj.save(using=database())
        calendar = shared_calendar(obj)
        changed = _write_into_jobs(obj.name, calendar)
        if changed:
            self.message_user(
                request,
                f"The new days were written into {len(changed)} job(s), whose next runs "
                f"follow them now: {', '.join(changed)}.",
                messages.INFO,
            )

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[str]]:
        """Django's list of what a delete removes, with each job that uses a
        calendar among the protected objects: the delete pages then refuse, as
        for a foreign key that protects its rows, and say who uses it."""
        deleted, counts, perms, protected = super().get_deleted_objects(objs, request)
        users = calendar_users()
        for row in objs:
            protected += [f"Job: {job} (uses {row.name})" for job in users.get(row.name, [])]
        return deleted, counts, perms, protected

    def delete_model(self, request: HttpRequest, obj: SharedCalendar) -> None:
        obj.delete(using=database())


def _write_into_jobs(name: str, calendar: Calendar) -> list[str]:
    """Save every admin job using ``name`` with ``calendar``; the names of those changed."""
    changed = []
    for spec in jobs_using(name):
        if spec.calendar == calendar:
            continue
        store().save_job(spec.with_fields(calendar=calendar), now=now())
        changed.append(spec.name)
    return changed
