"""Where a loaded job's settings are written, for problems found after loading."""

from __future__ import annotations

from textwrap import dedent

import pytest

from scheduler.config import Location, read_schedules_text
from scheduler.config.loaded import JobLocations
from scheduler.config.reconcile import check_tasks
from scheduler.errors import ConfigError, ConfigIssue
from scheduler.tasks.registry import TaskRegistry

TEXT = dedent(
    """\
    defaults:
      retries: 2
    jobs:
      nightly:
        task: app.tasks.nightly
        cron: "30 2 * * *"
      "ping":   {task: app.tasks.ping, every: 1m}
    """
)


def test_each_setting_is_located_where_it_is_written() -> None:
    loaded = read_schedules_text(TEXT, "schedules.yaml")
    assert [spec.name for spec in loaded.jobs] == ["nightly", "ping"]
    assert loaded.location("nightly") == Location(4, 3, "jobs.nightly")
    assert loaded.location("nightly", "task") == Location(5, 11, "jobs.nightly.task")
    assert loaded.location("nightly", "cron") == Location(6, 11, "jobs.nightly.cron")
    assert loaded.location("ping", "task") == Location(7, 20, "jobs.ping.task")
    # a default is located in defaults, where changing it would fix it
    assert loaded.location("ping", "retries") == Location(2, 12, "defaults.retries")
    assert loaded.location("ping", "queue") is None
    assert loaded.location("ghost", "task") is None


def test_an_issue_about_a_key_points_at_its_value() -> None:
    loaded = read_schedules_text(TEXT, "schedules.yaml")
    assert loaded.issue("ping", "task", "no good") == ConfigIssue(
        file="schedules.yaml", line=7, column=20, path="jobs.ping.task", message="no good"
    )
    # a key the file does not set: at the job's name, with the path it would have
    unset = loaded.issue("nightly", "queue", "needed")
    assert (unset.line, unset.column, unset.path) == (4, 3, "jobs.nightly.queue")
    unknown = loaded.issue("ghost", "task", "gone")
    assert (unknown.line, unknown.path) == (None, "jobs.ghost.task")


def test_check_tasks_names_every_unregistered_task_at_its_value() -> None:
    loaded = read_schedules_text(TEXT, "schedules.yaml")
    registry = TaskRegistry()
    registry.register(lambda: None, name="app.tasks.ping")
    with pytest.raises(ConfigError) as caught:
        check_tasks(loaded, registry, hint="register it")
    assert [str(issue) for issue in caught.value.issues] == [
        "schedules.yaml:5:11: jobs.nightly.task: task 'app.tasks.nightly' is not registered: "
        "register it"
    ]
    registry.allow("app.tasks.*")
    check_tasks(loaded, registry)  # nothing raised: every task is known now


def test_a_jobs_locations_read_as_a_mapping_of_every_key_it_sets_or_takes() -> None:
    loaded = read_schedules_text(TEXT, "schedules.yaml")
    ping = loaded.locations["ping"]
    assert dict(ping) == {
        "task": Location(7, 20, "jobs.ping.task"),
        "every": Location(7, 43, "jobs.ping.every"),
        "retries": Location(2, 12, "defaults.retries"),
        "": Location(7, 3, "jobs.ping"),
    }
    assert len(ping) == 4 and "retries" in ping and "queue" not in ping
    with pytest.raises(KeyError):
        ping["queue"]


def test_jobs_written_alike_share_their_layout_and_defaults() -> None:
    """What a 100,000-job file keeps per job while it is synced: the key and
    spot tuples and the defaults' locations are one object for all such jobs."""
    jobs = "".join(f"  job-{n}:\n    task: app.tasks.t\n    every: 1m\n" for n in range(3))
    loaded = read_schedules_text(f"defaults:\n  retries: 2\njobs:\n{jobs}", "s.yaml")
    first, *others = (loaded.locations[f"job-{n}"] for n in range(3))
    for other in others:
        for part in ("_keys", "_spots", "_inherited"):
            assert getattr(other, part) is getattr(first, part), part
    assert loaded.location("job-2", "every") == Location(12, 12, "jobs.job-2.every")


def test_a_moved_job_moves_its_own_settings_but_not_its_defaults() -> None:
    ping = read_schedules_text(TEXT, "schedules.yaml").locations["ping"]
    assert isinstance(ping, JobLocations)
    moved = ping.moved(17)
    assert moved[""] == Location(17, 3, "jobs.ping")
    assert moved["task"] == Location(17, 20, "jobs.ping.task")
    assert moved["retries"] == ping["retries"] == Location(2, 12, "defaults.retries")
