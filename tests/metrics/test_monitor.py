"""The monitor on a fake clock and a memory store: every metric, from hooks, wake-ups and reads.

Run events are built as the hooks deliver them; wake-up reports are built as
the engine makes them.  Nothing sleeps: the monitor's reads of the store are
called directly (:meth:`Monitor.refresh`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scheduler.errors import StoreUnavailable
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import ClaimedRun, NewRun, Outcome, Run, RunStatus, Trigger
from scheduler.monitoring.events import RunEvent
from scheduler.monitoring.hooks import RunHooks
from scheduler.monitoring.monitor import Monitor
from scheduler.stores.base import StoreOverview
from scheduler.testing import FakeClock, MemoryStore

T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)
SECOND = timedelta(seconds=1)
HOURLY = JobSpec.build(name="report", task="app.report", cron="0 * * * *")
DEFERRED = JobSpec.build(
    name="app.remind:5f0c2a9e41d7b388", task="app.remind", at=T0, source=JobSource.CODE
)


class FlakyStore(MemoryStore):
    """A memory store whose overview fails while ``down``."""

    down = False

    def overview(self, *, now: datetime, run_ids: Any = ()) -> StoreOverview:
        if self.down:
            raise StoreUnavailable("connection refused")
        return super().overview(now=now, run_ids=run_ids)


@dataclass(frozen=True)
class Tick:
    """A wake-up's report, with what the monitor reads."""

    now: datetime
    retry_in: float | None = None
    claim_seconds: float | None = None
    heartbeat_at: datetime | None = None
    error: str = ""
    handed_out: tuple[ClaimedRun, ...] = ()
    commit_batches: tuple[int, ...] = ()


def event(status: RunStatus, job: JobSpec = HOURLY, **fields: Any) -> RunEvent:
    fields.setdefault("run_id", 1)
    fields.setdefault("scheduled_for", T0)
    fields.setdefault("due_at", T0)
    fields.setdefault("attempt", 1)
    fields.setdefault("trigger", Trigger.SCHEDULE)
    fields.setdefault("started_at", None)
    fields.setdefault("finished_at", None if status is RunStatus.RUNNING else T0 + 3 * SECOND)
    for name in ("error", "worker", "replica_id", "executor", "external_id"):
        fields.setdefault(name, "")
    fields.setdefault("will_retry", False)
    return RunEvent(job=job, status=status, **fields)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def store() -> FlakyStore:
    return FlakyStore()


@pytest.fixture
def hooks() -> RunHooks:
    return RunHooks()


@pytest.fixture
def monitor(store: FlakyStore, hooks: RunHooks, clock: FakeClock) -> Monitor:
    monitor = Monitor(store, hooks=hooks, clock=clock, heartbeat_interval=10 * SECOND)
    monitor.attach()
    return monitor


def sample(monitor: Monitor, name: str, **labels: str) -> float | None:
    return monitor.metrics.registry.get_sample_value(name, labels)


def runs_total(monitor: Monitor, job: str, status: str) -> float | None:
    return sample(monitor, "tickwork_runs_total", job=job, status=status)


# -- runs that end in this process -------------------------------------------------
def test_ended_runs_are_counted_by_job_and_status(monitor: Monitor, hooks: RunHooks) -> None:
    hooks.emit_finished(event(RunStatus.SUCCEEDED, run_id=1))
    hooks.emit_finished(event(RunStatus.SUCCEEDED, run_id=2))
    hooks.emit_finished(event(RunStatus.FAILED, run_id=3, error="boom"))
    hooks.emit_finished(event(RunStatus.SKIPPED, run_id=None))
    hooks.emit_finished(event(RunStatus.MISSED, run_id=None, trigger=Trigger.CATCHUP))
    assert runs_total(monitor, "report", "succeeded") == 2
    assert runs_total(monitor, "report", "failed") == 1
    assert runs_total(monitor, "report", "skipped") == 1
    assert runs_total(monitor, "report", "missed") == 1
    assert runs_total(monitor, "report", "lost") is None


def test_deferred_calls_share_their_task_label(monitor: Monitor, hooks: RunHooks) -> None:
    other = JobSpec.build(
        name="app.remind:0000000000000001", task="app.remind", at=T0, source=JobSource.CODE
    )
    hooks.emit_finished(event(RunStatus.SUCCEEDED, DEFERRED, run_id=1))
    hooks.emit_finished(event(RunStatus.SUCCEEDED, other, run_id=2))
    assert runs_total(monitor, "app.remind", "succeeded") == 2
    text = monitor.metrics.render().decode()
    assert "5f0c2a9e41d7b388" not in text


def test_duration_and_lateness_are_observed(monitor: Monitor, hooks: RunHooks) -> None:
    started = T0 + timedelta(milliseconds=300)
    hooks.emit_started(event(RunStatus.RUNNING, started_at=started))
    hooks.emit_finished(
        event(RunStatus.SUCCEEDED, started_at=started, finished_at=started + 2 * SECOND)
    )
    assert sample(monitor, "tickwork_run_duration_seconds_count", job="report") == 1
    assert sample(monitor, "tickwork_run_duration_seconds_sum", job="report") == 2.0
    assert sample(monitor, "tickwork_run_lateness_seconds_count") == 1
    assert sample(monitor, "tickwork_run_lateness_seconds_sum") == pytest.approx(0.3)
    assert sample(monitor, "tickwork_run_lateness_seconds_bucket", le="0.5") == 1
    assert sample(monitor, "tickwork_run_lateness_seconds_bucket", le="0.25") == 0


def test_a_retry_is_not_late_by_its_backoff(monitor: Monitor, hooks: RunHooks) -> None:
    hooks.emit_started(
        event(RunStatus.RUNNING, attempt=2, trigger=Trigger.RETRY, started_at=T0 + 60 * SECOND)
    )
    assert sample(monitor, "tickwork_run_lateness_seconds_count") == 0


def test_runs_in_flight_go_up_on_start_and_down_on_end(monitor: Monitor, hooks: RunHooks) -> None:
    hooks.emit_started(event(RunStatus.RUNNING, run_id=1, started_at=T0))
    hooks.emit_started(event(RunStatus.RUNNING, run_id=2, started_at=T0))
    assert sample(monitor, "tickwork_runs_in_flight") == 2
    hooks.emit_finished(event(RunStatus.SUCCEEDED, run_id=1, started_at=T0))
    assert sample(monitor, "tickwork_runs_in_flight") == 1


def test_hook_errors_are_counted(monitor: Monitor, hooks: RunHooks) -> None:
    def broken(_: RunEvent) -> None:
        raise RuntimeError("notifier down")

    hooks.on_finished(broken)
    hooks.emit_finished(event(RunStatus.SUCCEEDED))
    hooks.emit_finished(event(RunStatus.SUCCEEDED, run_id=2))
    assert sample(monitor, "tickwork_hook_errors_total") == 2
    assert runs_total(monitor, "report", "succeeded") == 2


# -- wake-ups -----------------------------------------------------------------------
def test_a_wake_up_reports_the_claim_the_heartbeat_and_the_store(monitor: Monitor) -> None:
    monitor.after_tick(Tick(now=T0, claim_seconds=0.004, heartbeat_at=T0 - SECOND))
    assert sample(monitor, "tickwork_claim_seconds_count") == 1
    assert sample(monitor, "tickwork_claim_seconds_bucket", le="0.005") == 1
    assert sample(monitor, "tickwork_last_heartbeat_timestamp_seconds") == (T0 - SECOND).timestamp()
    assert sample(monitor, "tickwork_store_up") == 1
    monitor.after_tick(Tick(now=T0 + SECOND, retry_in=2.0, heartbeat_at=T0 - SECOND))
    assert sample(monitor, "tickwork_store_up") == 0
    assert sample(monitor, "tickwork_claim_seconds_count") == 1  # no claim without a store


# -- reading the store ----------------------------------------------------------------
def test_jobs_and_backlog_come_from_the_store(monitor: Monitor, store: FlakyStore) -> None:
    store.save_job(HOURLY, now=T0 - timedelta(hours=1))  # due at T0
    store.save_job(JobSpec.build(name="paused", task="app.x", every="1m"), now=T0)
    store.set_paused("paused", True, now=T0)
    assert monitor.refresh()
    assert sample(monitor, "tickwork_jobs", state="active") == 1
    assert sample(monitor, "tickwork_jobs", state="paused") == 1
    assert sample(monitor, "tickwork_jobs", state="removed") == 0
    assert sample(monitor, "tickwork_due_backlog") == 1


def test_an_unreachable_store_is_down_then_back_and_wakes_the_engine(
    monitor: Monitor, store: FlakyStore, clock: FakeClock
) -> None:
    woken: list[bool] = []
    monitor.on_store_back = lambda: woken.append(True)
    monitor.after_tick(Tick(now=clock.now(), heartbeat_at=clock.now()))
    store.down = True
    clock.advance(SECOND)
    assert not monitor.refresh()
    assert sample(monitor, "tickwork_store_up") == 0
    assert not monitor.healthz().healthy
    store.down = False
    clock.advance(SECOND)
    assert monitor.refresh()
    assert sample(monitor, "tickwork_store_up") == 1
    assert woken == [True]
    assert monitor.refresh()
    assert woken == [True]  # only on the way back


# -- runs handed to outside workers ---------------------------------------------------
def handed_out(store: FlakyStore, job: JobSpec, *, at: datetime) -> ClaimedRun:
    """A run of ``job`` claimed at ``at`` and handed to an outside worker as ``celery-<id>``."""
    store.save_job(job, now=at - timedelta(hours=1))
    run = store.add_run(job.name, NewRun(scheduled_for=at, due_at=at))
    store.mark_queued(run.id, executor="celery", external_id=f"celery-{run.id}", now=at)
    return ClaimedRun(run=store.get_run(run.id), job=job)


def worker_ends(store: FlakyStore, run: Run, status: RunStatus, *, at: datetime) -> None:
    store.mark_running(run.id, worker="worker:1", now=at)
    store.mark_finished(run.id, Outcome(status=status, finished_at=at + 2 * SECOND))


def test_an_outside_workers_run_is_counted_once_from_the_run_table(
    monitor: Monitor, store: FlakyStore, hooks: RunHooks
) -> None:
    claimed = handed_out(store, HOURLY, at=T0)
    monitor.after_tick(Tick(now=T0, handed_out=(claimed,)))
    assert monitor.refresh()
    assert runs_total(monitor, "report", "succeeded") is None
    assert sample(monitor, "tickwork_runs_in_flight") == 1
    worker_ends(store, claimed.run, RunStatus.SUCCEEDED, at=T0 + SECOND)
    # Were the worker's hooks to fire in this process too, they would not count it.
    hooks.emit_finished(
        event(RunStatus.SUCCEEDED, run_id=claimed.run.id, external_id=f"celery-{claimed.run.id}")
    )
    assert runs_total(monitor, "report", "succeeded") is None
    assert monitor.refresh()
    assert monitor.refresh()
    assert runs_total(monitor, "report", "succeeded") == 1
    assert sample(monitor, "tickwork_run_duration_seconds_sum", job="report") == 2.0
    assert sample(monitor, "tickwork_run_lateness_seconds_sum") == 1.0
    assert sample(monitor, "tickwork_runs_in_flight") == 0


def test_an_outside_run_recovered_lost_here_is_counted_once(
    monitor: Monitor, store: FlakyStore, hooks: RunHooks, clock: FakeClock
) -> None:
    claimed = handed_out(store, DEFERRED, at=T0)
    monitor.after_tick(Tick(now=T0, handed_out=(claimed,)))
    store.mark_finished(claimed.run.id, Outcome(status=RunStatus.LOST, finished_at=T0))
    # The recovery's hook fires in this replica: the event carries the external id.
    hooks.emit_finished(
        event(RunStatus.LOST, DEFERRED, run_id=claimed.run.id, external_id="celery-1")
    )
    assert monitor.refresh()
    assert monitor.refresh()
    assert runs_total(monitor, "app.remind", "lost") == 1


def test_a_pruned_outside_run_is_forgotten(monitor: Monitor, store: FlakyStore) -> None:
    claimed = handed_out(store, HOURLY, at=T0)
    monitor.after_tick(Tick(now=T0, handed_out=(claimed,)))
    worker_ends(store, claimed.run, RunStatus.FAILED, at=T0)
    store.prune(now=T0 + timedelta(days=9), keep_last=None, max_age=timedelta(days=1))
    assert monitor.refresh()
    assert sample(monitor, "tickwork_runs_in_flight") == 0
    assert runs_total(monitor, "report", "failed") is None


def test_a_closed_monitor_hears_no_more_hooks(monitor: Monitor, hooks: RunHooks) -> None:
    monitor.close()
    hooks.emit_finished(event(RunStatus.SUCCEEDED))
    assert runs_total(monitor, "report", "succeeded") is None


def test_a_run_ended_inside_its_hand_over_is_counted_once(
    monitor: Monitor, store: FlakyStore, hooks: RunHooks
) -> None:
    """An eager backend runs the task while it is handed over: the run's end is
    heard here, before its external id is stored and the report lists it."""
    claimed = handed_out(store, HOURLY, at=T0)
    worker_ends(store, claimed.run, RunStatus.SUCCEEDED, at=T0)
    hooks.emit_finished(event(RunStatus.SUCCEEDED, run_id=claimed.run.id))
    monitor.after_tick(Tick(now=T0, handed_out=(claimed,)))
    assert monitor.refresh()
    assert runs_total(monitor, "report", "succeeded") == 1
    assert sample(monitor, "tickwork_runs_in_flight") == 0
