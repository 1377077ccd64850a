"""Two replicas on one PostgreSQL (or MariaDB) database claim every slot exactly once.

Each replica is its own store with its own engine (its own connections), in
its own thread.  For each second of a simulated minute both claim at the same
instant, released together by a barrier; ``now`` is given, nothing sleeps.
``FOR NO KEY UPDATE SKIP LOCKED`` (``FOR UPDATE SKIP LOCKED`` on MariaDB)
splits the due jobs between them and the unique constraint would refuse any
slot claimed twice.

No run is ever finished here, so from the second slot on every job still has
an active run: ``claim_due`` leaves its new run unclaimed and the replicas
hand it over with ``claim_pending``, which splits the runs the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import ClaimedRun, NewRun
from scheduler.stores.base import SlotPlan, StoredJob
from scheduler.stores.sqlalchemy import SQLAlchemyStore
from scheduler.stores.sqlalchemy.schema import run_table

START = datetime(2026, 3, 1, 12, tzinfo=UTC)
SECOND = timedelta(seconds=1)
JOBS = 200
SECONDS = 60
REPLICAS = ("replica-a", "replica-b")


def every_slot_up_to_now(job: StoredJob, has_active_run: bool, now: datetime) -> SlotPlan:
    """One pending run for each slot from ``next_run_at`` up to ``now``, then the next slot."""
    runs = []
    slot = job.next_run_at
    while slot is not None and slot <= now:
        runs.append(NewRun(scheduled_for=slot, due_at=slot))
        slot = job.spec.next_after(slot)
    return SlotPlan(runs=tuple(runs), next_run_at=slot)


@pytest.fixture(
    params=[
        pytest.param("postgres_url", marks=pytest.mark.postgres, id="postgres"),
        pytest.param("mariadb_url", marks=pytest.mark.mariadb, id="mariadb"),
    ]
)
def replicas(request: pytest.FixtureRequest) -> Iterator[list[SQLAlchemyStore]]:
    url: str = request.getfixturevalue(request.param)
    stores = [SQLAlchemyStore(url) for _ in REPLICAS]
    stores[0].create_schema()
    try:
        yield stores
    finally:
        for store in stores:
            store.dispose()


def simulate_a_minute(stores: list[SQLAlchemyStore]) -> dict[str, list[ClaimedRun]]:
    """Both replicas claim at each of ``SECONDS`` instants; what each claimed."""
    barrier = threading.Barrier(len(stores), timeout=60)
    claimed: dict[str, list[ClaimedRun]] = {name: [] for name in REPLICAS}
    errors: list[BaseException] = []

    def replica(store: SQLAlchemyStore, name: str) -> None:
        try:
            for second in range(SECONDS):
                barrier.wait()
                now = START + second * SECOND
                claimed[name] += store.claim_due(
                    now=now, replica_id=name, limit=1000, plan=every_slot_up_to_now
                )
                # A job whose previous run is still active gets an unclaimed run.
                claimed[name] += store.claim_pending(now=now, replica_id=name, limit=1000)
        except BaseException as error:
            errors.append(error)
            barrier.abort()

    threads = [
        threading.Thread(target=replica, args=(store, name), name=name)
        for store, name in zip(stores, REPLICAS, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return claimed


def test_two_replicas_fire_each_slot_of_a_minute_exactly_once(
    replicas: list[SQLAlchemyStore],
) -> None:
    specs = [
        JobSpec.build(name=f"tick-{i:03}", task="app.tasks.tick", every=SECOND) for i in range(JOBS)
    ]
    report = replicas[0].sync_jobs(specs, source=JobSource.CODE, now=START - SECOND)
    assert len(report.added) == JOBS
    assert {job.next_run_at for job in replicas[1].list_jobs()} == {START}

    claimed = simulate_a_minute(replicas)

    with replicas[0].engine.connect() as conn:
        per_slot = (
            select(run_table.c.job_id, run_table.c.scheduled_for, func.count().label("runs"))
            .group_by(run_table.c.job_id, run_table.c.scheduled_for)
            .subquery()
        )
        unclaimed = conn.scalar(
            select(func.count()).where(run_table.c.replica_id == "").select_from(run_table)
        )
        slots, runs_min, runs_max, first, last = conn.execute(
            select(
                func.count(),
                func.min(per_slot.c.runs),
                func.max(per_slot.c.runs),
                func.min(per_slot.c.scheduled_for),
                func.max(per_slot.c.scheduled_for),
            )
        ).one()
    assert slots == JOBS * SECONDS
    assert unclaimed == 0
    assert runs_min == runs_max == 1
    assert (first, last) == (START, START + (SECONDS - 1) * SECOND)

    # Every run was handed to exactly one replica, and both did their share.
    handed = [(c.run.job_name, c.run.scheduled_for) for runs in claimed.values() for c in runs]
    assert len(handed) == len(set(handed)) == JOBS * SECONDS
    assert all(claimed[name] for name in REPLICAS), {n: len(c) for n, c in claimed.items()}
    assert all(c.run.replica_id == name for name in REPLICAS for c in claimed[name])
    assert {job.next_run_at for job in replicas[1].list_jobs()} == {START + SECONDS * SECOND}
