"""Tickwork: periodic jobs for Django and plain Python.

Importing this package never imports Django, SQLAlchemy or Celery.
"""

from __future__ import annotations

from .deferred import (
    Cancellation,
    DeferredCall,
    Deferrer,
    cancel_deferred,
    defer,
    set_default_store,
)
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
from .jobs import JobSpec
from .registry import JobFunction, TaskRegistry, job
from .runs import RunContext, RunStatus
from .schedules import Cron, Every, Once, Schedule, upcoming

__version__ = "0.1.0.dev0"

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
    "set_default_store",
    "upcoming",
]
