"""The job pages: the list, the form with its next-runs preview, and the actions.

Jobs are written only through the store (:func:`~.common.store`): the form's
:class:`~scheduler.model.jobs.JobSpec` is saved with ``save_job``, and the actions
call ``add_run`` and ``set_paused``.  Run now queues a pending manual run for
the scheduler; nothing is executed inside the web request.

Jobs from a schedules file (or from code) are shown read-only, with a note
saying where to change them; pause, resume and run now work on every job.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ...errors import JobChanged, SchedulerError
from ...model.job_policy import POLICY_FIELDS
from ...model.policies import JobSource
from ...model.runs import NewRun, Trigger
from ..models import Job, Run
from .calendar_fields import JOB_CALENDAR_FIELDS
from .chain_fields import CHAIN_FIELDS
from .choices import site_registry, time_zones
from .common import database, now, store
from .dashboard.jobcharts import job_charts
from .filters import LastStatusFilter, StateFilter
from .forms import JobForm, spec_of
from .jobpage import (
    job_note,
    last_run_html,
    next_run_html,
    policies_text,
    recent_runs,
    schedule_html,
    state_of,
    window_text,
)
from .notify import notify_text
from .preview import preview_spec, preview_values
from .writes import GuardedWrites

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldsetSpec
else:
    _FieldsetSpec = list

__all__ = ["JobAdmin"]

_EDIT_FIELDSETS: _FieldsetSpec = [
    (None, {"fields": ("name", "task", "description", "base_version")}),
    (
        "Schedule",
        {"fields": ("schedule_type", "cron", "every", "at", "solar", "timezone", "enabled")},
    ),
    ("Runs after other jobs", {"fields": CHAIN_FIELDS}),
    ("Arguments", {"fields": ("args", "kwargs")}),
    ("Window", {"fields": ("start", "end"), "classes": ("collapse",)}),
    ("Calendar", {"fields": JOB_CALENDAR_FIELDS, "classes": ("collapse",)}),
    (
        "Policies",
        {
            "fields": POLICY_FIELDS,
            "classes": ("collapse",),
        },
    ),
    ("Execution", {"fields": ("executor", "queue")}),
    ("Notifications", {"fields": ("notify", "notify_to", "notify_when"), "classes": ("collapse",)}),
]
_STATUS = ("state", "next_run", "last_run", "version", "updated_at")
_READ_FIELDSETS: _FieldsetSpec = [
    (None, {"fields": ("name", "task", "description", "source")}),
    ("Schedule", {"fields": ("schedule", "timezone", "window", "state", "next_run", "last_run")}),
    ("Arguments", {"fields": ("arguments",)}),
    ("Policies", {"fields": ("policies", "executor", "queue", "notifications")}),
    ("Bookkeeping", {"fields": ("version", "created_at", "updated_at")}),
]
_NEWEST_FIRST = ("-scheduled_for", "-attempt", "-id")


def editable(job: Job | None) -> bool:
    """Whether the admin may change ``job``'s definition: only jobs created in the admin."""
    return job is None or job.source == JobSource.ADMIN.value


@admin.register(Job)
class JobAdmin(GuardedWrites):
    form = JobForm
    change_form_template = "admin/scheduler/job/change_form.html"
    list_display = ("name", "schedule", "next_run", "last_run", "state", "source")
    list_filter = ("source", StateFilter, "executor", LastStatusFilter)
    search_fields = ("name", "task", "description")
    ordering = ("name",)
    list_per_page = 50
    actions = ("run_now", "pause", "resume")

    # -- what the pages read ------------------------------------------------
    def get_queryset(self, request: HttpRequest) -> QuerySet[Job]:
        """Jobs on the scheduler's database, each with its latest run's status and slot,
        in the same query: a page of jobs costs no query per row."""
        latest = Run.objects.filter(job=OuterRef("pk")).order_by(*_NEWEST_FIRST)
        jobs: QuerySet[Job] = super().get_queryset(request)
        return jobs.using(database()).annotate(
            last_status=Subquery(latest.values("status")[:1]),
            last_run_at=Subquery(latest.values("scheduled_for")[:1]),
        )

    # -- permissions --------------------------------------------------------
    def has_run_permission(self, request: HttpRequest) -> bool:
        """``scheduler.run_job``: queue runs (run now), separate from view and change."""
        return request.user.has_perm(f"{self.opts.app_label}.run_job")

    def has_change_permission(self, request: HttpRequest, obj: Job | None = None) -> bool:
        return super().has_change_permission(request, obj) and editable(obj)

    def has_delete_permission(self, request: HttpRequest, obj: Job | None = None) -> bool:
        return super().has_delete_permission(request, obj) and editable(obj)

    # -- the form -----------------------------------------------------------
    def _edits(self, request: HttpRequest, obj: Job | None) -> bool:
        """Whether this page is a form: a new job, or one this user may change."""
        return obj is None or self.has_change_permission(request, obj)

    def get_fieldsets(self, request: HttpRequest, obj: Job | None = None) -> _FieldsetSpec:
        if not self._edits(request, obj):
            return _READ_FIELDSETS
        if obj is None:
            return _EDIT_FIELDSETS
        return [*_EDIT_FIELDSETS, ("Status", {"fields": _STATUS})]

    def get_readonly_fields(self, request: HttpRequest, obj: Job | None = None) -> tuple[str, ...]:
        return _STATUS if obj is not None else ()

    def get_form(
        self, request: HttpRequest, obj: Job | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm[Job]]:
        if not self._edits(request, obj):
            kwargs["form"] = forms.ModelForm
            return super().get_form(request, obj, change, **kwargs)
        form = super().get_form(request, obj, change, **kwargs)
        context = {"database": database(), "registry": site_registry()}
        return self.guarded_form(request, type(form.__name__, (form,), context))

    def save_model(self, request: HttpRequest, obj: Job, form: JobForm, change: bool) -> None:
        """Store the form's definition through the store, then load the row it wrote."""
        assert form.spec is not None  # noqa: S101 - only a valid form is saved
        store().save_job(form.spec, now=now(), expected_version=form.expected_version)
        obj.__dict__.update(Job.objects.using(database()).get(name=form.spec.name).__dict__)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The add and change pages; a save that lost a race with another
        editor's (after the form checked the version) goes back to the page
        with the reason, and changes nothing."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except JobChanged as error:
            self.message_user(
                request,
                f"Not saved: {error}. The page now shows the job as stored; make your "
                "changes again.",
                messages.ERROR,
            )
            return HttpResponseRedirect(request.get_full_path())

    def delete_model(self, request: HttpRequest, obj: Job) -> None:
        obj.delete(using=database())

    # -- pages ----------------------------------------------------------------
    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("preview/", wrap(self.preview_view), name=f"{prefix}_preview"),
            path("<path:object_id>/run/", wrap(self.run_view), name=f"{prefix}_run"),
            *super().get_urls(),
        ]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Job | None = None,
    ) -> HttpResponse:
        context.update(self._page_context(obj, request))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _page_context(self, job: Job | None, request: HttpRequest) -> dict[str, Any]:
        """What the job page shows besides the form: the preview, the note on a
        job the admin may not change, the recent runs, and the run-now button."""
        live = self._edits(request, job)
        context: dict[str, Any] = {
            "tw_live": live,
            "tw_preview_url": self._url("preview") if live else "",
            "tw_time_zones": time_zones() if live else (),
        }
        if job is None:
            return context
        at = now()
        spec = spec_of(job)
        state = state_of(job)
        notes = (
            ()
            if state in ("active", "finished")
            else (f"The job is {state}: these slots fire only if it is active.",)
        )
        context.update(
            tw_job_name=job.name,
            tw_note=job_note(job),
            tw_preview=preview_spec(spec, at, notes=notes),
            tw_recent_runs=recent_runs(job, at, self.admin_site.name),
            tw_charts=job_charts(job.pk, job.timezone, self.admin_site.name),
            tw_runs_url=reverse(f"{self.admin_site.name}:scheduler_run_changelist")
            + f"?job={job.pk}",
            tw_run_url=self._url("run", job.pk) if self.has_run_permission(request) else "",
        )
        return context

    def preview_view(self, request: HttpRequest) -> HttpResponse:
        """The next-runs preview for the form's current values (GET), as an HTML fragment."""
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        preview = preview_values(request.GET.dict(), now())
        return TemplateResponse(request, "scheduler/admin/preview.html", {"preview": preview})

    def run_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Run now for one job, from the button on its page (POST only)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_run_permission(request):
            raise PermissionDenied
        job = self.get_object(request, unquote(object_id))
        if job is None:
            raise Http404(f"no job with id {object_id!r}")
        self._queue_runs(request, [job])
        return HttpResponseRedirect(self._url("change", job.pk))

    def _url(self, view: str, *args: object) -> str:
        name = f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_{view}"
        return reverse(name, args=args)

    # -- actions --------------------------------------------------------------
    @admin.action(description="Run now (queue a manual run)", permissions=["run"])
    def run_now(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        self._queue_runs(request, queryset.order_by("name"))

    @admin.action(description="Pause", permissions=["change"])
    def pause(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        self._set_paused(request, queryset, paused=True)

    @admin.action(description="Resume", permissions=["change"])
    def resume(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        self._set_paused(request, queryset, paused=False)

    def _queue_runs(self, request: HttpRequest, jobs: Iterable[Job]) -> None:
        scheduler = store()
        for job in jobs:
            if job.removed_at is not None:
                self.message_user(
                    request,
                    f"Not queued: {job.name} was removed from its schedules file.",
                    messages.ERROR,
                )
                continue
            at = now()
            try:
                run = scheduler.add_run(
                    job.name, NewRun(scheduled_for=at, due_at=at, trigger=Trigger.MANUAL)
                )
            except SchedulerError as error:
                self.message_user(request, f"Not queued: {job.name}: {error}", messages.ERROR)
                continue
            self.message_user(
                request,
                f"Queued run {run.id} of {job.name}; the scheduler hands it to the "
                f"{job.executor!r} executor within a second.",
                messages.SUCCESS,
            )

    def _set_paused(self, request: HttpRequest, queryset: QuerySet[Job], *, paused: bool) -> None:
        scheduler = store()
        done, already = [], []
        for name, paused_at in queryset.order_by("name").values_list("name", "paused_at"):
            if (paused_at is not None) is paused:
                already.append(name)
                continue
            try:
                scheduler.set_paused(name, paused, now=now())
            except SchedulerError as error:
                self.message_user(request, f"Not changed: {name}: {error}", messages.ERROR)
                continue
            done.append(name)
        word = "Paused" if paused else "Resumed"
        if done:
            self.message_user(request, f"{word}: {_names(done)}.", messages.SUCCESS)
        if already:
            state = "paused" if paused else "not paused"
            self.message_user(request, f"Already {state}, unchanged: {_names(already)}.")

    # -- columns and read-only fields -----------------------------------------
    @admin.display(description="schedule")
    def schedule(self, job: Job) -> SafeString:
        return schedule_html(job)

    @admin.display(description="next run", ordering="next_run_at")
    def next_run(self, job: Job) -> SafeString:
        return next_run_html(job, now())

    @admin.display(description="last run", ordering="last_run_at")
    def last_run(self, job: Job) -> SafeString:
        return last_run_html(job, now())

    @admin.display(description="state")
    def state(self, job: Job) -> SafeString:
        word = state_of(job)
        return format_html('<span class="tw-state tw-state-{}">{}</span>', word, word)

    @admin.display(description="window")
    def window(self, job: Job) -> str:
        return window_text(job)

    @admin.display(description="arguments")
    def arguments(self, job: Job) -> SafeString:
        return format_html(
            '<code class="tw-code">args {}</code><br><code class="tw-code">kwargs {}</code>',
            job.args,
            job.kwargs,
        )

    @admin.display(description="policies")
    def policies(self, job: Job) -> str:
        return policies_text(job)

    @admin.display(description="notify")
    def notifications(self, job: Job) -> str:
        return notify_text(spec_of(job).notify)


def _names(names: Sequence[str]) -> str:
    return ", ".join(names)
