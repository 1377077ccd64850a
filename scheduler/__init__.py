"""Tickwork: periodic jobs for Django and plain Python.

Importing this package never imports Django, SQLAlchemy or Celery.
"""

from __future__ import annotations

from .errors import (
    ConfigError,
    ConfigIssue,
    InvalidDuration,
    InvalidJob,
    InvalidSchedule,
    JobNotFound,
    SchedulerError,
    StoreUnavailable,
    TaskNotRegistered,
)
from .jobs import JobSpec
from .registry import TaskRegistry, job
from .runs import RunContext, RunStatus
from .schedules import Cron, Every, Once, Schedule, upcoming

__version__ = "0.1.0.dev0"

__all__ = [
    "ConfigError",
    "ConfigIssue",
    "Cron",
    "Every",
    "InvalidDuration",
    "InvalidJob",
    "InvalidSchedule",
    "JobNotFound",
    "JobSpec",
    "Once",
    "RunContext",
    "RunStatus",
    "Schedule",
    "SchedulerError",
    "StoreUnavailable",
    "TaskNotRegistered",
    "TaskRegistry",
    "__version__",
    "job",
    "upcoming",
]
