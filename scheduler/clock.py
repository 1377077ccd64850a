"""Where the engine gets the time from.

Nothing in Tickwork reads the wall clock directly: it asks a :class:`Clock`,
so tests drive time with :class:`scheduler.testing.FakeClock` and never sleep.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "SystemClock", "ensure_aware_utc"]


@runtime_checkable
class Clock(Protocol):
    """A source of the current instant and a way to wait for a later one."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block for up to ``seconds``; a fake clock advances instead."""
        ...


class SystemClock:
    """The real clock of the machine."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


def ensure_aware_utc(instant: datetime, what: str = "instant") -> datetime:
    """Return ``instant`` converted to UTC; refuse naive datetimes.

    A naive datetime has no place in a scheduler: it is ambiguous around every
    DST change.  The error names ``what`` so the caller knows which argument.
    """
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {instant.isoformat()}")
    return instant.astimezone(UTC)
