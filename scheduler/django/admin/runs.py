"""The run history: a list of every run and a read-only page per run.

Runs are written by the scheduler, never edited here.  Every time is shown on
the wall clock of the run's job, with UTC in the tooltip.  The list selects
each run's job in the same query, so a page costs no query per row.  Pending
and queued runs can be cancelled by whoever may run jobs.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ...errors import SchedulerError
from ..models import Run
from .common import database, now, store
from .display import first_line, local_time, relative, run_duration, status_badge
from .filters import JobNameFilter
from .writes import GuardedActions

__all__ = ["RunAdmin"]


@admin.register(Run)
class RunAdmin(GuardedActions):
    list_display = ("slot", "job_link", "attempt", "trigger", "status_badge", "took", "error_line")
    list_display_links = ("slot",)
    list_filter = ("status", "trigger", JobNameFilter)
    list_select_related = ("job",)
    date_hierarchy = "scheduled_for"
    search_fields = ("job__name", "error")
    ordering = ("-scheduled_for", "-attempt", "-id")
    list_per_page = 100
    actions = ("cancel",)
    fieldsets = (
        (None, {"fields": ("job_link", "status_badge", "trigger", "attempt", "upstream_link")}),
        ("Times", {"fields": ("slot", "due", "claimed", "started", "finished", "took")}),
        ("Outcome", {"fields": ("result_block", "error_block", "traceback_block")}),
        ("Where", {"fields": ("executor", "external_id", "replica_id", "worker")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Run]:
        return super().get_queryset(request).using(database()).select_related("job")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Run | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Run | None = None) -> bool:
        return False  # history is pruned by the scheduler's retention, not by hand

    def has_run_permission(self, request: HttpRequest) -> bool:
        """``scheduler.run_job`` also lets a user cancel a run that has not started."""
        return request.user.has_perm(f"{self.opts.app_label}.run_job")

    @admin.action(description="Cancel (runs not started yet)", permissions=["run"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Run]) -> None:
        scheduler = store()
        cancelled: list[int] = []
        started: list[int] = []
        for run_id in queryset.order_by("id").values_list("id", flat=True):
            try:
                withdrawn = scheduler.cancel_run(run_id, now=now())
            except SchedulerError as error:  # a busy database: say so, go on
                self.message_user(request, f"Not cancelled: run {run_id}: {error}", messages.ERROR)
                continue
            (cancelled if withdrawn else started).append(run_id)
        if cancelled:
            self.message_user(request, f"Cancelled runs {_ids(cancelled)}.", messages.SUCCESS)
        if started:
            self.message_user(
                request,
                f"Not cancelled, because they had started or ended: runs {_ids(started)}.",
                messages.WARNING,
            )

    # -- columns and fields ---------------------------------------------------
    @admin.display(description="slot", ordering="scheduled_for")
    def slot(self, run: Run) -> SafeString:
        return _when(run, run.scheduled_for)

    @admin.display(description="job", ordering="job__name")
    def job_link(self, run: Run) -> SafeString:
        url = reverse(f"{self.admin_site.name}:scheduler_job_change", args=[run.job_id])
        return format_html('<a href="{}">{}</a>', url, run.job.name)

    @admin.display(description="after run")
    def upstream_link(self, run: Run) -> SafeString:
        """The upstream run whose end started this chained run, linked while it is kept."""
        if run.upstream_run_id is None:
            return format_html('<span class="tw-none">{}</span>', "\u2014")
        upstream = (
            Run.objects.using(database()).select_related("job").filter(pk=run.upstream_run_id)
        )
        found = upstream.first()
        if found is None:
            return format_html("run {} (pruned)", run.upstream_run_id)
        url = reverse(f"{self.admin_site.name}:scheduler_run_change", args=[found.pk])
        label = f"run {found.pk} of {found.job.name}, {found.status}"
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description="status", ordering="status")
    def status_badge(self, run: Run) -> SafeString:
        return status_badge(run.status)

    @admin.display(description="duration", ordering="duration_seconds")
    def took(self, run: Run) -> str:
        return run_duration(run.duration_seconds)

    @admin.display(description="error")
    def error_line(self, run: Run) -> str:
        return first_line(run.error)

    @admin.display(description="due")
    def due(self, run: Run) -> SafeString:
        return _when(run, run.due_at)

    @admin.display(description="claimed")
    def claimed(self, run: Run) -> SafeString:
        return _when(run, run.claimed_at)

    @admin.display(description="started")
    def started(self, run: Run) -> SafeString:
        return _when(run, run.started_at)

    @admin.display(description="finished")
    def finished(self, run: Run) -> SafeString:
        return _when(run, run.finished_at)

    @admin.display(description="result")
    def result_block(self, run: Run) -> SafeString:
        if run.result is None:
            return format_html('<span class="tw-none">{}</span>', "\u2014")
        return format_html('<pre class="tw-block">{}</pre>', _pretty_json(run.result))

    @admin.display(description="error")
    def error_block(self, run: Run) -> SafeString:
        return _block(run.error, "tw-block tw-error")

    @admin.display(description="traceback")
    def traceback_block(self, run: Run) -> SafeString:
        return _block(run.traceback, "tw-block tw-traceback")


def _when(run: Run, instant: datetime | None) -> SafeString:
    """``instant`` on the job's clock, UTC in the tooltip, and relative to now."""
    if instant is None:
        return format_html('<span class="tw-none">{}</span>', "\u2014")
    return format_html(
        '<time datetime="{}" title="{}">{}</time> <span class="tw-relative">{}</span>',
        instant.isoformat(),
        local_time(instant, "UTC"),
        local_time(instant, run.job.timezone),
        relative(instant, now()),
    )


def _block(text: str, css: str) -> SafeString:
    if not text:
        return format_html('<span class="tw-none">{}</span>', "\u2014")
    return format_html('<pre class="{}">{}</pre>', css, text)


def _pretty_json(text: str) -> str:
    try:
        value: Any = json.loads(text)
    except ValueError:
        return text
    return json.dumps(value, indent=2, ensure_ascii=False)


def _ids(ids: list[int]) -> str:
    return ", ".join(map(str, ids))
