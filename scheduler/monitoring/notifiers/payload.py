"""What a notification says about a run: a JSON payload, a subject, a summary line.

The webhook posts :func:`event_payload` as it is (``docs/how-to/alerts.md``
documents its keys); the mail uses :func:`subject` and :func:`body_lines`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..events import RunEvent

__all__ = ["error_lines", "event_payload", "subject", "summary"]


def error_lines(event: RunEvent, count: int = 1) -> list[str]:
    """The first ``count`` non-empty lines of the run's error (none if it has none)."""
    return [line for line in event.error.splitlines() if line.strip()][:count]


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def subject(event: RunEvent) -> str:
    """``nightly-report failed (slot 2026-03-01T02:30:00+00:00)``."""
    return f"{event.job_name} {event.status.value} (slot {event.scheduled_for.isoformat()})"


def summary(event: RunEvent) -> str:
    """One line for a chat message: the subject, the attempt, the error's first line."""
    first = error_lines(event)
    reason = f": {first[0]}" if first else ""
    return f"Tickwork: {subject(event)}, attempt {event.attempt}{reason}"


def event_payload(event: RunEvent, *, text: bool = False) -> dict[str, Any]:
    """The JSON object a webhook receives for ``event``; with ``text``, a Slack-style
    ``text`` field holding :func:`summary`."""
    duration = event.duration
    first = error_lines(event)
    payload: dict[str, Any] = {
        "job": event.job_name,
        "status": event.status.value,
        "run_id": event.run_id,
        "scheduled_for": _instant(event.scheduled_for),
        "started_at": _instant(event.started_at),
        "finished_at": _instant(event.finished_at),
        "duration_seconds": None if duration is None else duration.total_seconds(),
        "attempt": event.attempt,
        "error": first[0] if first else "",
        "replica": event.replica_id,
        "worker": event.worker,
        "will_retry": event.will_retry,
    }
    if text:
        payload["text"] = summary(event)
    return payload
