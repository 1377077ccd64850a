"""``tickwork import apscheduler`` refuses what it cannot read (exit 2, one line, nothing
written), plans without writing under --dry-run, imports only registered tasks when told
which are, and adds to an existing schedules file without touching what is there."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

from scheduler.config import load_schedules

from ..cli import run
from .aps_store import DISABLED, IMPORTED, fill_store


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    fill_store(url, tmp_path)
    return url


def refused(capsys: pytest.CaptureFixture[str], tmp_path: Path, *argv: str) -> str:
    output = tmp_path / "out.yaml"
    code, out, err = run(capsys, "import", "apscheduler", *argv, "--output", str(output))
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1, err
    assert not output.exists()
    return err


def test_a_missing_sqlite_file_is_refused_and_not_created(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.sqlite"
    err = refused(capsys, tmp_path, "--url", f"sqlite:///{missing}")
    assert f"there is no SQLite file '{missing}'" in err
    assert not missing.exists()


def test_a_missing_table_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite"
    sqlite3.connect(path).close()
    err = refused(capsys, tmp_path, "--url", f"sqlite:///{path}", "--table", "jobs")
    assert err.startswith("tickwork: error: ") and "has no table 'jobs'" in err


@pytest.mark.postgres
def test_an_unreachable_server_is_refused_without_its_password(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = "postgresql+psycopg://someone:secret@127.0.0.1:1/jobs?connect_timeout=2"
    err = refused(capsys, tmp_path, "--url", url)
    assert "cannot read 'apscheduler_jobs' at postgresql+psycopg://someone:***@127.0.0.1:1" in err
    assert "secret" not in err


def test_without_apscheduler_the_error_names_the_extra(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "apscheduler.jobstores.sqlalchemy", None)  # not installed
    err = refused(capsys, tmp_path, "--url", f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    assert "pip install 'tickwork[apscheduler]'" in err


def test_a_malformed_url_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert "is not a database URL" in refused(capsys, tmp_path, "--url", "not a url")


def test_an_unknown_task_module_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, store_url: str
) -> None:
    err = refused(capsys, tmp_path, "--url", store_url, "--import", "no.such.tasks")
    assert "could not import task module 'no.such.tasks'" in err


def test_a_dry_run_prints_the_plan_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, store_url: str
) -> None:
    output = tmp_path / "out.yaml"
    argv = ("import", "apscheduler", "--url", store_url, "--output", str(output), "--dry-run")
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert "cron-nightly-berlin" in out and out.rstrip().endswith("Dry run: nothing written.")
    assert not output.exists()


def test_only_registered_tasks_are_imported_when_told_which_are(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, store_url: str
) -> None:
    output = tmp_path / "out.yaml"
    argv = ("--url", store_url, "--output", str(output), "--allow", "tests.importers.apsjobs.r*")
    code, out, _ = run(capsys, "import", "apscheduler", *argv)
    assert code == 0
    assert "its task 'tests.importers.apsjobs.tick' is not registered" in out
    assert load_schedules(output) == []


def test_an_existing_file_gets_only_the_jobs_it_lacks(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, store_url: str
) -> None:
    output = tmp_path / "schedules.yaml"
    mine = (
        "# Our own jobs.\n"
        "timezone: Europe/Berlin\n"
        "jobs:\n"
        "  backup:\n"
        "    task: ops.tasks.backup\n"
        '    cron: "0 3 * * *"\n'
        "  cron-month-end:  # changed by hand after an earlier import\n"
        "    task: tests.importers.apsjobs.tick\n"
        '    cron: "0 22 L * *"\n'
    )
    output.write_text(mine)
    code, out, _ = run(capsys, "import", "apscheduler", "--url", store_url, "--output", str(output))
    assert code == 0
    text = output.read_text()
    assert text.startswith(mine)
    jobs = {spec.name: spec for spec in load_schedules(output)}
    assert set(jobs) == {"backup"} | set(IMPORTED) | set(DISABLED)
    assert jobs["cron-month-end"].schedule.expr == "0 22 L * *"  # type: ignore[attr-defined]
    assert f"kept as in {output}" in out
    assert f"{len(IMPORTED) + len(DISABLED) - 1} imported" in out


def test_a_file_whose_jobs_are_not_last_is_refused_and_left_alone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, store_url: str
) -> None:
    output = tmp_path / "schedules.yaml"
    mine = 'jobs:\n  backup:\n    task: ops.tasks.backup\n    cron: "0 3 * * *"\ntimezone: UTC\n'
    output.write_text(mine)
    code, out, err = run(
        capsys, "import", "apscheduler", "--url", store_url, "--output", str(output)
    )
    assert (code, out) == (2, "")
    assert f"cannot add the jobs at the end of {output}" in err and len(err.splitlines()) == 1
    assert output.read_text() == mine
