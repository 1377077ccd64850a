"""One harness per scheduler: each drives the real scheduler the same way.

A harness fills the scheduler's own storage with a workload's jobs, starts the
real scheduler loop in a background thread of this process, records each run
it hands over (:class:`~benchmarks.common.Handovers`), counts the SQL
statements it sends and its wake-ups, commits an edit from another connection,
and stops it.  The workloads in ``benchmarks/*.py`` only talk to this
interface, so every system meets exactly the same workload.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from ..common import Counter, Database, Handovers, Starts

__all__ = ["Harness", "Slot", "open_harness", "wait_ready"]

#: ``(job name, time.time() instant of its first slot)``, for spread-out workloads.
Slot = tuple[str, float]


class Harness(Protocol):
    """How a workload drives one scheduler; see the module docstring."""

    handovers: Handovers
    #: SQL statements the running scheduler sent (not the set-up, not the editor).
    statements: Counter
    #: Wake-ups (ticks) the running scheduler has completed.
    wakeups: Counter
    #: When each wake-up began to claim (Tickwork) or to process its due jobs (the peers).
    claims: Starts
    #: What this system cannot do or does differently, in words, for the report.
    notes: list[str]

    def fill_herd(self, jobs: int) -> None:
        """``jobs`` jobs on ``* * * * *``, all due at the same instant."""

    def start_herd(self, lead: float) -> float:
        """Start the scheduler; return the ``time.time()`` instant the herd falls due."""

    def fill_quiet(self, jobs: int, cron: str) -> None:
        """``jobs`` jobs on ``cron``, which is not due within the hour."""

    def fill_spread(self, slots: list[Slot], period: int) -> None:
        """One job per slot, every ``period`` seconds from that slot."""

    def start(self) -> None:
        """Start the scheduler loop in a background thread."""

    def edit(self, job: str) -> float:
        """From another connection, make ``job`` fire every second; return the commit instant."""

    def recorded(self) -> int | None:
        """How many of the handed-over runs the database shows (None: it keeps no record)."""

    def stop(self) -> dict[str, float]:
        """Stop the scheduler; return timings of what stopping had to do (such as a final sync)."""

    def details(self) -> dict[str, Any]:
        """Numbers only this system has (runs APScheduler dropped as missed, ...)."""


def open_harness(system: str, database: Database | None, *, fresh: bool = True) -> Harness:
    """The harness for ``system`` (``tickwork-sqlite``, ``apscheduler-memory``, ...).

    ``fresh=False`` opens a database that an earlier harness already set up.
    """
    family = system.rsplit("-", 1)[0]
    if family == "tickwork":
        from .tickwork import TickworkHarness

        return TickworkHarness(_needed(system, database))
    if family == "celery-beat":
        from .celerybeat import CeleryBeatHarness

        return CeleryBeatHarness(_needed(system, database), fresh=fresh)
    if family == "apscheduler":
        from .apscheduler3 import APSchedulerHarness

        return APSchedulerHarness(database)
    raise ValueError(f"unknown system {system!r}")


def _needed(system: str, database: Database | None) -> Database:
    if database is None:
        raise ValueError(f"{system} needs a database")
    return database


def wait_ready(harness: Harness, budget: float) -> bool:
    """Wait until the scheduler has finished its first wake-up (False after ``budget`` s)."""
    deadline = time.time() + budget
    while harness.wakeups.read() < 1:
        if time.time() > deadline:
            return False
        time.sleep(0.005)
    return True
