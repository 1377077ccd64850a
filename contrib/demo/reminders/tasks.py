"""The demo's tasks.  The scheduler finds them because this is an installed app's ``tasks``."""

from __future__ import annotations

import logging
import random

from scheduler import RunContext, job

logger = logging.getLogger(__name__)


@job
def heartbeat() -> str:
    """A quick job with a small JSON result."""
    return "alive"


@job(takes_context=True)
def digest(audience: str, *, context: RunContext) -> dict[str, str]:
    """Knows which slot it runs for, from its context."""
    return {"audience": audience, "slot": context.scheduled_for.isoformat()}


@job
def flaky() -> int:
    """Fails now and then: its job gives it one retry."""
    if random.random() < 1 / 3:  # noqa: S311 - a demo, not cryptography
        raise RuntimeError("the demo's flaky job failed, as it sometimes does")
    return 42


@job
def cleanup() -> str:
    """An ordinary periodic chore."""
    return "nothing to clean"


@job
def send_reminder(user_id: int, *, message: str) -> str:
    """The deferred one: ``send_reminder.defer(delay=..., args=[...], kwargs={...})``."""
    logger.info("reminding user %s: %s", user_id, message)
    return f"reminded user {user_id}: {message}"
