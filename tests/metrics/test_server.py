"""The HTTP endpoint with a real client (urllib) on a free port of this host."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from scheduler.monitoring.address import MetricsServerError
from scheduler.monitoring.endpoint import Endpoint
from scheduler.monitoring.hooks import RunHooks
from scheduler.testing import FakeClock, MemoryStore
from tests.metrics.test_monitor import Tick

T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def endpoint(clock: FakeClock) -> Iterator[Endpoint]:
    endpoint = Endpoint(
        MemoryStore(),
        port=0,
        clock=clock,
        heartbeat_interval=timedelta(seconds=10),
        hooks=RunHooks(),
        refresh_interval=3600,
    )
    with endpoint:
        yield endpoint


def get(endpoint: Endpoint, path: str) -> tuple[int, str, str]:
    host, port = endpoint.address
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def test_metrics_are_served_in_the_prometheus_text_format(endpoint: Endpoint) -> None:
    status, content_type, body = get(endpoint, "/metrics")
    assert status == 200
    assert content_type.startswith("text/plain; version=0.0.4")
    assert "# TYPE tickwork_runs_total counter" in body
    assert "tickwork_store_up 1.0" in body  # the monitor read the store when it started


def test_healthz_is_503_until_a_heartbeat_then_200(endpoint: Endpoint, clock: FakeClock) -> None:
    status, content_type, body = get(endpoint, "/healthz")
    assert (status, content_type) == (503, "application/json")
    assert json.loads(body)["reasons"] == ["no heartbeat recorded yet"]
    endpoint.after_tick(Tick(now=clock.now(), heartbeat_at=clock.now()))
    status, _, body = get(endpoint, "/healthz")
    assert status == 200
    assert json.loads(body)["status"] == "ok"


def test_other_paths_are_404(endpoint: Endpoint) -> None:
    assert get(endpoint, "/")[0] == 404
    assert get(endpoint, "/metrics/x")[0] == 404


def test_a_port_in_use_is_refused_when_built(clock: FakeClock) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(MetricsServerError, match=f"cannot serve metrics on 127.0.0.1:{port}"):
            Endpoint(
                MemoryStore(), port=port, clock=clock, heartbeat_interval=timedelta(seconds=10)
            )
