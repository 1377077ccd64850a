"""``manage.py check`` reports every problem with SCHEDULER and the schedules file, with hints."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from scheduler.django.checks import check_scheduler
from scheduler.django.notifications import check_notifiers

GOOD = """\
jobs:
  ping:
    task: tests.django.testapp.tasks.ping
    every: 15m
"""


@pytest.fixture
def schedules(tmp_path: Path) -> Path:
    path = tmp_path / "schedules.yaml"
    path.write_text(GOOD)
    return path


@pytest.fixture
def scheduler(settings: Any, schedules: Path) -> Iterator[dict[str, Any]]:
    """settings.SCHEDULER, to change in place; starts valid."""
    settings.SCHEDULER = {"SCHEDULES": schedules}
    yield settings.SCHEDULER


def ids() -> list[str]:
    return [message.id or "" for message in check_scheduler()]


def test_a_good_configuration_passes(scheduler: dict[str, Any]) -> None:
    assert check_scheduler() == []


def test_no_scheduler_setting_at_all_passes_with_the_defaults(settings: Any) -> None:
    del settings.SCHEDULER
    assert check_scheduler() == []


def test_an_unknown_key_is_e001_with_a_did_you_mean(scheduler: dict[str, Any]) -> None:
    scheduler["POLL_INTERVALL"] = 2
    [message] = check_scheduler()
    assert message.id == "scheduler.E001"
    assert message.msg == "SCHEDULER has an unknown key 'POLL_INTERVALL'"
    assert message.hint is not None and message.hint.startswith("Did you mean 'POLL_INTERVAL'?")


def test_scheduler_that_is_not_a_dict_is_e001(settings: Any) -> None:
    settings.SCHEDULER = ["SCHEDULES"]
    assert ids() == ["scheduler.E001"]


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("POLL_INTERVAL", 0, "SCHEDULER['POLL_INTERVAL'] must be a duration above 0"),
        ("POLL_INTERVAL", "soon", "expected a duration such as"),
        ("BATCH_SIZE", 0, "SCHEDULER['BATCH_SIZE'] must be a whole number of at least 1"),
        ("DATABASE", "elsewhere", "must name a database in DATABASES, got 'elsewhere'"),
        ("SCHEDULES", 42, "SCHEDULER['SCHEDULES'] must be a path, got 42"),
        ("HISTORY", {"KEEP_LAST": -1}, "SCHEDULER['HISTORY']['KEEP_LAST'] must be a whole"),
        ("STALE_AFTER", "15s", "must exceed twice SCHEDULER['HEARTBEAT_INTERVAL']"),
    ],
)
def test_a_bad_value_is_e002_naming_the_key(
    scheduler: dict[str, Any], key: str, value: object, words: str
) -> None:
    scheduler[key] = value
    [message] = check_scheduler()
    assert message.id == "scheduler.E002"
    assert words in message.msg
    assert message.hint


def test_an_unknown_executor_backend_is_e003(scheduler: dict[str, Any]) -> None:
    scheduler["EXECUTORS"] = {"default": {"BACKEND": "nowhere.Executor"}}
    [message] = check_scheduler()
    assert message.id == "scheduler.E003"
    assert "executor 'default': BACKEND 'nowhere.Executor': cannot import module" in message.msg


def test_executors_without_a_default_are_e003(scheduler: dict[str, Any]) -> None:
    scheduler["EXECUTORS"] = {
        "fast": {"BACKEND": "scheduler.executors.immediate.ImmediateExecutor"}
    }
    # The job uses 'default' too, which is now missing: E007 for it.
    assert ids() == ["scheduler.E003", "scheduler.E007"]


def test_a_too_broad_task_pattern_is_e004(scheduler: dict[str, Any]) -> None:
    scheduler["TASKS"] = ["*"]
    [message] = check_scheduler()
    assert message.id == "scheduler.E004"
    assert "allow pattern '*' is too broad" in message.msg


def test_a_bad_schedules_file_is_reported_error_by_error_with_places(
    scheduler: dict[str, Any], schedules: Path
) -> None:
    schedules.write_text(GOOD.replace("every: 15m", "every: soon\n    cronn: '* * * * *'"))
    messages = check_scheduler()
    assert {message.id for message in messages} == {"scheduler.E005"}
    text = [message.msg for message in messages]
    assert f"{schedules}:4:12: jobs.ping.every: expected a duration" in text[0]
    assert text[1] == f"{schedules}:5:5: jobs.ping.cronn: unknown key 'cronn'; did you mean 'cron'?"


def test_a_missing_schedules_file_is_e005(scheduler: dict[str, Any], tmp_path: Path) -> None:
    scheduler["SCHEDULES"] = tmp_path / "nope.yaml"
    [message] = check_scheduler()
    assert (message.id, message.msg) == (
        "scheduler.E005",
        f"{tmp_path}/nope.yaml: No such file or directory",
    )


def test_an_unregistered_task_is_e006_at_its_place(
    scheduler: dict[str, Any], schedules: Path
) -> None:
    schedules.write_text(GOOD.replace("tasks.ping", "tasks.pong"))
    [message] = check_scheduler()
    assert message.id == "scheduler.E006"
    task = "'tests.django.testapp.tasks.pong'"
    assert message.msg.startswith(
        f"{schedules}:3:11: jobs.ping.task: task {task} is not registered"
    )
    # An allow-listed module makes it known.
    scheduler["TASKS"] = ["tests.django.testapp.tasks.*"]
    assert check_scheduler() == []


def test_every_problem_of_the_file_is_reported_in_one_pass_each_at_its_place(
    scheduler: dict[str, Any], schedules: Path
) -> None:
    """YAML errors, unregistered tasks and unknown executors together: none waits for
    another to be fixed, and a job with an error of its own is still checked."""
    schedules.write_text(
        "jobs:\n"
        "  ping:\n"
        "    task: tests.django.testapp.tasks.ping\n"
        "    every: soon\n"  # line 4: a bad value
        "  pong:\n"
        "    task: tests.django.testapp.tasks.pong\n"  # line 6: not registered
        "    every: 15m\n"
        "  broken:\n"
        "    task: nowhere.to.be.found\n"  # line 9: not registered, in a bad job
        "    cron: '61 * * * *'\n"  # line 10: a bad cron
        "    executor: celery\n"  # line 11: not configured
    )
    found = [(message.id, message.msg.split(": ")[0]) for message in check_scheduler()]
    assert sorted(found) == [
        ("scheduler.E005", f"{schedules}:10:11"),
        ("scheduler.E005", f"{schedules}:4:12"),
        ("scheduler.E006", f"{schedules}:6:11"),
        ("scheduler.E006", f"{schedules}:9:11"),
        ("scheduler.E007", f"{schedules}:11:15"),
    ]


def test_an_unknown_executor_named_by_a_job_is_e007(
    scheduler: dict[str, Any], schedules: Path
) -> None:
    schedules.write_text(GOOD + "    executor: celery\n")
    [message] = check_scheduler()
    assert message.id == "scheduler.E007"
    assert "jobs.ping.executor: no executor named 'celery'" in message.msg


def test_use_tz_off_is_e008(scheduler: dict[str, Any], settings: Any) -> None:
    settings.USE_TZ = False
    assert ids() == ["scheduler.E008"]


def test_a_job_asking_more_than_its_executor_can_do_is_w001(
    scheduler: dict[str, Any], schedules: Path
) -> None:
    scheduler["EXECUTORS"] = {
        "default": {"BACKEND": "scheduler.executors.immediate.ImmediateExecutor"}
    }
    schedules.write_text(GOOD + "    queue: reports\n")
    [message] = check_scheduler()
    assert isinstance(message, checks.Warning)
    assert message.id == "scheduler.W001"
    assert "queue 'reports' is set" in message.msg


def test_history_kept_for_ever_is_w002(scheduler: dict[str, Any]) -> None:
    scheduler["HISTORY"] = None
    assert ids() == ["scheduler.W002"]


def test_manage_py_check_fails_on_a_bad_schedules_file(
    scheduler: dict[str, Any], schedules: Path
) -> None:
    schedules.write_text("jobs:\n  ping:\n    task: [\n")
    # No database checks: Django 6.1 runs them against every database by default.
    with pytest.raises(SystemCheckError, match=r"\?: \(scheduler\.E005\)") as raised:
        call_command("check", databases=[])
    assert str(schedules) in str(raised.value)


def test_start_timeout_is_a_duration_or_none(scheduler: dict[str, Any]) -> None:
    from scheduler.django.settings import read_settings

    assert read_settings()[0].start_timeout == timedelta(hours=1)
    scheduler["START_TIMEOUT"] = "15m"
    assert read_settings()[0].engine_config().start_timeout == timedelta(minutes=15)
    scheduler["START_TIMEOUT"] = None
    assert read_settings()[0].engine_config().start_timeout is None
    scheduler["START_TIMEOUT"] = "soon"
    [message] = check_scheduler()
    assert message.id == "scheduler.E002" and "START_TIMEOUT" in message.msg


def test_a_timeout_the_thread_executor_only_observes_is_w004_pointing_to_process(
    scheduler: dict[str, Any], schedules: Path
) -> None:
    schedules.write_text(GOOD + "    timeout: 2m\n")
    [message] = check_scheduler()
    assert isinstance(message, checks.Warning)
    assert message.id == "scheduler.W004"
    assert message.msg == (
        f"{schedules}:5:14: jobs.ping.timeout: timeout is only observed by executor "
        "'default' (thread): "
        "a run past it is recorded timed_out, but its task keeps running (Python cannot "
        "stop a thread) and holds a worker until it returns"
    )
    assert (
        message.hint is not None and "scheduler.executors.process.ProcessExecutor" in message.hint
    )


def test_a_timeout_on_the_process_executor_passes(
    scheduler: dict[str, Any], schedules: Path
) -> None:
    scheduler["EXECUTORS"] = {"default": {"BACKEND": "scheduler.executors.process.ProcessExecutor"}}
    schedules.write_text(GOOD + "    timeout: 2m\n")
    assert check_scheduler() == []


def test_an_unknown_notifier_is_reported_beside_the_files_other_errors(
    scheduler: dict[str, Any], schedules: Path
) -> None:
    schedules.write_text(
        GOOD + "    notify: [pager]\n  broken:\n    task: tests.django.testapp.tasks.ping\n"
    )
    messages = [*check_scheduler(), *check_notifiers()]
    found = sorted((message.id or "", message.msg.split(": ")[0]) for message in messages)
    assert found == [
        ("scheduler.E005", f"{schedules}:6:3"),  # no schedule
        ("scheduler.E011", f"{schedules}:5:13"),
    ]
