"""The starts of an inline executor's runs, written a chunk at a time.

``GroupCommit.start_many`` alone; the chunk sizing of :class:`InlineStarts`;
then the dispatcher handing batches to the immediate executor under group
commit, on the in-memory store: fewer writes than runs, and every answer a
write gives (refused, store down, executor closed) honoured run by run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from scheduler.engine.dispatch import Dispatcher
from scheduler.engine.groupcommit import GroupCommit
from scheduler.engine.inline import InlineStarts
from scheduler.errors import StoreUnavailable
from scheduler.executors.immediate import ImmediateExecutor
from scheduler.model.runs import RunStatus
from scheduler.stores.base import Retrier, RunEnd, RunStart, Transitions
from scheduler.tasks.registry import TaskRegistry
from scheduler.testing import FakeClock

from .test_group_commit import CountingStore, Writes, _claim, _heard, start

T0 = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def test_start_many_writes_its_starts_together_and_answers_each_in_order() -> None:
    writes = Writes()
    writes.refuse = {2}
    group: GroupCommit[str] = GroupCommit(writes, interval=60.0, max_batch=3)
    group.end("a")
    assert group.start_many([]) == [] and writes.calls == []
    assert group.start_many([start(n) for n in (1, 2, 3, 4)]) == [True, False, True, True]
    assert writes.calls == [([1, 2, 3], []), ([4], ["a"])]  # max_batch 3: two writes
    group.close()


def test_start_many_answers_each_start_with_the_error_of_its_write() -> None:
    def broken(starts: Sequence[RunStart], ends: Sequence[str]) -> list[bool]:
        raise RuntimeError("disk full")

    group: GroupCommit[str] = GroupCommit(broken, interval=60.0)
    answers = group.start_many([start(1), start(2)])
    assert [str(answer) for answer in answers] == ["disk full", "disk full"]
    group.close()


def test_chunks_double_while_runs_are_quick_and_shrink_to_the_interval_when_slow() -> None:
    group: GroupCommit[str] = GroupCommit(Writes(), interval=0.05)
    inline = InlineStarts(group, clock=FakeClock(T0), max_batch=20)
    sizes = []
    for _ in range(6):
        sizes.append(inline.size)
        inline.fit(inline.size, 0.0001 * inline.size)  # 0.1 ms a run
    assert sizes == [1, 2, 4, 8, 16, 20]  # twice the last at most, max_batch at most
    inline.fit(20, 20 * 0.01)  # 10 ms a run: 5 fit in 50 ms
    assert inline.size == 5
    inline.fit(5, 5 * 0.2)  # slower than the interval: one at a time
    assert inline.size == 1
    group.close()


def _immediate(
    store: CountingStore, calls: list[str] | None = None
) -> tuple[Dispatcher, list[tuple[str, int]]]:
    clock = FakeClock(T0)
    registry = TaskRegistry()
    registry.register(lambda: calls.append("ran") if calls is not None else None, name="tests.ok")
    hooks, heard = _heard()
    executor = ImmediateExecutor(clock=clock)
    dispatcher = Dispatcher(
        store, {"default": executor}, registry=registry, clock=clock, hooks=hooks,
        group_commit=0.05,
    )  # fmt: skip
    return dispatcher, heard


def test_an_inline_batch_has_its_starts_written_a_chunk_at_a_time() -> None:
    store = CountingStore()
    dispatcher, heard = _immediate(store)
    claimed = _claim(store, 60)
    assert dispatcher.dispatch(claimed) == 60
    dispatcher.shutdown(1.0)
    runs = store.list_runs(limit=100)
    assert [run.status for run in runs] == [RunStatus.SUCCEEDED] * 60
    assert store.single == 0
    starts = [s for s, _ in store.batches if s]
    assert sum(starts) == 60
    assert len(starts) <= 7, starts  # 1, 2, 4, 8, 16, 29 with quick runs; not 60
    assert all(run.started_at == T0 and run.worker for run in runs)
    ids = [item.run.id for item in claimed]
    assert [i for kind, i in heard if kind == "started"] == ids  # each once, in order
    assert sorted(i for kind, i in heard if kind == "succeeded") == sorted(ids)


def test_a_run_whose_written_start_was_refused_does_not_execute() -> None:
    store, calls = CountingStore(), list[str]()
    dispatcher, heard = _immediate(store, calls)
    claimed = _claim(store, 3)
    store.cancel_run(claimed[1].run.id, now=T0)  # between the claim and the start
    assert dispatcher.dispatch(claimed) == 3
    dispatcher.shutdown(1.0)
    assert calls == ["ran", "ran"]
    statuses = [store.get_run(item.run.id).status for item in claimed]
    assert statuses == [RunStatus.SUCCEEDED, RunStatus.CANCELLED, RunStatus.SUCCEEDED]
    assert claimed[1].run.id not in [i for _, i in heard]


class DownOnce(CountingStore):
    """Unavailable for its first group commit."""

    def __init__(self) -> None:
        super().__init__()
        self.down = True

    def record_transitions(
        self, starts: Sequence[RunStart], ends: Sequence[RunEnd], *, retry: Retrier | None = None
    ) -> Transitions:
        if self.down:
            self.down = False
            raise StoreUnavailable("database restarting")
        return super().record_transitions(starts, ends, retry=retry)


def test_runs_whose_chunk_could_not_be_written_are_recorded_lost_not_executed() -> None:
    store, calls = DownOnce(), list[str]()
    dispatcher, _ = _immediate(store, calls)
    first, *rest = _claim(store, 4)
    dispatcher.dispatch([first, *rest])  # the first chunk (one run) meets the outage
    dispatcher.shutdown(1.0)
    dispatcher.flush_outcomes()
    lost = store.get_run(first.run.id)
    assert lost.status is RunStatus.LOST and "database was unavailable" in (lost.error or "")
    assert [store.get_run(item.run.id).status for item in rest] == [RunStatus.SUCCEEDED] * 3
    assert calls == ["ran"] * 3


def test_a_closed_inline_executor_refuses_runs_before_any_start_is_written() -> None:
    store = CountingStore()
    dispatcher, _ = _immediate(store)
    claimed = _claim(store, 3)
    dispatcher.executors["default"].shutdown(wait=False, timeout=None)
    assert dispatcher.dispatch(claimed) == 0
    dispatcher.flush_reports()
    assert [s for s, _ in store.batches if s] == []  # no start written ahead of a refusal
    for item in claimed:
        run = store.get_run(item.run.id)
        assert run.status is RunStatus.FAILED and run.started_at is None
        assert "could not hand the run to executor" in (run.error or "")
    dispatcher.shutdown(1.0)


def test_a_run_refused_after_its_chunk_was_written_is_failed_and_nothing_kept() -> None:
    store = CountingStore()
    dispatcher, _ = _immediate(store)
    executor = dispatcher.executors["default"]
    claimed = _claim(store, 3)
    submit = executor.submit

    def closes_after_the_first(*args: object, **kwargs: object) -> str:
        answer = submit(*args, **kwargs)  # type: ignore[arg-type]
        executor.shutdown(wait=False, timeout=None)  # closed by another thread, say
        return answer

    executor.submit = closes_after_the_first  # type: ignore[method-assign]
    assert dispatcher.dispatch(claimed) == 1
    dispatcher.flush_reports()
    first, *rest = (store.get_run(item.run.id) for item in claimed)
    assert first.status is RunStatus.SUCCEEDED
    assert [run.status for run in rest] == [RunStatus.FAILED] * 2
    for run in rest:
        assert dispatcher.started(run.id, worker="w:1") is False  # nothing kept for it
    dispatcher.shutdown(1.0)


@pytest.mark.parametrize("interval", [0.0])
def test_without_group_commit_each_inline_start_is_its_own_write(interval: float) -> None:
    store = CountingStore()
    clock = FakeClock(T0)
    registry = TaskRegistry()
    registry.register(lambda: None, name="tests.ok")
    dispatcher = Dispatcher(
        store, {"default": ImmediateExecutor(clock=clock)}, registry=registry, clock=clock,
        group_commit=interval,
    )  # fmt: skip
    dispatcher.dispatch(_claim(store, 5))
    assert store.batches == [] and store.single == 10  # a start and an end each
