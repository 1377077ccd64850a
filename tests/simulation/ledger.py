"""The executors' own log of what they ran, independent of the store."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["Execution", "Ledger", "work_of"]


@dataclass(slots=True)
class Execution:
    """One execution of a run's task: the side effect happened at ``started``
    (seconds after the simulation's start), on ``where``."""

    run_id: int
    job: str
    slot: datetime
    attempt: int
    where: str
    started: float
    ended: float | None = None


@dataclass(slots=True)
class Ledger:
    """Every execution, in the order they started."""

    executions: list[Execution] = field(default_factory=list)

    def executed(self, execution: Execution) -> None:
        self.executions.append(execution)


def work_of(seed: int, task: str, job: str, slot: datetime, attempt: int) -> tuple[float, bool]:
    """How long the execution of (job, slot, attempt) takes, in seconds, and
    whether it succeeds: a pure function of them, so every replay agrees."""
    rng = random.Random(f"{seed}:{job}:{slot.isoformat()}:{attempt}")
    seconds = rng.uniform(1, 30) if rng.random() < 0.9 else rng.uniform(60, 240)
    fails = task == "sim.flaky" and rng.random() < 0.4
    return seconds, not fails
