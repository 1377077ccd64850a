"""A real ``tickwork run`` process serving metrics, and a real HTTP client for it.

The tests wait for states (a file's runs, an HTTP answer), never for a
schedule: every wait polls with a deadline that only a failing test reaches.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[2]
WAIT = 60.0  # seconds: only a failing test waits this long

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(check: Callable[[], T | None], what: str, timeout: float = WAIT) -> T:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:g}s waiting for {what}")
        time.sleep(0.1)


def get(port: int, path: str) -> tuple[int, str]:
    """GET ``path`` of 127.0.0.1:``port``: the status and the body (0 when nothing answers)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except (urllib.error.URLError, ConnectionError):
        return 0, ""


def health(port: int) -> tuple[int, dict[str, Any]]:
    status, body = get(port, "/healthz")
    return status, (json.loads(body) if body else {})


def runs_total(port: int) -> dict[tuple[str, str], int]:
    """``tickwork_runs_total`` as scraped now, by (job, status)."""
    status, body = get(port, "/metrics")
    assert status == 200, (status, body)
    return {
        (sample.labels["job"], sample.labels["status"]): int(sample.value)
        for family in text_string_to_metric_families(body)
        if family.name == "tickwork_runs"
        for sample in family.samples
        if sample.name == "tickwork_runs_total"
    }


@dataclass
class Scheduler:
    """``tickwork run`` on ``database`` with ``schedules``, serving metrics on ``port``."""

    tmp: Path
    database: str
    schedules: str
    tasks: str
    port: int
    extra: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        (self.tmp / "metrics_tasks.py").write_text(self.tasks)
        schedules = self.tmp / "schedules.yaml"
        schedules.write_text(self.schedules)
        return [
            sys.executable, "-m", "scheduler", "run", "--database", self.database,
            "--schedules", str(schedules), "--pythonpath", str(self.tmp),
            "--import", "metrics_tasks", "--executor", "thread", "--max-workers", "8",
            "--metrics-port", str(self.port), "--shutdown-grace", "5", *self.extra,
        ]  # fmt: skip

    def start(self) -> Scheduler:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        with (self.tmp / "scheduler.log").open("wb") as out:
            self.process = subprocess.Popen(
                self.command(), cwd=self.tmp, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        return self

    def output(self) -> str:
        return (self.tmp / "scheduler.log").read_text(errors="replace")

    def healthy(self) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"the scheduler exited:\n{self.output()}")
            status, body = health(self.port)
            return body if status == 200 else None

        return wait_for(check, "/healthz to answer 200")

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
