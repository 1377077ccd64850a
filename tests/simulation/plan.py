"""What a seed draws: the scenario (start, replicas, clocks, jobs, edits) and its fault plan.

Everything here is a pure function of the seed.  The workload (jobs and the
edits made to them) and the faults are drawn from separate random streams, so
that dropping a fault (the shrinker does) leaves the workload as it was.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from scheduler.model.jobs import JobSpec

__all__ = ["Fault", "FaultKind", "Op", "Scenario", "draw_scenario", "job_spec"]


class FaultKind(enum.Enum):
    """The kinds of fault a plan holds; each is counted when it takes effect."""

    CRASH_BEFORE = "crash-before"  # a replica dies at a store call, before it
    CRASH_AFTER = "crash-after"  # ... after the call committed, before the caller saw it
    UNAVAILABLE = "unavailable"  # store calls fail (StoreUnavailable) for a while
    RUN_LOST = "run-lost"  # the worker executing a run dies with it
    REPORT_LATE = "report-late"  # a run's end is reported long after it ended
    REPORT_TWICE = "report-twice"  # a run is delivered twice, and its end reported twice
    RUN_HANG = "run-hang"  # a run hangs past its job's timeout
    CLOCK_JUMP = "clock-jump"  # a replica's VM pauses, and its clock jumps on resuming


#: The faults that strike at a store call; the others strike executors or clocks.
STORE_FAULTS = frozenset({FaultKind.CRASH_BEFORE, FaultKind.CRASH_AFTER, FaultKind.UNAVAILABLE})
#: The faults that strike the next run handed over at or after their instant.
RUN_FAULTS = frozenset(
    {FaultKind.RUN_LOST, FaultKind.REPORT_LATE, FaultKind.REPORT_TWICE, FaultKind.RUN_HANG}
)


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault: its kind, when (seconds after the start), on which replica
    (``-1``: every replica, for an outage), and its size: an outage's or a
    pause's length, a crashed replica's downtime, a late report's delay.
    ``nth`` picks the store call a crash strikes (the nth at or after ``at``);
    ``new_id`` says whether a crashed replica restarts under a new id."""

    kind: FaultKind
    at: float
    replica: int
    seconds: float
    nth: int = 0
    new_id: bool = False

    def __str__(self) -> str:
        where = "all replicas" if self.replica < 0 else f"replica {self.replica}"
        extra = f" call+{self.nth}" if self.kind in STORE_FAULTS - {FaultKind.UNAVAILABLE} else ""
        new = " new id" if self.new_id else ""
        return f"{self.kind.value} t+{self.at:.1f}s {where}{extra} ({self.seconds:.0f}s{new})"


@dataclass(frozen=True, slots=True)
class Op:
    """An edit made by an operator at ``at`` seconds: ``add``, ``edit``,
    ``pause``, ``resume``, ``remove`` or ``defer``; ``choice`` picks the job
    and the new definition when the op runs (from the jobs as they are)."""

    at: float
    kind: str
    choice: int


@dataclass(frozen=True, slots=True)
class Scenario:
    """Everything one seed simulates."""

    seed: int
    start: datetime
    active: float  # seconds of faults and edits
    quiet: float  # then seconds without any, before the last check
    replicas: int
    drift: tuple[float, ...]  # each replica's clock offset from true time, seconds
    jobs: tuple[JobSpec, ...]
    ops: tuple[Op, ...]
    faults: tuple[Fault, ...] = field(default=())
    #: Whether the operator's clock is true time, so behind the replicas whose
    #: clocks run ahead (the default); otherwise it is as far ahead as the
    #: fastest replica's, as the seeds found before that was fixed were played.
    #: An edit from behind can set a job back to a slot already claimed.
    skewed_editor: bool = True

    @property
    def end(self) -> float:
        return self.active + self.quiet

    def without(self, dropped: set[int]) -> Scenario:
        """This scenario without the faults at the indexes ``dropped``."""
        kept = tuple(f for i, f in enumerate(self.faults) if i not in dropped)
        return replace(self, faults=kept)


#: Starts just before a daylight-saving change somewhere (and one without).
STARTS = (
    datetime(2026, 3, 29, 0, 20, tzinfo=UTC),  # Europe springs forward at 01:00 UTC
    datetime(2026, 10, 25, 0, 20, tzinfo=UTC),  # Europe falls back at 01:00 UTC
    datetime(2026, 3, 8, 6, 20, tzinfo=UTC),  # New York springs forward at 07:00 UTC
    datetime(2026, 11, 1, 5, 20, tzinfo=UTC),  # New York falls back at 06:00 UTC
    datetime(2026, 4, 4, 14, 20, tzinfo=UTC),  # Lord Howe falls back half an hour, 15:00 UTC
    datetime(2026, 6, 10, 8, 0, tzinfo=UTC),  # no change anywhere
)
ZONES = ("UTC", "Europe/Berlin", "Europe/London", "America/New_York", "Australia/Lord_Howe")
EVERY = ("1m", "90s", "2m", "5m", "7m")
CRONS = (
    "*/5 * * * *",
    "*/10 * * * *",
    "0 * * * *",
    "30 1 * * *",
    "30 2 * * *",
    "15 1,2,3 * * *",
    "*/10 1-3 * * *",
)
TASKS = ("sim.work", "sim.flaky")


def job_spec(name: str, rng: random.Random) -> JobSpec:
    """A job with a schedule and policies drawn from ``rng``; runs in ``local``
    (inside the replica) or ``remote`` (on workers outside it)."""
    options: dict[str, Any] = {
        "overlap": rng.choice(("skip", "skip", "allow", "queue")),
        "catchup": rng.choice(("once", "all", "skip")),
        "retries": rng.choice((0, 0, 1, 2)),
        "retry_backoff": timedelta(seconds=rng.choice((5, 20, 60))),
        "executor": rng.choice(("local", "remote")),
        "source": "yaml",
    }
    if rng.random() < 0.3:
        options["catchup_window"] = timedelta(minutes=rng.choice((5, 15)))
    if rng.random() < 0.5:
        options["timeout"] = timedelta(minutes=rng.choice((2, 4)))
    if rng.random() < 0.3:
        options["jitter"] = timedelta(seconds=rng.choice((5, 20)))
    task = rng.choice(TASKS)
    if rng.random() < 0.55:
        return JobSpec.build(name=name, task=task, every=rng.choice(EVERY), **options)
    zone = rng.choice(ZONES)
    return JobSpec.build(name=name, task=task, cron=rng.choice(CRONS), timezone=zone, **options)


#: The default length of a scenario: seconds of faults and edits, then quiet ones.
ACTIVE, QUIET = 5400.0, 1800.0


def draw_scenario(
    seed: int, *, active: float = ACTIVE, quiet: float = QUIET, skewed_editor: bool = True
) -> Scenario:
    """The scenario of ``seed``: workload from one random stream, faults from another."""
    work = random.Random(f"workload:{seed}")
    replicas = work.randint(2, 4)
    jobs = tuple(job_spec(f"job{i}", work) for i in range(work.randint(4, 8)))
    ops = tuple(
        sorted(
            (
                Op(
                    at=work.uniform(0, active),
                    kind=work.choice(("add", "edit", "edit", "pause", "resume", "remove", "defer")),
                    choice=work.randrange(1 << 30),
                )
                for _ in range(work.randint(3, 14))
            ),
            key=lambda op: op.at,
        )
    )
    rng = random.Random(f"faults:{seed}")
    drift = tuple(rng.uniform(-2.0, 2.0) for _ in range(replicas))
    return Scenario(
        seed=seed,
        start=work.choice(STARTS),
        active=active,
        quiet=quiet,
        replicas=replicas,
        drift=drift,
        jobs=jobs,
        ops=ops,
        faults=draw_faults(rng, replicas, active),
        skewed_editor=skewed_editor,
    )


def draw_faults(rng: random.Random, replicas: int, active: float) -> tuple[Fault, ...]:
    """Some faults of every kind, at random instants of the active period."""
    faults: list[Fault] = []
    for kind, low, high in (
        (FaultKind.CRASH_BEFORE, 0, 3),
        (FaultKind.CRASH_AFTER, 0, 3),
        (FaultKind.UNAVAILABLE, 0, 3),
        (FaultKind.RUN_LOST, 0, 3),
        (FaultKind.REPORT_LATE, 0, 3),
        (FaultKind.REPORT_TWICE, 0, 3),
        (FaultKind.RUN_HANG, 0, 2),
        (FaultKind.CLOCK_JUMP, 0, 2),
    ):
        for _ in range(rng.randint(low, high)):
            faults.append(_fault(kind, rng, replicas, active))
    faults.sort(key=lambda fault: fault.at)
    return tuple(faults)


def _fault(kind: FaultKind, rng: random.Random, replicas: int, active: float) -> Fault:
    at = rng.uniform(0, active)
    replica = rng.randrange(replicas)
    if kind is FaultKind.UNAVAILABLE:
        everywhere = rng.random() < 0.5
        return Fault(kind, at, -1 if everywhere else replica, rng.uniform(5, 240))
    if kind in (FaultKind.CRASH_BEFORE, FaultKind.CRASH_AFTER):
        downtime = rng.choice((rng.uniform(1, 30), rng.uniform(30, 300)))
        return Fault(kind, at, replica, downtime, nth=rng.randrange(8), new_id=rng.random() < 0.5)
    if kind is FaultKind.REPORT_LATE:
        return Fault(kind, at, replica, rng.uniform(30, 600))
    if kind is FaultKind.CLOCK_JUMP:
        return Fault(kind, at, replica, rng.uniform(20, 400))
    return Fault(kind, at, replica, 0.0)
