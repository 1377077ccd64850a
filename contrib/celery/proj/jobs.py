"""The example's jobs: plain functions, registered with ``@job``."""

from __future__ import annotations

import logging
import socket

from scheduler import RunContext, job

logger = logging.getLogger(__name__)


@job
def heartbeat() -> str:
    """Says which worker ran it."""
    return socket.gethostname()


@job(takes_context=True)
def daily_report(context: RunContext, recipients: list[str]) -> dict[str, object]:
    """Reports on the day of its slot, even when it runs late."""
    day = context.scheduled_for.date().isoformat()
    logger.info("report for %s to %d recipients", day, len(recipients))
    return {"day": day, "sent_to": len(recipients)}
