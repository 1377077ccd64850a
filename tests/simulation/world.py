"""The event loop: replicas, workers, an operator and the faults, interleaved by one seed.

True time is a number of seconds since the scenario's start.  Each replica has
its own :class:`~scheduler.testing.FakeClock`, set to true time plus its drift
before anything of that replica runs.  Events (a replica's wake-up, a step of
a run, an operator's edit, a fault) are taken from a heap in time order, ties
in the order they were scheduled, so one thread plays a seed the same way
every time.  An event of a replica that crashed since it was scheduled is
dropped; one of a replica whose VM is paused waits until it resumes.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from scheduler.engine import Engine, EngineConfig, Retention
from scheduler.engine.report import next_delay
from scheduler.errors import StoreUnavailable
from scheduler.executors.base import Executor
from scheduler.model.runs import ClaimedRun
from scheduler.monitoring.hooks import RunHooks
from scheduler.stores.base import Store
from scheduler.tasks.registry import TaskRegistry
from scheduler.testing import FakeClock

from .executors import LocalExecutor, RemoteExecutor, Workers
from .faulty import Crashed, faulty
from .invariants import Checker
from .ledger import Ledger
from .operator import Operator
from .plan import RUN_FAULTS, Fault, FaultKind, Scenario

__all__ = ["CONFIG", "Outcome", "Simulation"]

#: The engine settings every replica runs with: a slow poll (the simulation
#: wakes replicas when runs are due anyway), pruning off so history stays whole.
CONFIG = EngineConfig(
    poll_interval=30.0,
    heartbeat_interval=timedelta(seconds=20),
    stale_after=timedelta(seconds=60),
    start_timeout=timedelta(minutes=10),
    retention=Retention(keep_last=None, max_age=None, replica_max_age=None),
    max_backoff=30.0,
)
WORKERS = -1  # the owner and the store caller index of the remote workers
TRACE_LINES = 4000


@dataclass(slots=True)
class Replica:
    """One replica slot: the engine of its current life, while it is up."""

    index: int
    drift: float
    life: int = 0
    alive: bool = False
    paused_until: float = 0.0
    replica_id: str = ""
    engine: Engine | None = None
    clock: FakeClock | None = None
    armed: list[list[object]] = field(default_factory=list)  # [fault, calls to go]
    crash_after: Fault | None = None


@dataclass(slots=True)
class Outcome:
    """What one seed did: its violations, the faults that took effect, its trace."""

    seed: int
    violations: list[str]
    faults: Counter[str]
    trace: list[tuple[float, str, str]]
    jobs: set[str]
    events: int = 0
    #: Planned slots the claims skipped because each had a run already.
    taken_slots: int = 0


class Simulation:
    """Plays ``scenario`` on ``store`` (empty, shared by every replica, the workers
    and the operator)."""

    def __init__(self, scenario: Scenario, store: Store) -> None:
        self.scenario = scenario
        self.seed = scenario.seed
        self.store = store
        self.now = 0.0
        self.ledger = Ledger()
        self.injected: Counter[str] = Counter()
        self.taken_slots = 0
        self.trace: deque[tuple[float, str, str]] = deque(maxlen=TRACE_LINES)
        self._heap: list[tuple[float, int, tuple[int, int], Callable[[], None]]] = []
        self._seq = 0
        self._rng = random.Random(f"timing:{scenario.seed}")
        self._hooks = RunHooks()
        self.registry = TaskRegistry()
        for task in ("sim.work", "sim.flaky"):
            self.registry.register(_never_called, name=task)
        self.replicas = [Replica(i, drift) for i, drift in enumerate(scenario.drift)]
        self.editor_lead = 0.0 if scenario.skewed_editor else max(0.0, *scenario.drift)
        self._run_faults = [f for f in scenario.faults if f.kind in RUN_FAULTS]
        self._workers = Workers(self, faulty(store, self, WORKERS), self._hooks)
        self.operator = Operator(self, store)
        self.checker = Checker(self, store)

    # -- the Host the executors and the operator use -------------------------------
    def at(self, seconds: float, action: Callable[[], None], owner: tuple[int, int]) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (seconds, self._seq, owner, action))

    def instant(self, seconds: float) -> datetime:
        return self.scenario.start + timedelta(seconds=seconds)

    def clock_of(self, replica: int) -> datetime:
        drift = self.replicas[replica].drift if replica >= 0 else 0.0
        return self.instant(self.now + drift)

    def note(self, line: str, job: str = "") -> None:
        self.trace.append((self.now, line, job))

    def run_fault(self, replica: int, claimed: ClaimedRun, remote: bool) -> Fault | None:
        for fault in self._run_faults:
            if fault.at > self.now:
                break
            if fault.kind is FaultKind.RUN_LOST and not remote:
                continue
            if fault.kind is FaultKind.RUN_HANG and (remote or claimed.job.policy.timeout is None):
                continue
            self._run_faults.remove(fault)
            self._inject(fault, f"on run {claimed.run.id} of {claimed.job.name}", claimed.job.name)
            return fault
        return None

    # -- the StoreFaults of every replica's and the workers' store -------------------
    def before_call(self, who: int, verb: str) -> None:
        if who >= 0:
            replica = self.replicas[who]
            if replica.armed:
                entry = replica.armed[0]
                fault, left = entry
                assert isinstance(fault, Fault) and isinstance(left, int)
                if left > 0:
                    entry[1] = left - 1
                else:
                    replica.armed.pop(0)
                    self._inject(fault, f"at {verb}")
                    if fault.kind is FaultKind.CRASH_BEFORE:
                        raise Crashed(fault)
                    replica.crash_after = fault
        for fault in self._outages:
            if fault.at <= self.now < fault.at + fault.seconds and fault.replica in (-1, who):
                if fault not in self._outages_felt:
                    self._outages_felt.add(fault)
                    self._inject(fault, f"felt by {'workers' if who < 0 else who} at {verb}")
                raise StoreUnavailable(f"simulated outage ({fault})")

    def after_call(self, who: int, verb: str) -> None:
        if who >= 0 and self.replicas[who].crash_after is not None:
            fault = self.replicas[who].crash_after
            self.replicas[who].crash_after = None
            raise Crashed(fault)

    # -- playing it ------------------------------------------------------------------
    def run(self) -> Outcome:
        scenario = self.scenario
        self._outages = [f for f in scenario.faults if f.kind is FaultKind.UNAVAILABLE]
        self._outages_felt: set[Fault] = set()
        self.operator.begin(scenario.jobs)
        for replica in self.replicas:
            self.at(self._rng.uniform(0, 2), partial(self._start, replica), (-1, 0))
        for op in scenario.ops:
            self.at(op.at, partial(self.operator.apply, op), (-1, 0))
        for fault in scenario.faults:
            if fault.kind in (FaultKind.CRASH_BEFORE, FaultKind.CRASH_AFTER):
                self.at(fault.at, partial(self._arm, fault), (-1, 0))
            elif fault.kind is FaultKind.CLOCK_JUMP:
                self.at(fault.at, partial(self._pause, fault), (-1, 0))
        hour = 3600.0
        while hour < scenario.end:
            self.at(hour, self.checker.check_safety, (-1, 0))
            hour += 3600.0
        events = self._play(scenario.end)
        self.checker.check_final()
        return Outcome(
            self.seed,
            self.checker.violations,
            self.injected,
            list(self.trace),
            self.checker.jobs,
            events,
            self.taken_slots,
        )

    def _play(self, end: float) -> int:
        events = 0
        while self._heap and self._heap[0][0] <= end and not self.checker.violations:
            seconds, _, owner, action = heapq.heappop(self._heap)
            self.now = seconds
            index, life = owner
            replica = self.replicas[index] if index >= 0 else None
            if replica is not None:
                if replica.life != life or not replica.alive:
                    continue
                if replica.paused_until > seconds:
                    self.at(replica.paused_until, action, owner)
                    continue
                assert replica.clock is not None
                replica.clock.set(self.clock_of(index))
            events += 1
            try:
                action()
            except Crashed as crash:
                assert replica is not None, "only replicas' stores crash"
                self._crash(replica, crash.args[0])
            except Exception as error:  # the engine let an error out: a real process dies
                where = f"replica {index}" if replica is not None else "the simulation"
                self.checker.violation(f"{where} raised {type(error).__name__}: {error}", error)
                if replica is not None:
                    self._crash(replica, None)
        self.now = end
        return events

    # -- replicas --------------------------------------------------------------------
    def _start(self, replica: Replica) -> None:
        replica.alive = True
        replica.life += 1
        owner = (replica.index, replica.life)
        if not replica.replica_id:
            replica.replica_id = f"r{replica.index}"
        replica.clock = FakeClock(self.clock_of(replica.index))
        executors: dict[str, Executor] = {
            "local": LocalExecutor(self, replica.index, replica.life),
            "remote": RemoteExecutor(self, self._workers, replica.index),
        }
        replica.engine = Engine(
            faulty(self.store, self, replica.index),
            executors,
            registry=self.registry,
            clock=replica.clock,
            replica_id=replica.replica_id,
            config=CONFIG,
            hooks=self._hooks,
        )
        self.note(f"replica {replica.index} starts as {replica.replica_id}")
        self.at(self.now, lambda: self._begin(replica), owner)

    def _begin(self, replica: Replica) -> None:
        assert replica.engine is not None
        replica.engine._begin()  # as Engine.run does, before its loop
        self._tick(replica)

    def _tick(self, replica: Replica) -> None:
        engine = replica.engine
        assert engine is not None
        report = engine._safe_tick()
        delay = next_delay(report, engine.config.poll_interval, engine.clock.now())
        if report.claimed or report.recovered:
            self.note(
                f"replica {replica.index} claimed {report.claimed}, recovered {report.recovered}"
            )
        if report.taken_slots:  # an edit from a clock behind set a job back to a claimed slot
            self.taken_slots += report.taken_slots
            self.note(f"replica {replica.index} skipped {report.taken_slots} slots that had runs")
        if report.claimed:  # only a claim sets a run going
            self.checker.check_overlap()
        wake = self.now + max(delay, 0.01) + self._rng.uniform(0, 0.3)
        self.at(wake, lambda: self._tick(replica), (replica.index, replica.life))

    def _crash(self, replica: Replica, fault: Fault | None) -> None:
        replica.alive = False
        replica.engine = None
        replica.crash_after = None
        downtime = fault.seconds if fault is not None else 30.0
        if fault is not None and fault.new_id:
            replica.replica_id = f"r{replica.index}.{replica.life}"
        self.note(f"replica {replica.index} crashed; back in {downtime:.0f}s")
        self.at(self.now + downtime, lambda: self._start(replica), (-1, 0))

    def _arm(self, fault: Fault) -> None:
        self.replicas[fault.replica].armed.append([fault, fault.nth])

    def _pause(self, fault: Fault) -> None:
        replica = self.replicas[fault.replica]
        if replica.alive and replica.paused_until <= self.now:
            replica.paused_until = self.now + fault.seconds
            self._inject(fault, "VM paused")

    def _inject(self, fault: Fault, what: str, job: str = "") -> None:
        self.injected[fault.kind.value] += 1
        self.note(f"FAULT {fault} {what}", job)


def _never_called() -> None:
    raise AssertionError("simulated executors never call the task")
