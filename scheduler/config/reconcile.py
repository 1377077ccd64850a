"""Reconciling a schedules file into a store, and checking its tasks first.

Used by ``tickwork run`` and by the Django app: the file is loaded and every
task it names is checked against the registry before anything is written,
then synced as source ``yaml``.  A bad file at start is an error; a bad edit
later is logged loudly and the last good set keeps running.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..errors import ConfigError, ConfigIssue, InvalidJob, StoreUnavailable
from ..executors.base import Executor, is_known_task
from ..model.jobs import JobSpec
from ..model.policies import JobSource
from ..model.words import plural
from ..stores.base import Store, SyncReport
from ..tasks.registry import TaskRegistry
from .memo import ReadMemo
from .reader import LoadedSchedules, read_schedules

__all__ = ["COMMAND_LINE_HINT", "SchedulesFile", "check_tasks", "unregistered_tasks"]

logger = logging.getLogger(__name__)

#: How to register a task, in the words of the ``tickwork`` command line.
COMMAND_LINE_HINT = (
    "decorate it with @job in a module given to --import, allow its module with "
    "--allow 'package.module.*', or (with --executor celery) name a task the Celery app knows"
)


def unregistered_tasks(
    schedules: LoadedSchedules,
    registry: TaskRegistry,
    *,
    hint: str = COMMAND_LINE_HINT,
    executors: Mapping[str, Executor] | None = None,
) -> list[ConfigIssue]:
    """One issue per job whose task neither ``registry`` nor the job's executor
    knows (a Celery executor knows its app's tasks by name), located at its
    ``task:`` value; ``hint`` says how to fix it."""
    known = executors or {}
    return [
        schedules.issue(spec.name, "task", f"task {spec.task!r} is not registered: {hint}")
        for spec in schedules.jobs
        if not is_known_task(registry, spec.task, known.get(spec.executor))
    ]


def check_tasks(
    schedules: LoadedSchedules,
    registry: TaskRegistry,
    *,
    hint: str = COMMAND_LINE_HINT,
    executors: Mapping[str, Executor] | None = None,
) -> None:
    """Raise :class:`ConfigError` with :func:`unregistered_tasks`, if there are any."""
    issues = unregistered_tasks(schedules, registry, hint=hint, executors=executors)
    if issues:
        raise ConfigError(issues)


@dataclass(slots=True)
class SchedulesFile:
    """A schedules file reconciled into a store, watched for changes by mtime.

    ``hint`` completes the message about a task that is not registered;
    ``default_timezone`` is the zone of jobs in a file that sets no top-level
    ``timezone`` (the Django app passes ``TIME_ZONE``).  A job's task must be
    registered, or be a task its executor knows by name (a Celery task of the
    configured app), hence ``executors``.
    """

    path: Path
    store: Store
    registry: TaskRegistry
    hint: str = COMMAND_LINE_HINT
    default_timezone: str = "UTC"
    executors: Mapping[str, Executor] = field(default_factory=dict)
    #: Told each step of :meth:`sync` in words, for a progress display.
    progress: Callable[[str], object] | None = None
    _stamp: tuple[int, int] | None = field(default=None, init=False)
    #: The jobs of the last good read, so an unchanged job is not built again.
    _memo: ReadMemo = field(default_factory=ReadMemo, init=False, repr=False)
    last_good: tuple[JobSpec, ...] = field(default=(), init=False)

    def load(self) -> list[JobSpec]:
        """Parse the file and check every task is registered; raise ConfigError otherwise."""
        schedules = read_schedules(
            self.path, default_timezone=self.default_timezone, memo=self._memo
        )
        check_tasks(schedules, self.registry, hint=self.hint, executors=self.executors)
        return list(schedules.jobs)

    def sync(self, now: datetime) -> SyncReport:
        """Load and reconcile now; errors propagate (use at start-up)."""
        self._stamp = self._current_stamp()
        self._step(f"{self.path}: reading")
        specs = self.load()
        self._step(f"{self.path}: {len(specs):,} jobs read; syncing them into the database")
        report = self.store.sync_jobs(specs, source=JobSource.YAML, now=now)
        self._step(f"{self.path}: {len(specs):,} jobs synced")
        self.last_good = tuple(specs)
        _log_sync(self.path, report)
        return report

    def _step(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    def __call__(self, now: datetime) -> None:
        """Reconcile if the file changed; a bad edit keeps the last good set.

        A file the store refuses (a job name another source owns) is a bad
        edit too.  A store that is unavailable propagates (the engine backs
        off) and the change is tried again on the next wake-up.
        """
        stamp = self._current_stamp()
        if stamp == self._stamp:
            return
        try:
            specs = self.load()
            report = self.store.sync_jobs(specs, source=JobSource.YAML, now=now)
        except StoreUnavailable:
            raise  # a ConnectionError, hence an OSError, but transient: not the file's fault
        except (ConfigError, InvalidJob, OSError) as error:
            self._stamp = stamp
            logger.error(
                "%s changed but cannot be used; still running the last good set of %s:\n%s",
                self.path,
                plural(len(self.last_good), "job"),
                error,
                extra={"event": "schedules_rejected", "file": str(self.path)},
            )
            return
        self._stamp = stamp
        self.last_good = tuple(specs)
        _log_sync(self.path, report)

    def _current_stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size


def _log_sync(path: Path, report: SyncReport) -> None:
    logger.info(
        "%s: %d added, %d updated, %d disabled, %d unchanged",
        path,
        len(report.added),
        len(report.updated),
        len(report.disabled),
        len(report.unchanged),
        extra={
            "event": "schedules_synced",
            "file": str(path),
            "added": list(report.added),
            "updated": list(report.updated),
            "disabled": list(report.disabled),
        },
    )
