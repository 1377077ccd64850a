"""``tickwork run --notify-webhook URL``: a failing run reaches a real local receiver;
bad URLs and unknown notifier names in the schedules file are refused at start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scheduler.cli import main
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import JobSource
from scheduler.stores.sqlalchemy import SQLAlchemyStore
from tests.notify.sink import running_sink

TASKS = """\
from scheduler import job

@job
def explode():
    raise RuntimeError("no disk left")
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    return code, capsys.readouterr().err


@pytest.fixture
def task_dir(tmp_path: Path) -> Path:
    (tmp_path / "tw_notify_tasks.py").write_text(TASKS)
    return tmp_path


def test_a_failed_run_is_posted_to_the_webhook(
    capsys: pytest.CaptureFixture[str], task_dir: Path
) -> None:
    url = f"sqlite:///{task_dir}/notify.sqlite3"
    store = SQLAlchemyStore(url)
    store.create_schema()
    # --once runs on the real clock: anchor an hourly grid so one slot is a second old.
    anchor = datetime.now(UTC) - timedelta(hours=1, seconds=1)
    store.save_job(
        JobSpec.build(
            name="disk", task="tw_notify_tasks.explode", every="1h", start=anchor,
            source=JobSource.CODE,
        ),
        now=anchor,
    )  # fmt: skip
    store.dispose()
    with running_sink() as sink:
        code, err = run(
            capsys, "run", "--once", "--executor", "immediate", "--database", url,
            "--pythonpath", str(task_dir), "--import", "tw_notify_tasks",
            "--notify-webhook", sink.url,
        )  # fmt: skip
    assert code == 0, err
    [posted] = sink.received
    assert (posted["job"], posted["status"], posted["error"]) == (
        "disk",
        "failed",
        "RuntimeError: no disk left",
    )


def test_a_bad_webhook_url_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    database = tmp_path / "untouched.sqlite3"
    code, err = run(
        capsys, "run", "--once", "--database", f"sqlite:///{database}",
        "--notify-webhook", "hooks.example.com/x",
    )  # fmt: skip
    assert code == 1
    assert "URL must be an http:// or https:// address, got 'hooks.example.com/x'" in err
    assert not database.exists()


def test_a_job_naming_an_unknown_notifier_is_refused_at_its_line(
    capsys: pytest.CaptureFixture[str], task_dir: Path
) -> None:
    schedules = task_dir / "schedules.yaml"
    schedules.write_text(
        "jobs:\n  disk:\n    task: tw_notify_tasks.explode\n    every: 1h\n"
        "    notify: [webhook, pager]\n"
    )
    database = task_dir / "untouched.sqlite3"
    code, err = run(
        capsys, "run", "--once", "--database", f"sqlite:///{database}",
        "--schedules", str(schedules), "--pythonpath", str(task_dir),
        "--import", "tw_notify_tasks", "--notify-webhook", "http://127.0.0.1:9/",
    )  # fmt: skip
    assert code == 1
    assert err.splitlines()[0] == (
        f"{schedules}:5:13: jobs.disk.notify: no notifier named 'pager' (configured: webhook)"
    )
    assert not database.exists()
