"""Sentry Crons check-ins, as the real SDK sends them to a local sink.

Engines on a fake clock and the in-memory store; the hooks are the test's own
(never the process's), so nothing else in the process sends check-ins.  Every
assertion reads the envelopes the sink received after ``sentry_sdk.flush()``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sentry_sdk

from scheduler.engine import Engine, EngineConfig
from scheduler.executors.thread import ThreadExecutor
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import RunStatus
from scheduler.monitoring.hooks import RunHooks
from scheduler.monitoring.sentry import SentryCrons
from scheduler.tasks.registry import TaskRegistry
from scheduler.testing import FakeClock, MemoryStore, RecordingExecutor

from .sentry_sink import Sink, client_fixture, sink_fixture  # noqa: F401 (fixtures)

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 02:00 in Berlin


def add(store: MemoryStore, clock: FakeClock, **options: Any) -> JobSpec:
    options.setdefault("task", "tests.work")
    options.setdefault("source", JobSource.CODE)
    spec = JobSpec.build(**options)
    store.save_job(spec, now=clock.now())
    return spec


def registry(**tasks: Any) -> TaskRegistry:
    found = TaskRegistry()
    found.register(lambda: "ok", name="tests.work")
    for name, func in tasks.items():
        found.register(func, name=f"tests.{name}")
    return found


def engine(
    store: MemoryStore, clock: FakeClock, hooks: RunHooks, executor: Any, **tasks: Any
) -> Engine:
    return Engine(
        store,
        {"default": executor},
        registry=registry(**tasks),
        clock=clock,
        replica_id="r1",
        config=EngineConfig(poll_interval=3600.0),
        hooks=hooks,
    )


def sent(sink: Sink) -> list[dict[str, Any]]:
    sentry_sdk.flush(timeout=10)
    return sink.checkins()


@pytest.fixture
def crons(sentry_client: Sink) -> Iterator[tuple[RunHooks, Sink]]:
    hooks = RunHooks()
    SentryCrons().register(hooks)
    yield hooks, sentry_client


def test_an_ok_and_an_error_run_pair_their_check_ins(crons: tuple[RunHooks, Sink]) -> None:
    hooks, sink = crons
    clock, store = FakeClock(T0), MemoryStore()
    add(store, clock, name="reports.daily", cron="30 2 * * *", timezone="Europe/Berlin",
        timeout="90s")  # fmt: skip
    add(store, clock, name="Sync:Every-15", every="15m", jitter="2m")
    executor = RecordingExecutor(clock=clock)
    scheduler = engine(store, clock, hooks, executor)
    scheduler.loop(until=T0 + timedelta(minutes=30))  # 01:15 and 01:30 for sync, 01:30 daily
    runs = {(s.claimed.job.name, s.claimed.run.scheduled_for.minute): s
            for s in executor.submissions}  # fmt: skip
    daily = runs["reports.daily", 30].claimed.run.id
    sync = runs["Sync:Every-15", 15].claimed.run.id
    executor.start(daily)
    executor.start(sync)
    clock.advance(timedelta(seconds=3))
    executor.complete(sync, RunStatus.FAILED, error="ValueError: boom")
    clock.advance(timedelta(seconds=39))
    executor.complete(daily)

    checkins = sent(sink)
    assert [(c["monitor_slug"], c["status"], c["duration"]) for c in checkins] == [
        ("reports-daily", "in_progress", None),
        ("sync-every-15", "in_progress", None),
        ("sync-every-15", "error", 3.0),
        ("reports-daily", "ok", 42.0),
    ]
    assert checkins[0]["check_in_id"] == checkins[3]["check_in_id"]
    assert checkins[1]["check_in_id"] == checkins[2]["check_in_id"]
    assert checkins[0]["check_in_id"] != checkins[1]["check_in_id"]
    assert {c["environment"] for c in checkins} == {"tests"}
    daily_config = {
        "schedule": {"type": "crontab", "value": "30 2 * * *"},
        "timezone": "Europe/Berlin",
        "checkin_margin": 1,
        "max_runtime": 2,  # 90 s, rounded up
    }
    sync_config = {
        "schedule": {"type": "interval", "value": 15, "unit": "minute"},
        "timezone": "UTC",
        "checkin_margin": 3,  # a minute of grace and two of jitter
    }
    assert [c["monitor_config"] for c in checkins] == [
        daily_config, sync_config, sync_config, daily_config
    ]  # fmt: skip


def test_a_timed_out_run_sends_error_once_and_its_late_end_nothing(
    crons: tuple[RunHooks, Sink],
) -> None:
    hooks, sink = crons
    clock, store = FakeClock(T0), MemoryStore()
    entered, release = threading.Event(), threading.Event()

    def stuck() -> str:
        entered.set()
        release.wait(30)
        return "too late"

    add(store, clock, name="stuck", task="tests.stuck", every="1h", timeout="2m")
    executor = ThreadExecutor(max_workers=1, clock=clock)
    scheduler = engine(store, clock, hooks, executor, stuck=stuck)
    clock.advance(timedelta(hours=1))
    scheduler.tick()
    assert entered.wait(30), "the task never started"
    clock.advance(timedelta(minutes=2, seconds=5))
    scheduler.tick()  # the thread executor observes the timeout
    release.set()
    assert executor.shutdown(wait=True, timeout=30) == []
    (run,) = store.list_runs(job_name="stuck")
    assert run.status is RunStatus.TIMED_OUT

    checkins = sent(sink)
    assert [(c["status"], c["duration"]) for c in checkins] == [
        ("in_progress", None),
        ("error", 125.0),
    ]
    assert checkins[0]["check_in_id"] == checkins[1]["check_in_id"]
    assert checkins[1]["monitor_config"] == {
        "schedule": {"type": "interval", "value": 1, "unit": "hour"},
        "timezone": "UTC",
        "checkin_margin": 1,
        "max_runtime": 2,
    }


def test_a_run_lost_in_another_replica_sends_one_error_check_in(
    crons: tuple[RunHooks, Sink],
) -> None:
    hooks, sink = crons
    clock, store = FakeClock(T0), MemoryStore()
    add(store, clock, name="slow", every="1h")
    executor = RecordingExecutor(clock=clock)
    dead = engine(store, clock, RunHooks(), executor)  # its process sends nothing
    dead.loop(until=T0 + timedelta(hours=1))
    (run_id,) = executor.run_ids
    executor.start(run_id)  # then that replica stops heartbeating
    clock.advance(timedelta(minutes=5))
    survivor = Engine(store, {}, clock=clock, replica_id="r2", hooks=hooks)
    survivor.tick()
    survivor.tick()
    assert store.get_run(run_id).status is RunStatus.LOST

    (checkin,) = sent(sink)
    assert (checkin["monitor_slug"], checkin["status"], checkin["duration"]) == (
        "slow",
        "error",
        300.0,
    )
    assert checkin["check_in_id"]


def test_skipped_missed_one_off_and_excluded_runs_send_nothing(
    sentry_client: Sink, caplog: pytest.LogCaptureFixture
) -> None:
    hooks = RunHooks()
    SentryCrons(exclude=["private.*"]).register(hooks)
    clock, store = FakeClock(T0), MemoryStore()
    add(store, clock, name="tick", cron="*/10 * * * *")
    add(store, clock, name="private.cleanup", every="1m")
    add(store, clock, name="fast", every="90s")
    add(store, clock, name="once", at=T0 + timedelta(minutes=1))
    executor = RecordingExecutor(clock=clock, auto_run=True)
    scheduler = engine(store, clock, hooks, executor)
    with caplog.at_level(logging.WARNING, logger="scheduler.monitoring.sentry"):
        scheduler.loop(until=T0 + timedelta(minutes=5))
        clock.advance(timedelta(minutes=45))  # the scheduler was down: missed slots
        scheduler.tick()
    statuses = {run.status for run in store.list_runs(limit=100)}
    assert RunStatus.MISSED in statuses

    checkins = sent(sentry_client)
    assert {c["monitor_slug"] for c in checkins} == {"tick"}
    assert [c["status"] for c in checkins] == ["in_progress", "ok"]  # the one catch-up run
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == [
        "job 'fast' sends no Sentry check-ins: its interval (90s) is not a whole number "
        "of minutes, the smallest unit Sentry counts in"
    ]  # once, though it ran several times; nothing about the one-off job


def test_jobs_sharing_a_slug_are_warned_about(
    sentry_client: Sink, caplog: pytest.LogCaptureFixture
) -> None:
    crons = SentryCrons()
    jobs = [
        JobSpec.build(name=name, task="tests.work", every="1h")
        for name in ("daily.report", "daily-report", "Daily:Report", "weekly")
    ]
    once = JobSpec.build(name="reminder", task="tests.work", at=T0)
    with caplog.at_level(logging.WARNING, logger="scheduler.monitoring.sentry"):
        problems = crons.check_jobs([*jobs, once])
    assert problems == [
        "jobs 'Daily:Report', 'daily-report', 'daily.report' share the Sentry monitor slug "
        "'daily-report': their check-ins mix in one monitor; rename one of them or exclude "
        "it (SENTRY_CRONS_EXCLUDE)"
    ]
    assert [r.getMessage() for r in caplog.records] == problems


def test_a_start_forgotten_past_the_bound_ends_with_a_check_in_of_its_own(
    sentry_client: Sink,
) -> None:
    hooks = RunHooks()
    SentryCrons(tracked=1).register(hooks)  # remembers one started run
    clock, store = FakeClock(T0), MemoryStore()
    add(store, clock, name="first", every="1h")
    add(store, clock, name="second", every="1h")
    executor = RecordingExecutor(clock=clock)
    engine(store, clock, hooks, executor).loop(until=T0 + timedelta(hours=1))
    first, second = executor.run_ids
    executor.start(first)
    executor.start(second)  # pushes the first run's check-in id out
    executor.complete(first)
    executor.complete(second)

    checkins = sent(sentry_client)
    assert [(c["monitor_slug"], c["status"]) for c in checkins] == [
        ("first", "in_progress"),
        ("second", "in_progress"),
        ("first", "ok"),
        ("second", "ok"),
    ]
    assert checkins[2]["check_in_id"] != checkins[0]["check_in_id"]  # sent on its own
    assert checkins[3]["check_in_id"] == checkins[1]["check_in_id"]
