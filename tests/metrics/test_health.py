"""The health rules on a fake clock: heartbeat within its interval plus slack, store answering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scheduler.monitoring.health import Health

T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.fixture
def health() -> Health:
    return Health(heartbeat_interval=10 * SECOND, slack=2 * SECOND)


def test_a_replica_that_never_reached_the_store_is_unhealthy(health: Health) -> None:
    report = health.check(T0)
    assert not report.healthy
    assert report.reasons == ("the store has not been reached yet", "no heartbeat recorded yet")
    assert report.as_json()["status"] == "unhealthy"


def test_healthy_while_the_heartbeat_is_within_interval_and_slack(health: Health) -> None:
    health.heartbeat(T0)
    health.store_answered(T0)
    assert health.check(T0 + 12 * SECOND).healthy
    late = health.check(T0 + 13 * SECOND)
    assert not late.healthy
    assert late.reasons == ("last heartbeat 13.0s ago, more than the 12s allowed",)
    health.heartbeat(T0 + 10 * SECOND)
    assert health.check(T0 + 13 * SECOND).healthy
    assert health.check(T0 + 13 * SECOND).as_json() == {
        "status": "ok",
        "store_up": True,
        "last_heartbeat": "2026-06-01T12:00:10+00:00",
    }


def test_an_older_heartbeat_does_not_replace_a_newer_one(health: Health) -> None:
    health.heartbeat(T0 + 5 * SECOND)
    health.heartbeat(T0)
    health.heartbeat(None)
    assert health.check(T0).last_heartbeat == T0 + 5 * SECOND


def test_the_latest_store_call_decides(health: Health) -> None:
    health.heartbeat(T0)
    health.store_answered(T0)
    health.store_failed(T0 + SECOND, "connection refused")
    report = health.check(T0 + SECOND)
    assert not report.healthy and not report.store_up
    assert report.reasons == ("store unavailable at 2026-06-01T12:00:01+00:00: connection refused",)
    assert report.as_json()["reasons"] == list(report.reasons)
    health.store_answered(T0)  # an answer older than the failure changes nothing
    assert not health.check(T0 + SECOND).healthy
    health.store_answered(T0 + 2 * SECOND)
    assert health.check(T0 + 2 * SECOND).healthy


@pytest.mark.parametrize(
    ("interval", "slack"), [(timedelta(0), SECOND), (SECOND, -SECOND)], ids=["interval", "slack"]
)
def test_bad_settings_are_refused(interval: timedelta, slack: timedelta) -> None:
    with pytest.raises(ValueError, match="heartbeat_interval must be positive"):
        Health(heartbeat_interval=interval, slack=slack)
