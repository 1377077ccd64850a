"""Housekeeping on its own: each chore at its own interval, on the in-memory store."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scheduler.engine.housekeeping import Housekeeping
from scheduler.engine.settings import EngineConfig, Retention
from scheduler.errors import StoreUnavailable
from scheduler.model.jobs import JobSpec
from scheduler.model.runs import NewRun, Outcome, RunStatus
from scheduler.stores.base import RecoveryReport
from scheduler.testing import MemoryStore

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


class SpyStore(MemoryStore):
    """A memory store that notes each housekeeping verb it is asked, and can fail recovery."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, datetime]] = []
        self.beats: list[tuple[str, str, int]] = []
        self.recover_fails = False

    def heartbeat(self, replica_id: str, *, hostname: str, pid: int, now: datetime) -> None:
        self.calls.append(("heartbeat", now))
        self.beats.append((replica_id, hostname, pid))
        super().heartbeat(replica_id, hostname=hostname, pid=pid, now=now)

    def recover(self, **kwargs: Any) -> RecoveryReport:
        self.calls.append(("recover", kwargs["now"]))
        if self.recover_fails:
            raise StoreUnavailable("database restarting")
        return super().recover(**kwargs)

    def prune(self, **kwargs: Any) -> int:
        self.calls.append(("prune", kwargs["now"]))
        return super().prune(**kwargs)

    def prune_replicas(self, **kwargs: Any) -> int:
        self.calls.append(("prune_replicas", kwargs["now"]))
        return super().prune_replicas(**kwargs)

    def stop_replica(self, replica_id: str, *, now: datetime) -> None:
        self.calls.append(("stop_replica", now))
        super().stop_replica(replica_id, now=now)

    def take_calls(self) -> list[tuple[str, datetime]]:
        calls, self.calls = self.calls, []
        return calls


@pytest.fixture
def store() -> SpyStore:
    return SpyStore()


def housekeeping(store: SpyStore, **config: Any) -> Housekeeping:
    return Housekeeping(store, replica_id="r1", config=EngineConfig(**config))


def running_run(store: MemoryStore, replica_id: str, now: datetime) -> int:
    """A run that ``replica_id`` claimed and started in its own process at ``now``."""
    store.save_job(JobSpec.build(name="sync", task="tests.ok", every="1h"), now=now)
    store.add_run("sync", NewRun(scheduled_for=now, due_at=now))
    (claimed,) = store.claim_pending(now=now, replica_id=replica_id, limit=10)
    assert store.mark_running(claimed.run.id, worker="host:1", now=now)
    return claimed.run.id


def test_heartbeat_and_recovery_happen_once_per_heartbeat_interval(store: SpyStore) -> None:
    chores = housekeeping(store, heartbeat_interval=timedelta(seconds=10))
    assert chores.tend(T0) == 0
    assert store.take_calls() == [("heartbeat", T0), ("recover", T0)]
    assert chores.tend(T0 + 9 * SECOND) == 0
    assert store.take_calls() == []
    chores.tend(T0 + 10 * SECOND)
    assert store.take_calls() == [("heartbeat", T0 + 10 * SECOND), ("recover", T0 + 10 * SECOND)]


def test_the_heartbeat_names_this_host_and_process(store: SpyStore) -> None:
    chores = housekeeping(store)
    assert chores.heartbeat_if_due(T0)
    assert not chores.heartbeat_if_due(T0)
    assert store.beats == [("r1", socket.gethostname(), os.getpid())]


def test_recovery_marks_the_runs_of_a_silent_replica_lost(store: SpyStore) -> None:
    orphan = running_run(store, "r2", T0)
    store.heartbeat("r2", hostname="h", pid=2, now=T0)
    chores = housekeeping(store, stale_after=timedelta(seconds=60))
    assert chores.recover_if_due(T0 + 60 * SECOND) == 0  # silent for 60 s: not yet stale
    assert chores.recover_if_due(T0 + 69 * SECOND) == 0  # stale, but recovered 9 s ago
    assert chores.recover_if_due(T0 + 70 * SECOND) == 1
    lost = store.get_run(orphan)
    assert (lost.status, lost.error) == (RunStatus.LOST, "replica r2 stopped heartbeating")


def test_a_failed_recovery_counts_as_done_until_the_next_interval(store: SpyStore) -> None:
    chores = housekeeping(store, heartbeat_interval=timedelta(seconds=10))
    store.recover_fails = True
    with pytest.raises(StoreUnavailable):
        chores.tend(T0)
    store.recover_fails = False
    assert chores.tend(T0 + 5 * SECOND) == 0
    assert store.take_calls() == [("heartbeat", T0), ("recover", T0)]


def test_begin_closes_a_previous_life_of_the_same_replica_id(store: SpyStore) -> None:
    orphan = running_run(store, "r1", T0)
    store.heartbeat("r1", hostname="h", pid=1, now=T0)  # the crashed process was alive
    store.take_calls()
    assert housekeeping(store).begin(T0 + SECOND) == 1
    assert store.get_run(orphan).status is RunStatus.LOST
    assert store.take_calls() == [("stop_replica", T0 + SECOND), ("recover", T0 + SECOND)]


def test_begin_leaves_the_first_recovery_to_the_interval(store: SpyStore) -> None:
    chores = housekeeping(store)
    chores.begin(T0)
    chores.tend(T0)
    assert [name for name, _ in store.take_calls()] == [
        "stop_replica",
        "recover",
        "heartbeat",
        "recover",
    ]


def test_pruning_happens_once_per_prune_interval(store: SpyStore) -> None:
    chores = housekeeping(store, prune_interval=timedelta(hours=1))
    assert chores.prune_if_due(T0) == (0, 0)
    assert store.take_calls() == [("prune", T0), ("prune_replicas", T0)]
    assert chores.prune_if_due(T0 + timedelta(minutes=59)) == (0, 0)
    assert store.take_calls() == []
    chores.prune_if_due(T0 + timedelta(hours=1))
    assert [name for name, _ in store.take_calls()] == ["prune", "prune_replicas"]


def test_pruning_counts_what_it_deleted(store: SpyStore) -> None:
    store.stop_replica("gone", now=T0 - timedelta(days=8))
    finished = running_run(store, "r2", T0 - timedelta(days=31))
    store.mark_finished(
        finished, Outcome(status=RunStatus.SUCCEEDED, finished_at=T0 - timedelta(days=31))
    )
    assert housekeeping(store).prune_if_due(T0) == (1, 1)


def test_a_retention_switched_off_prunes_nothing(store: SpyStore) -> None:
    retention = Retention(keep_last=None, max_age=None, replica_max_age=None)
    assert housekeeping(store, retention=retention).prune_if_due(T0) == (0, 0)
    assert store.take_calls() == []


def test_stop_records_that_the_replica_stopped(store: SpyStore) -> None:
    housekeeping(store).stop(T0)
    assert store.take_calls() == [("stop_replica", T0)]
