"""APScheduler 3: ``BackgroundScheduler`` with its ``SQLAlchemyJobStore`` or ``MemoryJobStore``.

The scheduler, job stores, triggers and thread-pool executor are APScheduler's
own, with their defaults (10 threads, ``misfire_grace_time`` of 1 second,
``coalesce``).  Two thin subclasses only count: the executor notes each job
it is handed (then does what it always does), the scheduler counts its
wake-ups.

Filling a SQL job store with 100,000 jobs through ``add_job`` would cost one
transaction per job, minutes of set-up; instead one job is added through
``add_job``, and its state, exactly as ``SQLAlchemyJobStore.add_job`` pickles
it, is copied under new ids in one batch.  The MemoryJobStore is filled with
``add_job`` before ``start``, as an application would.

APScheduler 3 keeps no run history: the only thing it writes per run is the
job's next run time (the whole pickled job, one transaction per job).
"""

from __future__ import annotations

import pickle
import threading
import time
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from .. import profiling
from ..common import Counter, Database, Handovers, Starts, count_sqlalchemy_statements
from . import Slot

__all__ = ["APSchedulerHarness"]

FUNC = "benchmarks.systems.apscheduler3:noop"
#: Set-up time allowed per job when the due instant is baked into the stored jobs.
FILL_SECONDS_PER_JOB = 60e-6


def noop() -> None:
    """The task every benchmark job runs."""


class CountingExecutor(ThreadPoolExecutor):  # type: ignore[misc]
    """APScheduler's thread pool, noting each job it is handed."""

    handovers: Handovers

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        super()._do_submit_job(job, run_times)
        self.handovers.add(job.id, run_times[-1].timestamp())


class CountingScheduler(BackgroundScheduler):  # type: ignore[misc]
    """APScheduler's background scheduler, counting its wake-ups."""

    wakeups: Counter
    claims: Starts

    def _process_jobs(self) -> float | None:
        self.claims.add()
        wait: float | None = super()._process_jobs()
        self.wakeups.add()
        return wait

    def _main_loop(self) -> None:
        profiling.profiled(super()._main_loop)()


class APSchedulerHarness:
    """See :class:`~benchmarks.systems.Harness`."""

    def __init__(self, database: Database | None) -> None:
        self.database = database
        self.handovers = Handovers()
        self.statements = Counter()
        self.wakeups = Counter()
        self.claims = Starts()
        self.outcomes: dict[str, int] = {"executed": 0, "missed": 0, "error": 0, "skipped": 0}
        self._lock = threading.Lock()
        self.notes = ["APScheduler 3 keeps no run history; it persists each job's next run time"]
        if database is None:
            self.notes = ["MemoryJobStore: nothing is persisted, a restart forgets every job"]
        self._pending: list[dict[str, Any]] = []  # jobs for a MemoryJobStore, added at start
        self._herd: int = 0
        self._due: float | None = None
        self._scheduler: CountingScheduler | None = None
        self._editor: BackgroundScheduler | None = None

    # -- filling the job store ---------------------------------------------------
    def _store(self) -> Any:
        if self.database is None:
            return MemoryJobStore()
        return SQLAlchemyJobStore(url=self.database.sqlalchemy_url)

    def _fill(self, template: dict[str, Any], ids: list[str]) -> None:
        """Store a copy of the job ``template`` (``add_job`` keywords) under each id."""
        if self.database is None:
            self._pending = [{**template, "id": job_id} for job_id in ids]
            return
        maker = BackgroundScheduler(jobstores={"default": MemoryJobStore()}, timezone=UTC)
        maker.start(paused=True)
        try:
            state = maker.add_job(**template, id=ids[0]).__getstate__()
        finally:
            maker.shutdown(wait=False)
        store = self._store()
        store.jobs_t.create(store.engine, checkfirst=True)
        timestamp = state["next_run_time"].timestamp()
        rows = [
            {
                "id": job_id,
                "next_run_time": timestamp,
                "job_state": pickle.dumps({**state, "id": job_id}, pickle.HIGHEST_PROTOCOL),
            }
            for job_id in ids
        ]
        with store.engine.begin() as conn:
            conn.execute(store.jobs_t.delete())
            for start in range(0, len(rows), 5000):
                conn.execute(store.jobs_t.insert(), rows[start : start + 5000])
        store.engine.dispose()

    def fill_herd(self, jobs: int) -> None:
        self._herd = jobs  # the due instant is part of each stored job: see start_herd

    def fill_quiet(self, jobs: int, cron: str) -> None:
        trigger = CronTrigger.from_crontab(cron, timezone=UTC)
        self._fill({"func": FUNC, "trigger": trigger}, [_name(i) for i in range(jobs)])

    def fill_spread(self, slots: list[Slot], period: int) -> None:
        if self.database is None:
            self._pending = [_interval_job(name, first, period) for name, first in slots]
            return
        maker = BackgroundScheduler(jobstores={"default": MemoryJobStore()}, timezone=UTC)
        maker.start(paused=True)
        try:
            states = [
                maker.add_job(**_interval_job(name, first, period)).__getstate__()
                for name, first in slots
            ]
        finally:
            maker.shutdown(wait=False)
        store = self._store()
        store.jobs_t.create(store.engine, checkfirst=True)
        with store.engine.begin() as conn:
            conn.execute(
                store.jobs_t.insert(),
                [
                    {
                        "id": state["id"],
                        "next_run_time": state["next_run_time"].timestamp(),
                        "job_state": pickle.dumps(state, pickle.HIGHEST_PROTOCOL),
                    }
                    for state in states
                ],
            )
        store.engine.dispose()

    # -- running -------------------------------------------------------------------
    def start_herd(self, lead: float) -> float:
        """Store every job with its next run time ``lead`` seconds (plus set-up) ahead, start."""
        margin = lead + self._herd * FILL_SECONDS_PER_JOB
        for _ in range(4):
            due = time.time() + margin
            trigger = CronTrigger.from_crontab("* * * * *", timezone=UTC)
            template = {
                "func": FUNC,
                "trigger": trigger,
                "next_run_time": datetime.fromtimestamp(due, UTC),
            }
            self._fill(template, [_name(i) for i in range(self._herd)])
            self.start()
            if time.time() < due - 0.2:
                self._due = due
                return due
            self.stop()  # set-up overran the due instant: start again with more room
            self.handovers, self.wakeups, self.statements = Handovers(), Counter(), Counter()
            self.claims = Starts()
            margin *= 2
        raise RuntimeError(f"could not store {self._herd} jobs ahead of their due instant")

    def start(self) -> None:
        executor = CountingExecutor()
        executor.handovers = self.handovers
        scheduler = CountingScheduler(
            jobstores={"default": self._store()},
            executors={"default": executor},
            timezone=UTC,
        )
        scheduler.wakeups, scheduler.claims = self.wakeups, self.claims
        scheduler.add_listener(
            self._outcome,
            EVENT_JOB_EXECUTED | EVENT_JOB_MISSED | EVENT_JOB_ERROR | EVENT_JOB_MAX_INSTANCES,
        )
        for job in self._pending:
            scheduler.add_job(**job)
        store = scheduler._lookup_jobstore("default")
        if isinstance(store, SQLAlchemyJobStore):
            count_sqlalchemy_statements(store.engine, self.statements)
            profiling.time_sqlalchemy(store.engine)
        self._scheduler = scheduler
        scheduler.start()

    def _outcome(self, event: JobEvent) -> None:
        kind = {
            EVENT_JOB_EXECUTED: "executed",
            EVENT_JOB_MISSED: "missed",
            EVENT_JOB_ERROR: "error",
            EVENT_JOB_MAX_INSTANCES: "skipped",
        }[event.code]
        with self._lock:
            self.outcomes[kind] += 1

    def edit(self, job: str) -> float:
        """Reschedule ``job`` to every second.

        With a SQL job store the edit comes from a second scheduler on the same
        table, as a web process would make it; with the MemoryJobStore no other
        process can see the jobs, so the running scheduler is edited itself.
        """
        trigger = IntervalTrigger(seconds=1, timezone=UTC)
        if self.database is None:
            if self._scheduler is None:
                raise RuntimeError("start the scheduler before editing its jobs")
            self._scheduler.reschedule_job(job, trigger=trigger)
            return time.time()
        if self._editor is None:
            self._editor = BackgroundScheduler(jobstores={"default": self._store()}, timezone=UTC)
            self._editor.start(paused=True)
        self._editor.reschedule_job(job, trigger=trigger)
        return time.time()

    def recorded(self) -> int | None:
        """Jobs whose stored next run time moved past the herd's due instant."""
        if self.database is None or self._due is None:
            return None
        from sqlalchemy import func, select

        store = self._store()
        try:
            with store.engine.connect() as conn:
                query = select(func.count()).where(store.jobs_t.c.next_run_time > self._due)
                return int(conn.scalar(query.select_from(store.jobs_t)) or 0)
        finally:
            store.engine.dispose()

    def details(self) -> dict[str, Any]:
        with self._lock:
            return {f"runs_{kind}": count for kind, count in self.outcomes.items()}

    def stop(self) -> dict[str, float]:
        started = time.perf_counter()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        if self._editor is not None and self._editor.running:
            self._editor.shutdown(wait=False)
        return {"stop_seconds": round(time.perf_counter() - started, 3)}


def _name(index: int) -> str:
    return f"job-{index:06d}"


def _interval_job(name: str, first: float, period: int) -> dict[str, Any]:
    start = datetime.fromtimestamp(first, UTC)
    trigger = IntervalTrigger(seconds=period, start_date=start, timezone=UTC)
    # The trigger's first fire time is its start date, exactly the slot.
    return {"func": FUNC, "trigger": trigger, "id": name, "next_run_time": start}
