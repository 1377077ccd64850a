"""The dashboard page, ``/admin/scheduler/dashboard/``: how the jobs are doing.

It needs the view permission on runs, and changes nothing: a user who may
only view sees all of it.  Every figure is aggregated in the database
(:mod:`.counts`, :mod:`.percentiles`); the page costs a fixed number of
queries, whatever the number of jobs and runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from ...models import Dashboard, Replica
from ...settings import read_settings
from ..common import now
from ..display import first_line, local_time, relative, run_duration
from .charts import runs_chart, timeline_chart
from .counts import JobCounts, latest_failures, replicas, window_counts
from .health import job_health
from .marks import legend
from .percentiles import percentiles
from .periods import CHART_STATUSES, PERIODS, Period, Span, period_named
from .timeline import timeline

__all__ = ["DashboardAdmin"]


@admin.register(Dashboard)
class DashboardAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The dashboard's place in the admin: one page, read-only."""

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.view_run")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        name = f"{self.opts.app_label}_{self.opts.model_name}_changelist"
        return [path("", self.admin_site.admin_view(self.dashboard_view), name=name)]

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        key = request.GET.get("window")
        period = period_named(key)
        if period is None:
            choices = ", ".join(choice.key for choice in PERIODS)
            return HttpResponseBadRequest(
                f"window: {key!r} is not a window the dashboard shows; choose one of {choices}",
                content_type="text/plain",
            )
        at = now()
        span = Span.ending(at, period)
        counted = window_counts(span, period)
        context = {
            **self.admin_site.each_context(request),
            "title": "Dashboard",
            "opts": self.opts,
            "tw_period": period,
            "tw_periods": PERIODS,
            "tw_span": {"since": local_time(span.since, "UTC"), "until": local_time(at, "UTC")},
            **_runs(span, period, counted.bars),
            **_figures(span, counted.jobs),
            "tw_failures": _failures(span),
            "tw_replicas": _replicas(at),
            **_timeline(at),
        }
        return TemplateResponse(request, "admin/scheduler/dashboard.html", context)


def _runs(span: Span, period: Period, counts: dict[datetime, dict[str, int]]) -> dict[str, Any]:
    bars = span.buckets(period.bar_span)
    statuses = [status.value for status in CHART_STATUSES]
    rows = [
        (local_time(bar, "UTC"), [counts.get(bar, {}).get(s, 0) for s in statuses])
        for bar in bars
        if bar in counts
    ]
    totals = [sum(row[1][i] for row in rows) for i in range(len(statuses))]
    return {
        "tw_runs_chart": runs_chart(bars, counts, period.bar_span),
        "tw_legend": legend(tuple(statuses)),
        "tw_runs_statuses": [s.replace("_", " ") for s in statuses],
        "tw_runs_rows": rows,
        "tw_runs_totals": totals,
        "tw_runs_total": sum(totals),
    }


def _figures(span: Span, counts: list[JobCounts]) -> dict[str, Any]:
    found = percentiles(span)
    late = None
    if found.lateness is not None:
        p50, p99 = found.lateness
        late = {"p50": run_duration(p50.total_seconds()), "p99": run_duration(p99.total_seconds())}
    return {"tw_health": job_health(counts, found.p95), "tw_lateness": late}


def _failures(span: Span) -> list[dict[str, Any]]:
    return [
        {
            "job": run.job.name,
            "job_id": run.job_id,
            "run_id": run.pk,
            "status": run.status.replace("_", " "),
            "slot": local_time(run.scheduled_for, run.job.timezone),
            "error": first_line(run.error) or "(no error recorded)",
        }
        for run in latest_failures(span)
    ]


def _replicas(at: datetime) -> dict[str, Any]:
    found = replicas()
    stale_after = read_settings()[0].stale_after

    def alive(replica: Replica) -> bool:
        return replica.stopped_at is None and at - replica.heartbeat_at <= stale_after

    rows = [
        {
            "id": replica.id,
            "host": f"{replica.hostname} (pid {replica.pid})",
            "heartbeat": local_time(replica.heartbeat_at, "UTC"),
            "ago": relative(replica.heartbeat_at, at),
            "alive": alive(replica),
        }
        for replica in found.shown
    ]
    return {"rows": rows, "hidden": found.total - len(rows)}


def _timeline(at: datetime) -> dict[str, Any]:
    found = timeline(at)
    rows = [
        {
            "job_id": row.job_id,
            "name": row.name,
            "runs": len(row.slots),
            "more": row.more,
            "next": local_time(row.slots[0], "UTC") if row.slots else "",
        }
        for row in found.rows
    ]
    return {
        "tw_timeline_chart": timeline_chart(found),
        "tw_timeline_rows": rows,
        "tw_timeline_hidden": found.hidden,
    }
