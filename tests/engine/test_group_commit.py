"""Group commit: gathering run starts and ends, and writing them together.

:class:`GroupCommit` alone with a write that records its calls, then the
dispatcher with it, on the in-memory store and the thread executor.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from scheduler.engine.dispatch import Dispatcher
from scheduler.engine.groupcommit import GroupCommit, StartResult
from scheduler.executors.thread import ThreadExecutor
from scheduler.model.jobs import JobSpec
from scheduler.model.runs import ClaimedRun, NewRun, Outcome, RunStatus
from scheduler.monitoring.hooks import RunHooks
from scheduler.stores.base import Retrier, RunEnd, RunStart, Transitions
from scheduler.tasks.registry import TaskRegistry
from scheduler.testing import FakeClock, MemoryStore, RecordingExecutor

T0 = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def start(run_id: int) -> RunStart:
    return RunStart(run_id=run_id, worker="host:1", at=T0)


class Writes:
    """A write that records each call; every start may run, except those in ``refuse``."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[int], list[str]]] = []
        self.refuse: set[int] = set()
        self.written = threading.Event()
        self.hold: threading.Event | None = None

    def __call__(self, starts: Sequence[RunStart], ends: Sequence[str]) -> list[StartResult]:
        if self.hold is not None:
            hold, self.hold = self.hold, None
            assert hold.wait(30)
        self.calls.append(([s.run_id for s in starts], list(ends)))
        self.written.set()
        return [s.run_id not in self.refuse for s in starts]


def test_an_end_waits_for_company_then_is_written_within_the_interval() -> None:
    writes = Writes()
    group: GroupCommit[str] = GroupCommit(writes, interval=0.3)
    began = time.monotonic()
    group.end("a")
    group.end("b")
    assert group.gathered == 2 and writes.calls == []  # not written at once
    assert writes.written.wait(10)
    assert time.monotonic() - began >= 0.25
    assert writes.calls == [([], ["a", "b"])]
    group.close()


def test_a_start_is_written_at_once_and_takes_the_gathered_ends_along() -> None:
    writes = Writes()
    writes.refuse = {2}
    group: GroupCommit[str] = GroupCommit(writes, interval=60.0)
    group.end("a")
    assert group.start(start(1)) is True
    assert group.start(start(2)) is False
    assert writes.calls == [([1], ["a"]), ([2], [])]
    group.close()


def test_starts_that_come_during_a_write_share_the_next() -> None:
    writes = Writes()
    hold = writes.hold = threading.Event()
    group: GroupCommit[str] = GroupCommit(writes, interval=60.0)
    answers: dict[int, bool] = {}

    def starter(run_id: int) -> None:
        answers[run_id] = group.start(start(run_id))

    threads = [threading.Thread(target=starter, args=(1,))]
    threads[0].start()
    deadline = time.monotonic() + 30
    while writes.hold is not None:  # the first start's write is going, and held
        assert time.monotonic() < deadline
        time.sleep(0.001)
    threads += [threading.Thread(target=starter, args=(n,)) for n in range(2, 10)]
    for thread in threads[1:]:
        thread.start()
    while group.gathered < 8:
        assert time.monotonic() < deadline
        time.sleep(0.001)
    hold.set()
    for thread in threads:
        thread.join(30)
    assert answers == dict.fromkeys(range(1, 10), True)
    assert [sorted(call[0]) for call in writes.calls] == [[1], list(range(2, 10))]
    group.close()


def test_a_write_that_raises_answers_each_start_with_its_error() -> None:
    def broken(starts: Sequence[RunStart], ends: Sequence[str]) -> list[StartResult]:
        raise RuntimeError("disk full")

    group: GroupCommit[str] = GroupCommit(broken, interval=60.0)
    with pytest.raises(RuntimeError, match="disk full"):
        group.start(start(1))
    group.close()


def test_flush_and_close_write_everything_gathered() -> None:
    writes = Writes()
    group: GroupCommit[str] = GroupCommit(writes, interval=60.0)
    group.end("a")
    group.flush()
    group.end("b")
    group.close()
    group.end("c")  # after close: written at once
    assert writes.calls == [([], ["a"]), ([], ["b"]), ([], ["c"])]


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="interval must be positive"):
        GroupCommit(Writes(), interval=0)


# -- the dispatcher with group commit ------------------------------------------


class CountingStore(MemoryStore):
    """Counts its group commits and its one-run writes."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[tuple[int, int]] = []
        self.single = 0

    def record_transitions(
        self, starts: Sequence[RunStart], ends: Sequence[RunEnd], *, retry: Retrier | None = None
    ) -> Transitions:
        self.batches.append((len(starts), len(ends)))
        return super().record_transitions(starts, ends, retry=retry)

    def mark_running(self, run_id: int, **kwargs: Any) -> bool:
        self.single += 1
        return super().mark_running(run_id, **kwargs)

    def mark_finished(self, run_id: int, outcome: Outcome, **kwargs: Any) -> bool:
        self.single += 1
        return super().mark_finished(run_id, outcome, **kwargs)


def _claim(store: MemoryStore, jobs: int, **options: Any) -> list[ClaimedRun]:
    for n in range(jobs):
        name = f"job-{n}"
        store.save_job(JobSpec.build(name=name, task="tests.ok", every="1h", **options), now=T0)
        store.add_run(name, NewRun(scheduled_for=T0, due_at=T0))
    return store.claim_pending(now=T0, replica_id="r1", limit=1000)


def _heard() -> tuple[RunHooks, list[tuple[str, int]]]:
    hooks, heard = RunHooks(), []
    hooks.on_started(lambda event: heard.append(("started", event.run_id or 0)))
    hooks.on_finished(lambda event: heard.append((event.status.value, event.run_id or 0)))
    return hooks, heard


@pytest.mark.parametrize("interval", [0.05, 0.0])
def test_every_run_is_recorded_and_heard_once_after_its_write(interval: float) -> None:
    store, clock = CountingStore(), FakeClock(T0)
    registry = TaskRegistry()
    registry.register(lambda: "ok", name="tests.ok")
    hooks, heard = _heard()
    executor = ThreadExecutor(max_workers=8, clock=clock)
    dispatcher = Dispatcher(
        store, {"default": executor}, registry=registry, clock=clock, hooks=hooks,
        group_commit=interval,
    )  # fmt: skip
    claimed = _claim(store, 60)
    assert dispatcher.dispatch(claimed) == 60
    deadline = time.monotonic() + 60
    while executor.active_count():  # every run reported its end
        assert time.monotonic() < deadline
        time.sleep(0.01)
    dispatcher.shutdown(1.0)  # writes what is gathered
    runs = store.list_runs(limit=100)
    assert [run.status for run in runs] == [RunStatus.SUCCEEDED] * 60
    ids = sorted(run.id for run in runs)
    assert sorted(i for kind, i in heard if kind == "started") == ids
    assert sorted(i for kind, i in heard if kind == "succeeded") == ids
    if interval:
        assert store.single == 0
        assert sum(s for s, _ in store.batches) == 60 and sum(e for _, e in store.batches) == 60
        assert sum(dispatcher.take_commit_batches()) == 120
    else:  # today's behaviour: a transaction per start and per end
        assert store.batches == [] and store.single == 120
        assert dispatcher.take_commit_batches() == ()


def test_a_batch_the_store_refuses_is_written_report_by_report() -> None:
    store, clock = CountingStore(), FakeClock(T0)
    registry = TaskRegistry()
    registry.register(lambda: "ok", name="tests.ok")
    hooks, heard = _heard()
    executor = RecordingExecutor(clock=clock)
    dispatcher = Dispatcher(
        store, {"default": executor}, registry=registry, clock=clock, hooks=hooks,
        group_commit=60.0,
    )  # fmt: skip
    a, b = _claim(store, 2, retries=1)
    dispatcher.dispatch([a, b])
    assert dispatcher.started(a.run.id, worker="w:1") and dispatcher.started(b.run.id, worker="w:1")
    # The retry of a's failure is taken already: the batch raises DuplicateRun.
    store.add_run(a.job.name, NewRun(scheduled_for=T0, due_at=T0, attempt=2))
    failed = Outcome(status=RunStatus.FAILED, finished_at=T0, error="boom")
    dispatcher.finished(a.run.id, failed)
    dispatcher.finished(b.run.id, Outcome(status=RunStatus.SUCCEEDED, finished_at=T0))
    dispatcher.flush_reports()
    assert store.get_run(a.run.id).status is RunStatus.FAILED  # recorded, without a retry
    assert store.get_run(b.run.id).status is RunStatus.SUCCEEDED
    assert sorted(kind for kind, _ in heard) == ["failed", "started", "started", "succeeded"]
