"""A chain across two replicas on PostgreSQL, one of them killed half-way.

Two real scheduler processes share one database.  1,000 runs of ``extract``
are queued at once; ``load`` runs after each that succeeds.  When a third of
the ``load`` runs exist, one replica is killed with SIGKILL, wherever it is:
between an upstream run's end and the pass that follows it, inside that
pass's transaction, or with runs claimed and not finished.  The other
replica recovers what the dead one held (lost runs are retried) and follows
every end: each ``extract`` run that succeeded has exactly one ``load`` run
linked to it, none twice, none missing.

Real PostgreSQL, real child processes, real time (about half a minute).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import ACTIVE_STATUSES, NewRun, RunStatus, Trigger
from scheduler.stores.sqlalchemy import SQLAlchemyStore

pytestmark = [pytest.mark.postgres, pytest.mark.serial, pytest.mark.one_leg]

REPO = Path(__file__).resolve().parents[2]
UPSTREAM_RUNS = 1000
LIMIT = UPSTREAM_RUNS * 3

REPLICA = textwrap.dedent(
    """
    import sys
    import time
    from datetime import timedelta

    from scheduler.engine import Engine, EngineConfig
    from scheduler.executors.thread import ThreadExecutor
    from scheduler.stores.sqlalchemy import SQLAlchemyStore
    from scheduler.tasks.registry import TaskRegistry

    url, name = sys.argv[1], sys.argv[2]
    registry = TaskRegistry()
    # A little work each, so that the kill finds runs going.
    registry.register(lambda: time.sleep(0.005), name="tests.extract")
    registry.register(lambda: time.sleep(0.005), name="tests.load")
    engine = Engine(
        SQLAlchemyStore(url),
        {"default": ThreadExecutor(max_workers=4)},
        registry=registry,
        replica_id=name,
        config=EngineConfig(
            poll_interval=0.05,
            batch_size=50,
            heartbeat_interval=timedelta(seconds=0.5),
            stale_after=timedelta(seconds=2),
        ),
    )
    engine.run()
    """
)


def start(url: str, name: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", REPLICA, url, name], env=env, cwd=REPO)


def build(name: str, task: str, **options: object) -> JobSpec:
    return JobSpec.build(name=name, task=task, source=JobSource.CODE, **options)  # type: ignore[arg-type]


def settled(store: SQLAlchemyStore) -> bool:
    """No run is going, none is waiting, and no end waits to be followed."""
    if any(run.status in ACTIVE_STATUSES for run in store.list_runs(limit=LIMIT)):
        return False
    wake = store.next_wake()
    return wake is None or wake > _now()


def _now() -> datetime:
    return datetime.now(UTC)


def test_every_successful_upstream_run_gets_one_chained_run_when_a_replica_dies(
    postgres_url: str,
) -> None:
    store = SQLAlchemyStore(postgres_url)
    store.create_schema()
    now = _now()
    store.save_job(build("extract", "tests.extract", cron="0 0 1 1 *", retries=2), now=now)
    store.save_job(build("load", "tests.load", after=["extract"], retries=2), now=now)
    first = now.replace(microsecond=0) - timedelta(hours=1)
    for index in range(UPSTREAM_RUNS):
        slot = first + index * timedelta(milliseconds=1)
        store.add_run("extract", NewRun(scheduled_for=slot, due_at=now, trigger=Trigger.MANUAL))
    doomed, survivor = start(postgres_url, "doomed"), start(postgres_url, "survivor")
    try:
        deadline = time.monotonic() + 120
        while len(store.list_runs(job_name="load", limit=LIMIT)) < UPSTREAM_RUNS // 3:
            assert doomed.poll() is None and survivor.poll() is None, "a replica died on its own"
            assert time.monotonic() < deadline, "the chain never got going"
            time.sleep(0.02)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=30)
        while not settled(store):
            assert survivor.poll() is None, "the surviving replica died"
            assert time.monotonic() < deadline, "the runs never settled"
            time.sleep(0.2)
    finally:
        for process in (doomed, survivor):
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=30)
    try:
        extract = store.list_runs(job_name="extract", limit=LIMIT)
        load = store.list_runs(job_name="load", limit=LIMIT)
        succeeded = {run.id for run in extract if run.status is RunStatus.SUCCEEDED}
        chained = Counter(run.upstream_run_id for run in load if run.trigger is Trigger.CHAIN)
        assert set(chained) == succeeded  # none missing
        assert set(chained.values()) == {1}  # none twice
        assert len({run.scheduled_for for run in extract if run.attempt == 1}) == UPSTREAM_RUNS
        slots = {run.scheduled_for for run in extract if run.status is RunStatus.SUCCEEDED}
        assert len(slots) == UPSTREAM_RUNS  # every upstream slot succeeded, retried if lost
        # Every chained run ended well, itself or by a retry of its slot.
        done = {run.scheduled_for for run in load if run.status is RunStatus.SUCCEEDED}
        assert {run.scheduled_for for run in load} == done
    finally:
        store.dispose()


JOINED_SLOTS = 500


def test_every_slot_both_upstreams_succeeded_for_gets_one_join_run_when_a_replica_dies(
    postgres_url: str,
) -> None:
    # The same, for a join: 500 slots each of extract-a and extract-b; load runs
    # once per slot for which both succeeded (a lost attempt is retried for the slot).
    store = SQLAlchemyStore(postgres_url)
    store.create_schema()
    now = _now()
    for name in ("extract-a", "extract-b"):
        store.save_job(build(name, "tests.extract", cron="0 0 1 1 *", retries=2), now=now)
    store.save_job(build("load", "tests.load", after=["extract-a", "extract-b"]), now=now)
    first = now.replace(microsecond=0) - timedelta(hours=1)
    for index in range(JOINED_SLOTS):
        slot = first + index * timedelta(milliseconds=1)
        for name in ("extract-a", "extract-b") if index % 2 else ("extract-b", "extract-a"):
            store.add_run(name, NewRun(scheduled_for=slot, due_at=now, trigger=Trigger.MANUAL))
    doomed, survivor = start(postgres_url, "doomed"), start(postgres_url, "survivor")
    try:
        deadline = time.monotonic() + 120
        while len(store.list_runs(job_name="load", limit=LIMIT)) < JOINED_SLOTS // 3:
            assert doomed.poll() is None and survivor.poll() is None, "a replica died on its own"
            assert time.monotonic() < deadline, "the join never got going"
            time.sleep(0.02)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=30)
        while not settled(store):
            assert survivor.poll() is None, "the surviving replica died"
            assert time.monotonic() < deadline, "the runs never settled"
            time.sleep(0.2)
    finally:
        for process in (doomed, survivor):
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=30)
    try:
        succeeded = {
            name: {
                run.scheduled_for: run.id
                for run in store.list_runs(job_name=name, limit=LIMIT)
                if run.status is RunStatus.SUCCEEDED
            }
            for name in ("extract-a", "extract-b")
        }
        assert len(succeeded["extract-a"]) == len(succeeded["extract-b"]) == JOINED_SLOTS
        load = store.list_runs(job_name="load", limit=LIMIT)
        chained = Counter(run.upstream_run_id for run in load if run.trigger is Trigger.CHAIN)
        assert set(chained) == set(succeeded["extract-a"].values())  # none missing
        assert set(chained.values()) == {1}  # none twice
    finally:
        store.dispose()
