"""The jobs of an APScheduler 3 ``SQLAlchemyJobStore``, read without changing it.

APScheduler's own store, asked for its jobs, deletes every job it cannot
restore; and started, it creates its table.  So the store is only used for its
engine and table definition: the rows are selected here, and each pickled
state is unpickled on its own, so one whose classes no longer import is
reported with its job id instead of failing the whole import.
"""

from __future__ import annotations

import importlib
import pickle  # APScheduler's store holds pickles; it unpickles them itself
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ImportSourceError

__all__ = ["INSTALL", "PickledJob", "read_jobs"]

#: How to get APScheduler, for the error that says it is missing.
INSTALL = "pip install 'tickwork[apscheduler]'"


@dataclass(frozen=True, slots=True, kw_only=True)
class PickledJob:
    """One row of the store: its job ``state`` (APScheduler's ``Job.__getstate__``),
    or the ``error`` that kept it from being unpickled."""

    job_id: str
    state: dict[str, Any] | None
    error: str | None = None


def read_jobs(url: str, table: str = "apscheduler_jobs") -> list[PickledJob]:
    """Every job in the store at ``url``, by id.

    Raises :class:`~scheduler.errors.ImportSourceError` when APScheduler or
    SQLAlchemy is not installed, the URL is malformed, the database cannot be
    reached or has no table ``table``.  Nothing is created or changed.
    """
    store_class = _store_class()
    from sqlalchemy import inspect, select
    from sqlalchemy.exc import SQLAlchemyError

    shown = _shown(url)
    try:
        store = store_class(url=url, tablename=table)
    except Exception as error:  # create_engine: a bad URL, a missing driver
        reason = " ".join(str(error).split())
        raise ImportSourceError(f"cannot use the database URL {shown}: {reason}") from error
    try:
        with store.engine.connect() as connection:
            if not inspect(connection).has_table(table):
                raise ImportSourceError(f"{shown} has no table {table!r}")
            columns = store.jobs_t.c
            query = select(columns.id, columns.job_state).order_by(columns.id)
            rows = connection.execute(query).all()
    except SQLAlchemyError as error:
        reason = " ".join(str(getattr(error, "orig", None) or error).split())  # one line
        raise ImportSourceError(f"cannot read {table!r} at {shown}: {reason}") from error
    finally:
        store.engine.dispose()
    return [_unpickle(str(job_id), state) for job_id, state in rows]


def _store_class() -> Any:
    try:
        module = importlib.import_module("apscheduler.jobstores.sqlalchemy")
    except ImportError as error:
        raise ImportSourceError(
            f"reading an APScheduler job store needs APScheduler 3 and SQLAlchemy ({error}): "
            + INSTALL
        ) from error
    return module.SQLAlchemyJobStore


def _shown(url: str) -> str:
    """``url`` with its password hidden; a missing SQLite file is refused here,
    since connecting would create it."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise ImportSourceError(f"{url!r} is not a database URL: {error}") from error
    shown = parsed.render_as_string(hide_password=True)
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:"):
        if not database.startswith("file:") and not Path(database).is_file():
            raise ImportSourceError(f"{shown}: there is no SQLite file {database!r}")
    return shown


def _unpickle(job_id: str, data: bytes) -> PickledJob:
    try:
        state = pickle.loads(data)  # noqa: S301 - the store's own format, as APScheduler reads it
    except Exception as error:  # a class that moved or was removed, a corrupt row
        reason = f"{type(error).__name__}: {error}"
        return PickledJob(job_id=job_id, state=None, error=reason)
    if not isinstance(state, dict) or "trigger" not in state:
        return PickledJob(job_id=job_id, state=None, error="not an APScheduler 3 job state")
    return PickledJob(job_id=job_id, state=state)
