"""Running the scheduler without Django: a schedules file and a database URL.

Used by ``tickwork run``: opening the store for a URL, building the executors,
importing task modules.  The schedules file is reconciled into the store by
:class:`~scheduler.reconcile.SchedulesFile`, re-exported here.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .clock import Clock
from .errors import SchedulerError
from .executors.base import Executor
from .reconcile import SchedulesFile
from .stores.base import Store

__all__ = [
    "DEFAULT_DATABASE",
    "SchedulesFile",
    "build_executors",
    "import_task_modules",
    "open_store",
]

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
    kind: str, *, max_workers: int, clock: Clock | None = None
) -> dict[str, Executor]:
    """The ``default`` executor of the standalone runner: ``thread`` or ``immediate``."""
    if kind == "immediate":
        from .executors.immediate import ImmediateExecutor

        return {"default": ImmediateExecutor(clock=clock)}
    if kind == "thread":
        from .executors.thread import ThreadExecutor

        return {"default": ThreadExecutor(max_workers=max_workers, clock=clock)}
    raise SchedulerError(f"unknown executor {kind!r}; choose 'thread' or 'immediate'")


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
