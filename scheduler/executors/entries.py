"""A run an in-process executor has accepted: where it is, and who to tell.

The thread, process and asyncio executors each keep one entry per run from
:meth:`~scheduler.executors.base.Executor.submit` until they report its end;
this is the part they share.  Each adds what its own way of running needs
(a start instant, a child process, a scheduled coroutine).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import Enum, auto

from ..model.runs import ClaimedRun
from ..tasks.registry import RegisteredTask
from .base import RunReporter

__all__ = ["Entry", "EntryState"]


class EntryState(Enum):
    """Where an accepted run is, as its executor sees it."""

    QUEUED = auto()
    RUNNING = auto()
    DONE = auto()
    TIMED_OUT = auto()  # reported timed out; its work may still be going (threads)
    CANCELLED = auto()
    ABANDONED = auto()  # given up at shutdown: stopped, its end not reported


@dataclass(slots=True, eq=False, kw_only=True)
class Entry:
    """One accepted run, its task and the reporter its start and end go to."""

    claimed: ClaimedRun
    task: RegisteredTask
    reporter: RunReporter
    state: EntryState = EntryState.QUEUED
    returned: threading.Event = field(default_factory=threading.Event)

    @property
    def run_id(self) -> int:
        return self.claimed.run.id
