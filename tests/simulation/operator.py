"""The operator: adds, edits, pauses, resumes and removes jobs, and defers one-offs.

Its edits go straight to the store (never faulted), at true time, and it
keeps each job's *active periods*: the stretch of its slot chain each
definition owns, from the job's ``next_run_at`` just after the edit that
started it to its ``next_run_at`` just before the edit that ended it.  Those
are exactly the slots that must each have one run, and the only ones that
may (:mod:`.invariants`).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.schedules.kinds import Once
from scheduler.stores.base import Store

from .plan import Op, job_spec

__all__ = ["Operator", "Period"]


class _Host(Protocol):
    seed: int
    now: float
    editor_lead: float

    def instant(self, seconds: float) -> datetime: ...

    def note(self, line: str, job: str = "") -> None: ...


@dataclass(slots=True)
class Period:
    """Slots ``first`` (included) to ``until`` (excluded; ``None``: still open) of ``spec``."""

    spec: JobSpec
    first: datetime
    until: datetime | None = None
    closed: bool = False


@dataclass(slots=True)
class Operator:
    """Edits the jobs of ``store`` for ``host``; remembers every job's active periods."""

    host: _Host
    store: Store
    yaml: dict[str, JobSpec] = field(default_factory=dict)
    periods: dict[str, list[Period]] = field(default_factory=dict)
    paused: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    first: dict[str, JobSpec] = field(default_factory=dict)  # each job's first definition
    _added: int = 0
    _deferred: int = 0

    def begin(self, specs: tuple[JobSpec, ...]) -> None:
        now = self.host.instant(self.host.now + self.host.editor_lead)
        self.yaml = {spec.name: spec for spec in specs}
        self.first = dict(self.yaml)
        self.store.sync_jobs(list(self.yaml.values()), source=JobSource.YAML, now=now)
        for name in self.yaml:
            self._open(name)

    def apply(self, op: Op) -> None:
        rng = random.Random(f"op:{self.host.seed}:{op.choice}")
        now = self.host.instant(self.host.now + self.host.editor_lead)
        live = sorted(set(self.yaml) - self.removed)
        if op.kind == "defer":
            self._defer(rng, now)
            return
        if op.kind == "add" or not live:
            name = self._new_name(rng)
            spec = self._redefined(name, rng)
            self._change(name, lambda: self._sync({**self.yaml, name: spec}, now))
            return
        name = rng.choice(live)
        if op.kind == "edit":
            spec = self._redefined(name, rng)
            self._change(name, lambda: self._sync({**self.yaml, name: spec}, now))
        elif op.kind == "pause" and name not in self.paused:
            self.paused.add(name)
            self._change(name, lambda: self.store.set_paused(name, True, now=now))
        elif op.kind == "resume" and name in self.paused:
            self.paused.discard(name)
            self._change(name, lambda: self.store.set_paused(name, False, now=now))
        elif op.kind == "remove":
            rest = {key: spec for key, spec in self.yaml.items() if key != name}
            self.removed.add(name)
            self._change(name, lambda: self._sync(rest, now))

    def _redefined(self, name: str, rng: random.Random) -> JobSpec:
        """A new definition for ``name``; a job that existed keeps its overlap
        and retries, which the invariants judge all its runs by."""
        fresh = job_spec(name, rng)
        old = self.first.setdefault(name, fresh)
        return fresh.with_fields(overlap=old.policy.overlap, retries=old.policy.retries)

    def _new_name(self, rng: random.Random) -> str:
        if self.removed and rng.random() < 0.5:
            name = sorted(self.removed)[0]  # a removed job comes back
            self.removed.discard(name)
            return name
        self._added += 1
        return f"added{self._added}"

    def _sync(self, specs: dict[str, JobSpec], now: datetime) -> None:
        self.yaml = specs
        self.store.sync_jobs(list(specs.values()), source=JobSource.YAML, now=now)

    def _defer(self, rng: random.Random, now: datetime) -> None:
        self._deferred += 1
        name = f"deferred{self._deferred}"
        when = now + timedelta(seconds=rng.uniform(10, 1800))
        spec = JobSpec.from_fields(
            name=name,
            task="sim.work",
            schedule=Once(when),
            source=JobSource.CODE,
            executor=rng.choice(("local", "remote")),
            retries=rng.choice((0, 1)),
        )
        self._change(name, lambda: self.store.save_job(spec, now=now))

    def _change(self, name: str, edit: Callable[[], object]) -> None:
        """Close ``name``'s open period at its ``next_run_at``, make the edit,
        open a new one if the job is active after it."""
        periods = self.periods.setdefault(name, [])
        if periods and not periods[-1].closed:
            current = self.store.get_job(name)
            periods[-1].until = current.next_run_at
            periods[-1].closed = True
        edit()
        self.host.note(f"operator: {name} changed", name)
        self._open(name)

    def _open(self, name: str) -> None:
        job = self.store.get_job(name)
        if job.active and job.next_run_at is not None:
            self.periods.setdefault(name, []).append(Period(job.spec, job.next_run_at))

    def open_until(self) -> dict[str, datetime | None]:
        """Where each open period stands now: its job's ``next_run_at``."""
        return {
            name: self.store.get_job(name).next_run_at
            for name, periods in self.periods.items()
            if periods and not periods[-1].closed
        }
