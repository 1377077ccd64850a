"""scheduler_import_background_tasks on tables made by django-background-tasks' own
migrations, rows made by its own manager, on SQLite and PostgreSQL: one-off tasks become
deferred calls, repeating ones jobs in the file, and importing twice changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from scheduler.config import load_schedules
from scheduler.django.store import DjangoStore
from scheduler.model.policies import JobSource
from scheduler.schedules import Every, Once

bgt = pytest.importorskip("background_task.models", reason="django-background-tasks 1.2.8")

REMIND = "tests.django.testapp.tasks.remind"
PING = "tests.django.testapp.tasks.ping"
SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)


@pytest.fixture
def bgt_db(settings: Any, alias: str) -> str:
    """The test database with django-background-tasks' tables, from its migrations."""
    call_command("migrate", "background_task", database=alias, verbosity=0)
    settings.SCHEDULER = {"DATABASE": alias}
    return alias


def task(alias: str, name: str, **options: Any) -> Any:
    """A pending row, as ``@background`` functions make them (its manager's new_task)."""
    args, kwargs = options.pop("args", ()), options.pop("kwargs", {})
    row = bgt.Task.objects.new_task(name, args, kwargs, options.pop("run_at", SOON), **options)
    row.save(using=alias)
    return row


def imported(alias: str, path: Path, *extra: str) -> str:
    out = StringIO()
    call_command(
        "scheduler_import_background_tasks", "--database", alias, "--output", path, *extra,
        stdout=out, stderr=StringIO(),
    )  # fmt: skip
    return out.getvalue()


def test_one_off_tasks_become_deferred_calls_and_repeating_ones_jobs(
    bgt_db: str, tmp_path: Path
) -> None:
    later = task(bgt_db, REMIND, args=[7], kwargs={"channel": "sms"}, verbose_name="Remind 7")
    overdue = task(bgt_db, REMIND, args=[8], run_at=SOON - timedelta(days=5))
    hourly = task(bgt_db, PING, repeat=bgt.Task.HOURLY, repeat_until=SOON + timedelta(days=30))
    task(bgt_db, "tests.django.testapp.tasks.gone", args=[1])
    path = tmp_path / "schedules.yaml"
    before = datetime.now(UTC)
    out = imported(bgt_db, path)

    store = DjangoStore(using=bgt_db)
    try:
        deferred = store.get_job(f"{REMIND}:bgt{later.pk}").spec
        due = store.get_job(f"{REMIND}:bgt{overdue.pk}").spec
        names = [job.spec.name for job in store.list_jobs()]
    finally:
        store.dispose()
    assert (deferred.source, deferred.schedule) == (JobSource.CODE, Once(SOON))
    assert (deferred.args, deferred.kwargs) == ((7,), {"channel": "sms"})
    assert deferred.description == "Remind 7"
    assert isinstance(due.schedule, Once) and due.schedule.at >= before  # runs once, now
    assert len(names) == 2
    [job] = load_schedules(path)
    assert job.name == f"{PING}:{hourly.task_hash[:8]}"
    assert job.schedule == Every(timedelta(hours=1), anchor=SOON)
    assert (job.start, job.end) == (SOON, SOON + timedelta(days=30))
    assert "tests.django.testapp.tasks.gone" in out and "not imported" in out
    assert "2 deferred calls written, 0 already in the database." in out


def test_a_second_import_changes_nothing(bgt_db: str, tmp_path: Path) -> None:
    task(bgt_db, REMIND, args=[7])
    task(bgt_db, PING, repeat=bgt.Task.DAILY)
    path = tmp_path / "schedules.yaml"
    imported(bgt_db, path)
    first = path.read_text()
    out = imported(bgt_db, path)
    assert path.read_text() == first
    assert "0 deferred calls written, 1 already in the database." in out
    assert f"Nothing changed: {path} already has every job." in out


def test_a_dry_run_writes_nothing(bgt_db: str, tmp_path: Path) -> None:
    task(bgt_db, REMIND, args=[7])
    task(bgt_db, PING, repeat=bgt.Task.DAILY)
    path = tmp_path / "schedules.yaml"
    out = imported(bgt_db, path, "--dry-run")
    assert "1 deferred calls to write" in out and "Dry run: nothing written." in out
    assert not path.exists()
    store = DjangoStore(using=bgt_db)
    try:
        assert store.list_jobs() == []
    finally:
        store.dispose()


def test_params_that_are_not_json_are_listed(bgt_db: str, tmp_path: Path) -> None:
    row = task(bgt_db, REMIND, args=[7])
    bgt.Task.objects.using(bgt_db).filter(pk=row.pk).update(task_params="[[7], {")
    out = imported(bgt_db, tmp_path / "schedules.yaml")
    assert "its task_params are not [args, kwargs] in JSON" in out


def test_without_its_tables_it_says_so_and_writes_nothing(
    settings: Any, alias: str, tmp_path: Path
) -> None:
    settings.SCHEDULER = {"DATABASE": alias}
    path = tmp_path / "schedules.yaml"
    with pytest.raises(CommandError, match="cannot read django-background-tasks' tasks") as info:
        imported(alias, path)
    assert info.value.returncode == 2
    assert not path.exists()
