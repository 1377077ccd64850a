"""``tickwork import apscheduler`` on a real SQLAlchemyJobStore made by APScheduler 3.11,
in a SQLite file and in PostgreSQL: the file it writes passes ``tickwork check``, each
job's next five runs are the instants APScheduler's own trigger gives, and whatever
cannot be carried over is listed, by job id, instead."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scheduler.config import load_schedules
from scheduler.model.jobs import JobSpec

from ..cli import run
from .aps_store import BROKEN, DISABLED, IMPORTED, NOT_IMPORTED, fill_store
from .tables import table_rows

#: Between slots of every job (none fires at 7.5 seconds past a minute): APScheduler's
#: first fire time may equal ``now``, Tickwork's is strictly after.
AFTER = datetime(2026, 12, 20, 0, 0, 7, 500_000, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_url")
    fill_store(url, tmp_path)
    yield url


def imported(capsys: pytest.CaptureFixture[str], url: str, path: Path) -> tuple[int, str, str]:
    return run(capsys, "import", "apscheduler", "--url", url, "--output", str(path))


def aps_fires(trigger: Any, count: int) -> list[datetime]:
    """The next ``count`` fire times APScheduler computes, jitter left out."""
    fires: list[datetime] = []
    previous = None
    now = AFTER
    while len(fires) < count:
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None:
            break
        fires.append(fire)
        previous = now = fire
    return fires


def tickwork_fires(spec: JobSpec, count: int) -> list[datetime]:
    fires: list[datetime] = []
    current: datetime | None = AFTER
    while len(fires) < count:
        current = spec.next_after(current) if current is not None else None
        if current is None:
            break
        fires.append(current)
    return fires


def test_every_job_imported_runs_when_apscheduler_would(
    capsys: pytest.CaptureFixture[str], store_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "schedules.yaml"
    code, out, err = imported(capsys, store_url, path)
    assert (code, err) == (0, "")
    assert f"Wrote {path}." in out

    assert run(capsys, "check", str(path), "--count", "5")[0] == 0
    jobs = {spec.name: spec for spec in load_schedules(path)}
    assert set(jobs) == set(IMPORTED) | set(DISABLED)
    for job_id, (trigger, _) in IMPORTED.items():
        if getattr(trigger, "jitter", None):  # APScheduler's is random, Tickwork's a hash
            trigger = copy.copy(trigger)
            trigger.jitter = None
        assert jobs[job_id].enabled, job_id
        expected = aps_fires(trigger, 5)
        assert expected, job_id
        assert tickwork_fires(jobs[job_id], 5) == expected, job_id
    assert not any(jobs[job_id].enabled for job_id in DISABLED)
    paused = DISABLED["paused"][0]  # disabled, but with the schedule it had
    assert tickwork_fires(jobs["paused"], 5) == aps_fires(paused, 5)


def test_arguments_and_policies_carry_over(
    capsys: pytest.CaptureFixture[str], store_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "schedules.yaml"
    imported(capsys, store_url, path)
    jobs = {spec.name: spec for spec in load_schedules(path)}

    nightly = jobs["cron-nightly-berlin"]
    assert (nightly.task, nightly.args, nightly.timezone) == (
        "tests.importers.apsjobs.tick",
        (1, "a"),
        "Europe/Berlin",
    )
    assert nightly.policy.catchup.value == "once"
    assert nightly.policy.catchup_window.total_seconds() == 3600
    assert jobs["cron-weekdays-new-york"].kwargs == {"region": "us", "limit": 20}
    quarter = jobs["interval-quarter-hour"].policy
    assert (quarter.catchup.value, quarter.overlap.value) == ("all", "allow")
    assert quarter.catchup_window.total_seconds() == 300
    assert jobs["interval-sydney"].policy.catchup_window is None
    assert jobs["cron-jitter"].policy.jitter.total_seconds() == 30
    text = path.read_text()
    assert "cron: 0 9 * * tue-sat" in text  # from_crontab's 1-5, as APScheduler reads it
    assert "cron: 0 9 * * 1#1" in text  # day 1-7 AND Monday: the first Monday


def test_what_cannot_be_mapped_is_listed_by_job_id(
    capsys: pytest.CaptureFixture[str], store_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "schedules.yaml"
    code, out, _ = imported(capsys, store_url, path)
    assert code == 0
    rows = table_rows(out)
    for job_id, (_, words) in NOT_IMPORTED.items():
        assert "not imported" in rows[job_id] and words in rows[job_id], rows[job_id]
    for job_id, words in BROKEN.items():
        assert "not imported" in rows[job_id] and words in rows[job_id], rows[job_id]
    assert "imported, disabled: CHECK" in rows["cron-friday-13th"]
    assert "paused in APScheduler" in rows["paused"]
    text = path.read_text()
    assert "# APScheduler job 'trigger-class-gone'" in text
    assert f"{len(IMPORTED) + len(DISABLED)} imported (1 marked CHECK)" in out
    assert f"{len(NOT_IMPORTED) + len(BROKEN)} not imported" in out


def test_a_second_import_changes_nothing_and_says_so(
    capsys: pytest.CaptureFixture[str], store_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "schedules.yaml"
    imported(capsys, store_url, path)
    first = path.read_bytes()
    code, out, _ = imported(capsys, store_url, path)
    assert code == 0
    assert path.read_bytes() == first
    assert f"Nothing changed: {path} already has every job." in out
    assert f"0 imported (0 marked CHECK), {len(IMPORTED) + len(DISABLED)} unchanged" in out
