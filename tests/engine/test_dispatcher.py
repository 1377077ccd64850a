"""The dispatcher on its own: hand-over, the reporter executors call, outcomes kept
while the store is down.  Fake clock, in-memory store, recording executor."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from scheduler.engine.dispatch import Dispatcher
from scheduler.errors import StoreUnavailable
from scheduler.executors.base import Executor, ExecutorCapabilities, RunReporter
from scheduler.executors.thread import ThreadExecutor
from scheduler.model.jobs import JobSpec
from scheduler.model.runs import ClaimedRun, NewRun, Outcome, RunStatus
from scheduler.stores.base import Retrier
from scheduler.tasks.registry import RegisteredTask, TaskRegistry
from scheduler.testing import FakeClock, MemoryStore, RecordingExecutor

T0 = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


class FlakyStore(MemoryStore):
    """A memory store that cannot be written while ``down``, or for the runs in ``refuse``."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.refuse: set[int] = set()

    def _check(self, run_id: int) -> None:
        if self.down or run_id in self.refuse:
            raise StoreUnavailable("database restarting")

    def mark_running(self, run_id: int, *, worker: str, now: datetime) -> bool:
        self._check(run_id)
        return super().mark_running(run_id, worker=worker, now=now)

    def mark_finished(self, run_id: int, outcome: Outcome, *, retry: Retrier | None = None) -> bool:
        self._check(run_id)
        return super().mark_finished(run_id, outcome, retry=retry)


class Outside:
    """An executor whose runs go to another process: an external id, no report back."""

    name = "outside"
    capabilities = ExecutorCapabilities()

    def submit(self, claimed: ClaimedRun, task: RegisteredTask, reporter: RunReporter) -> str:
        return f"remote-{claimed.run.id}"

    def shutdown(self, *, wait: bool, timeout: float | None) -> list[int]:
        return []

    def active_count(self) -> int:
        return 0

    def capacity(self) -> None:
        return None


class Refusing(Outside):
    """An executor whose broker is down."""

    def submit(self, claimed: ClaimedRun, task: RegisteredTask, reporter: RunReporter) -> str:
        raise ConnectionError("broker unreachable")


class Watching(RecordingExecutor):
    """An executor that observes timeouts, and notes when it is asked to."""

    capabilities = ExecutorCapabilities(runs_in_process=True, observes_timeout=True)

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock=clock)
        self.checked: list[datetime] = []

    def check_timeouts(self, now: datetime) -> list[int]:
        self.checked.append(now)
        return []


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def store() -> FlakyStore:
    return FlakyStore()


def dispatcher(store: MemoryStore, clock: FakeClock, **executors: Executor) -> Dispatcher:
    registry = TaskRegistry()
    registry.register(lambda: "ok", name="tests.ok")
    return Dispatcher(store, executors, registry=registry, clock=clock)


def claim(store: MemoryStore, *names: str, task: str = "tests.ok") -> list[ClaimedRun]:
    """One due run of each job ``names`` (job = executor name), claimed by replica r1."""
    for name in names:
        store.save_job(JobSpec.build(name=name, task=task, every="1h", executor=name), now=T0)
        store.add_run(name, NewRun(scheduled_for=T0, due_at=T0))
    return store.claim_pending(now=T0, replica_id="r1", limit=100)


def test_it_is_the_reporter_its_executors_report_to(store: FlakyStore, clock: FakeClock) -> None:
    executor = RecordingExecutor(clock=clock)
    parts = dispatcher(store, clock, default=executor)
    assert parts.dispatch(claim(store, "default")) == 1
    (submission,) = executor.submissions
    assert submission.reporter is parts


def test_runs_in_this_process_are_tracked_until_they_report_their_end(
    store: FlakyStore, clock: FakeClock
) -> None:
    executor = RecordingExecutor(clock=clock)
    parts = dispatcher(store, clock, default=executor)
    parts.dispatch(claim(store, "default"))
    (run_id,) = executor.run_ids
    assert parts.in_flight == {run_id}
    assert executor.start(run_id)
    executor.complete(run_id, result="done")
    assert parts.in_flight == frozenset()
    assert store.get_run(run_id).status is RunStatus.SUCCEEDED


def test_runs_handed_to_another_process_keep_their_id_and_are_not_tracked(
    store: FlakyStore, clock: FakeClock
) -> None:
    parts = dispatcher(store, clock, outside=Outside())
    (claimed,) = claim(store, "outside")
    assert parts.dispatch([claimed]) == 1
    assert parts.in_flight == frozenset()
    assert store.get_run(claimed.run.id).external_id == f"remote-{claimed.run.id}"


def test_runs_that_cannot_start_fail_and_the_others_are_handed_over(
    store: FlakyStore, clock: FakeClock
) -> None:
    executor = RecordingExecutor(clock=clock)
    parts = dispatcher(store, clock, default=executor, broken=Refusing())
    claimed = claim(store, "default", "broken") + claim(store, "nowhere")
    claimed += claim(store, "ghost", task="tests.unknown")
    assert parts.dispatch(claimed) == 1
    errors = {run.job_name: run.error for run in store.list_runs(status=RunStatus.FAILED)}
    assert errors["broken"] == ("could not hand the run to executor 'broken': broker unreachable")
    assert errors["nowhere"] == ("no executor named 'nowhere' (configured: broken, default)")
    assert "task 'tests.unknown' is not registered" in errors["ghost"]
    assert [s.claimed.job.name for s in executor.submissions] == ["default"]


def test_an_outcome_reported_while_the_store_is_down_is_recorded_later(
    store: FlakyStore, clock: FakeClock
) -> None:
    executor = RecordingExecutor(clock=clock)
    parts = dispatcher(store, clock, default=executor)
    parts.dispatch(claim(store, "default"))
    (run_id,) = executor.run_ids
    executor.start(run_id)
    store.down = True
    executor.complete(run_id, result="done")  # kept, not raised to the executor
    assert parts.unrecorded == 1
    with pytest.raises(StoreUnavailable):
        parts.flush_outcomes()
    assert parts.unrecorded == 1
    store.down = False
    parts.flush_outcomes()
    assert parts.unrecorded == 0
    recorded = store.get_run(run_id)
    assert (recorded.status, recorded.result) == (RunStatus.SUCCEEDED, "done")


def test_a_flush_that_fails_half_way_keeps_the_rest_in_order(
    store: FlakyStore, clock: FakeClock
) -> None:
    executor = RecordingExecutor(clock=clock)
    parts = dispatcher(store, clock, a=executor, b=executor, c=executor)
    parts.dispatch(claim(store, "a", "b", "c"))
    first, second, third = executor.run_ids
    store.down = True
    for run_id in (first, second, third):
        executor.complete(run_id)
    store.down = False
    store.refuse = {second}
    with pytest.raises(StoreUnavailable):
        parts.flush_outcomes()
    assert store.get_run(first).status is RunStatus.SUCCEEDED
    assert parts.unrecorded == 2
    store.refuse = set()
    parts.flush_outcomes()
    assert {store.get_run(run_id).status for run_id in (second, third)} == {RunStatus.SUCCEEDED}


def test_a_run_that_cannot_be_marked_started_must_not_run_and_is_lost(
    store: FlakyStore, clock: FakeClock
) -> None:
    executor = RecordingExecutor(clock=clock)
    parts = dispatcher(store, clock, default=executor)
    parts.dispatch(claim(store, "default"))
    (run_id,) = executor.run_ids
    store.down = True
    assert parts.started(run_id, worker="host:1") is False
    store.down = False
    parts.flush_outcomes()
    lost = store.get_run(run_id)
    assert (lost.status, lost.error) == (
        RunStatus.LOST,
        "not started: the database was unavailable when it was due to start",
    )


def test_shutdown_records_runs_still_going_after_the_grace_as_lost(
    store: FlakyStore, clock: FakeClock
) -> None:
    executor = RecordingExecutor(clock=clock)
    parts = dispatcher(store, clock, default=executor)
    parts.dispatch(claim(store, "default"))
    (run_id,) = executor.run_ids
    executor.start(run_id)
    assert parts.active_count() == 1
    clock.advance(timedelta(seconds=5))
    parts.shutdown(2.5)
    lost = store.get_run(run_id)
    assert (lost.status, lost.finished_at, lost.error) == (
        RunStatus.LOST,
        T0 + timedelta(seconds=5),
        "scheduler stopped; executor 'default' did not finish it within the 2.5s shutdown grace",
    )


@pytest.mark.parametrize("when", ["before", "during"])
def test_a_shutdown_cut_short_records_what_still_runs_as_lost_at_once(
    store: FlakyStore, clock: FakeClock, when: str
) -> None:
    """A second stop signal sets ``cut_short``: the 60 s grace is not waited out."""
    started, release, cut_short = threading.Event(), threading.Event(), threading.Event()

    def hold() -> str:
        started.set()
        release.wait(60)
        return "done"

    registry = TaskRegistry()
    registry.register(hold, name="tests.hold")
    executor = ThreadExecutor(max_workers=1, clock=clock)
    parts = Dispatcher(store, {"default": executor}, registry=registry, clock=clock)
    parts.dispatch(claim(store, "default", task="tests.hold"))
    assert started.wait(10)
    if when == "before":
        cut_short.set()
    else:  # from another thread, as the main thread's signal handler would
        threading.Timer(0.2, cut_short.set).start()
    began = time.monotonic()
    try:
        parts.shutdown(60.0, cut_short=cut_short)
    finally:
        release.set()
    assert time.monotonic() - began < 10
    (run,) = store.list_runs()
    assert (run.status, run.error) == (
        RunStatus.LOST,
        "scheduler stopped; executor 'default' had not finished it when told to stop now "
        "(a second stop signal)",
    )


def test_only_executors_that_observe_timeouts_are_asked_to_check(
    store: FlakyStore, clock: FakeClock
) -> None:
    watching = Watching(clock)
    parts = dispatcher(store, clock, watching=watching, plain=RecordingExecutor(clock=clock))
    parts.watch_timeouts(T0)
    assert watching.checked == [T0]
