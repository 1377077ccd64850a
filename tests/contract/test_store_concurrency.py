"""Store contract, replicas at once: two claimers never claim the same job."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from scheduler.model.runs import ClaimedRun
from scheduler.stores.base import Store

from .helpers import NOW, RecordingPlanner, due_now

JOBS = 40
BATCH = 3


def claim_until_empty(
    store: Store, replica_id: str, planner: RecordingPlanner, start: threading.Barrier
) -> list[ClaimedRun]:
    start.wait()
    claimed: list[ClaimedRun] = []
    while batch := store.claim_due(now=NOW, replica_id=replica_id, limit=BATCH, plan=planner):
        claimed += batch
    return claimed


def test_two_threads_claiming_at_once_never_claim_the_same_job(store: Store) -> None:
    names = [f"job-{number:02d}" for number in range(JOBS)]
    due_now(store, *names)
    planner = RecordingPlanner()
    start = threading.Barrier(2)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(claim_until_empty, store, replica, planner, start)
            for replica in ("r1", "r2")
        ]
        results = [future.result(timeout=60) for future in futures]
    claimed = [c.run.job_name for result in results for c in result]
    assert sorted(claimed) == names
    assert Counter(planner.planned) == Counter(names)
    assert len(store.list_runs(limit=JOBS * 2)) == JOBS
    assert {run.replica_id for run in store.list_runs(limit=JOBS * 2)} <= {"r1", "r2"}
