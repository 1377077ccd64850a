"""What a :class:`~scheduler.stores.memory.MemoryStore` holds, and the moves every verb makes on it.

The verbs run with the store's lock held, so a :class:`State` is only ever
touched by one of them at a time; each verb checks everything it can refuse
before it changes anything, so a verb that raises leaves the state as it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import count
from typing import Any

from ...errors import DuplicateRun
from ...model.jobs import JSONValue
from ...model.runs import TERMINAL_STATUSES, NewRun, Run, RunStatus
from ..protocol.values import StoredJob
from ..rules import DUPLICATE_SLOT, job_not_found, run_not_found

__all__ = ["Replica", "Slot", "State", "json_copy", "newest_first", "slot_of", "unclaimed"]

#: What identifies a run: (job name, slot, attempt), unique.
Slot = tuple[str, datetime, int]


@dataclass(slots=True)
class Replica:
    """A replica's heartbeat, when its current life began, and its clean stop if it made one."""

    hostname: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None = None


@dataclass(slots=True)
class State:
    """Jobs by name, runs by id, the slots taken, replicas by id; run ids count from 1."""

    jobs: dict[str, StoredJob] = field(default_factory=dict)
    runs: dict[int, Run] = field(default_factory=dict)
    slots: set[Slot] = field(default_factory=set)
    replicas: dict[str, Replica] = field(default_factory=dict)
    #: (job name, upstream run id) of every chained run: unique, as in the SQL stores.
    upstreams: set[tuple[str, int]] = field(default_factory=set)
    #: The ended runs whose end was passed to their chains, and when.
    chained: dict[int, datetime] = field(default_factory=dict)
    ids: count[int] = field(default_factory=lambda: count(1))

    def job(self, name: str) -> StoredJob:
        try:
            return self.jobs[name]
        except KeyError:
            raise job_not_found(name) from None

    def run(self, run_id: int) -> Run:
        try:
            return self.runs[run_id]
        except KeyError:
            raise run_not_found(run_id) from None

    def update(self, run: Run, **changes: Any) -> Run:
        updated = replace(run, **changes)
        self.runs[run.id] = updated
        return updated

    def jobs_with_runs_in(self, statuses: frozenset[RunStatus]) -> set[str]:
        return {run.job_name for run in self.runs.values() if run.status in statuses}

    def taken(self, slot: Slot) -> bool:
        """Whether ``slot`` (job name, slot, attempt) already has a run."""
        return slot in self.slots

    def check_unique(self, rows: Iterable[tuple[str, NewRun]]) -> None:
        """:class:`DuplicateRun` if a run of ``rows`` (job name, new run) takes a
        slot and attempt that is taken, or that another of them takes."""
        seen: set[Slot] = set()
        for job_name, new in rows:
            slot = slot_of(job_name, new)
            if slot in self.slots or slot in seen:
                raise DuplicateRun(
                    f"{DUPLICATE_SLOT}: job {job_name!r}, slot {new.scheduled_for.isoformat()}, "
                    f"attempt {new.attempt}"
                )
            seen.add(slot)

    def insert(
        self, job_name: str, new: NewRun, *, now: datetime, claim_for: str = "", executor: str = ""
    ) -> Run:
        """Insert a checked run: one created terminal ends at ``now``; a pending
        one due by ``now`` is claimed for ``claim_for`` unless that is empty,
        and queued to ``executor``."""
        claim = bool(claim_for) and new.status is RunStatus.PENDING and new.due_at <= now
        run = Run(
            id=next(self.ids),
            job_name=job_name,
            scheduled_for=new.scheduled_for,
            due_at=new.due_at,
            attempt=new.attempt,
            trigger=new.trigger,
            status=RunStatus.QUEUED if claim else new.status,
            claimed_at=now if claim else None,
            finished_at=now if new.status in TERMINAL_STATUSES else None,
            executor=executor if claim else "",
            replica_id=claim_for if claim else "",
            upstream_run_id=new.upstream_run_id,
        )
        if new.upstream_run_id is not None:
            upstream = (job_name, new.upstream_run_id)
            if upstream in self.upstreams:
                raise DuplicateRun(
                    f"job {job_name!r} already has a run after run {new.upstream_run_id}"
                )
            self.upstreams.add(upstream)
        self.runs[run.id] = run
        self.slots.add(slot_of(job_name, run))
        return run


def slot_of(job_name: str, new: NewRun | Run) -> Slot:
    return (job_name, new.scheduled_for, new.attempt)


def newest_first(run: Run) -> tuple[datetime, int, int]:
    """A sort key: reversed, runs come newest slot first, then attempt, then id."""
    return (run.scheduled_for, run.attempt, run.id)


def unclaimed(run: Run) -> bool:
    return run.status is RunStatus.PENDING and not run.replica_id


def json_copy(value: JSONValue) -> JSONValue:
    """What a database store would give back: JSON only, tuples become lists."""
    copied: JSONValue = json.loads(json.dumps(value, allow_nan=False))
    return copied
