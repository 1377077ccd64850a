"""The monitor on a real engine, a memory store and a fake clock: its counts match the run table."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from scheduler.engine import Engine, EngineConfig
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource, OverlapPolicy
from scheduler.model.runs import TERMINAL_STATUSES
from scheduler.monitoring.hooks import RunHooks
from scheduler.monitoring.monitor import Monitor
from scheduler.tasks.registry import TaskRegistry
from scheduler.testing import FakeClock, MemoryStore, RecordingExecutor

T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)


def fail() -> None:
    raise RuntimeError("boom")


def test_runs_counted_by_the_monitor_match_the_run_table() -> None:
    clock, store, hooks = FakeClock(T0), MemoryStore(), RunHooks()
    registry = TaskRegistry()
    registry.register(lambda: "ok", name="t.ok")
    registry.register(fail, name="t.fail")
    executors = {
        "default": RecordingExecutor(clock=clock, auto_run=True),
        "never": RecordingExecutor("never", clock=clock),  # starts nothing: the next slot skips
    }
    config = EngineConfig(heartbeat_interval=timedelta(seconds=10))
    monitor = Monitor(store, hooks=hooks, clock=clock, heartbeat_interval=config.heartbeat_interval)
    monitor.attach()
    engine = Engine(
        store,
        executors,
        registry=registry,
        clock=clock,
        config=config,
        hooks=hooks,
        after_tick=[monitor.after_tick],
    )
    for spec in (
        JobSpec.build(name="ok", task="t.ok", every="2s"),
        JobSpec.build(name="fails", task="t.fail", every="3s"),
        JobSpec.build(
            name="stuck", task="t.ok", every="5s", executor="never", overlap=OverlapPolicy.SKIP
        ),
        JobSpec.build(name="t.ok:00000000000000aa", task="t.ok", at=T0 + timedelta(seconds=7),
                      source=JobSource.CODE),
    ):  # fmt: skip
        store.save_job(spec, now=T0)
    engine.loop(until=T0 + timedelta(seconds=30))
    assert monitor.refresh()

    table = Counter(
        (run.job_name, run.status.value)
        for run in store.list_runs(limit=1000)
        if run.status in TERMINAL_STATUSES
    )
    table = Counter({(job.split(":")[0], status): n for (job, status), n in table.items()})
    counted = {
        (sample.labels["job"], sample.labels["status"]): sample.value
        for family in monitor.metrics.registry.collect()
        if family.name == "tickwork_runs"
        for sample in family.samples
        if sample.name == "tickwork_runs_total"
    }
    assert counted == {key: float(n) for key, n in table.items()}
    assert table[("ok", "succeeded")] == 15
    assert table[("fails", "failed")] == 10
    assert table[("stuck", "skipped")] == 5
    assert table[("t.ok", "succeeded")] == 1
    registry_sample = monitor.metrics.registry.get_sample_value
    assert registry_sample("tickwork_runs_in_flight") == 0  # the stuck run never started
    assert registry_sample("tickwork_run_lateness_seconds_count") == 26
    assert registry_sample("tickwork_claim_seconds_count") == len(clock.slept) + 1
    assert registry_sample("tickwork_jobs", {"state": "active"}) == 4  # a one-off that ran too
    assert monitor.healthz().healthy
