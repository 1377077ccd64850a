"""Tasks found by autodiscovery (``scheduler.django.discovery``)."""

from __future__ import annotations

from scheduler.model.runs import RunContext
from scheduler.tasks.registry import job

#: The runs that executed, by task: (task, slot).
CALLS: list[tuple[str, str]] = []


@job
def ping() -> str:
    CALLS.append(("ping", ""))
    return "pong"


@job(takes_context=True)
def report(context: RunContext) -> dict[str, str]:
    CALLS.append(("report", context.scheduled_for.isoformat()))
    return {"for": context.scheduled_for.isoformat()}


@job
def remind(user_id: int, *, channel: str = "mail") -> str:
    CALLS.append(("remind", f"{user_id}:{channel}"))
    return f"reminded {user_id} by {channel}"
