"""The list filters of the job and run pages that Django cannot derive from a field."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from ...model.runs import RunStatus
from ..models import Job
from .common import database

__all__ = ["JobNameFilter", "LastStatusFilter", "StateFilter"]

# One word per job for listings, as StoredJob.state and `tickwork jobs` say it.
_STATES = {
    "active": Q(removed_at__isnull=True, enabled=True, paused_at__isnull=True),
    "paused": Q(removed_at__isnull=True, enabled=True, paused_at__isnull=False),
    "disabled": Q(removed_at__isnull=True, enabled=False),
    "removed": Q(removed_at__isnull=False),
}
#: How many jobs the run page's job filter lists; search finds the others.
JOB_FILTER_LIMIT = 100


class StateFilter(admin.SimpleListFilter):
    """Active, paused, disabled, or removed from its schedules file."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(state, state) for state in _STATES]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        condition = _STATES.get(str(self.value()))
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
