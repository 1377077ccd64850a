"""The engine asks its clock what it can do, never what type it is.

A clock whose ``real_time`` is true is waited on through things that can end a
wait early (a change listener, the stop event), and ``--once`` waits for the
work it handed over; any other clock, including one written before
``real_time`` existed, is simply asked to ``sleep``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.clock import Clock, SystemClock, is_real_time
from scheduler.engine import Engine, EngineConfig
from scheduler.executors.base import clock_option
from scheduler.model.jobs import JobSpec
from scheduler.model.runs import RunStatus
from scheduler.stores.base import ChangeListener
from scheduler.tasks.registry import TaskRegistry
from scheduler.testing import FakeClock, MemoryStore, RecordingExecutor

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


class OldClock:
    """A clock written against the first Clock protocol: now() and sleep() only."""

    def __init__(self) -> None:
        self.current = T0
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.current += timedelta(seconds=seconds)


class OwnRealClock:
    """Not a SystemClock, but says its waits are real: the engine must never call sleep."""

    real_time = True

    def __init__(self) -> None:
        self.current = T0

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        raise AssertionError("a clock in real time is waited on through the listener")


class StepListener:
    """A change listener whose waits move an :class:`OwnRealClock` on instead of blocking."""

    def __init__(self, clock: OwnRealClock) -> None:
        self.clock = clock
        self.waits: list[float] = []
        self.closed = False

    def wait(self, timeout: float) -> bool:
        self.waits.append(timeout)
        self.clock.current += timedelta(seconds=timeout)
        return False

    def interrupt(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


class NotifyingStore(MemoryStore):
    """A memory store that, like PostgreSQL, can notify changes."""

    def __init__(self, listener: ChangeListener) -> None:
        super().__init__()
        self.listener = listener
        self.listens = 0

    def listen_for_changes(self) -> ChangeListener | None:
        self.listens += 1
        return self.listener


class BusyExecutor(RecordingExecutor):
    """Reports work still going for its first ``busy`` questions, then none."""

    def __init__(self, busy: int) -> None:
        super().__init__(auto_run=True)
        self.busy = busy
        self.asked = 0

    def active_count(self) -> int:
        self.asked += 1
        return 1 if self.asked <= self.busy else 0


def _registry() -> TaskRegistry:
    registry = TaskRegistry()
    registry.register(lambda: "ok", name="tests.ok")
    return registry


def _engine(store: MemoryStore, clock: Clock, executor: RecordingExecutor) -> Engine:
    config = EngineConfig(poll_interval=3600.0)
    return Engine(store, {"default": executor}, registry=_registry(), clock=clock, config=config)


def test_clocks_say_whether_they_wait_in_real_time() -> None:
    class ShiftedClock(SystemClock):
        pass

    assert is_real_time(SystemClock())
    assert is_real_time(ShiftedClock())
    assert not is_real_time(FakeClock())
    assert not is_real_time(OldClock())
    assert is_real_time(OwnRealClock())


def test_a_clock_without_real_time_is_still_a_clock() -> None:
    clock = OldClock()
    assert isinstance(clock, Clock)
    assert clock_option(clock) is clock


def test_a_clock_of_the_old_protocol_sleeps_and_is_never_listened_around() -> None:
    clock = OldClock()
    store = NotifyingStore(StepListener(OwnRealClock()))
    store.save_job(JobSpec.build(name="tick", task="tests.ok", every="20m"), now=T0)
    executor = RecordingExecutor(clock=clock, auto_run=True)  # type: ignore[arg-type]
    _engine(store, clock, executor).run(until=T0 + timedelta(hours=1))
    assert store.listens == 0
    assert clock.slept == [1200.0, 1200.0, 1200.0]
    assert [run.status for run in store.list_runs()] == [RunStatus.SUCCEEDED] * 3


def test_a_clock_in_real_time_waits_on_the_listener_whatever_its_type() -> None:
    clock = OwnRealClock()
    listener = StepListener(clock)
    store = NotifyingStore(listener)
    store.save_job(JobSpec.build(name="tick", task="tests.ok", every="20m"), now=T0)
    executor = RecordingExecutor(clock=clock, auto_run=True)  # type: ignore[arg-type]
    _engine(store, clock, executor).run(until=T0 + timedelta(hours=1))
    assert store.listens == 1
    assert listener.waits == [1200.0, 1200.0, 1200.0]
    assert listener.closed
    assert [run.status for run in store.list_runs()] == [RunStatus.SUCCEEDED] * 3


def test_once_waits_for_handed_over_work_only_in_real_time() -> None:
    real = BusyExecutor(busy=2)
    _engine(MemoryStore(), OwnRealClock(), real).run(once=True)
    assert real.asked == 3 + 1  # two busy answers, the idle one, and close()'s count
    fake = BusyExecutor(busy=2)
    _engine(MemoryStore(), OldClock(), fake).run(once=True)
    assert fake.asked == 1  # close()'s count only: nothing is waited for
