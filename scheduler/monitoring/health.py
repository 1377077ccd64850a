"""Whether this replica is healthy: what ``GET /healthz`` answers.

A replica is healthy when both hold:

* the last call to the store answered (a wake-up of the engine, or the
  monitor's own read of the store, whichever came last);
* it recorded a heartbeat within its ``heartbeat_interval`` plus ``slack``
  (the heartbeat is due every interval, at the first wake-up after it, and a
  wake-up may take a moment).

Otherwise it is unhealthy, with one reason per rule it breaks.  Nothing here
reads a clock: every call takes the instant it is about, so the rules are
tested on a fake clock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

__all__ = ["DEFAULT_SLACK", "Health", "HealthReport"]

#: How late a heartbeat may be, past its interval, before the replica is unhealthy.
DEFAULT_SLACK = timedelta(seconds=5)


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthReport:
    """The answer at one instant: healthy or not, and why not."""

    healthy: bool
    reasons: tuple[str, ...]
    last_heartbeat: datetime | None
    store_up: bool

    def as_json(self) -> dict[str, Any]:
        """The body of ``/healthz``: ``status`` ``ok`` or ``unhealthy``, with reasons."""
        body: dict[str, Any] = {
            "status": "ok" if self.healthy else "unhealthy",
            "store_up": self.store_up,
            "last_heartbeat": None
            if self.last_heartbeat is None
            else self.last_heartbeat.isoformat(),
        }
        if not self.healthy:
            body["reasons"] = list(self.reasons)
        return body


class Health:
    """The health state of one replica; thread-safe.

    ``heartbeat_interval`` is the engine's; ``slack`` is how much later than
    that a heartbeat may come.
    """

    def __init__(self, *, heartbeat_interval: timedelta, slack: timedelta = DEFAULT_SLACK) -> None:
        if heartbeat_interval <= timedelta(0) or slack < timedelta(0):
            raise ValueError(
                f"heartbeat_interval must be positive and slack not negative, "
                f"got {heartbeat_interval} and {slack}"
            )
        self.allowed = heartbeat_interval + slack
        self._lock = threading.Lock()
        self._heartbeat: datetime | None = None
        self._store: tuple[datetime, str] | None = None  # (when, "" or what failed)

    def heartbeat(self, at: datetime | None) -> None:
        """The replica's latest recorded heartbeat (``None``: none yet)."""
        if at is None:
            return
        with self._lock:
            if self._heartbeat is None or at > self._heartbeat:
                self._heartbeat = at

    def store_answered(self, at: datetime) -> None:
        """A call to the store made at ``at`` answered."""
        self._store_result(at, "")

    def store_failed(self, at: datetime, reason: str) -> None:
        """A call to the store made at ``at`` failed, for ``reason``."""
        self._store_result(at, reason or "store unavailable")

    @property
    def store_up(self) -> bool:
        """Whether the last call to the store answered (False before any)."""
        with self._lock:
            return self._store is not None and not self._store[1]

    def check(self, now: datetime) -> HealthReport:
        """Healthy or not at ``now``, and why not."""
        with self._lock:
            heartbeat, store = self._heartbeat, self._store
        reasons = []
        if store is None:
            reasons.append("the store has not been reached yet")
        elif store[1]:
            reasons.append(f"store unavailable at {store[0].isoformat()}: {store[1]}")
        if heartbeat is None:
            reasons.append("no heartbeat recorded yet")
        elif now - heartbeat > self.allowed:
            late = (now - heartbeat).total_seconds()
            reasons.append(
                f"last heartbeat {late:.1f}s ago, more than the "
                f"{self.allowed.total_seconds():g}s allowed"
            )
        up = store is not None and not store[1]
        return HealthReport(
            healthy=not reasons, reasons=tuple(reasons), last_heartbeat=heartbeat, store_up=up
        )

    def _store_result(self, at: datetime, failure: str) -> None:
        with self._lock:
            if self._store is None or at >= self._store[0]:  # the latest call decides
                self._store = (at, failure)
