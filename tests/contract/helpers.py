"""Builders, planners and checks shared by the store contract tests.

Time is fixed: everything happens around :data:`NOW`, a top of the hour, so
an hourly job saved at ``NOW`` is next due at ``NOW + HOUR`` and one saved an
hour earlier is due exactly at ``NOW``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import NewRun, Outcome, Run, RunStatus, Trigger
from scheduler.stores.base import SlotPlan, Store, StoredJob

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def hourly(name: str = "report", **options: Any) -> JobSpec:
    """A job due at the top of every hour."""
    options.setdefault("source", JobSource.CODE)
    return JobSpec.build(name=name, task="app.tasks.report", cron="0 * * * *", **options)


def once(name: str, at: datetime, **options: Any) -> JobSpec:
    """A one-off job due at ``at``."""
    options.setdefault("source", JobSource.CODE)
    return JobSpec.build(name=name, task="app.tasks.once", at=at, **options)


def due_now(store: Store, *names: str, **options: Any) -> list[StoredJob]:
    """Hourly jobs saved an hour ago, so each is due exactly at ``NOW``."""
    return [store.save_job(hourly(name, **options), now=NOW - HOUR) for name in names]


def stored(
    spec: JobSpec,
    *,
    next_run_at: datetime | None,
    version: int = 1,
    created_at: datetime = NOW,
    updated_at: datetime | None = None,
    paused_at: datetime | None = None,
    removed_at: datetime | None = None,
) -> StoredJob:
    """The :class:`StoredJob` a store should hold for ``spec``."""
    return StoredJob(
        spec=spec,
        next_run_at=next_run_at,
        version=version,
        definition_hash=spec.definition_hash(),
        created_at=created_at,
        updated_at=created_at if updated_at is None else updated_at,
        paused_at=paused_at,
        removed_at=removed_at,
    )


def row(run_id: int, job_name: str, slot: datetime, **fields: Any) -> Run:
    """The :class:`Run` a store should hold: a pending first attempt unless told."""
    fields.setdefault("due_at", slot)
    fields.setdefault("attempt", 1)
    fields.setdefault("trigger", Trigger.SCHEDULE)
    fields.setdefault("status", RunStatus.PENDING)
    return Run(id=run_id, job_name=job_name, scheduled_for=slot, **fields)


def claimed_row(
    run_id: int,
    job_name: str,
    slot: datetime,
    *,
    at: datetime = NOW,
    replica_id: str = "r1",
    executor: str = "default",
    **fields: Any,
) -> Run:
    """The :class:`Run` a claim leaves: queued to its job's ``executor``,
    claimed by ``replica_id`` at ``at``."""
    fields.setdefault("status", RunStatus.QUEUED)
    return row(
        run_id, job_name, slot, claimed_at=at, replica_id=replica_id, executor=executor, **fields
    )


def new_run(slot: datetime, **fields: Any) -> NewRun:
    fields.setdefault("due_at", slot)
    return NewRun(scheduled_for=slot, **fields)


def add_runs(store: Store, job_name: str, *slots: datetime, **fields: Any) -> list[Run]:
    """One unclaimed pending run per slot, via :meth:`Store.add_run`."""
    return [store.add_run(job_name, new_run(slot, **fields)) for slot in slots]


def finish(
    store: Store, run_id: int, at: datetime, status: RunStatus = RunStatus.SUCCEEDED
) -> None:
    store.mark_finished(run_id, Outcome(status=status, finished_at=at))


def move_to(store: Store, run_id: int, status: RunStatus, *, at: datetime) -> None:
    """Take a pending or just claimed (queued) run to ``status`` the way an engine would."""
    if status is RunStatus.PENDING:
        return
    if status is RunStatus.CANCELLED:
        assert store.cancel_run(run_id, now=at)
        return
    store.mark_queued(run_id, executor="default", external_id="", now=at)
    if status is not RunStatus.QUEUED:
        assert store.mark_running(run_id, worker="host:1", now=at)
    if status not in (RunStatus.QUEUED, RunStatus.RUNNING):
        finish(store, run_id, at, status)


class PlannerError(Exception):
    """Raised by a test planner on purpose."""


class RecordingPlanner:
    """Plans one run at the job's ``next_run_at`` and advances to the slot after it.

    Every call is recorded as ``(job name, has_active_run, now)``.  ``statuses``
    gives the new run's status per job (pending otherwise), ``delay`` pushes
    ``due_at`` after the slot (jitter), ``fail_for`` raises for that job and
    ``duplicate_for`` asks for that job's run twice.  The slots a claim
    skipped because they had runs are recorded in ``taken``.
    """

    def __init__(
        self,
        *,
        statuses: Mapping[str, RunStatus] | None = None,
        delay: timedelta = timedelta(0),
        fail_for: str | None = None,
        duplicate_for: str | None = None,
    ) -> None:
        self.calls: list[tuple[str, bool, datetime]] = []
        self.statuses = dict(statuses or {})
        self.delay = delay
        self.fail_for = fail_for
        self.duplicate_for = duplicate_for
        self.taken: list[tuple[str, datetime, int]] = []

    def __call__(self, job: StoredJob, has_active_run: bool, now: datetime) -> SlotPlan:
        name = job.spec.name
        self.calls.append((name, has_active_run, now))
        if name == self.fail_for:
            raise PlannerError(f"planner refuses {name}")
        slot = job.next_run_at
        assert slot is not None
        status = self.statuses.get(name, RunStatus.PENDING)
        run = NewRun(scheduled_for=slot, due_at=slot + self.delay, status=status)
        runs = (run, run) if name == self.duplicate_for else (run,)
        return SlotPlan(runs=runs, next_run_at=job.spec.next_after(slot))

    def slots_taken(self, slots: Sequence[tuple[str, datetime, int]]) -> None:
        self.taken += slots

    @property
    def planned(self) -> list[str]:
        return [name for name, _, _ in self.calls]


def instants(value: object) -> Iterator[datetime]:
    """Every datetime inside ``value``, looking through dataclasses and containers."""
    if isinstance(value, datetime):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from instants(getattr(value, field.name))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from instants(item)


def assert_all_utc(value: object) -> None:
    found = list(instants(value))
    assert found, "nothing to check"
    for instant in found:
        assert instant.utcoffset() == timedelta(0), instant
