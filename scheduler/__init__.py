"""Tickwork: periodic jobs for Django and plain Python.

Importing this package never imports Django, SQLAlchemy or Celery.
"""

from __future__ import annotations

from .compat import install as install_moved_paths
from .errors import (
    ConfigError,
    ConfigIssue,
    InvalidDuration,
    InvalidJob,
    InvalidSchedule,
    JobNotFound,
    SchedulerError,
    StoreNotConfigured,
    StoreUnavailable,
    TaskNotRegistered,
)
from .model.jobs import JobSpec
from .model.runs import RunContext, RunStatus
from .monitoring.events import RunEvent
from .monitoring.hooks import on_run_failed, on_run_finished, on_run_started
from .schedules.kinds import Cron, Every, Once, Schedule, upcoming
from .tasks.defer import (
    Cancellation,
    DeferredCall,
    Deferrer,
    cancel_deferred,
    defer,
    set_default_store,
)
from .tasks.registry import JobFunction, TaskRegistry, job

__version__ = "0.1.0.dev0"

# Old flat import paths (scheduler.jobs, scheduler.celery, ...) keep working, with a warning.
install_moved_paths()

__all__ = [
    "Cancellation",
    "ConfigError",
    "ConfigIssue",
    "Cron",
    "DeferredCall",
    "Deferrer",
    "Every",
    "InvalidDuration",
    "InvalidJob",
    "InvalidSchedule",
    "JobFunction",
    "JobNotFound",
    "JobSpec",
    "Once",
    "RunContext",
    "RunEvent",
    "RunStatus",
    "Schedule",
    "SchedulerError",
    "StoreNotConfigured",
    "StoreUnavailable",
    "TaskNotRegistered",
    "TaskRegistry",
    "__version__",
    "cancel_deferred",
    "defer",
    "job",
    "on_run_failed",
    "on_run_finished",
    "on_run_started",
    "set_default_store",
    "upcoming",
]
