"""At most one notification per job per window, across replicas: Django's cache.

The mail notifier asks :meth:`CacheThrottle.admit` before each mail.  The
state lives in a Django cache (``CACHES``, the ``default`` alias unless the
notifier's ``CACHE`` option names another), so replicas that share a cache
(Redis, Memcached, the database cache) share the throttle; with a
per-process cache (``LocMemCache``, the default ``CACHES``) each process
throttles on its own.

For each job, ``admit`` sends when the last mail is at least one window old,
and claims the window with ``cache.add`` on a key of the window's number
(``add`` is atomic on shared caches: two replicas failing the same job at
once send one mail).  Whatever is held back is counted with ``cache.incr``,
with its first and last instants, and the next mail that is sent for the job
carries that summary.  The instants come from the notifier's clock, not the
cache's expiry (which is only cleanup), so tests drive it with a fake clock.
Two replicas may still both send if they fail the same job within
milliseconds of each other across a window boundary.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

__all__ = ["CacheThrottle", "Held"]

_KEEP_HELD = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Held:
    """What was held back since the last mail: how many, the first and last instants."""

    count: int = 0
    first: datetime | None = None
    last: datetime | None = None


class CacheThrottle:
    """One window per job, kept in ``cache`` (a Django cache) under keys starting with
    ``prefix``."""

    def __init__(self, cache: Any, window: timedelta, *, prefix: str) -> None:
        self.cache = cache
        self.window = window
        self.prefix = prefix
        self._ttl = max(1, int(2 * window.total_seconds()))

    def _key(self, job: str, what: str) -> str:
        # Job names may hold characters memcached refuses in keys: hash them.
        digest = hashlib.sha256(job.encode()).hexdigest()[:32]
        return f"{self.prefix}:{digest}:{what}"

    def admit(self, job: str, now: datetime) -> Held | None:
        """``None`` if a mail for ``job`` at ``now`` is held back (and counted); otherwise
        what was held back since the last mail, which this call hands over and resets."""
        last = self.cache.get(self._key(job, "sent"))
        if last is not None and now - datetime.fromisoformat(last) < self.window:
            self._hold(job, now)
            return None
        number = int(now.timestamp() // self.window.total_seconds())
        if not self.cache.add(self._key(job, f"window:{number}"), 1, timeout=self._ttl):
            self._hold(job, now)  # another process mailed in this window a moment ago
            return None
        self.cache.set(self._key(job, "sent"), now.isoformat(), timeout=self._ttl)
        return self._release(job)

    def _hold(self, job: str, now: datetime) -> None:
        keep = int(_KEEP_HELD.total_seconds())
        count = self._key(job, "held")
        self.cache.add(count, 0, timeout=keep)
        try:
            self.cache.incr(count)
        except ValueError:  # evicted between add and incr
            self.cache.set(count, 1, timeout=keep)
        self.cache.add(self._key(job, "held-first"), now.isoformat(), timeout=keep)
        self.cache.set(self._key(job, "held-last"), now.isoformat(), timeout=keep)

    def _release(self, job: str) -> Held:
        keys = [self._key(job, what) for what in ("held", "held-first", "held-last")]
        found = self.cache.get_many(keys)
        count = int(found.get(keys[0]) or 0)
        if not count:
            return Held()
        try:  # take away what this mail reports, keep what arrived meanwhile
            left = self.cache.decr(keys[0], count)
        except ValueError:
            left = 0
        if left <= 0:
            self.cache.delete_many(keys)
        first, last = found.get(keys[1]), found.get(keys[2])
        return Held(
            count=count,
            first=None if first is None else datetime.fromisoformat(first),
            last=None if last is None else datetime.fromisoformat(last),
        )
