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
)
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
    "Once",
    "Schedule",
    "SchedulerError",
    "__version__",
    "upcoming",
]
