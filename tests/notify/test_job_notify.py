"""A job's ``notify:``: its shapes, its JSON form and hash, and its mistakes in YAML."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from textwrap import dedent

import pytest

from scheduler.config import parse_schedules
from scheduler.errors import ConfigError, InvalidJob
from scheduler.model.jobs import JobSpec
from scheduler.model.notify import JobNotify
from scheduler.model.policies import JobSource
from scheduler.model.runs import RunStatus
from scheduler.stores.memory import MemoryStore
from scheduler.stores.rows import job_columns, spec_from_columns
from scheduler.stores.rules import new_definition

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PROBLEMS = frozenset({RunStatus.FAILED, RunStatus.MISSED})


def spec(**options: object) -> JobSpec:
    return JobSpec.build(name="nightly", task="app.tasks.report", cron="30 2 * * *", **options)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (True, JobNotify()),
        (None, JobNotify()),
        (False, JobNotify(enabled=False)),
        (["slack", "ops", "slack"], JobNotify(to=("ops", "slack"))),
        ({"to": "slack"}, JobNotify(to=("slack",))),
        (
            {"when": ["failed", "succeeded"]},
            JobNotify(when=frozenset({RunStatus.FAILED, RunStatus.SUCCEEDED})),
        ),
        ({"to": ["ops"], "when": "lost"}, JobNotify(to=("ops",), when=frozenset({RunStatus.LOST}))),
    ],
)
def test_every_shape_reads_to_one_value(written: object, expected: JobNotify) -> None:
    assert JobNotify.parse(written) == expected
    assert spec(notify=written).notify == expected


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("slack", "expected true, false, a list of notifier names, or a mapping"),
        ([], "expected at least one notifier name; write notify: false for none"),
        (["no spaces"], "expected notifier names of 1-64 letters"),
        ({"to": ["ops"], "why": ["failed"]}, "got the key 'why'"),
        ({}, "got an empty mapping"),
        ({"when": ["running"]}, "expected run statuses among cancelled, failed, lost, missed"),
        ({"when": 3}, "expected 'when' to be a list, got 3"),
    ],
)
def test_bad_shapes_are_refused_naming_the_job_and_field(written: object, message: str) -> None:
    with pytest.raises(InvalidJob, match=r"job 'nightly': notify: .*" + message):
        spec(notify=written)


def test_the_default_keeps_the_definition_hash_of_a_job_without_the_field() -> None:
    plain = spec()
    assert "notify" not in plain.to_dict()
    assert spec(notify=True).definition_hash() == plain.definition_hash()
    quiet = spec(notify=False)
    assert quiet.to_dict()["notify"] is False
    assert quiet.definition_hash() != plain.definition_hash()


@pytest.mark.parametrize(
    "notify",
    [JobNotify(), JobNotify(enabled=False), JobNotify(to=("ops",)),
     JobNotify(to=("ops",), when=frozenset({RunStatus.SUCCEEDED})), JobNotify(when=PROBLEMS)],
)  # fmt: skip
def test_round_trips_through_json_rows_and_the_memory_store(notify: JobNotify) -> None:
    job = spec(notify=notify)
    assert JobSpec.from_dict(job.to_dict()) == job
    row = job_columns(new_definition(job, T0, version=1, created_at=T0))
    assert spec_from_columns(row).notify == notify
    assert (row["notify"] is None) is notify.is_default
    store = MemoryStore()
    store.sync_jobs([job], now=T0, source=JobSource.CODE)
    assert store.get_job("nightly").spec.notify == notify


def test_allows_follows_opt_out_names_and_statuses() -> None:
    assert JobNotify().allows("ops", RunStatus.FAILED, PROBLEMS)
    assert not JobNotify().allows("ops", RunStatus.SUCCEEDED, PROBLEMS)
    assert not JobNotify(enabled=False).allows("ops", RunStatus.FAILED, PROBLEMS)
    only_slack = JobNotify(to=("slack",))
    assert only_slack.allows("slack", RunStatus.FAILED, PROBLEMS)
    assert not only_slack.allows("ops", RunStatus.FAILED, PROBLEMS)
    on_success = JobNotify(when=frozenset({RunStatus.SUCCEEDED}))
    assert on_success.allows("ops", RunStatus.SUCCEEDED, PROBLEMS)
    assert not on_success.allows("ops", RunStatus.FAILED, PROBLEMS)


def test_yaml_reads_notify_in_a_job_and_in_defaults() -> None:
    text = """\
        defaults:
          notify: [ops]
        jobs:
          a: {task: app.a, cron: "* * * * *"}
          b: {task: app.b, cron: "* * * * *", notify: false}
          c:
            task: app.c
            cron: "* * * * *"
            notify: {to: [slack], when: [failed, succeeded]}
    """
    specs = {s.name: s for s in parse_schedules(dedent(text), "schedules.yaml")}
    assert specs["a"].notify == JobNotify(to=("ops",))
    assert specs["b"].notify == JobNotify(enabled=False)
    assert specs["c"].notify == JobNotify(
        to=("slack",), when=frozenset({RunStatus.FAILED, RunStatus.SUCCEEDED})
    )


def test_yaml_locates_a_bad_notify() -> None:
    text = """\
        jobs:
          a:
            task: app.a
            cron: "* * * * *"
            notify: {to: [slack], when: [sometimes]}
    """
    with pytest.raises(ConfigError) as caught:
        parse_schedules(dedent(text), "schedules.yaml")
    (issue,) = caught.value.issues
    assert (issue.line, issue.path) == (5, "jobs.a.notify")
    assert "expected run statuses among" in issue.message
    assert "'sometimes'" in issue.message


def test_reconciling_a_changed_notify_updates_the_stored_job(tmp_path: Path) -> None:
    from scheduler.config.reconcile import SchedulesFile
    from scheduler.stores.sqlalchemy import SQLAlchemyStore
    from scheduler.tasks.registry import TaskRegistry

    tasks = TaskRegistry()
    tasks.register(lambda: None, name="app.a")
    path = tmp_path / "schedules.yaml"
    store = SQLAlchemyStore(f"sqlite:///{tmp_path}/jobs.sqlite3")
    store.create_schema()
    try:
        path.write_text('jobs:\n  a: {task: app.a, cron: "* * * * *"}\n')
        SchedulesFile(path, store, tasks).sync(T0)
        before = store.get_job("a")
        path.write_text('jobs:\n  a: {task: app.a, cron: "* * * * *", notify: [ops]}\n')
        SchedulesFile(path, store, tasks).sync(T0)
        after = store.get_job("a")
    finally:
        store.dispose()
    assert before.spec.notify == JobNotify() and before.version == 1
    assert after.spec.notify == JobNotify(to=("ops",)) and after.version == 2
