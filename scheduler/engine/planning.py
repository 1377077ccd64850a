"""Deciding what a due job's slots become: the planner the stores call.

Pure functions of (job, whether it has an active run, now).  The store calls
the planner inside its claim transaction; nothing here touches storage.

For a due job the planner enumerates every slot from its ``next_run_at`` up
to ``now`` and decides, per slot:

* on time: the newest due slot, if it is no later than ``grace`` after the
  slot: fire, trigger ``schedule``;
* late: every older slot (its successor is due too, so it is behind by more
  than a period, whatever the grace), and the newest if beyond the grace: the
  job's catch-up policy decides (``once``, ``all``, ``skip``, within
  ``catchup_window``); the late slots it fires have trigger ``catchup``, and
  those that do not fire are recorded as ``missed``;
* if the job still has an active run, the overlap policy applies to the runs
  that would fire: ``skip`` records them as ``skipped``, ``queue`` keeps the
  latest as a waiting run, ``allow`` fires them all.

Then ``next_run_at`` advances from the last slot, never from ``now``, so a
slow wake-up does not shift the schedule.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..model.jobs import JobSpec
from ..model.policies import CatchupPolicy, OverlapPolicy, jitter_offset, plan_catchup
from ..model.runs import NewRun, RunStatus, Trigger
from ..model.words import plural
from ..schedules.kinds import Cron
from ..stores.base import SlotPlan, StoredJob, TakenSlot

__all__ = ["DEFAULT_GRACE", "SlotPlanner"]

logger = logging.getLogger(__name__)

#: How late a slot may be handed over and still count as on time.
DEFAULT_GRACE = timedelta(seconds=60)
#: At most this many slots of one job are looked at in one claim; older ones
#: (a per-second job after days of downtime) are summarised in the log.
MAX_SLOTS = 1000


@dataclass(slots=True)
class SlotPlanner:
    """The :data:`~scheduler.stores.base.Planner` the engine hands to its store.

    It memoises ``next_after`` per (schedule, instant) for one claim, so
    10,000 jobs sharing an expression compute each next time once.  It also
    remembers the slots it settled without a run to hand over (missed or
    skipped), so that once the claim has committed the engine can tell the
    hooks about them (:meth:`settled`).
    """

    grace: timedelta = DEFAULT_GRACE
    max_slots: int = MAX_SLOTS
    _next: dict[tuple[object, ...], datetime | None] = field(default_factory=dict)
    _settled: dict[tuple[str, datetime], tuple[JobSpec, NewRun]] = field(default_factory=dict)
    #: How many planned slots the claims since :meth:`reset` skipped, each
    #: because it already had a run (:meth:`slots_taken`).
    taken: int = 0

    def __call__(self, job: StoredJob, has_active_run: bool, now: datetime) -> SlotPlan:
        spec = job.spec
        if job.next_run_at is None or job.next_run_at > now:
            return SlotPlan(runs=(), next_run_at=job.next_run_at)
        slots, following = self._slots(spec, job.next_run_at, now)
        fire, missed = self._decide(spec, slots, now)
        runs = [_missed(slot) for slot in missed]
        runs += self._overlap(spec, fire, has_active_run)
        runs.sort(key=lambda run: run.scheduled_for)
        for run in runs:
            if run.status is not RunStatus.PENDING:
                self._settled[spec.name, run.scheduled_for] = (spec, run)
        return SlotPlan(runs=tuple(runs), next_run_at=following)

    def reset(self) -> None:
        """Forget memoised next times, settled and taken slots (call once per claim)."""
        self._next.clear()
        self._settled.clear()
        self.taken = 0

    def slots_taken(self, slots: Sequence[TakenSlot]) -> None:
        """The claim skipped ``slots``, which already had runs: they were not
        settled by this claim (:class:`~scheduler.stores.base.TakenSlotsListener`)."""
        self.taken += len(slots)
        for job_name, slot, attempt in slots:
            if attempt == 1:
                self._settled.pop((job_name, slot), None)

    def settled(self) -> list[tuple[JobSpec, NewRun]]:
        """The missed and skipped runs planned since :meth:`reset`, each once."""
        return list(self._settled.values())

    def _slots(
        self, spec: JobSpec, first: datetime, now: datetime
    ) -> tuple[list[datetime], datetime | None]:
        slots = [first]
        following = self._after(spec, first)
        while following is not None and following <= now:
            if len(slots) == self.max_slots:
                dropped = _count_until(self, spec, following, now)
                logger.warning(
                    "job %s: %s %s missed and not recorded one by one",
                    spec.name,
                    plural(dropped, "more slot"),
                    "was" if dropped == 1 else "were",
                    extra={"job": spec.name, "unrecorded_slots": dropped},
                )
                return slots, self._after(spec, now)
            slots.append(following)
            following = self._after(spec, following)
        return slots, following

    def _after(self, spec: JobSpec, instant: datetime) -> datetime | None:
        schedule = spec.schedule
        # Cron compares by job name too (for H); its parsed expression does not.
        identity = (schedule.expression, schedule.tz) if isinstance(schedule, Cron) else schedule
        key = (identity, instant, spec.start, spec.end, spec.calendar)
        if key not in self._next:
            self._next[key] = spec.next_after(instant)
        return self._next[key]

    def _decide(
        self, spec: JobSpec, slots: list[datetime], now: datetime
    ) -> tuple[list[tuple[datetime, Trigger]], list[datetime]]:
        # Only the newest slot can be on time: an older one was overtaken by its
        # successor, so it is a backlog (a stop, an overload) even inside the grace.
        on_time = slots[-1:] if now - slots[-1] <= self.grace else []
        late = slots[: len(slots) - len(on_time)]
        fire = [(slot, Trigger.SCHEDULE) for slot in on_time]
        if not late:
            return fire, []
        if on_time and spec.policy.catchup is CatchupPolicy.ONCE:
            return fire, late  # the on-time run is the one run for the gap
        plan = plan_catchup(
            late,
            now=now,
            policy=spec.policy.catchup,
            window=spec.policy.catchup_window,
            max_catchup=spec.policy.max_catchup,
        )
        return [(slot, Trigger.CATCHUP) for slot in plan.fire] + fire, list(plan.missed)

    def _overlap(
        self, spec: JobSpec, fire: list[tuple[datetime, Trigger]], has_active_run: bool
    ) -> list[NewRun]:
        if not has_active_run or spec.policy.overlap is OverlapPolicy.ALLOW:
            return [_pending(spec, slot, trigger) for slot, trigger in fire]
        if spec.policy.overlap is OverlapPolicy.QUEUE and fire:
            *skipped, (slot, trigger) = fire
            return [_skipped(s) for s, _ in skipped] + [_pending(spec, slot, trigger)]
        return [_skipped(slot) for slot, _ in fire]


def _count_until(planner: SlotPlanner, spec: JobSpec, start: datetime, now: datetime) -> int:
    count = 0
    cursor: datetime | None = start
    while cursor is not None and cursor <= now:
        count += 1
        if count >= 10 * planner.max_slots:
            break
        cursor = spec.next_after(cursor)
    return count


def _pending(spec: JobSpec, slot: datetime, trigger: Trigger) -> NewRun:
    jitter = spec.policy.jitter
    # Most jobs have none: no digest to compute (a herd plans thousands of runs).
    due = slot + jitter_offset(spec.name, slot, jitter) if jitter else slot
    return NewRun(scheduled_for=slot, due_at=due, trigger=trigger, status=RunStatus.PENDING)


def _missed(slot: datetime) -> NewRun:
    return NewRun(scheduled_for=slot, due_at=slot, trigger=Trigger.CATCHUP, status=RunStatus.MISSED)


def _skipped(slot: datetime) -> NewRun:
    return NewRun(
        scheduled_for=slot, due_at=slot, trigger=Trigger.SCHEDULE, status=RunStatus.SKIPPED
    )
