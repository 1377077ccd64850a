"""What must hold, checked against the store and the executors' ledger.

Safety (every simulated hour, and at the end):

* each (job, slot, attempt) has at most one run;
* each slot of a job's active periods has exactly one first attempt, and no
  other slot has one: nothing fired for a paused, removed or replaced job
  after the edit committed;
* nothing was executed twice: one execution per run and per (job, slot,
  attempt), and an attempt after the first only when the one before ended
  ``failed``, ``timed_out`` or ``lost`` (the documented re-run);
* every execution was recorded as started;
* a job with overlap ``skip`` or ``queue`` never had two runs queued or
  running at once (checked after every wake-up), unless its catch-up is
  ``all``: that fires the missed slots of one wake-up together, by design.

At the end, after the quiet period, also: every run due before the last
stretch ended in a terminal status, its retries happened as its policy says,
catch-up ``skip`` fired no missed slot and ``all`` missed none, and no active
job is left behind its schedule.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import TYPE_CHECKING

from scheduler.engine.recording import RETRYABLE
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import CatchupPolicy, OverlapPolicy
from scheduler.model.runs import ACTIVE_STATUSES, Run, RunStatus, Trigger
from scheduler.stores.base import Store

if TYPE_CHECKING:
    from .world import Simulation

__all__ = ["MARGIN", "Checker"]

#: Runs due within this long of the end may still be going at the last check.
MARGIN = 1200.0
ALL_RUNS = 10**9
_NOT_STARTED = frozenset(
    {RunStatus.PENDING, RunStatus.QUEUED, RunStatus.CANCELLED, RunStatus.SKIPPED, RunStatus.MISSED}
)
_ONE_AT_A_TIME = frozenset({OverlapPolicy.SKIP, OverlapPolicy.QUEUE})


class Checker:
    """Checks the invariants of ``sim``'s ``store``; collects the violations."""

    def __init__(self, sim: Simulation, store: Store) -> None:
        self.sim = sim
        self.store = store
        self.violations: list[str] = []
        self.jobs: set[str] = set()  # the jobs the violations are about
        self.errors: list[BaseException] = []
        self.owners: dict[tuple[str, datetime], JobSpec] = {}  # the definition of each slot

    def violation(self, message: str, error: BaseException | None = None, job: str = "") -> None:
        self.violations.append(f"t+{self.sim.now:.1f}s: {message}")
        if job:
            self.jobs.add(job)
        if error is not None:
            self.errors.append(error)

    # -- after every wake-up ---------------------------------------------------------
    def check_overlap(self) -> None:
        going: dict[str, list[Run]] = defaultdict(list)
        for status in (RunStatus.QUEUED, RunStatus.RUNNING):
            for run in self.store.list_runs(status=status, limit=ALL_RUNS):
                going[run.job_name].append(run)
        for name, runs in going.items():
            spec = self.sim.operator.yaml.get(name)
            if len(runs) < 2 or spec is None or spec.policy.overlap not in _ONE_AT_A_TIME:
                continue
            periods = self.sim.operator.periods.get(name, [])
            if any(p.spec.policy.catchup is CatchupPolicy.ALL for p in periods):
                continue  # catch-up "all" fires missed slots together, whatever the overlap
            self.violation(
                f"job {name} (overlap {spec.policy.overlap.value}) has {len(runs)} runs going: "
                + ", ".join(_name(run) for run in runs),
                job=name,
            )

    # -- every hour, and at the end ----------------------------------------------------
    def check_safety(self) -> None:
        runs = self.store.list_runs(limit=ALL_RUNS)
        self._unique(runs)
        self._slots(runs)
        self._executions(runs)

    def check_final(self) -> None:
        if self.violations:
            return
        self.check_safety()
        runs = self.store.list_runs(limit=ALL_RUNS)
        settled = self.sim.instant(self.sim.now - MARGIN)
        by_slot = {(r.job_name, r.scheduled_for, r.attempt): r for r in runs}
        for run in runs:
            if (
                run.status in ACTIVE_STATUSES
                and run.due_at < settled
                and not self._waits(run, settled)
            ):
                self.violation(f"run {_name(run)} still {run.status.value}", job=run.job_name)
            self._policy(run, settled, by_slot)
        behind = self.sim.instant(self.sim.now - 90)
        for name, next_run_at in self.sim.operator.open_until().items():
            if next_run_at is not None and next_run_at < behind:
                self.violation(f"job {name} is stuck at {next_run_at.isoformat()}", job=name)

    def _waits(self, run: Run, settled: datetime) -> bool:
        """Whether ``run`` is of an overlap ``queue`` job and was not claimed before
        ``settled``: such a job keeps one waiting run per slot that came due
        while it was busy, and works through them one at a time, so a job
        slower than its schedule falls behind."""
        first = self.sim.operator.first.get(run.job_name)
        return (
            first is not None
            and first.policy.overlap is OverlapPolicy.QUEUE
            and (run.claimed_at is None or run.claimed_at >= settled)
        )

    # -- the rules ---------------------------------------------------------------------
    def _unique(self, runs: list[Run]) -> None:
        counts = Counter((r.job_name, r.scheduled_for, r.attempt) for r in runs)
        for (name, slot, attempt), count in counts.items():
            if count > 1:
                self.violation(
                    f"{count} runs of job {name} slot {slot.isoformat()} attempt {attempt}",
                    job=name,
                )

    def _slots(self, runs: list[Run]) -> None:
        operator = self.sim.operator
        horizon = self.sim.instant(self.sim.now + 60)
        open_until = operator.open_until()
        firsts: dict[str, set[datetime]] = defaultdict(set)
        for run in runs:
            if run.attempt == 1:
                firsts[run.job_name].add(run.scheduled_for)
        for name in set(firsts) | set(operator.periods):
            expected: set[datetime] = set()
            for period in operator.periods.get(name, []):
                until = period.until if period.closed else open_until.get(name)
                for slot in _chain(period.spec, period.first, until, horizon):
                    expected.add(slot)
                    self.owners[name, slot] = period.spec
            for slot in sorted(expected - firsts[name]):
                self.violation(f"job {name} slot {slot.isoformat()} passed without a run", job=name)
            for slot in sorted(firsts[name] - expected):
                self.violation(
                    f"job {name} fired slot {slot.isoformat()} outside its active periods",
                    job=name,
                )

    def _executions(self, runs: list[Run]) -> None:
        by_id = {run.id: run for run in runs}
        by_slot = {(r.job_name, r.scheduled_for, r.attempt): r for r in runs}
        seen: Counter[int] = Counter()
        per_slot: dict[tuple[str, datetime, int], set[int]] = defaultdict(set)
        for ex in self.sim.ledger.executions:
            seen[ex.run_id] += 1
            per_slot[ex.job, ex.slot, ex.attempt].add(ex.run_id)
            if seen[ex.run_id] == 2:
                self.violation(f"run {ex.run_id} of job {ex.job} executed twice", job=ex.job)
            run = by_id.get(ex.run_id)
            if run is not None and run.status in _NOT_STARTED:
                self.violation(f"run {_name(run)} executed but never recorded started", job=ex.job)
            if ex.attempt > 1:
                before = by_slot.get((ex.job, ex.slot, ex.attempt - 1))
                if before is None or before.status not in RETRYABLE:
                    what = "missing" if before is None else before.status.value
                    self.violation(
                        f"job {ex.job} slot {ex.slot.isoformat()} attempt {ex.attempt} "
                        f"executed after attempt {ex.attempt - 1} ({what})",
                        job=ex.job,
                    )
        for (name, slot, attempt), ids in per_slot.items():
            if len(ids) > 1:
                self.violation(
                    f"job {name} slot {slot.isoformat()} attempt {attempt} executed as runs "
                    f"{sorted(ids)}",
                    job=name,
                )

    def _policy(
        self, run: Run, settled: datetime, by_slot: dict[tuple[str, datetime, int], Run]
    ) -> None:
        spec = self.owners.get((run.job_name, run.scheduled_for))
        if spec is None:
            return
        policy = spec.policy
        if (
            run.status in RETRYABLE
            and run.attempt <= policy.retries
            and run.finished_at is not None
            and run.finished_at < settled
            and (run.job_name, run.scheduled_for, run.attempt + 1) not in by_slot
        ):
            self.violation(
                f"run {_name(run)} ended {run.status.value} with retries left, and no retry",
                job=run.job_name,
            )
        if run.attempt != 1:
            return
        if policy.catchup is CatchupPolicy.SKIP and run.trigger is Trigger.CATCHUP:
            if run.status is not RunStatus.MISSED:
                self.violation(f"run {_name(run)} caught up under catchup skip", job=run.job_name)
        if (
            policy.catchup is CatchupPolicy.ALL
            and policy.catchup_window is None
            and run.status is RunStatus.MISSED
        ):
            self.violation(f"run {_name(run)} missed under catchup all", job=run.job_name)


def _chain(
    spec: JobSpec, first: datetime, until: datetime | None, horizon: datetime
) -> list[datetime]:
    """The slots of ``spec`` from ``first`` up to ``until`` (excluded), or to ``horizon``."""
    slots: list[datetime] = []
    slot: datetime | None = first
    while slot is not None and (until is None or slot < until) and slot <= horizon:
        slots.append(slot)
        slot = spec.next_after(slot)
    return slots


def _name(run: Run) -> str:
    return f"{run.id} ({run.job_name} {run.scheduled_for.isoformat()} #{run.attempt})"
