"""Jobs, runs and replica heartbeats: the SQLAlchemy store's tables, on the Django ORM.

Table names, column names, types, nullability, the unique constraints and the
indexes are those of :mod:`scheduler.stores.sqlalchemy.schema`, name for name, so that a
standalone ``tickwork run`` and a Django site can share one database
(``tests/django/test_schema.py`` compares the two).  Hence a few things a
Django model would not usually do: JSON is kept as text (``args``, ``kwargs``,
``result``), some strings are nullable, and every instant is a
:class:`~scheduler.django.fields.UTCDateTimeField`.

Write through :class:`~scheduler.django.store.DjangoStore` (or the admin, which
uses it): it keeps ``definition_hash``, ``version`` and ``next_run_at`` right.
"""

from __future__ import annotations

from django.db import models

from ..model.enums import DocumentedEnum
from ..model.policies import CatchupPolicy, JobSource, OverlapPolicy
from ..model.runs import ACTIVE_STATUSES, RunStatus, Trigger
from ..stores.rows import (
    ACTIVE_RUN_INDEX,
    CHAIN_JOB_INDEX,
    CHAIN_RUN_INDEX,
    JOB_UPSTREAM_INDEX,
    JOB_UPSTREAM_TABLE,
    JOB_UPSTREAM_UNIQUE,
    SLOT_CONSTRAINT,
    UPSTREAM_RUN_INDEX,
    WINDOW_RUN_INDEX,
)
from .fields import UTCDateTimeField

#: The condition of the partial index of active runs (the SQLAlchemy schema's
#: ``ACTIVE_RUN_CONDITION``, in the same order).
ACTIVE_RUNS = models.Q(status__in=sorted(status.value for status in ACTIVE_STATUSES))

__all__ = ["Dashboard", "Job", "JobUpstream", "Replica", "Run", "SharedCalendar"]


def _choices(enum: type[DocumentedEnum]) -> list[tuple[str, str]]:
    return [(member.value, member.value.replace("_", " ")) for member in enum]


class Job(models.Model):
    """One job definition and the scheduler's bookkeeping for it (``scheduler_job``)."""

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(max_length=200)
    task = models.CharField(max_length=255)
    args = models.TextField(help_text="JSON list")
    kwargs = models.TextField(help_text="JSON object")
    # Nullable strings: the shared schema says "no cron" with NULL, not "".
    cron = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    every_seconds = models.FloatField(null=True, blank=True)
    anchor_at = UTCDateTimeField(null=True, blank=True)
    run_at = UTCDateTimeField(null=True, blank=True)
    timezone = models.CharField(max_length=64)
    enabled = models.BooleanField()
    start_at = UTCDateTimeField(null=True, blank=True)
    end_at = UTCDateTimeField(null=True, blank=True)
    catchup = models.CharField(max_length=8, choices=_choices(CatchupPolicy))
    max_catchup = models.IntegerField()
    catchup_window_seconds = models.FloatField(null=True, blank=True)
    overlap = models.CharField(max_length=8, choices=_choices(OverlapPolicy))
    jitter_seconds = models.FloatField()
    timeout_seconds = models.FloatField(null=True, blank=True)
    retries = models.IntegerField()
    retry_backoff_seconds = models.FloatField()
    retry_backoff_max_seconds = models.FloatField()
    executor = models.CharField(max_length=64)
    queue = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001
    description = models.TextField(blank=True)
    source = models.CharField(max_length=8, choices=_choices(JobSource))
    definition_hash = models.CharField(max_length=64)
    next_run_at = UTCDateTimeField(null=True, blank=True)
    paused_at = UTCDateTimeField(null=True, blank=True)
    removed_at = UTCDateTimeField(null=True, blank=True)
    version = models.IntegerField()
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()
    # JSON of the job's notify: setting; NULL is the default (every notifier, its own rules).
    notify = models.TextField(null=True, blank=True, help_text="JSON")  # noqa: DJ001
    # The job's max_memory in bytes (the process executor's RLIMIT_AS); NULL: no limit.
    max_memory_bytes = models.BigIntegerField(null=True, blank=True)
    # JSON of the job's calendar (excluded days, holidays, business days); NULL: none.
    calendar = models.TextField(null=True, blank=True, help_text="JSON")  # noqa: DJ001
    # JSON of a solar schedule (event, latitude, longitude, offset); NULL for the others.
    solar = models.TextField(null=True, blank=True, help_text="JSON")  # noqa: DJ001
    # The upstream job a chained job runs after, and which of its endings count;
    # NULL for a job that is not chained.
    chain_after = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    chain_when = models.CharField(max_length=10, null=True, blank=True)  # noqa: DJ001
    # A join's upstreams in order, as JSON (chain_after is the first); NULL for
    # any other job.  JobUpstream indexes them.
    chain_upstreams = models.TextField(null=True, blank=True, help_text="JSON")  # noqa: DJ001

    class Meta:
        db_table = "scheduler_job"
        verbose_name = "job"
        # Queuing a run is neither viewing nor editing: the admin asks for this.
        permissions = (("run_job", "Can run a job now"),)
        constraints = (models.UniqueConstraint(fields=["name"], name="scheduler_job_name_uniq"),)
        indexes = (
            models.Index(fields=["enabled", "next_run_at"], name="scheduler_job_due_idx"),
            models.Index(fields=["chain_after"], name=CHAIN_JOB_INDEX),
        )

    def __str__(self) -> str:
        return self.name


class JobUpstream(models.Model):
    """One upstream of a join, a job after two or more (``scheduler_job_upstream``).

    Written by the store with the job; the wake-up finds the ends of any
    upstream of an enabled join through the index on ``name``.
    """

    id = models.BigAutoField(primary_key=True)
    # No index of its own: the unique constraint leads with job_id.
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="upstreams", db_index=False)
    position = models.IntegerField()
    name = models.CharField(max_length=200)

    class Meta:
        db_table = JOB_UPSTREAM_TABLE
        verbose_name = "job upstream"
        constraints = (models.UniqueConstraint(fields=["job", "name"], name=JOB_UPSTREAM_UNIQUE),)
        indexes = (models.Index(fields=["name"], name=JOB_UPSTREAM_INDEX),)

    def __str__(self) -> str:
        return f"{self.name} ({self.position}) of job {self.job_id}"


class Run(models.Model):
    """One fired slot of a job, and what became of it (``scheduler_run``)."""

    id = models.BigAutoField(primary_key=True)
    # No index of its own: the slot constraint and the history index lead with job_id.
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="runs", db_index=False)
    scheduled_for = UTCDateTimeField()
    due_at = UTCDateTimeField()
    attempt = models.IntegerField()
    trigger = models.CharField(max_length=10, choices=_choices(Trigger))
    status = models.CharField(max_length=10, choices=_choices(RunStatus))
    claimed_at = UTCDateTimeField(null=True, blank=True)
    started_at = UTCDateTimeField(null=True, blank=True)
    finished_at = UTCDateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    result = models.TextField(null=True, blank=True, help_text="JSON")  # noqa: DJ001
    error = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    executor = models.CharField(max_length=64, blank=True)
    external_id = models.CharField(max_length=255, blank=True)
    replica_id = models.CharField(max_length=64, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    # Last sign of life from a worker outside the scheduler (Celery) executing the run.
    heartbeat_at = UTCDateTimeField(null=True, blank=True)
    # A chained run: the upstream run whose end started it (a plain id, not a
    # foreign key: the upstream run may be pruned first).  Unique per job.
    upstream_run_id = models.BigIntegerField(null=True, blank=True)
    # When this run's end was passed to the jobs chained after its job; NULL: not yet.
    chained_at = UTCDateTimeField(null=True, blank=True)

    class Meta:
        db_table = "scheduler_run"
        verbose_name = "run"
        constraints = (
            models.UniqueConstraint(
                fields=["job", "scheduled_for", "attempt"], name=SLOT_CONSTRAINT
            ),
            # One run per upstream run and job (chains); a unique index in the database.
            models.UniqueConstraint(fields=["job", "upstream_run_id"], name=UPSTREAM_RUN_INDEX),
        )
        indexes = (
            models.Index(fields=["status", "due_at"], name="scheduler_run_pending_idx"),
            models.Index(fields=["job", "scheduled_for"], name="scheduler_run_history_idx"),
            models.Index(fields=["replica_id", "status"], name="scheduler_run_replica_idx"),
            models.Index(fields=["job", "status"], condition=ACTIVE_RUNS, name=ACTIVE_RUN_INDEX),
            # The dashboard's window: runs by slot, then job and status, read from the index.
            models.Index(fields=["scheduled_for", "job", "status"], name=WINDOW_RUN_INDEX),
            models.Index(fields=["job", "chained_at", "finished_at"], name=CHAIN_RUN_INDEX),
        )

    def __str__(self) -> str:
        return f"run {self.pk} of job {self.job_id} for {self.scheduled_for.isoformat()}"


class Replica(models.Model):
    """A scheduler process and its last heartbeat (``scheduler_replica``)."""

    id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255)
    pid = models.IntegerField()
    started_at = UTCDateTimeField()
    heartbeat_at = UTCDateTimeField()
    stopped_at = UTCDateTimeField(null=True, blank=True)

    class Meta:
        db_table = "scheduler_replica"
        verbose_name = "replica"

    def __str__(self) -> str:
        return self.id


class SharedCalendar(models.Model):
    """A calendar written once in the admin and chosen by many jobs (``scheduler_calendar``).

    The admin's counterpart of a schedules file's top-level ``calendars:``.
    The scheduler never reads this table: a job keeps its calendar in its own
    row (``Job.calendar``, named after this one), and the admin writes each job
    that uses a calendar again, through the store, when the calendar changes.
    A Django-only table, so not part of the schema shared with the SQLAlchemy store.
    """

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True, default="")
    # Dates and ranges, one per line (2026-12-24, 2026-12-24..2027-01-01).
    exclude = models.TextField(blank=True, default="")
    # A country code, and a subdivision after a dash: DE-BY; blank: none.
    holidays = models.CharField(max_length=16, blank=True, default="")
    business_days = models.BooleanField(default=False)
    on_excluded = models.CharField(max_length=32, default="skip")

    class Meta:
        db_table = "scheduler_calendar"
        verbose_name = "shared calendar"
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Dashboard(Run):
    """The admin's dashboard of runs: a proxy of :class:`Run`, with no table of its own.

    It gives the dashboard its place in the admin, ``/admin/scheduler/dashboard/``
    and a line in the app index; :class:`~scheduler.django.admin.dashboard.DashboardAdmin`
    asks for the view permission on runs, not on this model.
    """

    class Meta:
        proxy = True
        verbose_name = "dashboard"
        verbose_name_plural = "dashboard"
        default_permissions = ()
