"""The thread executor: a bounded pool that observes timeouts.

Tasks are held running with events, time is a clock the test sets, and the
pool's FIFO order is used to know that an earlier run has been handled.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from scheduler.errors import DuplicateRun
from scheduler.executors.base import ExecutorCapabilities, ExecutorConfigError, TimeoutObserver
from scheduler.executors.thread import ThreadExecutor
from scheduler.model.runs import Outcome, RunStatus

from .support import T0, WAIT, RecordingReporter, SetClock, blocking, claimed, task

TIMEOUT = timedelta(seconds=30)


@pytest.fixture
def clock() -> SetClock:
    return SetClock()


@pytest.fixture
def single(clock: SetClock) -> Iterator[ThreadExecutor]:
    executor = ThreadExecutor(max_workers=1, clock=clock)
    yield executor
    executor.shutdown(wait=False, timeout=None)


def test_capabilities_observe_timeouts_in_process() -> None:
    assert ThreadExecutor.capabilities == ExecutorCapabilities(
        observes_timeout=True, runs_in_process=True
    )
    assert isinstance(ThreadExecutor(), TimeoutObserver)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_workers": 0}, "max_workers: expected an integer of at least 1, got 0"),
        ({"max_workers": True}, "max_workers: expected an integer of at least 1, got True"),
        ({"max_workers": "4"}, "max_workers: expected an integer of at least 1, got '4'"),
        ({"timeout_check_interval": 0}, "timeout_check_interval: expected a number of seconds"),
        ({"clock": "utc"}, "clock: expected a Clock"),
    ],
)
def test_bad_options_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(ExecutorConfigError, match=message):
        ThreadExecutor(**options)  # type: ignore[arg-type]


def test_the_pool_runs_at_most_max_workers_tasks_at_once(clock: SetClock) -> None:
    executor = ThreadExecutor(max_workers=2, clock=clock)
    lock, release = threading.Lock(), threading.Event()
    running, peak = [0], [0]
    two_in, third_in = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            if running[0] == 2:
                two_in.set()
            if running[0] > 2:
                third_in.set()
        assert release.wait(WAIT)
        with lock:
            running[0] -= 1

    reporter = RecordingReporter()
    for run_id in range(1, 6):
        executor.submit(claimed(run_id), task(hold), reporter)
    assert two_in.wait(WAIT)
    assert not third_in.wait(0.2)  # a third task would have started by now if it could
    assert sum(kind == "started" for kind, _, _ in reporter.events) == 2
    assert executor.active_count() == 5
    release.set()
    outcomes = [reporter.wait_finished(run_id) for run_id in range(1, 6)]
    assert {outcome.status for outcome in outcomes} == {RunStatus.SUCCEEDED}
    assert peak[0] == 2
    assert executor.shutdown(wait=True, timeout=WAIT) == []


def test_a_run_past_its_timeout_is_recorded_timed_out_and_its_late_end_ignored(
    single: ThreadExecutor, clock: SetClock
) -> None:
    hold, entered, release = blocking()
    reporter = RecordingReporter()
    single.submit(claimed(1, timeout=TIMEOUT), hold, reporter)
    assert entered.wait(WAIT)

    assert single.check_timeouts(T0 + TIMEOUT - timedelta(microseconds=1)) == []
    assert single.check_timeouts(T0 + TIMEOUT) == [1]
    (outcome,) = reporter.outcomes(1)
    assert outcome.status is RunStatus.TIMED_OUT
    assert outcome.finished_at == T0 + TIMEOUT
    assert outcome.error.startswith("TimeoutError: still running 30s after it started")
    assert single.active_count() == 0
    assert single.check_timeouts(T0 + 10 * TIMEOUT) == []  # reported once only

    release.set()
    # The single worker takes run 2 only after run 1's thread has returned.
    later = RecordingReporter()
    single.submit(claimed(2), task(lambda: "next"), later)
    assert later.wait_finished(2).result == "next"
    assert reporter.kinds(1) == ["started", "finished"]
    assert [o.status for o in reporter.outcomes(1)] == [RunStatus.TIMED_OUT]


def test_a_timed_out_thread_is_counted_as_leaked_until_it_returns(
    single: ThreadExecutor, caplog: pytest.LogCaptureFixture
) -> None:
    hold, entered, release = blocking()
    reporter = RecordingReporter()
    single.submit(claimed(1, timeout=TIMEOUT), hold, reporter)
    assert entered.wait(WAIT)
    assert single.leaked_threads == 0
    with caplog.at_level("WARNING", logger="scheduler.executors.thread"):
        assert single.check_timeouts(T0 + TIMEOUT) == [1]
    assert single.leaked_threads == 1  # its thread still runs the task, holding the slot
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "thread_leaked"]
    assert getattr(record, "leaked_threads", None) == 1
    assert "threads held by timed-out tasks: 1 of 1" in record.getMessage()
    assert "the process executor would stop it" in record.getMessage()
    release.set()
    later = RecordingReporter()
    single.submit(claimed(2), task(lambda: "next"), later)  # runs once the thread is back
    assert later.wait_finished(2).result == "next"
    assert single.leaked_threads == 0


def test_runs_without_a_timeout_or_not_yet_started_never_time_out(
    single: ThreadExecutor,
) -> None:
    hold, entered, release = blocking()
    reporter = RecordingReporter()
    single.submit(claimed(1), hold, reporter)
    single.submit(claimed(2, timeout=TIMEOUT), task(lambda: None), reporter)
    assert entered.wait(WAIT)
    assert single.check_timeouts(T0 + timedelta(days=365)) == []  # 1: none; 2: queued
    release.set()
    reporter.wait_finished(2)


def test_the_timeout_is_counted_from_the_start_not_the_submit(
    single: ThreadExecutor, clock: SetClock
) -> None:
    first, entered, release = blocking()
    reporter = RecordingReporter()
    single.submit(claimed(1), first, reporter)
    second, second_entered, second_release = blocking()
    single.submit(claimed(2, timeout=TIMEOUT), second, reporter)
    assert entered.wait(WAIT)
    clock.current = T0 + timedelta(minutes=5)  # run 2 waited in the queue meanwhile
    release.set()
    assert second_entered.wait(WAIT)
    assert single.check_timeouts(clock.current + TIMEOUT / 2) == []
    assert single.check_timeouts(clock.current + TIMEOUT) == [2]
    second_release.set()


def test_the_watcher_thread_checks_timeouts_on_its_own(clock: SetClock) -> None:
    executor = ThreadExecutor(max_workers=1, clock=clock, timeout_check_interval=0.01)
    hold, entered, release = blocking()
    reporter = RecordingReporter()
    executor.submit(claimed(1, timeout=TIMEOUT), hold, reporter)
    assert entered.wait(WAIT)
    clock.current = T0 + TIMEOUT
    assert reporter.wait_finished(1).status is RunStatus.TIMED_OUT
    release.set()
    executor.shutdown(wait=True, timeout=WAIT)


def test_shutdown_waits_for_running_work_up_to_the_timeout(single: ThreadExecutor) -> None:
    hold, entered, release = blocking()
    reporter = RecordingReporter()
    single.submit(claimed(1), hold, reporter)
    single.submit(claimed(2), task(lambda: "never"), reporter)
    assert entered.wait(WAIT)

    assert single.shutdown(wait=True, timeout=0.05) == [1]
    assert reporter.kinds(2) == ["finished"]  # withdrawn before it started
    (cancelled,) = reporter.outcomes(2)
    assert cancelled.status is RunStatus.CANCELLED
    assert "shut down before the run started" in cancelled.error
    assert single.active_count() == 1

    release.set()
    assert reporter.wait_finished(1).status is RunStatus.SUCCEEDED


def test_shutdown_returns_once_running_work_has_been_reported(single: ThreadExecutor) -> None:
    hold, entered, release = blocking()
    reporter = RecordingReporter()
    single.submit(claimed(1), hold, reporter)
    assert entered.wait(WAIT)
    release.set()
    assert single.shutdown(wait=True, timeout=WAIT) == []
    assert reporter.kinds(1) == ["started", "finished"]  # no waiting needed
    assert single.active_count() == 0


def test_shutdown_without_waiting_returns_the_running_ids(single: ThreadExecutor) -> None:
    hold, entered, release = blocking()
    single.submit(claimed(4), hold, RecordingReporter())
    assert entered.wait(WAIT)
    assert single.shutdown(wait=False, timeout=None) == [4]
    release.set()


def test_the_same_run_cannot_be_submitted_twice_while_active(single: ThreadExecutor) -> None:
    hold, _, release = blocking()
    single.submit(claimed(1), hold, RecordingReporter())
    with pytest.raises(DuplicateRun, match="run 1 is already queued or running"):
        single.submit(claimed(1), hold, RecordingReporter())
    release.set()


def test_a_worker_survives_a_task_raising_keyboard_interrupt(single: ThreadExecutor) -> None:
    def interrupt() -> None:
        raise KeyboardInterrupt

    reporter = RecordingReporter()
    single.submit(claimed(1), task(interrupt), reporter)
    single.submit(claimed(2), task(lambda: 2), reporter)
    assert reporter.wait_finished(1).error == "KeyboardInterrupt: "
    assert reporter.wait_finished(2).result == 2


class BrokenStore(RecordingReporter):
    def started(self, run_id: int, *, worker: str) -> bool:
        super().started(run_id, worker=worker)
        raise ConnectionError("database is down")


def test_a_reporter_that_fails_to_record_the_start_means_no_execution(
    single: ThreadExecutor, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []
    broken = BrokenStore()
    single.submit(claimed(1), task(lambda: calls.append(1)), broken)
    reporter = RecordingReporter()
    single.submit(claimed(2), task(lambda: calls.append(2)), reporter)
    reporter.wait_finished(2)
    assert calls == [2]
    assert broken.kinds(1) == ["started"]
    (record,) = [r for r in caplog.records if r.name == "scheduler.executors.thread"]
    assert record.getMessage() == "could not record the start of run 1"
    assert (record.run_id, record.job_name) == (1, "job-1")  # type: ignore[attr-defined]


class ForgetfulStore(RecordingReporter):
    def finished(self, run_id: int, outcome: Outcome) -> None:
        raise ConnectionError("database is down")


def test_a_reporter_that_fails_to_record_the_end_does_not_stop_the_worker(
    single: ThreadExecutor, caplog: pytest.LogCaptureFixture
) -> None:
    single.submit(claimed(1), task(lambda: 1), ForgetfulStore())
    reporter = RecordingReporter()
    single.submit(claimed(2), task(lambda: 2), reporter)
    assert reporter.wait_finished(2).result == 2
    messages = [r.getMessage() for r in caplog.records if r.name == "scheduler.executors.thread"]
    assert messages == ["could not record the end of run 1"]
    assert single.shutdown(wait=True, timeout=WAIT) == []
