"""What ``manage.py scheduler_status`` reports: ``tickwork status``'s probe, on the Django store.

The report, its words and its exit codes are :mod:`scheduler.cli.probe`'s, so
the Django command and ``tickwork status`` answer alike.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..cli.probe import Status, read_status
from ..cli.probe import runs_table as _runs_table
from .store import DjangoStore

__all__ = ["runs_table", "status"]


def status(using: str, *, now: datetime, stale_after: timedelta, runs: int) -> Status:
    """The replicas of the database ``using`` and its latest ``runs`` runs, at ``now``."""
    store = DjangoStore(using=using)
    try:
        return read_status(store, now=now, stale_after=stale_after, runs=runs)
    finally:
        store.dispose()


def runs_table(store: DjangoStore, *, limit: int) -> str:
    """The latest ``limit`` runs of ``store`` as a table."""
    return _runs_table(store.list_runs(limit=limit))
