"""Running the scheduler without Django: a schedules file and a database URL.

Used by ``tickwork run``.  The file is reconciled into the store when the
runner starts and whenever the file changes; a bad file at start is an error,
a bad edit later is logged loudly and the last good set keeps running.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .clock import Clock
from .config import load_schedules
from .errors import ConfigError, ConfigIssue, SchedulerError
from .executors.base import Executor, ExecutorConfigError, is_known_task
from .jobs import JobSpec
from .policies import JobSource
from .registry import TaskRegistry
from .stores.base import Store, SyncReport

__all__ = [
    "DEFAULT_DATABASE",
    "SchedulesFile",
    "build_executors",
    "import_task_modules",
    "open_store",
]

logger = logging.getLogger(__name__)

#: Where ``tickwork run`` keeps its state when no --database is given.
DEFAULT_DATABASE = "sqlite:///tickwork.sqlite3"


@contextmanager
def opened_store(url: str, *, create: bool = True) -> Iterator[Store]:
    """:func:`open_store`, closing the store's connections on the way out."""
    store = open_store(url, create=create)
    try:
        yield store
    finally:
        dispose = getattr(store, "dispose", None)
        if dispose is not None:
            dispose()


def open_store(url: str, *, create: bool = True) -> Store:
    """A SQLAlchemy store for ``url``; the caller disposes it (or use :func:`opened_store`).

    With ``create`` the tables are created if missing (``tickwork run``);
    without it (``runs``, ``jobs``) a SQLite file that does not exist is an
    error rather than a new empty database.
    """
    try:
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        from .stores.sqlalchemy import SQLAlchemyStore
    except ImportError as error:
        raise SchedulerError(
            "the standalone scheduler needs SQLAlchemy: pip install 'tickwork[sqlalchemy]'"
            + (" 'tickwork[postgres]'" if url.startswith("postgres") else "")
        ) from error
    if not create:
        _require_existing_sqlite(url)
    try:
        store = SQLAlchemyStore(url)
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as error:
        raise SchedulerError(
            f"cannot use database URL {url!r}: {error}. Tickwork supports SQLite "
            "(sqlite:///path.sqlite3) and PostgreSQL (postgresql://user@host/db)"
        ) from error
    if create:
        store.create_schema()
    return store


def _require_existing_sqlite(url: str) -> None:
    prefix = "sqlite:///"
    if url.startswith(prefix) and url != "sqlite://" and ":memory:" not in url:
        path = Path(url[len(prefix) :])
        if not path.exists():
            raise SchedulerError(
                f"no database at {path}: check --database, or start the scheduler "
                "once with `tickwork run` to create it"
            )


def build_executors(
    kind: str, *, max_workers: int, clock: Clock | None = None, celery_app: str | None = None
) -> dict[str, Executor]:
    """The ``default`` executor of the standalone runner: ``thread``, ``immediate``
    or ``celery`` (which needs ``celery_app``, the dotted path of a Celery app)."""
    if kind == "celery":
        return {"default": _celery_executor(celery_app, clock)}
    if kind == "immediate":
        from .executors.immediate import ImmediateExecutor

        return {"default": ImmediateExecutor(clock=clock)}
    if kind == "thread":
        from .executors.thread import ThreadExecutor

        return {"default": ThreadExecutor(max_workers=max_workers, clock=clock)}
    raise SchedulerError(f"unknown executor {kind!r}; choose 'thread', 'immediate' or 'celery'")


def _celery_executor(app: str | None, clock: Clock | None) -> Executor:
    if not app:
        raise SchedulerError(
            "--executor celery needs the Celery app: --celery-app proj.celery.app "
            "(or $TICKWORK_CELERY_APP)"
        )
    try:
        from .executors.celery import CeleryExecutor
    except ImportError as error:
        raise SchedulerError(
            f"--executor celery needs Celery: pip install 'tickwork[celery]' ({error})"
        ) from error
    try:
        return CeleryExecutor(app=app, clock=clock)
    except ExecutorConfigError as error:
        raise SchedulerError(f"--celery-app: {error}") from error


def import_task_modules(modules: Sequence[str], paths: Sequence[str] = ()) -> None:
    """Import the modules whose ``@job`` functions the schedules name.

    ``paths`` are prepended to ``sys.path`` first (like ``--pythonpath``).
    """
    for path in reversed(paths):
        resolved = str(Path(path).resolve())
        if resolved not in sys.path:
            sys.path.insert(0, resolved)
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise SchedulerError(f"could not import task module {module!r}: {error}") from error


@dataclass(slots=True)
class SchedulesFile:
    """A schedules file reconciled into a store, watched for changes by mtime.

    A job's task must be registered, or be a task its executor knows by name
    (a Celery task of the configured app), hence ``executors``.
    """

    path: Path
    store: Store
    registry: TaskRegistry
    executors: Mapping[str, Executor] = field(default_factory=dict)
    _stamp: tuple[int, int] | None = field(default=None, init=False)
    last_good: tuple[JobSpec, ...] = field(default=(), init=False)

    def load(self) -> list[JobSpec]:
        """Parse the file and check every task is registered; raise ConfigError otherwise."""
        specs = load_schedules(self.path)
        unknown = [
            spec
            for spec in specs
            if not is_known_task(self.registry, spec.task, self.executors.get(spec.executor))
        ]
        if unknown:
            raise ConfigError([_unregistered(self.path, spec) for spec in unknown])
        return specs

    def sync(self, now: datetime) -> SyncReport:
        """Load and reconcile now; errors propagate (use at start-up)."""
        self._stamp = self._current_stamp()
        specs = self.load()
        report = self.store.sync_jobs(specs, source=JobSource.YAML, now=now)
        self.last_good = tuple(specs)
        _log_sync(self.path, report)
        return report

    def __call__(self, now: datetime) -> None:
        """Reconcile if the file changed; a bad edit keeps the last good set."""
        stamp = self._current_stamp()
        if stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            specs = self.load()
        except (ConfigError, OSError) as error:
            logger.error(
                "%s changed but cannot be used; still running the last good set of %d jobs:\n%s",
                self.path,
                len(self.last_good),
                error,
                extra={"event": "schedules_rejected", "file": str(self.path)},
            )
            return
        report = self.store.sync_jobs(specs, source=JobSource.YAML, now=now)
        self.last_good = tuple(specs)
        _log_sync(self.path, report)

    def _current_stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size


def _unregistered(path: Path, spec: JobSpec) -> ConfigIssue:
    return ConfigIssue(
        file=str(path),
        line=None,
        column=None,
        path=f"jobs.{spec.name}.task",
        message=f"task {spec.task!r} is not registered: decorate it with @job in a module "
        "given to --import, allow its module with --allow 'package.module.*', or (with "
        "--executor celery) name a task the Celery app knows",
    )


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
