"""What every admin page of the scheduler shares: its database, its store, its clock.

The admin reads and writes the scheduler's tables on ``SCHEDULER["DATABASE"]``
(auth, sessions and the admin log stay where the site keeps them), and writes
jobs and runs only through :class:`~scheduler.django.store.DjangoStore`, which
keeps ``definition_hash``, ``version`` and ``next_run_at`` right.

The time comes from :data:`clock`, so tests can fix "now" by replacing it
with a :class:`~scheduler.testing.FakeClock`.
"""

from __future__ import annotations

from datetime import datetime

from ...clock import Clock, SystemClock
from ..settings import read_settings
from ..store import DjangoStore

__all__ = ["clock", "database", "now", "store"]

#: Where the admin reads the time; replace it to fix "now" (tests do).
clock: Clock = SystemClock()


def now() -> datetime:
    """The current instant, aware UTC, from :data:`clock`."""
    return clock.now()


def database() -> str:
    """The alias of the database holding the scheduler's tables.

    Bad settings are the system checks' to report; the admin uses what
    :func:`~scheduler.django.settings.read_settings` makes of them.
    """
    return read_settings()[0].database


def store() -> DjangoStore:
    """A store on :func:`database`; it holds no connection of its own."""
    return DjangoStore(using=database())
