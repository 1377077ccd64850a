"""``tickwork import celery-beat-setting`` on a real Celery configuration (an app's
``beat_schedule``, a settings module's ``CELERY_BEAT_SCHEDULE``): crontab and solar
entries run when beat would run them, Celery's AND of the day fields keeps its meaning,
and what cannot be carried over is listed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler.config import load_schedules
from scheduler.model.jobs import JobSpec
from scheduler.schedules import Every

from ..cli import run
from .celery_config import FLAGGED, INTERVALS, MAPPED, REFUSED, app, crontab, solar
from .tables import table_rows

AFTER = datetime(2026, 12, 20, 0, 0, 7, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
MODULE = "tests.importers.celery_config"


def imported(
    capsys: pytest.CaptureFixture[str], path: Path, name: str = "app"
) -> tuple[dict[str, JobSpec], str]:
    argv = ("import", "celery-beat-setting", "--module", MODULE, "--name", name)
    code, out, err = run(capsys, *argv, "--output", str(path))
    assert (code, err) == (0, ""), err
    return {spec.name: spec for spec in load_schedules(path)}, out


def beat_fires(value: Any, count: int) -> list[datetime]:
    """The next ``count`` instants celery beat computes for a crontab or solar schedule."""
    fires: list[datetime] = []
    last = AFTER
    for _ in range(count):
        if isinstance(value, crontab):
            start, delta, _ = value.remaining_delta(last, tz=BERLIN)
            last = (start + delta).astimezone(UTC)
        else:
            sun = solar(value.event, value.lat, value.lon, app=app, nowfun=lambda now=last: now)
            last = last + sun.remaining_estimate(last)
        fires.append(last)
    return fires


def tickwork_fires(spec: JobSpec, count: int) -> list[datetime]:
    fires = [AFTER]
    for _ in range(count):
        nxt = spec.next_after(fires[-1])
        assert nxt is not None
        fires.append(nxt)
    return fires[1:]


def test_a_celery_apps_beat_schedule_runs_when_beat_would(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "schedules.yaml"
    jobs, _ = imported(capsys, path)
    assert run(capsys, "check", str(path), "--count", "5")[0] == 0
    assert set(jobs) == set(MAPPED) | set(INTERVALS) | set(FLAGGED) | {"routed"}
    for name, entry in MAPPED.items():
        expected, actual = beat_fires(entry["schedule"], 5), tickwork_fires(jobs[name], 5)
        if isinstance(entry["schedule"], crontab):
            assert actual == expected, name
            assert jobs[name].timezone == "Europe/Berlin"
        else:  # ephem and astral: the same sun, within a minute and a half
            assert all(
                abs(a - e) < timedelta(seconds=90) for a, e in zip(actual, expected, strict=True)
            ), name
    for name, (_, interval) in INTERVALS.items():
        assert jobs[name].schedule == Every(interval), name
    assert jobs["first-monday"].schedule.expr == "0 9 * * 1#1"  # type: ignore[attr-defined]
    assert not jobs["friday-13th"].enabled


def test_arguments_and_options_carry_over(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    jobs, out = imported(capsys, tmp_path / "schedules.yaml")
    nightly, digest = jobs["nightly"], jobs["weekday-mornings"]
    assert (nightly.task, nightly.kwargs) == ("reports.tasks.nightly", {"format": "pdf"})
    assert jobs["quarter-hourly"].args == (1, "a")
    assert digest.queue == "reports"
    assert digest.policy.catchup_window == timedelta(seconds=600)
    rows = table_rows(out)
    assert "not carried over: option priority 3" in rows["routed"]
    assert "not carried over: option routing_key 'a.b' (use Celery's task_routes)" in rows["routed"]
    assert "not carried over: relative" in rows["routed"]
    assert "imported, disabled: CHECK" in rows["friday-13th"]
    for name, (_, words) in REFUSED.items():
        assert "not imported" in rows[name] and words in rows[name], rows[name]


def test_a_settings_dict_is_read_in_its_celery_timezone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    jobs, _ = imported(capsys, tmp_path / "schedules.yaml", name="CELERY_BEAT_SCHEDULE")
    assert jobs["nightly"].timezone == "Europe/Berlin"
    assert tickwork_fires(jobs["nightly"], 5) == beat_fires(MAPPED["nightly"]["schedule"], 5)


def test_timezone_reads_the_crontabs_in_another_zone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "schedules.yaml"
    argv = ("import", "celery-beat-setting", "--module", MODULE, "--timezone", "Asia/Tokyo")
    code, _, err = run(capsys, *argv, "--output", str(path))
    assert (code, err) == (0, "")
    nightly = {spec.name: spec for spec in load_schedules(path)}["nightly"]
    assert nightly.timezone == "Asia/Tokyo"
    tokyo = nightly.next_after(AFTER)
    assert tokyo is not None and tokyo.astimezone(ZoneInfo("Asia/Tokyo")).hour == 2


def test_a_second_import_changes_nothing_and_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "schedules.yaml"
    imported(capsys, path)
    first = path.read_bytes()
    _, out = imported(capsys, path)
    assert path.read_bytes() == first
    assert f"Nothing changed: {path} already has every job." in out


@pytest.mark.parametrize(
    ("module", "name", "message"),
    [
        ("tests.importers.no_such_config", "CELERY_BEAT_SCHEDULE", "cannot import the module"),
        (MODULE, "BEAT", f"the module {MODULE!r} has no 'BEAT'"),
        (MODULE, "NOT_A_SCHEDULE", "is a list, not a beat schedule dict or a Celery app"),
        (MODULE, "CELERY_BEAT_SCHEDULE --timezone Mars/Olympus", "is not a time zone name"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, module: str, name: str, message: str
) -> None:
    output = tmp_path / "out.yaml"
    argv = ("import", "celery-beat-setting", "--module", module, "--name", *name.split())
    code, out, err = run(capsys, *argv, "--output", str(output))
    assert (code, out) == (2, "")
    assert err.startswith("tickwork: error: ") and message in err and len(err.splitlines()) == 1
    assert not output.exists()
