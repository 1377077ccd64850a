"""Read-only lists of jobs and runs, until the scheduler app brings its own admin.

``scheduler.django`` comes first in INSTALLED_APPS, so once it registers
its admin these lists step aside.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from scheduler.django.models import Job, Run


class _ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class JobList(_ReadOnly):
    list_display = ("name", "task", "source", "enabled", "next_run_at", "cron", "run_at")
    list_filter = ("source", "enabled")
    search_fields = ("name", "task")


class RunList(_ReadOnly):
    list_display = ("id", "job", "scheduled_for", "trigger", "status", "duration_seconds", "error")
    list_filter = ("status", "trigger")
    search_fields = ("job__name",)
    ordering = ("-scheduled_for", "-attempt", "-id")


if not admin.site.is_registered(Job):
    admin.site.register(Job, JobList)
if not admin.site.is_registered(Run):
    admin.site.register(Run, RunList)
