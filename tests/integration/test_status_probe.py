"""``tickwork status`` against a real ``tickwork run`` process, on SQLite and PostgreSQL.

The probe's promises, each with real processes: it exits 0 while a replica
runs; 1 at once after a clean stop (SIGTERM: the replica records that it
stopped); and 1 after SIGKILL, which records nothing, once the replica's
last heartbeat is older than ``--stale-after``.

Nothing waits on a schedule: each step polls ``tickwork status`` for the
state it expects (the replica alive, the process gone, the heartbeat aged),
with a generous deadline for a busy machine.  The replica heartbeats every
10 s (``EngineConfig.heartbeat_interval``), so a ``--stale-after`` of 15 s
keeps a running replica alive and finds a killed one silent within 15 s.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from scheduler.engine.settings import EngineConfig

#: Longer than a heartbeat interval with room to spare, far shorter than the default.
STALE_AFTER = 15
DEADLINE = 60.0

assert STALE_AFTER > EngineConfig().heartbeat_interval.total_seconds() + 2


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database ``tickwork run`` makes its tables in: a new SQLite file, or an
    empty PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/probe.sqlite3"
    url: str = request.getfixturevalue("postgres_url")
    return url


def status(database: str, *args: str) -> tuple[int, dict[str, Any] | None, str]:
    """``tickwork status --json`` in a process of its own: exit code, report, stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "scheduler", "status", "--database", database, "--json", *args],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )
    report = json.loads(done.stdout) if done.stdout else None
    return done.returncode, report, done.stderr


def poll_status(database: str, want: int, *args: str) -> dict[str, Any]:
    """Ask ``tickwork status`` until it exits ``want``; its report then."""
    deadline = time.monotonic() + DEADLINE
    while True:
        code, report, err = status(database, *args)
        if code == want and report is not None:
            return report
        if time.monotonic() > deadline:
            pytest.fail(f"tickwork status never exited {want}: last {code}, {report}, {err}")
        time.sleep(0.2)


@pytest.fixture
def replica(database: str, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A ``tickwork run`` process named ``probe-1``, once status sees it alive."""
    log = (tmp_path / "run.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "scheduler", "run", "--database", database,
            "--replica-id", "probe-1", "--poll-interval", "0.2", "--shutdown-grace", "5",
            "--duration", "300",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        report = poll_status(database, 0, "--stale-after", str(STALE_AFTER))
        [live] = report["replicas"]
        assert (live["id"], live["pid"], live["state"]) == ("probe-1", process.pid, "alive")
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(DEADLINE)
        log.close()


def test_a_running_replica_is_alive_and_a_clean_stop_turns_status_1_at_once(
    database: str, replica: subprocess.Popen[str], tmp_path: Path
) -> None:
    code, report, _ = status(database)
    assert code == 0 and report is not None and report["alive"] == 1
    replica.send_signal(signal.SIGTERM)
    assert replica.wait(DEADLINE) == 0, (tmp_path / "run.log").read_text()
    code, report, err = status(database)  # at once: no waiting for the heartbeat to age
    assert code == 1, err
    assert report is not None
    [stopped] = report["replicas"]
    assert stopped["state"] == "stopped" and stopped["stopped_at"] is not None
    assert (
        err == "tickwork status: no scheduler replica is alive: 1 stopped, 0 silent for over 60s\n"
    )


def test_after_sigkill_status_turns_1_once_the_heartbeat_expired(
    database: str, replica: subprocess.Popen[str]
) -> None:
    replica.kill()
    replica.wait(DEADLINE)
    # Killed, it recorded nothing: its last heartbeat still counts for the default 60 s.
    code, report, _ = status(database)
    assert code == 0 and report is not None
    last_beat = report["replicas"][0]["heartbeat_at"]
    report = poll_status(database, 1, "--stale-after", str(STALE_AFTER))
    [silent] = report["replicas"]
    assert (silent["state"], silent["stopped_at"]) == ("silent", None)
    assert silent["heartbeat_at"] == last_beat  # no heartbeat since the kill
    age = datetime.fromisoformat(report["now"]) - datetime.fromisoformat(last_beat)
    assert age.total_seconds() > STALE_AFTER
