"""The list filters of the job and run pages that Django cannot derive from a field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from ...model.runs import RunStatus
from ..models import Job
from .common import database

if TYPE_CHECKING:
    from django.contrib.admin.filters import _ListFilterChoices
    from django.contrib.admin.views.main import ChangeList

__all__ = ["JobNameFilter", "LastStatusFilter", "StateFilter"]

# A one-off job (an ``at`` schedule, such as a deferred call) with no slot left; a
# paused job has no next slot either, so paused ones are paused, not finished; nor
# is a job that runs only after another (its never-due schedule is an ``at`` too).
_FINISHED = Q(
    removed_at__isnull=True,
    enabled=True,
    paused_at__isnull=True,
    run_at__isnull=False,
    next_run_at__isnull=True,
    chain_after__isnull=True,
)
# One word per job for listings, as StoredJob.state and `tickwork jobs` say it, and
# ``finished`` (jobpage.state_of reads a row the same way).
_STATES = {
    "active": Q(removed_at__isnull=True, enabled=True, paused_at__isnull=True) & ~_FINISHED,
    "paused": Q(removed_at__isnull=True, enabled=True, paused_at__isnull=False),
    "disabled": Q(removed_at__isnull=True, enabled=False),
    "removed": Q(removed_at__isnull=False),
    "finished": _FINISHED,
}
_ALL = "all"
# Parameters of a link to particular jobs (a search, a field lookup such as
# ``?id__exact=7`` or ``?name=...``): the default state filter does not hide those.
_TARGETS = frozenset({"id", "pk", "name"})
#: How many jobs the run page's job filter lists; search finds the others.
JOB_FILTER_LIMIT = 100


class StateFilter(admin.SimpleListFilter):
    """Active, paused, disabled, removed from its schedules file, or finished (a one-off
    job that has fired).

    By default every job but the finished ones is listed: each ``defer()`` call
    is a one-off job, and those that ran would otherwise crowd the list until
    retention removes them.  A search, or a link to particular jobs
    (``?id__exact=7``, ``?name=...``), lists finished jobs too.
    """

    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*((state, state) for state in _STATES), (_ALL, "all")]

    def choices(self, changelist: ChangeList) -> Iterator[_ListFilterChoices]:
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "not finished (default)",
        }
        for value, title in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value is None:
            searched = bool(request.GET.get("q", "").strip())
            targeted = searched or any(key.split("__")[0] in _TARGETS for key in request.GET)
            return queryset if targeted else queryset.exclude(_FINISHED)
        condition = _STATES.get(str(value))
        return queryset if condition is None else queryset.filter(condition)


class LastStatusFilter(admin.SimpleListFilter):
    """The status of each job's latest run (``never`` for a job that never ran)."""

    title = "last status"
    parameter_name = "last_status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("never", "never ran"), *((s.value, s.value.replace("_", " ")) for s in RunStatus)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "never":
            return queryset.filter(last_status__isnull=True)
        if value in {status.value for status in RunStatus}:
            return queryset.filter(last_status=value)
        return queryset


class JobNameFilter(admin.SimpleListFilter):
    """Runs of one job; the first :data:`JOB_FILTER_LIMIT` jobs by name are listed."""

    title = "job"
    parameter_name = "job"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        jobs = Job.objects.using(database()).order_by("name").values_list("id", "name")
        return [(str(job_id), name) for job_id, name in jobs[:JOB_FILTER_LIMIT]]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(job_id=value) if value and value.isdigit() else queryset
