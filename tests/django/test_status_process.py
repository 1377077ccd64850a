"""``manage.py scheduler_status`` against a real ``manage.py run_scheduler`` process.

As ``tests/integration/test_status_probe.py`` does for ``tickwork``: 0 while
the replica runs, 1 at once after SIGTERM, because ``run_scheduler`` records
the replica's stop as it exits.  Each step polls the probe for the state it
expects; nothing waits on a schedule.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.django.sites import ROOT, manage, site

DEADLINE = 60.0


def status(env: dict[str, str]) -> tuple[int, dict[str, Any] | None, str]:
    done = manage(env, "scheduler_status", "--json", check=False)
    return done.returncode, json.loads(done.stdout) if done.stdout else None, done.stderr


def poll_alive(env: dict[str, str], process: subprocess.Popen[bytes], log: Path) -> dict[str, Any]:
    """Ask ``scheduler_status`` until it exits 0; its report then."""
    deadline = time.monotonic() + DEADLINE
    while True:
        code, report, err = status(env)
        if code == 0 and report is not None:
            return report
        if time.monotonic() > deadline or process.poll() is not None:
            pytest.fail(f"never alive: {code} {report} {err}\n{log.read_text()}")
        time.sleep(0.2)


def test_scheduler_status_follows_a_real_run_scheduler(tmp_path: Path) -> None:
    env = site(tmp_path)
    code, report, err = status(env)
    assert (code, report and report["replicas"]) == (1, []), err
    with (tmp_path / "run.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "django", "run_scheduler", "--replica-id", "dj-1"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            report = poll_alive(env, process, tmp_path / "run.log")
            [live] = report["replicas"]
            assert (live["id"], live["pid"], live["state"]) == ("dj-1", process.pid, "alive")
            process.send_signal(signal.SIGTERM)
            assert process.wait(DEADLINE) == 0, (tmp_path / "run.log").read_text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(DEADLINE)
    code, report, err = status(env)
    assert code == 1 and report is not None
    assert [r["state"] for r in report["replicas"]] == ["stopped"]
    assert "no scheduler replica is alive: 1 stopped, 0 silent for over 60s" in err
