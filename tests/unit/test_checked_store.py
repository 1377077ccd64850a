"""The checking layer on its own: what a store built on CheckedStore gets without writing it.

A spy store records each transaction it is asked to open and each call of
its work; the contract suite (``tests/contract/test_store_arguments.py``)
holds every real store to the same rules.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from scheduler.errors import DuplicateRun
from scheduler.model.jobs import JobSpec
from scheduler.model.runs import NewRun, Outcome, RunStatus
from scheduler.stores.base import SlotPlan, StoredJob
from scheduler.stores.checked import CheckedStore
from scheduler.stores.checked.arguments import checked_planner
from scheduler.stores.checked.verbs import Claim
from scheduler.stores.rules import new_definition

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)
ZONE = timezone(timedelta(hours=-3))
SLOT_COLUMNS = "scheduler_run.job_id, scheduler_run.scheduled_for, scheduler_run.attempt"


class Work:
    """Every part of a store's work at once: records each call, answers ``result``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.result: Any = None
        self.error: BaseException | None = None

    def __getattr__(self, verb: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((verb, args[1:], kwargs))  # args[0] is the db
            if self.error is not None:
                raise self.error
            return self.result

        return call


class Spy(CheckedStore[str]):
    def __init__(self) -> None:
        self.work = Work()
        self._jobs = self._claims = self._runs = self._replicas = self._history = self.work
        self.opened: list[str] = []

    @contextmanager
    def _write(self) -> Iterator[str]:
        self.opened.append("write")
        yield "db"

    @contextmanager
    def _read(self) -> Iterator[str]:
        self.opened.append("read")
        yield "db"


def never(job: StoredJob, has_active_run: bool, now: datetime) -> SlotPlan:
    raise AssertionError("planned")


def test_nothing_to_do_opens_nothing() -> None:
    spy = Spy()
    assert spy.claim_due(now=NOW, replica_id="r1", limit=0, plan=never) == []
    assert spy.claim_pending(now=NOW, replica_id="r1", limit=-1) == []
    assert spy.list_runs(limit=0) == []
    assert spy.prune(now=NOW, keep_last=None, max_age=None) == 0
    spy.beat_runs([], now=NOW)
    spy.set_external_ids({})
    assert (spy.opened, spy.work.calls) == ([], [])


def test_a_naive_now_is_refused_before_anything_opens() -> None:
    spy = Spy()
    with pytest.raises(ValueError, match=r"^now must be timezone-aware"):
        spy.heartbeat("r1", hostname="h", pid=1, now=NOW.replace(tzinfo=None))
    assert spy.opened == []


def test_the_work_gets_instants_in_utc_and_rules_normalised() -> None:
    spy = Spy()
    spy.work.result = 0
    elsewhere = NOW.astimezone(ZONE)
    spy.prune(now=elsewhere, keep_last=-5, max_age=None)
    spy.prune_replicas(now=elsewhere, older_than=HOUR)
    spy.list_runs(status="failed", limit=3)  # type: ignore[arg-type]
    assert spy.work.calls == [
        ("prune", (NOW, 0, None), {}),
        ("prune_replicas", (), {"cutoff": NOW - HOUR}),
        ("list_runs", (None, RunStatus.FAILED, 3), {}),
    ]
    assert spy.work.calls[0][1][0].tzinfo is UTC
    assert spy.opened == ["write", "write", "read"]


def test_the_run_transitions_are_the_same_in_every_store() -> None:
    spy = Spy()
    spy.work.result = True
    spy.mark_queued(7, executor="celery", external_id="t-1", now=NOW)
    spy.mark_running(7, worker="h:1", now=NOW)
    spy.cancel_run(7, now=NOW)
    pending, not_started = {RunStatus.PENDING}, {RunStatus.PENDING, RunStatus.QUEUED}
    assert spy.work.calls == [
        (
            "transition",
            (7, pending, RunStatus.QUEUED, {"executor": "celery", "external_id": "t-1"}),
            {},
        ),
        (
            "transition",
            (7, not_started, RunStatus.RUNNING, {"started_at": NOW, "worker": "h:1"}),
            {},
        ),
        ("transition", (7, not_started, RunStatus.CANCELLED, {"finished_at": NOW}), {}),
    ]


def test_an_outcome_reaches_the_work_in_utc() -> None:
    spy = Spy()
    spy.mark_finished(7, Outcome(status=RunStatus.FAILED, finished_at=NOW.astimezone(ZONE)))
    [(_, (run_id, outcome), _)] = spy.work.calls
    assert (run_id, outcome.finished_at, outcome.finished_at.tzinfo) == (7, NOW, UTC)


def slot_violation() -> Exception:
    """What a database library raises for the slot constraint: its own error,
    caused by the driver's."""
    try:
        raise sqlite3.IntegrityError(f"UNIQUE constraint failed: {SLOT_COLUMNS}")
    except sqlite3.IntegrityError as driver:
        error = RuntimeError("IntegrityError")
        error.__cause__ = driver
        return error


def test_a_slot_conflict_from_the_database_is_a_duplicate_run_naming_the_slot() -> None:
    spy = Spy()
    spy.work.error = slot_violation()
    with pytest.raises(
        DuplicateRun, match=r"^job 'a', slot 2026-03-01T12:00:00\+00:00, attempt 2: "
    ):
        spy.add_run("a", NewRun(scheduled_for=NOW, due_at=NOW, attempt=2))
    with pytest.raises(DuplicateRun, match=r"^claim_due: a run for the same job, slot and attempt"):
        spy.claim_due(now=NOW, replica_id="r1", limit=5, plan=never)


def test_other_database_errors_pass_through() -> None:
    spy = Spy()
    spy.work.error = error = RuntimeError("disk full")
    with pytest.raises(RuntimeError) as raised:
        spy.add_run("a", NewRun(scheduled_for=NOW, due_at=NOW))
    assert raised.value is error


def test_a_claim_comes_back_oldest_slot_first_then_by_job_name() -> None:
    spy = Spy()
    later, b, a = object(), object(), object()
    spy.work.result = Claim(
        claimed=[claimed(later, "a", NOW + HOUR), claimed(b, "b", NOW), claimed(a, "a", NOW)],
        due_jobs=3,
    )
    assert [c.tag for c in spy.claim_due(now=NOW, replica_id="r1", limit=5, plan=never)] == [
        a,
        b,
        later,
    ]


def test_a_planner_that_needs_no_conversion_gives_its_own_plan_back() -> None:
    """A claim of 10,000 jobs must not rebuild 10,000 plans it only checked."""
    job = new_definition(
        JobSpec.build(name="a", task="app.tasks.a", cron="0 * * * *"),
        NOW - HOUR,
        version=1,
        created_at=NOW - HOUR,
    )
    plan = SlotPlan(runs=(NewRun(scheduled_for=NOW, due_at=NOW),), next_run_at=NOW + HOUR)
    assert checked_planner(lambda job, busy, now: plan)(job, False, NOW) is plan


# -- helpers ------------------------------------------------------------------------------
class _Run:
    def __init__(self, tag: object, job_name: str, slot: datetime) -> None:
        self.tag, self.job_name, self.scheduled_for, self.id = tag, job_name, slot, 0


class _Claimed:
    def __init__(self, tag: object, job_name: str, slot: datetime) -> None:
        self.tag = tag
        self.run = _Run(tag, job_name, slot)


def claimed(tag: object, job_name: str, slot: datetime) -> Any:
    return _Claimed(tag, job_name, slot)
