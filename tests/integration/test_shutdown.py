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


def _wait_for_line(process: subprocess.Popen[str], text: str, seen: list[str]) -> None:
    """Read the scheduler's output until a line holds ``text`` (a state, not a time)."""
    assert process.stdout is not None
    for line in process.stdout:
        seen.append(line)
        if text in line:
            return
    pytest.fail(f"the scheduler exited before saying {text!r}:\n{''.join(seen)}")


@pytest.mark.serial  # two signals a moment apart to a real process: once timed out beside others
def test_a_second_ctrl_c_stops_at_once_and_records_the_run_lost(tmp_path: Path) -> None:
    """The first SIGINT starts the 60 s grace and says how to skip it; the second
    ends it: the running job is recorded lost and the exit status is 130."""
    process, mark, database = _start(tmp_path, hold=120.0, grace=60.0)
    _wait_for(mark, process)
    seen: list[str] = []
    began = time.monotonic()
    process.send_signal(signal.SIGINT)
    _wait_for_line(process, "press Ctrl-C again to stop now", seen)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    output = "".join(seen) + output
    assert time.monotonic() - began < 30, output  # not the 60 s grace, nor the 120 s job
    assert process.returncode == 128 + signal.SIGINT, output
    assert "received SIGINT again: stopping now" in output
    assert "tickwork: stopped at once by a second SIGINT" in output
    (status, error), *rest = _statuses(database)
    assert (status, error) == (
        "lost",
        "scheduler stopped; executor 'default' had not finished it when told to stop now "
        "(a second stop signal)",
    ), output
    assert all(other not in ("pending", "queued", "running") for other, _ in rest), rest
