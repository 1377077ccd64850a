"""tickwork status: its tables, its JSON, its flags and its exit codes, on SQLite files.

The same command against a real ``tickwork run`` process, on SQLite and
PostgreSQL, is in ``tests/integration/test_status_probe.py``; its agreement
with ``manage.py scheduler_status`` in ``tests/django/test_status_command.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scheduler.cli.probe import ago
from scheduler.model.jobs import JobSpec
from scheduler.model.runs import NewRun
from scheduler.stores.sqlalchemy import SQLAlchemyStore
from tests.cli import run


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[SQLAlchemyStore, str]]:
    url = f"sqlite:///{tmp_path}/status.sqlite3"
    made = SQLAlchemyStore(url)
    made.create_schema()
    try:
        yield made, url
    finally:
        made.dispose()


def test_no_replica_ever_exits_1_and_says_so(
    capsys: pytest.CaptureFixture[str], store: tuple[SQLAlchemyStore, str]
) -> None:
    code, out, err = run(capsys, "status", "--database", store[1])
    assert code == 1
    assert out == "no replicas yet\n\nno runs yet\n"
    assert err == "tickwork status: no scheduler replica is alive: none has ever heartbeated\n"


def test_a_live_replica_exits_0_with_its_process_state_and_heartbeat(
    capsys: pytest.CaptureFixture[str], store: tuple[SQLAlchemyStore, str]
) -> None:
    db, url = store
    beat = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=3)
    db.heartbeat("web-1", hostname="web", pid=4242, now=beat)
    db.heartbeat("old", hostname="batch", pid=7, now=beat - timedelta(hours=2))
    db.save_job(JobSpec.build(name="nightly", task="app.tasks.n", cron="30 2 * * *"), now=beat)
    db.add_run("nightly", NewRun(scheduled_for=beat, due_at=beat))
    code, out, err = run(capsys, "status", "--database", url)
    assert (code, err) == (0, "")
    header, _, live, silent, blank, *runs, _, verdict = out.splitlines()
    assert header.split()[:4] == ["REPLICA", "PROCESS", "STATE", "LAST"]
    assert live.split()[:3] == ["web-1", "web:4242", "alive"]
    assert beat.strftime("%Y-%m-%d %H:%M:%S") in live and " ago " in live
    assert silent.split()[:3] == ["old", "batch:7", "silent"]
    assert "2h 0m ago" in silent
    assert blank == ""
    assert runs[0].split()[:2] == ["ID", "JOB"] and runs[2].split()[1] == "nightly"
    assert verdict == "1 replica alive"


def test_stale_after_and_json(
    capsys: pytest.CaptureFixture[str], store: tuple[SQLAlchemyStore, str]
) -> None:
    db, url = store
    beat = datetime.now(UTC) - timedelta(seconds=30)
    db.heartbeat("web-1", hostname="web", pid=1, now=beat)
    code, out, err = run(capsys, "status", "--database", url, "--json", "--stale-after", "10")
    assert code == 1
    report = json.loads(out)
    assert report["alive"] == 0 and report["stale_after_seconds"] == 10
    [replica] = report["replicas"]
    assert replica["state"] == "silent" and replica["stopped_at"] is None
    assert datetime.fromisoformat(replica["heartbeat_at"]) == beat
    assert 30 <= replica["heartbeat_age_seconds"] < 3600
    assert (
        err == "tickwork status: no scheduler replica is alive: 0 stopped, 1 silent for over 10s\n"
    )
    assert run(capsys, "status", "--database", url, "--json")[0] == 0  # within the default 60s


def test_a_database_that_does_not_exist_exits_2_and_creates_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(capsys, "status", "--database", f"sqlite:///{tmp_path}/none.sqlite3")
    assert (code, out) == (2, "")
    assert err.startswith("tickwork status: cannot read the scheduler's state: no database at")
    assert not (tmp_path / "none.sqlite3").exists()


def test_a_database_without_tables_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "empty.sqlite3").write_bytes(b"")
    code, _, err = run(capsys, "status", "--database", f"sqlite:///{tmp_path}/empty.sqlite3")
    assert code == 2
    assert "has no Tickwork tables" in err


def test_a_file_that_is_not_a_database_exits_2_not_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The driver's own error, which no store turns into a SchedulerError: a probe
    # must still say "cannot tell" (2), never "no replica alive" (1).
    (tmp_path / "notes.sqlite3").write_text("not a database\n" * 20)
    code, _, err = run(capsys, "status", "--database", f"sqlite:///{tmp_path}/notes.sqlite3")
    assert code == 2
    assert err.startswith("tickwork status: cannot read the scheduler's state: DatabaseError:")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--stale-after", "0"], "--stale-after: expected a number of seconds above 0"),
        (["--stale-after", "soon"], "--stale-after: expected a number of seconds, got 'soon'"),
        (["--runs", "0"], "--runs: expected a number from 1 to 10000"),
    ],
)
def test_bad_flags_exit_2_naming_the_flag(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, "status", *argv)
    assert code == 2
    assert message in err


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-2, "just now"),
        (0, "just now"),
        (4, "4s ago"),
        (200, "3m 20s ago"),
        (7260, "2h 1m ago"),
        (86_400 * 2 + 3600 * 5 + 7, "2d 5h ago"),
    ],
)
def test_ago(seconds: int, text: str) -> None:
    assert ago(timedelta(seconds=seconds)) == text
