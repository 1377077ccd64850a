"""SCHEDULER["METRICS"] and ``run_scheduler --metrics-port``: read, checked, and served."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from scheduler.django.checks import check_scheduler
from scheduler.django.runner import RunOptions, run
from scheduler.django.settings import read_settings
from scheduler.django.store import DjangoStore
from scheduler.testing import FakeClock

START = datetime(2026, 3, 1, 12, tzinfo=UTC)
PING = "tests.django.testapp.tasks.ping"
#: What /metrics shows once the monitor has read the synced job.
ACTIVE_JOB = 'tickwork_jobs{state="active"} 1.0'


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port of this host that something already listens on."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_metrics_are_read_with_the_default_host() -> None:
    found, problems = read_settings({"METRICS": {"PORT": 9100}})
    assert problems == []
    assert (found.metrics_port, found.metrics_host) == (9100, "127.0.0.1")
    found, _ = read_settings({"METRICS": {"PORT": 9100, "HOST": "0.0.0.0"}})  # noqa: S104
    assert found.metrics_host == "0.0.0.0"  # noqa: S104
    assert read_settings({})[0].metrics_port is None


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ({"PORT": "9100"}, "SCHEDULER['METRICS']['PORT'] must be a port number from 0 to 65535"),
        ({"PORT": 70000}, "got 70000"),
        ({}, "got None"),
        ({"PORT": 9100, "HOST": ""}, "SCHEDULER['METRICS']['HOST'] must be an address"),
        (9100, "SCHEDULER['METRICS'] must be a dict, got 9100"),
    ],
)
def test_a_bad_metrics_setting_is_e002_naming_the_key(
    settings: Any, value: object, words: str
) -> None:
    settings.SCHEDULER = {"METRICS": value}
    [message] = check_scheduler()
    assert message.id == "scheduler.E002"
    assert words in message.msg
    assert message.hint and "METRICS" in message.hint


def test_an_unknown_metrics_key_is_e001(settings: Any) -> None:
    settings.SCHEDULER = {"METRICS": {"PORT": 9100, "PATH": "/m"}}
    [message] = check_scheduler()
    assert (message.id, message.msg) == (
        "scheduler.E001",
        "SCHEDULER['METRICS'] has an unknown key 'PATH'",
    )


@pytest.fixture
def configured(settings: Any, alias: str, tmp_path: Path) -> Path:
    path = tmp_path / "schedules.yaml"
    path.write_text(f"jobs:\n  ping:\n    task: {PING}\n    every: 10s\n")
    settings.SCHEDULER = {
        "SCHEDULES": path,
        "DATABASE": alias,
        "EXECUTORS": {"default": {"BACKEND": "scheduler.executors.immediate.ImmediateExecutor"}},
    }
    return path


def test_a_metrics_port_in_use_stops_run_scheduler_before_anything_is_claimed(
    configured: Path, settings: Any, django_store: DjangoStore, taken_port: int
) -> None:
    settings.SCHEDULER["METRICS"] = {"PORT": taken_port}
    with pytest.raises(CommandError, match=f"cannot serve metrics on 127.0.0.1:{taken_port}"):
        call_command("run_scheduler", "--once", "--log-level", "error")
    assert django_store.list_runs() == []
    assert django_store.list_jobs() == []  # not even the schedules file was read


def test_the_command_flag_wins_over_the_setting(
    configured: Path, settings: Any, django_store: DjangoStore, taken_port: int
) -> None:
    settings.SCHEDULER["METRICS"] = {"PORT": taken_port}
    run(RunOptions(duration=30, metrics_port=free_port()), clock=FakeClock(START))
    assert len(django_store.list_runs()) == 3
    with pytest.raises(CommandError, match=f"127.0.0.1:{taken_port}"):
        call_command("run_scheduler", "--once", "--metrics-port", str(taken_port))


def test_run_scheduler_serves_healthz_and_metrics_while_it_runs(
    configured: Path, settings: Any, django_store: DjangoStore
) -> None:
    """The real clock for four seconds; a thread asks /healthz and /metrics meanwhile."""
    port = free_port()
    settings.SCHEDULER["METRICS"] = {"PORT": port}
    answers: list[tuple[int, str]] = []

    def ask() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as ok:
                    health = (ok.status, ok.read().decode())
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as m:
                    metrics = (m.status, m.read().decode())
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)  # not serving yet, or not healthy yet (503)
                continue
            # The store's gauges follow the first wake-up's read of the store,
            # in the monitor's own thread: on a busy machine a moment later.
            # Until then they may hold its read from before the schedules file
            # was synced, with no active job yet.
            if ACTIVE_JOB in metrics[1] or time.monotonic() >= deadline:
                answers[:] = [health, metrics]
                return
            answers[:] = [health, metrics]
            time.sleep(0.1)

    asking = threading.Thread(target=ask)
    asking.start()
    run(RunOptions(duration=4, replica_id="served"))
    asking.join()
    [(health_status, health), (metrics_status, metrics)] = answers
    assert (health_status, json.loads(health)["status"]) == (200, "ok")
    assert metrics_status == 200
    assert ACTIVE_JOB in metrics
    assert "tickwork_store_up 1.0" in metrics
