"""Tasks for the standalone demo (``make demo-standalone``)."""

from __future__ import annotations

import random
import time

from scheduler import RunContext, job


@job
def heartbeat() -> str:
    """A quick job: returns a small JSON result."""
    return "alive"


@job(takes_context=True)
def report(day: str = "today", *, context: RunContext) -> dict[str, object]:
    """Knows which slot it is for, even when it runs late."""
    return {"slot": context.scheduled_for.isoformat(), "attempt": context.attempt, "day": day}


@job
def flaky() -> int:
    """Fails about half the time; the schedule gives it retries."""
    if random.random() < 0.5:  # noqa: S311 - a demo, not cryptography
        raise RuntimeError("the demo's flaky job failed, as it sometimes does")
    return 42


@job
def slow() -> str:
    """Takes longer than its interval: the overlap policy skips the slots it is still busy for."""
    time.sleep(7)
    return "done"
