"""``manage.py run_scheduler`` stopped by Ctrl-C twice: a real process on SQLite.

The first SIGINT starts the graceful stop and says how to cut it short; the
second stops it at once.  The job signals that it started by creating a file;
the test waits for that file and for the first message (states, not times).
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from contextlib import closing
from pathlib import Path

import pytest

from tests.django.sites import ROOT, site

TASKS = """
import time
from pathlib import Path

def hold(mark: str) -> str:
    Path(mark).write_text("started")
    time.sleep(120)
    return "finished"
"""


def test_a_second_ctrl_c_stops_run_scheduler_at_once(tmp_path: Path) -> None:
    (tmp_path / "slow_tasks.py").write_text(TASKS)
    mark = tmp_path / "started"
    env = site(
        tmp_path, '\nSCHEDULER["TASKS"] = ["slow_tasks.*"]\nSCHEDULER["SHUTDOWN_GRACE"] = 60\n'
    )
    (tmp_path / "schedules.yaml").write_text(
        textwrap.dedent(
            f"""
            jobs:
              hold:
                task: slow_tasks.hold
                every: 1s
                kwargs: {{mark: {str(mark)!r}}}
            """
        )
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "django", "run_scheduler", "--duration", "90"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    try:
        deadline = time.monotonic() + 60
        while not mark.exists():
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.05)
        seen: list[str] = []
        began = time.monotonic()
        process.send_signal(signal.SIGINT)
        for line in process.stdout:
            seen.append(line)
            if "press Ctrl-C again to stop now" in line:
                break
        else:
            pytest.fail("no hint before exit:\n" + "".join(seen))
        process.send_signal(signal.SIGINT)
        output = "".join(seen) + process.communicate(timeout=30)[0]
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert time.monotonic() - began < 30, output  # neither the 60 s grace nor the 120 s job
    assert process.returncode == 128 + signal.SIGINT, output
    assert "CommandError: stopped at once by a second SIGINT" in output
    with closing(sqlite3.connect(tmp_path / "site.sqlite3")) as connection:
        statuses = connection.execute(
            "SELECT status, error FROM scheduler_run WHERE status NOT IN ('skipped', 'missed') "
            "ORDER BY id"
        ).fetchall()
    assert statuses[0] == (
        "lost",
        "scheduler stopped; executor 'default' had not finished it when told to stop now "
        "(a second stop signal)",
    ), output
    assert all(status not in ("pending", "queued", "running") for status, _ in statuses)
