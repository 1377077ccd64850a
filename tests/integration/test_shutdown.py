"""SIGTERM while a thread- or process-executor job is running: nothing is left `running`.

A real `tickwork run` process on SQLite.  The task signals that it started by
creating a file; the test waits for that file (a state, not a schedule), sends
SIGTERM, and reads the run table once the process has exited.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from contextlib import closing
from pathlib import Path

import pytest

TASKS = """
import os, time
from pathlib import Path
from scheduler.tasks.registry import job

@job
def hold(seconds: float) -> str:
    Path(os.environ["TICKWORK_TEST_MARK"]).write_text(str(os.getpid()))
    time.sleep(seconds)
    return "finished"
"""


def _start(
    tmp_path: Path, hold: float, grace: float, executor: str = "thread"
) -> tuple[subprocess.Popen[str], Path, Path]:
    (tmp_path / "shutdown_tasks.py").write_text(TASKS)
    schedules = tmp_path / "schedules.yaml"
    schedules.write_text(
        textwrap.dedent(
            f"""
            jobs:
              hold:
                task: shutdown_tasks.hold
                every: 1s
                kwargs: {{seconds: {hold}}}
            """
        )
    )
    database = tmp_path / "state.sqlite3"
    mark = tmp_path / "started"
    process = subprocess.Popen(
        [
            sys.executable, "-m", "scheduler", "run",
            "--database", f"sqlite:///{database}", "--schedules", str(schedules),
            "--pythonpath", str(tmp_path), "--import", "shutdown_tasks",
            "--executor", executor, "--shutdown-grace", str(grace), "--duration", "60",
        ],
        env={**os.environ, "TICKWORK_TEST_MARK": str(mark)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    return process, mark, database


def _wait_for(path: Path, process: subprocess.Popen[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text()):
        if process.poll() is not None or time.monotonic() > deadline:
            output = process.communicate()[0] if process.poll() is not None else ""
            process.kill()
            pytest.fail(f"the job never started; scheduler output:\n{output}")
        time.sleep(0.05)


def _statuses(database: Path) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(database)) as connection:
        query = "SELECT status, error FROM scheduler_run WHERE status NOT IN ('skipped', 'missed')"
        return connection.execute(query + " ORDER BY id").fetchall()


@pytest.mark.parametrize(
    ("hold", "grace", "expected"),
    [(1.5, 30.0, "succeeded"), (30.0, 0.5, "lost")],
    ids=["finishes-within-grace", "lost-after-grace"],
)
def test_sigterm_during_a_running_job(
    tmp_path: Path, hold: float, grace: float, expected: str
) -> None:
    process, mark, database = _start(tmp_path, hold, grace)
    _wait_for(mark, process)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    statuses = _statuses(database)
    assert statuses, output
    assert all(status not in ("pending", "queued", "running") for status, _ in statuses), statuses
    assert statuses[0][0] == expected, (statuses, output)
    if expected == "lost":
        assert "shutdown grace" in statuses[0][1]
    assert "stopped" in output


@pytest.mark.parametrize(
    ("hold", "grace", "expected"),
    [(1.5, 30.0, "succeeded"), (30.0, 0.5, "lost")],
    ids=["finishes-within-grace", "killed-after-grace"],
)
def test_sigterm_during_a_running_process_executor_job(
    tmp_path: Path, hold: float, grace: float, expected: str
) -> None:
    """The child gets the grace; one still running after it is killed, its run lost."""
    process, mark, database = _start(tmp_path, hold, grace, executor="process")
    _wait_for(mark, process)
    child = int(mark.read_text())
    assert child != process.pid
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    statuses = _statuses(database)
    assert all(status not in ("pending", "queued", "running") for status, _ in statuses), statuses
    assert statuses[0][0] == expected, (statuses, output)
    if expected == "lost":
        assert "shutdown grace" in statuses[0][1]
    assert not Path(f"/proc/{child}").exists()  # killed and reaped, not orphaned
