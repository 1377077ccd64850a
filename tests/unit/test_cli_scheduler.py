"""tickwork run / runs / jobs / pause / resume: flags, errors and history output."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scheduler.model.jobs import JobSpec
from scheduler.model.runs import NewRun, Outcome, RunStatus
from scheduler.stores.sqlalchemy import SQLAlchemyStore
from tests.cli import run

T0 = datetime(2026, 2, 1, 12, tzinfo=UTC)


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/history.sqlite3"
    store = SQLAlchemyStore(url)
    store.create_schema()
    store.save_job(
        JobSpec.build(name="nightly", task="app.tasks.nightly", cron="30 2 * * *"), now=T0
    )
    failed = store.add_run("nightly", NewRun(scheduled_for=T0, due_at=T0))
    store.mark_finished(
        failed.id,
        Outcome(
            status=RunStatus.FAILED,
            finished_at=T0,
            error="ValueError: " + "x" * 80,
            traceback="Traceback (most recent call last):\n  ...\nValueError: xxx",
        ),
    )
    store.dispose()
    return url


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--poll-interval", "0"], "--poll-interval: expected a number of seconds above 0"),
        (["run", "--duration", "-5"], "--duration: expected a number of seconds above 0"),
        (["run", "--shutdown-grace", "-1"], "--shutdown-grace: expected a number of seconds of 0"),
        (["run", "--poll-interval", "nan"], "expected a finite number of seconds"),
        (["run", "--max-workers", "0"], "--max-workers: expected a number from 1 to 10000"),
        (["runs", "--limit", "0"], "--limit: expected a number from 1 to 10000"),
        (["run", "--executor", "processes"], "invalid choice: 'processes'"),
        (["run", "--max-concurrency", "0"], "--max-concurrency: expected a number from 1"),
        (["run", "--stale-after", "20"], "--stale-after: expected more than 20 seconds (twice"),
        (["run", "--stale-after", "1m"], "--stale-after: expected a number of seconds, got '1m'"),
    ],
)
def test_bad_flags_are_refused_before_anything_is_touched(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    database = tmp_path / "untouched.sqlite3"
    code, _, err = run(capsys, *argv, "--database", f"sqlite:///{database}")
    assert code == 2 and message in err
    assert not database.exists()


def test_history_commands_never_create_a_database(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "typo.sqlite3"
    for command in ("runs", "jobs"):
        code, out, err = run(capsys, command, "--database", f"sqlite:///{missing}")
        assert (code, out) == (1, "")
        assert f"no database at {missing}" in err
    assert not missing.exists()


def test_an_unsupported_database_is_explained(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "jobs", "--database", "oracle://someone@localhost/db")
    assert code == 1
    assert "cannot use database URL 'oracle://someone@localhost/db'" in err
    assert "supports SQLite" in err and "MariaDB" in err


def test_runs_lists_history_and_marks_cut_errors(
    capsys: pytest.CaptureFixture[str], database: str
) -> None:
    code, out, _ = run(capsys, "runs", "--database", database)
    assert code == 0
    header, _rule, row = out.splitlines()
    assert header.split() == ["ID", "JOB", "SCHEDULED", "FOR", "(UTC)", "TRY", "TRIGGER",
                              "STATUS", "SECONDS", "ERROR"]  # fmt: skip
    assert "nightly" in row and "failed" in row and row.endswith("…")


def test_runs_id_shows_the_whole_error_and_traceback(
    capsys: pytest.CaptureFixture[str], database: str
) -> None:
    code, out, _ = run(capsys, "runs", "--database", database, "--id", "1")
    assert code == 0
    assert "status: failed" in out
    assert "ValueError: " + "x" * 80 in out
    assert out.rstrip().endswith("ValueError: xxx")
    code, _, err = run(capsys, "runs", "--database", database, "--id", "99")
    assert code == 1 and "no run has id 99" in err


def test_jobs_shows_next_run_in_the_jobs_zone_and_last_status(
    capsys: pytest.CaptureFixture[str], database: str
) -> None:
    code, out, _ = run(capsys, "jobs", "--database", database)
    assert code == 0
    row = out.splitlines()[2].split()
    assert row[0] == "nightly" and row[-1] == "failed"
    assert "2026-02-02T02:30:00+00:00" in row


def test_pause_and_resume_change_the_state_jobs_shows(
    capsys: pytest.CaptureFixture[str], database: str
) -> None:
    code, out, _ = run(capsys, "pause", "nightly", "--database", database)
    assert (code, out) == (0, "nightly: paused, next run -\n")
    _, out, _ = run(capsys, "jobs", "--database", database)
    assert out.splitlines()[2].split()[5:7] == ["paused", "-"]
    code, out, _ = run(capsys, "resume", "nightly", "--database", database)
    assert code == 0 and out.startswith("nightly: active, next run 20")


def test_pause_checks_every_name_before_changing_anything(
    capsys: pytest.CaptureFixture[str], database: str
) -> None:
    code, _, err = run(capsys, "pause", "nightly", "ghost", "--database", database)
    assert code == 1 and "no job is called 'ghost'" in err
    _, out, _ = run(capsys, "jobs", "--database", database)
    assert "active" in out.splitlines()[2].split()


SCHEDULES = """\
jobs:
  known:
    task: tw_cli_tasks.known
    every: 1m
  typo:
    every: 1m
    task: tw_cli_tasks.knwon
"""


@pytest.fixture
def task_dir(tmp_path: Path) -> Path:
    """A directory with a module ``tw_cli_tasks`` that registers one task, and a schedules file."""
    (tmp_path / "tw_cli_tasks.py").write_text(
        "from scheduler import job\n\n@job\ndef known():\n    return 'ok'\n"
    )
    (tmp_path / "schedules.yaml").write_text(SCHEDULES)
    return tmp_path


def test_run_names_an_unregistered_task_at_its_line_and_touches_nothing(
    capsys: pytest.CaptureFixture[str], task_dir: Path
) -> None:
    database = task_dir / "untouched.sqlite3"
    schedules = task_dir / "schedules.yaml"
    argv = ["run", "--once", "--database", f"sqlite:///{database}", "--schedules", str(schedules)]
    code, out, err = run(capsys, *argv, "--pythonpath", str(task_dir), "--import", "tw_cli_tasks")
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"{schedules}:7:11: jobs.typo.task: task 'tw_cli_tasks.knwon' is not registered: "
        "decorate it with @job in a module given to --import, allow its module with "
        "--allow 'package.module.*', or (with --executor celery) name a task the Celery "
        "app knows",
        "1 error found; nothing was loaded.",
    ]
    assert not database.exists()


def test_run_gives_back_the_signal_handlers_it_borrowed(
    capsys: pytest.CaptureFixture[str], database: str
) -> None:
    import signal

    before = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    code, _, _ = run(capsys, "run", "--once", "--executor", "immediate", "--database", database)
    assert code == 0
    assert {signum: signal.getsignal(signum) for signum in before} == before


@pytest.mark.parametrize(
    ("value", "message"),
    [("0", "expected a duration above 0"), ("soon", "soon"), ("-5m", "")],
)
def test_a_bad_start_timeout_is_refused(
    capsys: pytest.CaptureFixture[str], value: str, message: str
) -> None:
    code, _, err = run(capsys, "run", "--start-timeout", value)
    assert code == 2 and "--start-timeout" in err and message in err


def test_run_stale_after_sets_when_a_silent_replicas_runs_are_recovered(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A replica silent for 90 s: alive under --stale-after 120, dead under the default 60."""
    url = f"sqlite:///{tmp_path}/silent.sqlite3"
    store = SQLAlchemyStore(url)
    store.create_schema()
    now = datetime.now(UTC)
    silent_since = now - timedelta(seconds=90)
    store.save_job(JobSpec.build(name="report", task="app.tasks.report", every="1h"), now=now)
    store.add_run("report", NewRun(scheduled_for=silent_since, due_at=silent_since))
    (claimed,) = store.claim_pending(now=silent_since, replica_id="silent", limit=1)
    assert store.mark_running(claimed.run.id, worker="silent:1", now=silent_since)
    store.heartbeat("silent", hostname="gone", pid=1, now=silent_since)
    try:
        for flags, status in [(["--stale-after", "120"], RunStatus.RUNNING), ([], RunStatus.LOST)]:
            code, _, err = run(capsys, "run", "--once", "--database", url, *flags)
            assert code == 0, err
            assert store.get_run(claimed.run.id).status is status, flags
    finally:
        store.dispose()
