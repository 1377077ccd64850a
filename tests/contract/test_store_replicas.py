"""Store contract, listing replicas: what ``tickwork status`` and ``scheduler_status`` read.

``list_replicas`` returns every replica the store knows, newest heartbeat
first, with the life it is in: ``started_at`` kept while it beats, a new one
after a clean stop, ``stopped_at`` set by a stop and cleared by the next beat.
Whether a listed replica is alive is :meth:`ReplicaInfo.alive`, the rule
recovery applies, checked here against what :meth:`Store.recover` does.
"""

from __future__ import annotations

from datetime import timedelta, timezone

from scheduler.model.runs import RunStatus
from scheduler.stores.base import ReplicaInfo, Store

from .helpers import HOUR, MINUTE, NOW, SECOND, assert_all_utc
from .test_store_recovery import run_of

STALE = MINUTE
#: ``NOW``, as the clock on a wall in Kathmandu shows it.
ELSEWHERE = NOW.astimezone(timezone(timedelta(hours=5, minutes=45)))


def test_a_store_without_replicas_lists_none(store: Store) -> None:
    assert store.list_replicas() == []


def test_replicas_are_listed_newest_heartbeat_first_then_by_id(store: Store) -> None:
    store.heartbeat("old", hostname="h1", pid=1, now=NOW - HOUR)
    store.heartbeat("b", hostname="h2", pid=2, now=NOW)
    store.heartbeat("a", hostname="h3", pid=3, now=NOW)
    store.heartbeat("mid", hostname="h4", pid=4, now=NOW - MINUTE)
    assert [info.id for info in store.list_replicas()] == ["a", "b", "mid", "old"]


def test_a_listed_replica_carries_its_process_and_its_life(store: Store) -> None:
    store.heartbeat("r1", hostname="web-1", pid=41, now=NOW - HOUR)
    store.heartbeat("r1", hostname="web-1", pid=42, now=NOW - SECOND)
    assert store.list_replicas() == [
        ReplicaInfo(
            id="r1",
            hostname="web-1",
            pid=42,
            started_at=NOW - HOUR,  # the same life: it never stopped
            heartbeat_at=NOW - SECOND,
            stopped_at=None,
        )
    ]


def test_a_clean_stop_is_listed_and_the_next_beat_starts_a_new_life(store: Store) -> None:
    store.heartbeat("r1", hostname="web-1", pid=41, now=NOW - HOUR)
    store.stop_replica("r1", now=NOW - MINUTE)
    [stopped] = store.list_replicas()
    assert (stopped.started_at, stopped.heartbeat_at) == (NOW - HOUR, NOW - HOUR)
    assert stopped.stopped_at == NOW - MINUTE
    store.heartbeat("r1", hostname="web-2", pid=7, now=NOW)
    assert store.list_replicas() == [
        ReplicaInfo(
            id="r1", hostname="web-2", pid=7, started_at=NOW, heartbeat_at=NOW, stopped_at=None
        )
    ]


def test_a_replica_that_stopped_without_ever_beating_is_listed_stopped(store: Store) -> None:
    store.stop_replica("never", now=NOW)
    assert store.list_replicas() == [
        ReplicaInfo(
            id="never", hostname="", pid=0, started_at=NOW, heartbeat_at=NOW, stopped_at=NOW
        )
    ]
    assert store.list_replicas()[0].state(NOW, STALE) == "stopped"


def test_listed_instants_are_in_utc(store: Store) -> None:
    store.heartbeat("r1", hostname="h", pid=1, now=ELSEWHERE - HOUR)
    store.stop_replica("r1", now=ELSEWHERE)
    [info] = store.list_replicas()
    assert (info.started_at, info.heartbeat_at, info.stopped_at) == (NOW - HOUR, NOW - HOUR, NOW)
    assert_all_utc([info.started_at, info.heartbeat_at, info.stopped_at])


def test_pruned_replicas_are_no_longer_listed(store: Store) -> None:
    store.heartbeat("gone", hostname="h1", pid=1, now=NOW - 2 * HOUR)
    store.heartbeat("here", hostname="h2", pid=2, now=NOW)
    assert store.prune_replicas(now=NOW, older_than=HOUR) == 1
    assert [info.id for info in store.list_replicas()] == ["here"]


def test_the_alive_rule_is_the_one_recovery_applies(store: Store) -> None:
    # Each replica claims a run; the ones recovery takes away are exactly the
    # runs of the replicas the listing calls not alive.
    beats = {"fresh": NOW - SECOND, "edge": NOW - STALE, "stale": NOW - STALE - SECOND}
    for replica, at in beats.items():
        store.heartbeat(replica, hostname="h", pid=1, now=at)
    store.heartbeat("stopped", hostname="h", pid=1, now=NOW - SECOND)
    store.stop_replica("stopped", now=NOW)
    runs = {name: run_of(store, name, RunStatus.RUNNING).id for name in [*beats, "stopped"]}
    listed = {info.id: info.state(NOW, STALE) for info in store.list_replicas()}
    assert listed == {"fresh": "alive", "edge": "alive", "stale": "silent", "stopped": "stopped"}
    lost = set(store.recover(now=NOW, stale_after=STALE).lost)
    assert lost == {runs[replica] for replica, state in listed.items() if state != "alive"}
