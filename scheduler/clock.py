"""Where the engine gets the time from.

Nothing in Tickwork reads the wall clock directly: it asks a :class:`Clock`,
so tests drive time with :class:`scheduler.testing.FakeClock` and never sleep.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "SystemClock", "ensure_aware_utc", "is_real_time"]


@runtime_checkable
class Clock(Protocol):
    """A source of the current instant and a way to wait for a later one.

    A clock may also say what its :meth:`sleep` means, with a boolean
    attribute ``real_time``: ``True`` when ``sleep`` waits in real time, so
    that other things can happen meanwhile (:class:`SystemClock`), ``False``
    when it only moves the clock on (:class:`~scheduler.testing.FakeClock`).
    A clock in real time lets the engine wait on something that can end a
    wait early (a stop request, a change notified by the database) instead
    of calling ``sleep``, and wait for the work it handed over after a single
    wake-up.  The attribute is optional: a clock without it is taken not to
    be in real time, and is always waited on with ``sleep``.  Read it with
    :func:`is_real_time`.
    """

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block for up to ``seconds``; a fake clock advances instead."""
        ...


class SystemClock:
    """The real clock of the machine."""

    #: Its :meth:`sleep` waits in real time.
    real_time = True

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


def is_real_time(clock: Clock) -> bool:
    """Whether ``clock.sleep()`` waits in real time: its ``real_time`` attribute.

    ``False`` for a clock without one, as for every clock written before the
    attribute existed.
    """
    return getattr(clock, "real_time", False) is True


def ensure_aware_utc(instant: datetime, what: str = "instant") -> datetime:
    """Return ``instant`` converted to UTC; refuse naive datetimes.

    A naive datetime has no place in a scheduler: it is ambiguous around every
    DST change.  The error names ``what`` so the caller knows which argument.
    """
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {instant.isoformat()}")
    return instant.astimezone(UTC)
