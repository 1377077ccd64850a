"""Counts in user-facing text read "1 run", never "1 runs" or "1 run(s)"."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scheduler.cli import main
from scheduler.engine.planning import SlotPlanner
from scheduler.model.words import plural

from .test_planning import stored

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 runs"), (1, "1 run"), (2, "2 runs"), (-1, "-1 runs")],
)
def test_plural(count: int, expected: str) -> None:
    assert plural(count, "run") == expected


def test_an_irregular_plural() -> None:
    assert plural(2, "entry", "entries") == "2 entries"
    assert plural(1, "entry", "entries") == "1 entry"


def test_one_missed_slot_is_logged_in_the_singular(caplog: pytest.LogCaptureFixture) -> None:
    job = stored(T0, cron="* * * * * *", catchup="skip")
    caplog.set_level(logging.WARNING)
    SlotPlanner(max_slots=3)(job, False, T0 + timedelta(seconds=3))
    assert "1 more slot was missed and not recorded one by one" in caplog.text


def test_check_counts_one_job_and_one_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text("jobs:\n  a: {task: x.a, every: 1m}\n")
    bad.write_text("jobs:\n  a: {task: x.a, every: 1x}\n")
    assert main(["check", str(good)]) == 0
    assert capsys.readouterr().out.startswith(f"{good}: 1 job, no errors")
    assert main(["check", str(bad)]) == 1
    assert capsys.readouterr().err.endswith("\n1 error found; nothing was loaded.\n")
