"""ReplicaInfo: the one rule for whether a replica is alive, and the word listings show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scheduler.stores.base import ReplicaInfo

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
STALE = timedelta(seconds=60)


def replica(beat_ago: float, *, stopped: bool = False) -> ReplicaInfo:
    beat = NOW - timedelta(seconds=beat_ago)
    return ReplicaInfo(
        id="r1",
        hostname="web",
        pid=1,
        started_at=beat - timedelta(hours=1),
        heartbeat_at=beat,
        stopped_at=NOW if stopped else None,
    )


@pytest.mark.parametrize(
    ("beat_ago", "stopped", "alive", "state"),
    [
        (0, False, True, "alive"),
        (60, False, True, "alive"),  # exactly stale_after ago: still alive, as recovery says
        (60.001, False, False, "silent"),
        (3600, False, False, "silent"),
        (0, True, False, "stopped"),  # a clean stop counts at once, however fresh the beat
        (3600, True, False, "stopped"),
    ],
)
def test_alive_and_state(beat_ago: float, stopped: bool, alive: bool, state: str) -> None:
    info = replica(beat_ago, stopped=stopped)
    assert info.alive(NOW, STALE) is alive
    assert info.state(NOW, STALE) == state


def test_a_heartbeat_ahead_of_now_counts_as_alive() -> None:
    # Another host's clock may run a little ahead of this one's.
    assert replica(-5).alive(NOW, STALE)
