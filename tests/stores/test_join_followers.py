"""Two replicas following joins at once, while the upstream runs end: each join fires once.

``a`` and ``b`` each have a run for every one of 200 slots; ``load`` runs after
both.  A producer thread ends the runs, a's and b's of a slot in turn (b first
for every other slot), while two stores with engines of their own (two
replicas) follow chains in a loop, a few ends per pass, so that the two runs
of one slot are often followed by different replicas in overlapping
transactions.  Whichever follows the later end of a slot sees the other
(READ COMMITTED: each statement sees what was committed before it) and
completes the join; both may complete it, and the unique index on ``(job,
upstream run)`` lets one run in.  ``now`` is given, nothing sleeps.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.model.runs import NewRun, Outcome, Run, RunStatus
from scheduler.stores.sqlalchemy import SQLAlchemyStore

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
SECOND = timedelta(seconds=1)
SLOTS = 200
#: Ends taken per pass: small, so one slot's two ends go to different passes.
BATCH = 3


@pytest.fixture(
    params=[
        pytest.param("postgres_url", marks=pytest.mark.postgres, id="postgres"),
        pytest.param("mariadb_url", marks=pytest.mark.mariadb, id="mariadb"),
    ]
)
def replicas(request: pytest.FixtureRequest) -> Iterator[list[SQLAlchemyStore]]:
    url: str = request.getfixturevalue(request.param)
    stores = [SQLAlchemyStore(url) for _ in range(3)]  # two followers and the producer
    stores[0].create_schema()
    try:
        yield stores
    finally:
        for store in stores:
            store.dispose()


def _setup(store: SQLAlchemyStore) -> tuple[list[Run], list[Run]]:
    never = NOW + timedelta(days=365)  # the upstreams are never due on their own
    for name in ("a", "b"):
        spec = JobSpec.build(name=name, task="app.extract", at=never, source=JobSource.CODE)
        store.save_job(spec, now=NOW - SECOND)
    join = JobSpec.build(name="load", task="app.load", after=["a", "b"], source=JobSource.CODE)
    store.save_job(join, now=NOW - SECOND)
    slots = [NOW - timedelta(minutes=index) for index in range(SLOTS)]
    made = {
        name: [store.add_run(name, NewRun(scheduled_for=slot, due_at=slot)) for slot in slots]
        for name in ("a", "b")
    }
    return made["a"], made["b"]


def test_two_replicas_fire_every_join_exactly_once(replicas: list[SQLAlchemyStore]) -> None:
    first, second, producer = replicas
    a_runs, b_runs = _setup(producer)
    ended = threading.Event()
    errors: list[BaseException] = []
    followed: dict[int, list[Run]] = {0: [], 1: []}

    def end_runs() -> None:
        try:
            for index, (a, b) in enumerate(zip(a_runs, b_runs, strict=True)):
                pair = (a, b) if index % 2 else (b, a)
                for run in pair:
                    outcome = Outcome(status=RunStatus.SUCCEEDED, finished_at=NOW + index * SECOND)
                    producer.mark_finished(run.id, outcome)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            ended.set()

    def follow(replica: int, store: SQLAlchemyStore) -> None:
        try:
            idle = 0
            while idle < 2:  # two empty passes after the last end: nothing left
                batch = store.follow_chains(now=NOW + SLOTS * SECOND, limit=BATCH)
                followed[replica] += batch
                idle = idle + 1 if ended.is_set() and not batch else 0
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [
        threading.Thread(target=end_runs),
        threading.Thread(target=follow, args=(0, first)),
        threading.Thread(target=follow, args=(1, second)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    # Anything a replica saw locked by the other in its last passes is taken by a last one.
    last = first.follow_chains(now=NOW + SLOTS * SECOND, limit=SLOTS * 2)
    made = followed[0] + followed[1] + last
    assert sorted(run.upstream_run_id or 0 for run in made) == sorted(run.id for run in a_runs)
    stored = first.list_runs(job_name="load", limit=SLOTS * 2)
    assert len(stored) == SLOTS
    assert {run.upstream_run_id for run in stored} == {run.id for run in a_runs}
    assert {run.scheduled_for for run in stored} == {NOW + i * SECOND for i in range(SLOTS)}
    assert first.follow_chains(now=NOW + SLOTS * SECOND, limit=SLOTS * 2) == []
