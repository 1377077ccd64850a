"""``manage.py scheduler_import_celery_beat --from-settings`` on a Django project's
``CELERY_BEAT_SCHEDULE`` (the real Celery schedules of tests/importers/celery_config.py)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from scheduler.config import load_schedules

from ..importers.celery_config import CELERY_BEAT_SCHEDULE, FLAGGED, INTERVALS, MAPPED


def imported(path: Path) -> str:
    out = StringIO()
    call_command("scheduler_import_celery_beat", "--from-settings", "--output", path, stdout=out)
    return out.getvalue()


@override_settings(CELERY_BEAT_SCHEDULE=CELERY_BEAT_SCHEDULE, CELERY_TIMEZONE="America/New_York")
def test_the_setting_becomes_a_schedules_file_in_celerys_timezone(tmp_path: Path) -> None:
    path = tmp_path / "schedules.yaml"
    out = imported(path)
    jobs = {spec.name: spec for spec in load_schedules(path)}
    assert set(jobs) == set(MAPPED) | set(INTERVALS) | set(FLAGGED) | {"routed"}
    assert jobs["nightly"].timezone == "America/New_York"
    assert jobs["first-monday"].schedule.expr == "0 9 * * 1#1"  # type: ignore[attr-defined]
    assert "# beat schedule entry 'nautical-dawn'" in path.read_text()
    assert f"Wrote {path}." in out
    again = imported(path)
    assert f"Nothing changed: {path} already has every job." in again


def test_without_the_setting_it_says_so_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "schedules.yaml"
    with pytest.raises(CommandError, match="the setting CELERY_BEAT_SCHEDULE is not set") as info:
        imported(path)
    assert info.value.returncode == 2
    assert not path.exists()


@override_settings(CELERY_BEAT_SCHEDULE=CELERY_BEAT_SCHEDULE, CELERY_TIMEZONE="America/New_York")
def test_timezone_overrides_the_setting_and_a_wrong_one_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "schedules.yaml"
    argv = ("scheduler_import_celery_beat", "--from-settings", "--output", path)
    call_command(*argv, "--timezone", "Asia/Tokyo", stdout=StringIO())
    jobs = {spec.name: spec for spec in load_schedules(path)}
    assert jobs["nightly"].timezone == "Asia/Tokyo"

    other = tmp_path / "other.yaml"
    with pytest.raises(CommandError, match="--timezone 'Mars/Olympus' is not a time zone") as info:
        call_command(*argv[:2], "--output", other, "--timezone", "Mars/Olympus")
    assert info.value.returncode == 2
    assert not other.exists()
    with pytest.raises(CommandError, match="--timezone is for --from-settings") as info:
        call_command("scheduler_import_celery_beat", "--timezone", "UTC", "--output", other)
    assert not other.exists()
