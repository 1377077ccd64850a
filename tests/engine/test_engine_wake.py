"""``Engine.wake()`` ends a wait between wake-ups early, even a backoff from a store that is down.

The monitor calls it when the store answers again, so a replica that backed
off for half a minute does not stay unhealthy for the rest of it.  Real time
(a wait cannot be cut short on a fake clock), with a backoff of a minute:
the test waits for the second attempt for at most ten seconds.
"""

from __future__ import annotations

import threading
from datetime import datetime

from scheduler.clock import SystemClock
from scheduler.engine import Engine, EngineConfig
from scheduler.errors import StoreUnavailable
from scheduler.testing import MemoryStore


class DownStore(MemoryStore):
    """Unavailable for every heartbeat; counts the attempts."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts = 0
        self.attempted = threading.Condition()

    def heartbeat(self, replica_id: str, *, hostname: str, pid: int, now: datetime) -> None:
        with self.attempted:
            self.attempts += 1
            self.attempted.notify_all()
        raise StoreUnavailable("connection refused")

    def wait_for_attempts(self, count: int, timeout: float) -> bool:
        with self.attempted:
            return self.attempted.wait_for(lambda: self.attempts >= count, timeout)


def test_wake_ends_a_backoff_at_once() -> None:
    store = DownStore()
    config = EngineConfig(poll_interval=30.0, max_backoff=60.0)  # first retry in 60 s
    engine = Engine(store, {}, clock=SystemClock(), replica_id="r", config=config)
    thread = threading.Thread(target=engine.loop, daemon=True)
    thread.start()
    try:
        assert store.wait_for_attempts(1, timeout=10)
        engine.wake()
        assert store.wait_for_attempts(2, timeout=10)
    finally:
        engine.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()
