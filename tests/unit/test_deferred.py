"""Deferred calls on the in-memory store, run by the real engine on a fake clock."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import scheduler
from scheduler.engine import Engine
from scheduler.errors import (
    InvalidJob,
    InvalidSchedule,
    JobNotFound,
    StoreNotConfigured,
    TaskNotRegistered,
)
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import RunContext, RunStatus, Trigger
from scheduler.schedules import Once
from scheduler.stores.base import StoredJob
from scheduler.tasks.defer import DeferredCall, Deferrer, set_default_deferrer
from scheduler.tasks.registry import TaskRegistry, job
from scheduler.testing import FakeClock, MemoryStore, RecordingExecutor

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
HOUR = timedelta(hours=1)
SEND = "tests.unit.test_deferred.send_reminder"

CALLS: list[tuple[Any, ...]] = []
tasks = TaskRegistry()


@job(registry=tasks)
def send_reminder(user_id: int, *, channel: str = "mail") -> str:
    CALLS.append(("send_reminder", user_id, channel))
    return f"sent to {user_id} by {channel}"


@job(registry=tasks, takes_context=True)
def report(*, context: RunContext) -> str:
    CALLS.append(("report", context.scheduled_for, context.trigger))
    return context.job_name


@job(registry=tasks)
def fails() -> None:
    CALLS.append(("fails",))
    raise RuntimeError("no luck")


@dataclass
class World:
    clock: FakeClock = field(default_factory=lambda: FakeClock(T0))
    store: MemoryStore = field(default_factory=MemoryStore)
    commits: list[Callable[[], None]] = field(default_factory=list)

    def deferrer(self, *, on_commit: bool = False) -> Deferrer:
        hook = self.commits.append if on_commit else None
        return Deferrer(self.store, registry=tasks, clock=self.clock, after_commit=hook)

    def defer(self, task: Any = SEND, **options: Any) -> DeferredCall:
        options.setdefault("args", [7])
        return self.deferrer().defer(task, **options)

    def engine(self, executor: RecordingExecutor | None = None) -> Engine:
        executor = executor or RecordingExecutor(clock=self.clock, auto_run=True)
        return Engine(self.store, {"default": executor}, registry=tasks, clock=self.clock)

    def run_until(self, instant: datetime, executor: RecordingExecutor | None = None) -> None:
        self.engine(executor).loop(until=instant)


@pytest.fixture
def world() -> Iterator[World]:
    CALLS.clear()
    yield World()


# -- deferring ----------------------------------------------------------------------------
def test_defer_writes_one_one_off_job_of_source_code(world: World) -> None:
    call = world.defer(delay=2 * HOUR, args=[7], kwargs={"channel": "sms"})
    assert re.fullmatch(re.escape(SEND) + r":[0-9a-f]{16}", call.name)
    assert (call.task, call.run_at, call.args, call.kwargs) == (
        SEND,
        T0 + 2 * HOUR,
        (7,),
        {"channel": "sms"},
    )
    assert call.written
    [stored] = world.store.list_jobs()
    assert stored.spec == JobSpec(
        name=call.name,
        task=SEND,
        schedule=Once(T0 + 2 * HOUR),
        args=(7,),
        kwargs={"channel": "sms"},
        source=JobSource.CODE,
    )
    assert (stored.next_run_at, stored.created_at, stored.state) == (T0 + 2 * HOUR, T0, "active")


def test_run_at_in_any_zone_is_kept_as_the_same_instant_in_utc(world: World) -> None:
    berlin = datetime(2026, 3, 2, 12, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    call = world.defer(run_at=berlin)
    assert call.run_at == berlin and call.run_at.tzinfo is UTC
    assert world.store.get_job(call.name).next_run_at == datetime(2026, 3, 2, 11, 30, tzinfo=UTC)


def test_names_are_unique_and_fit_the_name_column(world: World) -> None:
    names = {world.defer(delay=HOUR).name for _ in range(200)}
    assert len(names) == 200
    registry = TaskRegistry()
    long_name = "pkg." + ".".join(["très_long_module"] * 20) + ".task"
    registry.register(lambda: None, name=long_name)
    deferrer = Deferrer(world.store, registry=registry, clock=world.clock)
    call = deferrer.defer(long_name, delay=HOUR)
    assert len(call.name) == 200
    assert re.fullmatch(r"[A-Za-z0-9_.:-]+:[0-9a-f]{16}", call.name)
    assert call.name.endswith(".task:" + call.name[-16:])


def test_the_deferrer_gives_its_jobs_its_zone(world: World) -> None:
    deferrer = Deferrer(world.store, registry=tasks, clock=world.clock, timezone="Europe/Berlin")
    call = deferrer.defer(SEND, delay=HOUR, args=[7])
    spec = world.store.get_job(call.name).spec
    assert (spec.timezone, spec.schedule) == ("Europe/Berlin", Once(T0 + HOUR))
    with pytest.raises(InvalidSchedule, match="unknown time zone 'Mars/Olympus'"):
        Deferrer(world.store, timezone="Mars/Olympus")


def test_options_reach_the_job(world: World) -> None:
    call = world.defer(
        delay=HOUR, retries=2, timeout=timedelta(minutes=5), executor="mail", description="hi"
    )
    spec = world.store.get_job(call.name).spec
    assert (spec.policy.retries, spec.policy.timeout, spec.executor, spec.description) == (
        2,
        timedelta(minutes=5),
        "mail",
        "hi",
    )


# -- running -------------------------------------------------------------------------------
def test_the_engine_runs_it_once_at_its_time_and_not_before(world: World) -> None:
    call = world.defer(delay=HOUR, args=[7])
    world.run_until(T0 + HOUR - SECOND)
    assert CALLS == []
    assert world.store.list_runs() == []
    world.run_until(T0 + 3 * HOUR)
    assert CALLS == [("send_reminder", 7, "mail")]
    [ran] = world.store.list_runs()
    assert (ran.job_name, ran.scheduled_for, ran.trigger, ran.status, ran.result) == (
        call.name,
        T0 + HOUR,
        Trigger.SCHEDULE,
        RunStatus.SUCCEEDED,
        "sent to 7 by mail",
    )
    assert world.store.get_job(call.name).next_run_at is None


def test_a_call_whose_time_passed_while_no_scheduler_ran_runs_once_when_it_is_back(
    world: World,
) -> None:
    call = world.defer(delay=HOUR)
    world.clock.set(T0 + 5 * HOUR)  # the scheduler was down
    world.run_until(T0 + 6 * HOUR)
    [ran] = world.store.list_runs()
    assert (ran.job_name, ran.scheduled_for, ran.trigger, ran.status) == (
        call.name,
        T0 + HOUR,
        Trigger.CATCHUP,
        RunStatus.SUCCEEDED,
    )
    assert len(CALLS) == 1


@pytest.mark.parametrize("when", [{"delay": 0}, {"run_at": T0 - HOUR}, {"run_at": T0}])
def test_a_call_due_already_runs_as_soon_as_it_is_written(
    world: World, when: dict[str, Any]
) -> None:
    call = world.defer(**when)
    assert world.store.get_job(call.name).next_run_at == T0 + timedelta(microseconds=1)
    world.clock.advance(SECOND)
    world.engine().tick()
    [ran] = world.store.list_runs()
    assert (ran.trigger, ran.status) == (Trigger.SCHEDULE, RunStatus.SUCCEEDED)


def test_a_task_that_takes_its_context_knows_its_slot(world: World) -> None:
    call = world.defer("tests.unit.test_deferred.report", run_at=T0 + HOUR, args=[])
    world.run_until(T0 + 2 * HOUR)
    assert CALLS == [("report", T0 + HOUR, Trigger.SCHEDULE)]
    assert world.store.list_runs()[0].result == call.name


def test_retries_are_attempts_of_the_one_slot(world: World) -> None:
    call = world.defer("tests.unit.test_deferred.fails", delay=HOUR, args=[], retries=1)
    world.run_until(T0 + 2 * HOUR)
    runs = world.store.list_runs(job_name=call.name)
    assert [(r.attempt, r.trigger, r.status) for r in reversed(runs)] == [
        (1, Trigger.SCHEDULE, RunStatus.FAILED),
        (2, Trigger.RETRY, RunStatus.FAILED),
    ]
    assert len(CALLS) == 2


# -- bad input: a clear error, and nothing written --------------------------------------
BAD: list[tuple[dict[str, Any], str]] = [
    ({}, "give exactly one of run_at=... and delay=..., got neither"),
    (
        {"run_at": T0 + HOUR, "delay": HOUR},
        "give exactly one of run_at=... and delay=..., got both",
    ),
    (
        {"run_at": datetime(2026, 3, 2, 10)},
        "run_at must be timezone-aware, got naive 2026-03-02T10:00:00",
    ),
    ({"run_at": date(2026, 3, 3)}, "run_at must be a datetime, got a date"),
    ({"run_at": "2026-03-03T10:00Z"}, "run_at must be a datetime, got str"),
    ({"run_at": T0 - 2 * timedelta(days=1)}, "is more than 1 day in the past"),
    ({"run_at": T0 + timedelta(days=3700)}, "more than about ten years ahead"),
    ({"delay": -SECOND}, "delay must not be negative"),
    ({"delay": -5}, "a duration cannot be negative"),
    ({"delay": "soon"}, "delay: expected a duration such as '90s'"),
    ({"delay": True}, "delay must be a timedelta, seconds or '2h', got True"),
    ({"delay": timedelta(days=4000)}, "more than about ten years"),
    (
        {"delay": HOUR, "args": [datetime(2026, 1, 1, tzinfo=UTC)]},
        "args: expected JSON values only",
    ),
    ({"delay": HOUR, "args": "7"}, "args: expected a list of JSON values"),
    ({"delay": HOUR, "args": [7], "kwargs": {1: "x"}}, "kwargs: expected a mapping of JSON values"),
    ({"delay": HOUR, "args": []}, "missing a required argument: 'user_id'"),
    ({"delay": HOUR, "kwargs": {"chanel": "sms"}}, "got an unexpected keyword argument 'chanel'"),
    ({"delay": HOUR, "retires": 2}, "unknown option 'retires'"),
    ({"delay": HOUR, "retries": -1}, "retries: expected an integer from 0 to 100, got -1"),
]


@pytest.mark.parametrize(("options", "message"), BAD)
def test_bad_input_is_refused_with_the_reason_and_changes_nothing(
    world: World, options: dict[str, Any], message: str
) -> None:
    options.setdefault("args", [7])
    with pytest.raises(InvalidJob, match=re.escape(message)) as raised:
        world.deferrer().defer(SEND, **options)
    assert str(raised.value).startswith(f"cannot defer {SEND!r}: ")
    assert str(raised.value).endswith("; nothing was deferred")
    assert world.store.list_jobs() == []


def test_an_unregistered_task_is_refused(world: World) -> None:
    with pytest.raises(TaskNotRegistered, match=r"task 'os\.system' is not registered"):
        world.defer("os.system", delay=HOUR)

    def plain() -> None: ...

    with pytest.raises(InvalidJob, match="it is not a registered task; decorate it with @job"):
        world.defer(plain, delay=HOUR)
    assert world.store.list_jobs() == []


def test_context_is_reserved_for_a_task_that_takes_it(world: World) -> None:
    with pytest.raises(InvalidJob, match="kwargs: 'context' is reserved"):
        world.defer("tests.unit.test_deferred.report", delay=HOUR, args=[], kwargs={"context": 1})
    assert world.store.list_jobs() == []


# -- cancelling ---------------------------------------------------------------------------
def test_cancel_before_its_time_stops_it_for_good(world: World) -> None:
    call = world.defer(delay=HOUR)
    world.clock.advance(10 * SECOND)
    cancelled = call.cancel()
    assert cancelled and cancelled.cancelled
    assert str(cancelled) == (
        f"deferred call {call.name} cancelled; it was due at 2026-03-02T10:00:00+00:00 "
        "and never ran"
    )
    stored = world.store.get_job(call.name)
    assert (stored.state, stored.next_run_at) == ("disabled", None)
    world.run_until(T0 + 2 * HOUR)
    assert CALLS == [] and world.store.list_runs() == []
    again = call.cancel()
    assert not again
    assert str(again) == f"deferred call {call.name} was already cancelled"


def test_cancel_after_it_ran_says_so_and_changes_nothing(world: World) -> None:
    call = world.defer(delay=HOUR)
    world.run_until(T0 + 2 * HOUR)
    before = world.store.get_job(call.name)
    result = scheduler.cancel_deferred(call.name, store=world.store)
    assert not result
    assert result.run is not None and result.run.status is RunStatus.SUCCEEDED
    assert str(result) == (
        f"deferred call {call.name} already ran: run {result.run.id}, attempt 1, "
        "succeeded at 2026-03-02T10:00:00+00:00"
    )
    assert world.store.get_job(call.name) == before


def test_cancel_withdraws_a_run_that_was_claimed_but_not_started(world: World) -> None:
    call = world.defer(delay=HOUR)
    executor = RecordingExecutor(clock=world.clock)  # holds runs until told
    world.run_until(T0 + HOUR, executor)
    [handed] = executor.run_ids
    result = call.cancel()
    assert result and str(result) == f"deferred call {call.name} cancelled before it started"
    assert result.run is not None and result.run.status is RunStatus.CANCELLED
    assert executor.start(handed) is False  # the worker must not run it
    assert CALLS == []
    assert world.store.get_job(call.name).state == "disabled"


class ClaimFirst(MemoryStore):
    """A store on which a scheduler claims due jobs just before any job is saved:
    the race between a cancellation and a claim, staged exactly."""

    engine: Engine | None = None

    def save_job(self, spec: JobSpec, *, now: datetime) -> StoredJob:
        if self.engine is not None:
            self.engine.tick()
        return super().save_job(spec, now=now)


def test_cancel_that_loses_the_race_to_a_claim_still_withdraws_the_run(world: World) -> None:
    world.store = ClaimFirst()
    call = world.defer(delay=HOUR)
    executor = RecordingExecutor(clock=world.clock)  # the claimed run waits to start
    world.store.engine = world.engine(executor)
    world.clock.set(T0 + HOUR)
    result = call.cancel()  # no run when it looked; one by the time it disabled the job
    assert result and str(result) == f"deferred call {call.name} cancelled before it started"
    [handed] = executor.run_ids
    assert world.store.get_run(handed).status is RunStatus.CANCELLED
    assert executor.start(handed) is False and CALLS == []


def test_cancel_cannot_stop_a_running_call(world: World) -> None:
    call = world.defer(delay=HOUR)
    executor = RecordingExecutor(clock=world.clock)
    world.run_until(T0 + HOUR, executor)
    [handed] = executor.run_ids
    assert executor.start(handed)
    before = world.store.get_job(call.name)
    result = call.cancel()
    assert not result
    assert "is running (run" in str(result) and "it cannot be cancelled now" in str(result)
    assert world.store.get_job(call.name) == before


def test_cancel_refuses_a_job_that_is_not_a_deferred_call(world: World) -> None:
    spec = JobSpec.build(name="hourly", task=SEND, cron="0 * * * *", args=[1])
    world.store.save_job(spec, now=T0)
    with pytest.raises(InvalidJob, match="job 'hourly' is not a deferred call"):
        world.deferrer().cancel("hourly")
    assert world.store.get_job("hourly").active
    with pytest.raises(JobNotFound, match="no deferred call is called 'nope'"):
        scheduler.cancel_deferred("nope", store=world.store)


# -- waiting for a commit -------------------------------------------------------------------
def test_on_commit_nothing_is_written_until_the_transaction_commits(world: World) -> None:
    call = world.deferrer(on_commit=True).defer(SEND, delay=HOUR, args=[7])
    assert not call.written and world.store.list_jobs() == []
    [commit] = world.commits
    commit()
    assert call.written
    assert [job.spec.name for job in world.store.list_jobs()] == [call.name]


def test_a_call_cancelled_before_its_commit_is_never_written(world: World) -> None:
    call = world.deferrer(on_commit=True).defer(SEND, delay=HOUR, args=[7])
    result = call.cancel()
    assert result
    assert str(result) == (
        f"deferred call {call.name} withdrawn before it was written "
        "(its transaction had not committed)"
    )
    world.commits[0]()
    assert not call.written and world.store.list_jobs() == []
    again = call.cancel()
    assert not again and str(again) == f"deferred call {call.name} was already withdrawn"


def test_a_rolled_back_transaction_defers_nothing(world: World) -> None:
    world.deferrer(on_commit=True).defer(SEND, delay=HOUR, args=[7])
    world.commits.clear()  # a rollback: the hook never calls back
    assert world.store.list_jobs() == []


# -- the module-level API and its default store ------------------------------------------
@pytest.fixture
def no_default() -> Iterator[None]:
    """No default deferrer, whatever the test session installed (the Django app does)."""
    previous = set_default_deferrer(None)
    try:
        yield
    finally:
        set_default_deferrer(previous)


@job
def module_level_task(n: int) -> int:
    return n * 2


def test_without_a_store_defer_says_how_to_give_one(no_default: None) -> None:
    with pytest.raises(StoreNotConfigured, match=r"no store to defer into: pass store=\.\.\."):
        scheduler.defer(module_level_task, delay=HOUR, args=[1])
    with pytest.raises(StoreNotConfigured, match=r"scheduler\.set_default_store"):
        module_level_task.defer(delay=HOUR, args=[1])


def test_the_job_functions_defer_and_the_module_function_write_into_the_given_store() -> None:
    store = MemoryStore()
    by_method = module_level_task.defer(delay=HOUR, args=[1], store=store)
    by_name = scheduler.defer(
        "tests.unit.test_deferred.module_level_task", delay=HOUR, args=[2], store=store
    )
    assert module_level_task(3) == 6  # still the function it was
    stored = {job.spec.name: job.spec.args for job in store.list_jobs()}
    assert stored == {by_method.name: (1,), by_name.name: (2,)}


def test_a_default_store_is_used_when_none_is_given(no_default: None) -> None:
    store = MemoryStore()
    scheduler.set_default_store(store)
    call = module_level_task.defer(delay=HOUR, args=[1])
    assert [job.spec.name for job in store.list_jobs()] == [call.name]
    assert scheduler.cancel_deferred(call.name)
    scheduler.set_default_store(None)
    with pytest.raises(StoreNotConfigured):
        scheduler.cancel_deferred(call.name)


def test_django_options_are_refused_for_a_plain_store() -> None:
    store = MemoryStore()
    with pytest.raises(InvalidJob, match="on_commit=True waits for a Django transaction"):
        module_level_task.defer(delay=HOUR, args=[1], store=store, on_commit=True)
    with pytest.raises(InvalidJob, match="using='other' names a Django database"):
        module_level_task.defer(delay=HOUR, args=[1], store=store, using="other")
    assert store.list_jobs() == []
    module_level_task.defer(delay=HOUR, args=[1], store=store, on_commit=False)
    assert len(store.list_jobs()) == 1
