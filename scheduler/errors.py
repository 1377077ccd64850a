"""The exception hierarchy.

Every error Tickwork raises on purpose derives from :class:`SchedulerError`.
Where a standard exception describes the same failure, the error inherits from
it too, so ``except ValueError`` keeps working for callers that do not know us.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ConfigError",
    "ConfigIssue",
    "DuplicateRun",
    "ImportSourceError",
    "InvalidDuration",
    "InvalidJob",
    "InvalidSchedule",
    "JobChanged",
    "JobNotFound",
    "SchedulerError",
    "StoreNotConfigured",
    "StoreUnavailable",
    "TaskNotRegistered",
]


class SchedulerError(Exception):
    """Root of every error raised by Tickwork."""


class InvalidSchedule(SchedulerError, ValueError):
    """A cron expression, interval, instant or time zone that cannot be used."""


class InvalidDuration(SchedulerError, ValueError):
    """A duration string such as ``1h30m`` that cannot be parsed."""


class InvalidJob(SchedulerError, ValueError):
    """A job definition whose fields contradict each other or are out of range."""


class JobChanged(SchedulerError):
    """A change to a job was based on a version of it that is no longer the
    stored one: someone else saved (or created, or deleted) it meanwhile."""


class JobNotFound(SchedulerError, LookupError):
    """No job has the requested name."""


class DuplicateRun(SchedulerError, ValueError):
    """A run for the same job, slot and attempt already exists."""


class StoreUnavailable(SchedulerError, ConnectionError):
    """The store cannot be reached (database restarting, network blip).

    Transient by nature: the engine logs it and retries with capped backoff.
    """


class StoreNotConfigured(SchedulerError, RuntimeError):
    """Something needs a store and none was given or configured (``defer()`` without Django)."""


class ImportSourceError(SchedulerError, ValueError):
    """The jobs an importer was pointed at cannot be read: an unreachable
    database, a missing table, an unknown module, a missing optional package."""


class TaskNotRegistered(SchedulerError, LookupError):
    """A job names a task that is neither registered nor allow-listed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigIssue:
    """One problem found in a schedules file, located precisely.

    ``line`` and ``column`` are 1-based; they are ``None`` only when the file
    could not be read at all.
    """

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        at = f" {self.path}:" if self.path else ""
        return f"{where}:{at} {self.message}"


class ConfigError(SchedulerError, ValueError):
    """A schedules file with one or more problems; all of them are in ``issues``."""

    def __init__(self, issues: Sequence[ConfigIssue]) -> None:
        self.issues: tuple[ConfigIssue, ...] = tuple(issues)
        count = len(self.issues)
        noun = "error" if count == 1 else "errors"
        lines = "\n".join(str(issue) for issue in self.issues)
        super().__init__(f"{count} {noun} in schedules file:\n{lines}")
