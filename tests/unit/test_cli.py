"""The command line, driven the way a user drives it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import run

FIXTURES = Path(__file__).parent.parent / "fixtures"


def test_next_autumn_runs_once(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "next", "30 2 * * *", "--tz", "Europe/Berlin",
        "--after", "2026-10-24T12:00:00+02:00", "--count", "3",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "2026-10-25T02:30:00+02:00",
        "2026-10-26T02:30:00+01:00",
        "2026-10-27T02:30:00+01:00",
    ]


def test_next_spring_runs_after_the_gap(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "next", "30 2 * * *", "--tz", "Europe/Berlin",
        "--after", "2026-03-28T12:00:00+01:00", "--count", "2",
    )  # fmt: skip
    assert code == 0
    assert out.splitlines() == ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"]


def test_next_naive_after_is_read_in_the_zone(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "next", "--every", "90m", "--tz", "Asia/Kolkata",
        "--after", "2026-01-01T00:10:00", "--count", "2",
    )  # fmt: skip
    assert code == 0
    assert out.splitlines() == ["2026-01-01T01:00:00+05:30", "2026-01-01T02:30:00+05:30"]


def test_next_hash_uses_the_name(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("next", "H H * * *", "--after", "2026-01-01T00:00:00+00:00", "--count", "1")
    a = run(capsys, *args, "--name", "backup-db")[1]
    b = run(capsys, *args, "--name", "backup-db")[1]
    others = {run(capsys, *args, "--name", f"job-{i}")[1] for i in range(6)}
    assert a == b and len(others) > 1


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["next", "61 * * * *"], 1, "the minute field '61' is not valid"),
        (["next", "* * * * *", "--tz", "Nowhere/X"], 1, "unknown time zone 'Nowhere/X'"),
        (["next", "* * * * *", "--after", "yesterday"], 1, "is not an ISO-8601 instant"),
        (["next", "--every", "soon"], 1, "invalid interval"),
        (["next", "* * * * *", "--count", "0"], 2, "expected a number from 1 to 10000"),
        (["next"], 2, "one of the arguments EXPR --every is required"),
        (["next", "* * * * *", "--every", "5m"], 2, "not allowed with argument"),
        (["frobnicate"], 2, "invalid choice: 'frobnicate'"),
        ([], 2, "usage: tickwork"),
    ],
)
def test_bad_input_goes_to_stderr_with_an_exit_code(
    capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    got_code, out, err = run(capsys, *argv)
    assert got_code == code
    assert out == ""
    assert message in err


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "Exit codes" in out
    for command in ("next", "check"):
        code, out, _ = run(capsys, command, "--help")
        assert code == 0 and f"usage: tickwork {command}" in out
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("tickwork ")


def test_python_dash_m_runs_the_same_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scheduler", "next", "0 9 * * 1", "--tz", "Asia/Tokyo",
         "--after", "2026-01-01T00:00:00+09:00", "--count", "1"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == "2026-01-05T09:00:00+09:00\n"


def test_a_reader_that_stops_reading_ends_the_command_quietly() -> None:
    # `tickwork next ... | head -1`: far more output than a pipe holds, read one line.
    command = [sys.executable, "-m", "scheduler", "next", "* * * * * *", "--count", "10000"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.readline().endswith(b"\n")
        process.stdout.close()
        err = process.stderr.read()
        assert process.wait(timeout=60) == 0
    assert err == b""


def test_check_with_imports_reports_unregistered_tasks_where_they_are_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "tw_check_tasks.py").write_text(
        "from scheduler import job\n\n@job\ndef ping():\n    return 'ok'\n"
    )
    schedules = tmp_path / "schedules.yaml"
    schedules.write_text(
        "jobs:\n"
        "  ping: {task: tw_check_tasks.ping, every: 1m}\n"
        "  report: {every: 1h, task: reports.nightly}\n"
    )
    # without --import or --allow the registry is unknown, so tasks are not checked
    code, out, _ = run(capsys, "check", str(schedules))
    assert code == 0 and "2 jobs, no errors" in out
    where = ["--pythonpath", str(tmp_path), "--import", "tw_check_tasks"]
    code, out, err = run(capsys, "check", str(schedules), *where)
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"{schedules}:3:29: jobs.report.task: task 'reports.nightly' is not registered: "
        "decorate it with @job in a module given to --import, allow its module with "
        "--allow 'package.module.*', or (with --executor celery) name a task the Celery "
        "app knows",
        "1 error found; nothing was loaded.",
    ]
    code, out, _ = run(capsys, "check", str(schedules), *where, "--allow", "reports.*")
    assert code == 0 and out.startswith(f"{schedules}: 2 jobs, no errors")
