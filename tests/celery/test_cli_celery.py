"""``tickwork run --executor celery``: the standalone scheduler handing runs to Celery.

The app is the test workers' app, which is on kombu's in-memory transport when
``TICKWORK_TEST_BROKER`` is not set (as in this process): the runs are handed
over (queued, with their task ids) and nothing executes them.
"""

from __future__ import annotations

from tests.celery.conftest import require_celery

require_celery()

import textwrap
from pathlib import Path

import pytest

from scheduler.cli import main
from scheduler.model.runs import RunStatus
from scheduler.stores.sqlalchemy import SQLAlchemyStore

APP = "tests.celery.worker_app.app"


def schedules(tmp_path: Path, task: str) -> Path:
    path = tmp_path / "schedules.yaml"
    path.write_text(
        textwrap.dedent(
            f"""
            jobs:
              ping:
                task: {task}
                every: 1s
                args: [6, 7]
            """
        )
    )
    return path


def run(*argv: str) -> int:
    try:
        return main(list(argv))
    except SystemExit as exit_:
        return int(exit_.code or 0)


@pytest.mark.parametrize("task", ["tests.plain.multiply", "tests.celery.worker_app.add"])
def test_runs_are_handed_to_celery(tmp_path: Path, task: str) -> None:
    database = f"sqlite:///{tmp_path}/state.sqlite3"
    code = run(
        "run", "--database", database, "--schedules", str(schedules(tmp_path, task)),
        "--import", "tests.celery.worker_app", "--executor", "celery", "--celery-app", APP,
        "--duration", "1.5", "--poll-interval", "0.1",
    )  # fmt: skip
    assert code == 0
    store = SQLAlchemyStore(database)
    try:
        runs = store.list_runs(job_name="ping")
    finally:
        store.dispose()
    # Nothing consumes the messages, so the first run stays queued and, by the
    # default overlap policy, the job's later slots are skipped.
    first, *later = sorted(runs, key=lambda r: r.id)
    assert (first.status, first.external_id) == (RunStatus.QUEUED, f"tickwork-run-{first.id}")
    assert all(r.status is RunStatus.SKIPPED for r in later)


def test_a_name_the_celery_app_does_not_know_is_refused_at_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(
        "run", "--database", f"sqlite:///{tmp_path}/s.sqlite3", "--executor", "celery",
        "--celery-app", APP, "--schedules", str(schedules(tmp_path, "tests.plain.nowhere")),
        "--once",
    )  # fmt: skip
    assert code != 0
    assert "task 'tests.plain.nowhere' is not registered" in capsys.readouterr().err


def test_celery_needs_an_app(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run("run", "--database", f"sqlite:///{tmp_path}/s.sqlite3", "--executor", "celery")
    assert code != 0
    assert "--executor celery needs the Celery app: --celery-app" in capsys.readouterr().err
