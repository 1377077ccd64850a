"""The progress line of a long reconcile: shown on a terminal for a large file, never in a log."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from scheduler.cli.progress import LARGE_FILE, ProgressLine, schedules_progress
from scheduler.config.reconcile import SchedulesFile
from scheduler.tasks.registry import TaskRegistry
from scheduler.testing import MemoryStore


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _file(tmp_path: Path, jobs: int) -> Path:
    path = tmp_path / "schedules.yaml"
    lines = ["jobs:"]
    for index in range(jobs):
        lines += [f"  job-{index}:", "    task: tests.work", '    cron: "*/5 * * * *"']
    path.write_text("\n".join(lines) + "\n")
    return path


def test_each_step_of_a_sync_rewrites_one_line_then_ends_it(tmp_path: Path) -> None:
    terminal = Terminal()
    progress = ProgressLine(terminal, enabled=True)
    registry = TaskRegistry()
    registry.register(lambda: None, name="tests.work")
    path = _file(tmp_path, 3)
    schedules = SchedulesFile(path, MemoryStore(), registry, progress=progress)
    schedules.sync(datetime(2026, 5, 1, tzinfo=UTC))
    progress.close()
    shown = terminal.getvalue()
    steps = [part.split(" (")[0] for part in shown.split("\r\x1b[K")[1:]]
    assert steps == [
        f"{path}: reading",
        f"{path}: 3 jobs read; syncing them into the database",
        f"{path}: 3 jobs synced",
    ]
    assert shown.endswith(" s)\n") and shown.count("\n") == 1


def test_nothing_is_shown_off_a_terminal_or_for_a_small_file(tmp_path: Path) -> None:
    small = _file(tmp_path, 3)
    large = tmp_path / "large.yaml"
    large.write_text("#" * LARGE_FILE)
    log, terminal = io.StringIO(), Terminal()
    for progress in (schedules_progress(large, log), schedules_progress(small, terminal)):
        progress("step")
        progress.close()
    assert log.getvalue() == terminal.getvalue() == ""
    shown = schedules_progress(large, terminal)
    shown("step")
    assert terminal.getvalue().startswith("\r\x1b[Kstep (")
