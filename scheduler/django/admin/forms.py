"""The job form: what a person types, checked by the core, turned into a :class:`JobSpec`.

Every value goes through the same validation as a schedules file
(:func:`~scheduler.model.jobs.validate_field`, the schedule classes, the task
registry), and each problem is attached to the field it is about.  The form
never saves a row itself: :class:`~scheduler.django.admin.jobs.JobAdmin`
stores :attr:`JobForm.spec` through the store, which keeps the job's version,
definition hash and next run right.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from django import forms
from django.conf import settings

from ...errors import InvalidJob, SchedulerError, TaskNotRegistered
from ...model.jobs import JobSpec, ScheduleType, validate_field
from ...model.policies import CatchupPolicy, JobSource, OverlapPolicy
from ...stores.rows import spec_from_columns
from ...tasks.registry import TaskRegistry
from ..models import Job
from .calendar_fields import JOB_CALENDAR_FIELDS, JobCalendarFields, calendar_initial
from .chain_fields import CHAIN_FIELDS, ChainFields
from .choices import executor_choices, policy_choices, task_choices
from .initial import KIND_TYPES, form_values
from .inputs import (
    SCHEDULE_TYPES,
    FieldProblem,
    read_instant,
    read_json,
    read_schedule,
    read_zone,
    solar_field,
)
from .notify import NotifyFields, notify_initial

__all__ = ["SCHEDULE_FIELDS", "JobForm", "spec_of"]

_T = TypeVar("_T")

#: The form fields the next-runs preview reads.
SCHEDULE_FIELDS = (
    "name", "schedule_type", "cron", "every", "at", "solar", "timezone", "start", "end",
    *JOB_CALENDAR_FIELDS, *CHAIN_FIELDS,
)  # fmt: skip

# Job names cannot hold a quote, so the name ends at the first one.
_PREFIX = re.compile(r"^job '[^']*': (?:(?P<field>[a-z_]+): )?")
_KINDS = tuple(name for name, _ in KIND_TYPES)
_AFTER_NEEDED = (
    "Name the job this one runs after, or choose another kind of schedule: "
    "'Only after other jobs' needs at least one."
)
_DURATIONS = ("catchup_window", "jitter", "timeout", "retry_backoff", "retry_backoff_max")
_INSTANT_HELP = (
    "Blank for none. Read in the job's time zone unless you add an offset "
    "(2026-05-01 09:00 or 2026-05-01 09:00+02:00)."
)


def spec_of(job: Job) -> JobSpec:
    """The definition a job row holds."""
    return spec_from_columns(vars(job))


class JobForm(forms.ModelForm, NotifyFields, JobCalendarFields, ChainFields):  # type: ignore[type-arg]
    """Create or change a job created in the admin.

    :class:`~scheduler.django.admin.jobs.JobAdmin` gives each request its own
    subclass with :attr:`database` and :attr:`registry` set.
    """

    database: ClassVar[str] = "default"
    registry: ClassVar[TaskRegistry | None] = None

    name = forms.CharField(
        max_length=200,
        help_text="Unique. Letters, digits, '_', '.', ':' and '-'. It cannot be changed later.",
    )
    task = forms.ChoiceField(
        error_messages={
            "invalid_choice": (
                "%(value)s is not a task this site registered. Choose one from the list: "
                "tasks are registered with @job, or allow-listed in SCHEDULER['TASKS']."
            )
        },
        help_text="Only tasks the site registered can be scheduled.",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    schedule_type = forms.ChoiceField(
        choices=SCHEDULE_TYPES, initial="cron", widget=forms.RadioSelect, label="Schedule"
    )
    cron = forms.CharField(
        required=False,
        label="Cron expression",
        help_text=(
            "Five fields (minute hour day-of-month month day-of-week), a sixth for seconds, "
            "or @hourly, @daily, ...; L, W, # and H (spread by the job's name) work too. "
            "Read on the wall clock of the time zone below."
        ),
    )
    every = forms.CharField(
        required=False,
        label="Every",
        help_text=(
            "Real elapsed time, such as 90s, 15m or 1h30m, counted from the start below "
            "or, without one, aligned to the hour."
        ),
    )
    at = forms.CharField(required=False, label="At", help_text=_INSTANT_HELP)
    solar = solar_field()
    timezone = forms.CharField(
        max_length=64,
        label="Time zone",
        help_text="An IANA name such as Europe/Berlin or UTC.",
        widget=forms.TextInput(attrs={"list": "tw-time-zones", "autocomplete": "off"}),
    )
    enabled = forms.BooleanField(
        required=False,
        initial=True,
        help_text="A disabled job keeps its history and never fires on schedule.",
    )
    start = forms.CharField(required=False, help_text=_INSTANT_HELP)
    end = forms.CharField(required=False, help_text=_INSTANT_HELP + " A slot at the end runs.")
    args = forms.CharField(
        required=False,
        initial="[]",
        widget=forms.Textarea(attrs={"rows": 2, "class": "tw-code"}),
        help_text='Positional arguments, a JSON list such as [1, "a"].',
    )
    kwargs = forms.CharField(
        required=False,
        initial="{}",
        widget=forms.Textarea(attrs={"rows": 2, "class": "tw-code"}),
        help_text='Keyword arguments, a JSON object such as {"format": "pdf"}.',
    )
    catchup = forms.ChoiceField(
        choices=policy_choices(CatchupPolicy),
        initial=CatchupPolicy.ONCE.value,
        help_text="What to do about slots missed while the scheduler was down or busy.",
    )
    max_catchup = forms.IntegerField(min_value=1, initial=100, label="Max catch-up")
    catchup_window = forms.CharField(
        required=False,
        label="Catch-up window",
        help_text="Missed slots older than this are not caught up, such as 6h. Blank: no limit.",
    )
    overlap = forms.ChoiceField(
        choices=policy_choices(OverlapPolicy),
        initial=OverlapPolicy.SKIP.value,
        help_text="What to do when a slot is due while the previous run still runs.",
    )
    jitter = forms.CharField(
        initial="0s", help_text="Delay each run by up to this much, such as 30s, to spread load."
    )
    timeout = forms.CharField(required=False, help_text="Such as 10m. Blank: no timeout.")
    max_memory = forms.CharField(required=False, help_text="Process executor only; such as 512M.")
    retries = forms.IntegerField(min_value=0, max_value=100, initial=0)
    retry_backoff = forms.CharField(
        initial="10s", help_text="Wait before the first retry; it doubles for each next one."
    )
    retry_backoff_max = forms.CharField(initial="1h", label="Longest retry backoff")
    executor = forms.ChoiceField(help_text="One of SCHEDULER['EXECUTORS'].")
    queue = forms.CharField(required=False, help_text="For executors with queues, such as Celery.")
    #: The version of the job this form was opened on (0 for a new job): saving
    #: is refused if someone else saved the job since, never silently overwritten.
    base_version = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    class Meta:
        model = Job
        fields = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = self.instance.executor if self.instance.pk else None
        self._choice("executor").choices = executor_choices(current)
        self.initial.setdefault("executor", "default")
        self.initial.setdefault("timezone", settings.TIME_ZONE or "UTC")
        if self.registry is not None:
            self._choice("task").choices = self._task_choices(self.registry)
        if self.instance.pk:
            self.fields["name"].disabled = True
            stored = spec_of(self.instance)
            self.initial.update(
                {
                    **form_values(stored),
                    **notify_initial(stored.notify),
                    **calendar_initial(stored.calendar),
                }
            )
        self.initial["base_version"] = self.instance.version if self.instance.pk else 0
        self.spec: JobSpec | None = None

    @property
    def expected_version(self) -> int | None:
        """The version the store must find when it saves this form (``0``: a new
        job); ``None`` when the post did not say (a client without the field)."""
        version = self.cleaned_data.get("base_version")
        return None if version is None else int(version)

    def _task_choices(self, registry: TaskRegistry) -> list[tuple[str, Any]]:
        """The registry's tasks, and the job's own if it is no longer among them:
        shown as it is, never silently replaced by the first choice."""
        groups: list[tuple[str, Any]] = list(task_choices(registry))
        offered = {value for _, choices in groups for value, _ in choices}
        current = self.instance.task if self.instance.pk else None
        if current and current not in offered:
            groups.append(("Not registered: saving is refused", [(current, current)]))
        return groups

    def _choice(self, name: str) -> forms.ChoiceField:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        return field

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        self._check(lambda: validate_field("name", name), "name")
        if not self.instance.pk:
            taken = Job.objects.using(self.database).filter(name=name).values("source").first()
            if taken is not None:
                raise forms.ValidationError(
                    f"A job called {name!r} already exists (source: {taken['source']}).",
                    code="taken",
                )
        return name

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or self.cleaned_data
        try:
            zone = read_zone(str(data.get("timezone", "")))
        except FieldProblem as problem:
            self.add_error(problem.field, problem.message)
            return data
        raw = {key: str(data.get(key) or "") for key in (*_KINDS, "start", "end")}
        start = self._read(lambda: read_instant("start", raw["start"], zone))
        end = self._read(lambda: read_instant("end", raw["end"], zone))
        if start is not None and end is not None and start >= end:
            self.add_error("end", "The end must be after the start.")
        schedule = self._read(
            lambda: read_schedule(
                str(data.get("schedule_type", "")),
                raw,
                zone=zone,
                name=str(data.get("name") or self.instance.name or ""),
                start=start,
            )
        )
        args = self._read(lambda: read_json("args", str(data.get("args", "")), list))
        kwargs = self._read(lambda: read_json("kwargs", str(data.get("kwargs", "")), dict))
        values = {
            "args": self._check(lambda: validate_field("args", args), "args"),
            "kwargs": self._check(lambda: validate_field("kwargs", kwargs), "kwargs"),
            **{key: self._duration(key, data) for key in _DURATIONS},
            "max_memory": self._duration("max_memory", data),
            "notify": self.notify_value(),
            "calendar": self.calendar_value(),
            **self.chain_value(str(data.get("name") or self.instance.name or "")),
        }
        if (
            data.get("schedule_type") == "after"
            and not values["after"]
            and "after" not in self.errors
        ):
            self.add_error("after", _AFTER_NEEDED)
        self._check_base_version(data.get("base_version"))
        if self.errors:
            return data
        self.spec = self._spec(data, schedule, zone.key, start, end, values)
        return data

    def _check_base_version(self, base: int | None) -> None:
        """Refuse a change made to a version of the job that is no longer stored."""
        if not self.instance.pk or base is None or base == self.instance.version:
            return
        self.add_error(
            None,
            forms.ValidationError(
                "Someone else saved this job while you were editing it (you opened version "
                "%(base)s; it is now at version %(current)s, changed %(when)s). Your changes "
                "were not saved: reload the page to see theirs, then make yours again.",
                code="stale",
                params={
                    "base": base,
                    "current": self.instance.version,
                    "when": f"{self.instance.updated_at:%Y-%m-%d %H:%M:%S} UTC",
                },
            ),
        )

    def _post_clean(self) -> None:
        """Skip the model's own validation: the spec was checked in :meth:`clean`,
        and the row is written by the store, on the scheduler's database (the
        model's unique checks would ask the default database)."""

    def _spec(
        self,
        data: dict[str, Any],
        schedule: ScheduleType | None,
        timezone: str,
        start: datetime | None,
        end: datetime | None,
        values: dict[str, Any],
    ) -> JobSpec | None:
        assert schedule is not None  # noqa: S101 - no errors, so it was read
        try:
            spec = JobSpec.from_fields(
                name=str(data["name"]),
                task=str(data["task"]),
                schedule=schedule,
                timezone=timezone,
                enabled=bool(data.get("enabled")),
                start=start,
                end=end,
                catchup=CatchupPolicy(data["catchup"]),
                max_catchup=int(data["max_catchup"]),
                overlap=OverlapPolicy(data["overlap"]),
                retries=int(data["retries"]),
                executor=str(data["executor"]),
                queue=str(data.get("queue") or "").strip() or None,
                description=str(data.get("description") or ""),
                source=JobSource.ADMIN,
                **values,
            )
            if self.registry is not None:
                self.registry.validate(spec)
        except TaskNotRegistered as error:
            self.add_error("task", str(error))
            return None
        except InvalidJob as error:
            self.add_error(_field_of(str(error), self.fields), _without_job(str(error)))
            return None
        return spec

    def _duration(self, key: str, data: dict[str, Any]) -> Any:
        """A field read by its job rule from its text (a duration, a size), or None."""
        text = str(data.get(key) or "").strip()
        return self._check(lambda: validate_field(key, text or None), key)

    def _read(self, read: Callable[[], _T]) -> _T | None:
        try:
            return read()
        except FieldProblem as problem:
            if problem.field not in self.errors:
                self.add_error(problem.field, problem.message)
            return None

    def _check(self, check: Callable[[], _T], field: str) -> _T | None:
        try:
            return check()
        except SchedulerError as error:
            if field not in self.errors:
                self.add_error(field, _without_job(str(error)))
            return None


def _without_job(message: str) -> str:
    """A core message without its ``job 'name': field:`` prefix: the form
    shows the message next to that field already."""
    return _PREFIX.sub("", message, count=1)


def _field_of(message: str, fields: Mapping[str, Any]) -> str | None:
    """The form field a core message ``job 'x': field: ...`` is about, if it is one."""
    found = _PREFIX.match(message)
    field = found.group("field") if found else None
    field = "exclude" if field == "calendar" else field  # the first of its fields
    return field if field in fields else None
