"""The vocabulary of a run's life: its statuses, its triggers, and the errors recovery writes.

:class:`RunStatus` says where a run is (three active statuses, then the
terminal ones a run never leaves); :class:`Trigger` says why it exists.
"""

from __future__ import annotations

from datetime import timedelta

from ..schedules.durations import format_duration
from .enums import DocumentedEnum

__all__ = [
    "ACTIVE_STATUSES",
    "NEW_RUN_STATUSES",
    "NOT_STARTED_PREFIX",
    "TERMINAL_STATUSES",
    "RunStatus",
    "Trigger",
    "not_started_error",
    "not_started_suffix",
]


class RunStatus(DocumentedEnum):
    """Where a run is in its life.  The last six are terminal."""

    PENDING = "pending", "Created; waiting to be handed to an executor (maybe not yet due)."
    QUEUED = "queued", "Handed to an executor; not started yet."
    RUNNING = "running", "Started by a worker."
    SUCCEEDED = "succeeded", "Finished without raising; its result is recorded."
    FAILED = "failed", "Raised an exception; error and traceback are recorded."
    TIMED_OUT = "timed_out", "Ran past the job's timeout."
    SKIPPED = "skipped", "Not started because the previous run was still going (overlap: skip)."
    MISSED = "missed", "A slot the catch-up policy chose not to fire."
    LOST = "lost", "Its replica or worker stopped before it finished."
    CANCELLED = "cancelled", "Withdrawn before it started."


#: Statuses of a run that has not ended yet.
ACTIVE_STATUSES = frozenset({RunStatus.PENDING, RunStatus.QUEUED, RunStatus.RUNNING})
#: Statuses a run ends in; a run never leaves one.
TERMINAL_STATUSES = frozenset(set(RunStatus) - ACTIVE_STATUSES)
#: Statuses a run may be created with.
NEW_RUN_STATUSES = frozenset({RunStatus.PENDING, RunStatus.MISSED, RunStatus.SKIPPED})


#: The error of a run no worker started in time: this, the executor's name,
#: then :func:`not_started_suffix`.  SQL stores build it in the database.
NOT_STARTED_PREFIX = "not started by a worker of executor "


def not_started_suffix(start_timeout: timedelta) -> str:
    """The end of the error of a run no worker started within ``start_timeout``."""
    return f" within {format_duration(start_timeout)} of being handed over"


def not_started_error(executor: str, start_timeout: timedelta) -> str:
    """The whole error of a run handed to ``executor`` that no worker started in time."""
    return f"{NOT_STARTED_PREFIX}{executor}{not_started_suffix(start_timeout)}"


class Trigger(DocumentedEnum):
    """Why a run exists."""

    SCHEDULE = "schedule", "Its slot came due on time."
    CATCHUP = (
        "catchup",
        "Its slot was missed (downtime, overload) and the catch-up policy fired it.",
    )
    RETRY = "retry", "An earlier attempt of the same slot failed and the job allows retries."
    MANUAL = "manual", "Somebody asked for it: run now (admin, scheduler_run, add_run)."
    CHAIN = "chain", "A run of its upstream job ended the way its ``when`` asks (``after:``)."
