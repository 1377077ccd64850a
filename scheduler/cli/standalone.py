"""Running the scheduler without Django: a schedules file and a database URL.

Used by ``tickwork run``: opening the store for a URL, building the executors,
importing task modules.  The schedules file is reconciled into the store by
:class:`~scheduler.config.reconcile.SchedulesFile`, re-exported here.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ..clock import Clock
from ..config.reconcile import SchedulesFile
from ..errors import SchedulerError
from ..executors.base import Executor, ExecutorConfigError
from ..stores.base import Store
from .options import DEFAULT_DATABASE

if TYPE_CHECKING:
    from ..stores.sqlalchemy import SQLAlchemyStore
    from ..stores.sqlalchemy.upgrade import SchemaChange

__all__ = [
    "DEFAULT_DATABASE",
    "SchedulesFile",
    "build_executors",
    "connect",
    "import_task_modules",
    "open_store",
    "opened_store",
]

logger = logging.getLogger(__name__)


@contextmanager
def opened_store(url: str, *, create: bool = True) -> Iterator[Store]:
    """:func:`open_store`, closing the store's connections on the way out."""
    store = open_store(url, create=create)
    try:
        yield store
    finally:
        store.dispose()


def open_store(url: str, *, create: bool = True) -> SQLAlchemyStore:
    """A SQLAlchemy store for ``url``; the caller disposes it (or use :func:`opened_store`).

    With ``create`` (``tickwork run``) the schema is brought up to date:
    missing tables, columns and indexes are added.  Without it (``runs``,
    ``jobs``, ``pause``, ``resume``) nothing is created: a SQLite file that does
    not exist, or a database whose schema is missing something, is an error
    that says to run ``tickwork migrate``.
    """
    store = connect(url, must_exist=not create)
    try:
        if create:
            _log_upgrade(store, store.create_schema())
        else:
            _require_current_schema(store)
    except BaseException:
        store.dispose()
        raise
    return store


def connect(url: str, *, must_exist: bool) -> SQLAlchemyStore:
    """A SQLAlchemy store for ``url``, with nothing checked or created yet.

    Raises :class:`SchedulerError` for a URL that cannot be used, and, with
    ``must_exist``, for a SQLite file that does not exist (instead of
    creating an empty one).
    """
    try:
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        from ..stores.sqlalchemy import SQLAlchemyStore
    except ImportError as error:
        raise SchedulerError(
            "the standalone scheduler needs SQLAlchemy: pip install 'tickwork[sqlalchemy]'"
            + (" 'tickwork[postgres]'" if url.startswith("postgres") else "")
            + (" 'tickwork[mysql]'" if url.startswith(("mysql", "mariadb")) else "")
        ) from error
    if must_exist:
        _require_existing_sqlite(url)
    try:
        return SQLAlchemyStore(url)
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as error:
        raise SchedulerError(
            f"cannot use database URL {url!r}: {error}. Tickwork supports SQLite "
            "(sqlite:///path.sqlite3), PostgreSQL (postgresql://user@host/db) and "
            "MariaDB or MySQL (mysql://user@host/db, with 'tickwork[mysql]')"
        ) from error


def _require_existing_sqlite(url: str) -> None:
    prefix = "sqlite:///"
    if url.startswith(prefix) and url != "sqlite://" and ":memory:" not in url:
        path = Path(url[len(prefix) :])
        if not path.exists():
            raise SchedulerError(
                f"no database at {path}: check --database, or start the scheduler "
                "once with `tickwork run` to create it"
            )


def _require_current_schema(store: SQLAlchemyStore) -> None:
    changes = store.schema_changes()
    if not changes:
        return
    where = store.engine.url.render_as_string(hide_password=True)
    if any(change.description == "create table scheduler_job" for change in changes):
        raise SchedulerError(
            f"the database {where} has no Tickwork tables: check --database, or create "
            "them with `tickwork migrate` (or by starting `tickwork run` on it)"
        )
    missing = ", ".join(change.description.split(" ", 1)[1] for change in changes)
    raise SchedulerError(
        f"the database {where} was made by an earlier version of Tickwork and lacks "
        f"{missing}: bring it up to date with `tickwork migrate` and the same --database "
        "(add --sql to see the SQL first), or by starting `tickwork run` on it"
    )


def _log_upgrade(store: SQLAlchemyStore, changes: Sequence[SchemaChange]) -> None:
    if not changes:
        return
    logger.info(
        "database schema brought up to date: %s",
        "; ".join(change.description for change in changes),
        extra={
            "event": "schema_upgraded",
            "database": store.engine.url.render_as_string(hide_password=True),
            "changes": [change.description for change in changes],
        },
    )


def build_executors(
    kind: str,
    *,
    max_workers: int,
    clock: Clock | None = None,
    celery_app: str | None = None,
    max_concurrency: int = 100,
) -> dict[str, Executor]:
    """The ``default`` executor of the standalone runner: ``thread``, ``immediate``,
    ``celery`` (which needs ``celery_app``, the dotted path of a Celery app),
    ``process`` (``max_workers`` children) or ``asyncio`` (``max_concurrency``)."""
    if kind == "celery":
        return {"default": _celery_executor(celery_app, clock)}
    if kind == "immediate":
        from ..executors.immediate import ImmediateExecutor

        return {"default": ImmediateExecutor(clock=clock)}
    if kind == "thread":
        from ..executors.thread import ThreadExecutor

        return {"default": ThreadExecutor(max_workers=max_workers, clock=clock)}
    if kind == "process":
        from ..executors.process import ProcessExecutor

        return {"default": ProcessExecutor(max_workers=max_workers, clock=clock)}
    if kind == "asyncio":
        from ..executors.aio import AsyncioExecutor

        return {"default": AsyncioExecutor(max_concurrency=max_concurrency, clock=clock)}
    raise SchedulerError(
        f"unknown executor {kind!r}; choose 'thread', 'immediate', 'celery', 'process' or 'asyncio'"
    )


def _celery_executor(app: str | None, clock: Clock | None) -> Executor:
    if not app:
        raise SchedulerError(
            "--executor celery needs the Celery app: --celery-app proj.celery.app "
            "(or $TICKWORK_CELERY_APP)"
        )
    try:
        from ..executors.celery import CeleryExecutor
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
