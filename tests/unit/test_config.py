"""The schedules.yaml format: what it builds, and every mistake located precisely."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from textwrap import dedent

import pytest

from scheduler.config import DEFAULT_KEYS, JOB_KEYS, load_schedules, parse_schedules
from scheduler.errors import ConfigError, ConfigIssue, InvalidJob, InvalidSchedule, SchedulerError
from scheduler.model.jobs import JobSpec
from scheduler.model.policies import CatchupPolicy, JobSource, OverlapPolicy
from scheduler.schedules import Cron, Every, Once

FIXTURES = Path(__file__).parent.parent / "fixtures"
Located = tuple[int, int, str, str]


def issues(text: str) -> list[Located]:
    """The (line, column, key path, message) of every issue in ``text``."""
    with pytest.raises(ConfigError) as caught:
        parse_schedules(dedent(text), "schedules.yaml")
    for issue in caught.value.issues:
        assert issue.file == "schedules.yaml"
    return [(i.line or 0, i.column or 0, i.path, i.message) for i in caught.value.issues]


def one_issue(text: str) -> str:
    """The only issue in ``text``, as ``line:column: path: message``."""
    found = issues(text)
    assert len(found) == 1, found
    line, column, path, message = found[0]
    return f"{line}:{column}: {path}: {message}" if path else f"{line}:{column}: {message}"


def job(body: str, name: str = "j") -> str:
    """A file with one job whose keys are ``body`` (one per line, no indentation)."""
    lines = "".join(f"    {line}\n" for line in dedent(body).strip().splitlines())
    return f"jobs:\n  {name}:\n{lines}"


# --- what a good file builds ------------------------------------------------------


def test_full_example() -> None:
    specs = load_schedules(FIXTURES / "schedules_full.yaml")
    berlin = "Europe/Berlin"
    assert specs == [
        JobSpec.from_fields(
            name="nightly-report",
            task="reports.tasks.nightly",
            schedule=Cron("30 2 * * *", tz=berlin, hash_key="nightly-report"),
            args=(1, "x"),
            kwargs={"full": True},
            timezone=berlin,
            enabled=True,
            start=datetime(2025, 12, 31, 23, tzinfo=UTC),
            end=datetime(2026, 12, 31, 23, tzinfo=UTC),
            catchup=CatchupPolicy.ONCE,
            max_catchup=10,
            catchup_window=timedelta(hours=6),
            overlap=OverlapPolicy.SKIP,
            jitter=timedelta(seconds=30),
            timeout=timedelta(minutes=10),
            retries=3,
            retry_backoff=timedelta(seconds=30),
            retry_backoff_max=timedelta(hours=1),
            executor="default",
            queue="reports",
            description="Nightly sales report",
            source=JobSource.YAML,
        ),
        JobSpec.from_fields(
            name="heartbeat",
            task="app.tasks.ping",
            schedule=Every(timedelta(minutes=15)),
            timezone=berlin,
            retries=2,
            source=JobSource.YAML,
        ),
        JobSpec.from_fields(
            name="launch",
            task="app.tasks.launch",
            schedule=Once(datetime(2026, 12, 1, 8, tzinfo=UTC)),
            timezone=berlin,
            retries=2,
            source=JobSource.YAML,
        ),
    ]


def test_empty_files_declare_no_jobs() -> None:
    for text in ("", "\n", "# only a comment\n", "---\n", "jobs:\n", "jobs: {}\n", "jobs: ~\n"):
        assert parse_schedules(text) == []
    assert parse_schedules("timezone: UTC\ndefaults: {retries: 1}\n") == []


def test_defaults_apply_and_jobs_override_them() -> None:
    text = """\
        timezone: America/New_York
        defaults:
          retries: 2
          timezone: Asia/Tokyo
          executor: celery
        jobs:
          a: {task: x.a, cron: "0 9 * * *"}
          b: {task: x.b, cron: "0 9 * * *", retries: 0, timezone: Europe/London}
        """
    a, b = parse_schedules(dedent(text))
    assert (a.policy.retries, a.timezone, a.executor) == (2, "Asia/Tokyo", "celery")
    assert a.schedule == Cron("0 9 * * *", tz="Asia/Tokyo", hash_key="a")
    assert (b.policy.retries, b.timezone, b.executor) == (0, "Europe/London", "celery")
    assert b.schedule == Cron("0 9 * * *", tz="Europe/London", hash_key="b")


def test_top_level_time_zone_is_the_default() -> None:
    (spec,) = parse_schedules('timezone: Asia/Tokyo\njobs: {a: {task: x.a, cron: "0 9 * * *"}}')
    assert spec.timezone == "Asia/Tokyo"
    (spec,) = parse_schedules('jobs: {a: {task: x.a, cron: "0 9 * * *"}}')
    assert spec.timezone == "UTC"


def test_every_counts_from_start() -> None:
    (spec,) = parse_schedules(job("task: x.a\nevery: 1h30m\nstart: 2026-01-01T09:10:00Z"))
    start = datetime(2026, 1, 1, 9, 10, tzinfo=UTC)
    assert spec.schedule == Every(timedelta(minutes=90), anchor=start)
    assert spec.next_after(start) == datetime(2026, 1, 1, 10, 40, tzinfo=UTC)


def test_start_from_defaults_anchors_every() -> None:
    text = "defaults: {start: 2026-01-01T00:00:05Z}\n" + job("task: x.a\nevery: 1m")
    (spec,) = parse_schedules(text)
    assert spec.schedule == Every(
        timedelta(minutes=1), anchor=datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC)
    )


def test_cron_h_is_hashed_by_the_job_name() -> None:
    text = 'jobs:\n  a: {task: x.a, cron: "H H * * *"}\n  b: {task: x.a, cron: "H H * * *"}\n'
    a, b = parse_schedules(text)
    assert a.schedule == Cron("H H * * *", hash_key="a")
    assert b.schedule == Cron("H H * * *", hash_key="b")


@pytest.mark.parametrize(
    "value",
    [
        "2026-12-01T09:00:00+01:00",
        '"2026-12-01T09:00:00+01:00"',
        "'2026-12-01 09:00:00+01:00'",
        "2026-12-01T08:00:00Z",
        '"2026-12-01T08:00:00Z"',
        "2026-12-01 08:00:00 +00:00",
    ],
)
def test_instants_as_timestamps_or_strings(value: str) -> None:
    (spec,) = parse_schedules(job(f"task: x.a\nat: {value}"))
    assert spec.schedule == Once(datetime(2026, 12, 1, 8, tzinfo=UTC))


def test_durations_may_be_seconds() -> None:
    (spec,) = parse_schedules(job("task: x.a\nevery: 90\njitter: 0\ntimeout: 1.5"))
    assert spec.schedule == Every(timedelta(seconds=90))
    assert spec.policy.jitter == timedelta(0)
    assert spec.policy.timeout == timedelta(seconds=1.5)


def test_optional_keys_may_be_null() -> None:
    body = "task: x.a\nevery: 1m\ntimeout: null\nqueue: ~\nstart:\nend: null\ncatchup_window: ~"
    (spec,) = parse_schedules(job(body))
    assert (spec.policy.timeout, spec.queue, spec.start, spec.end, spec.policy.catchup_window) == (
        None,
    ) * 5


def test_json_arguments_with_anchors_and_merge_keys() -> None:
    text = """\
        jobs:
          a:
            task: x.a
            every: 1m
            args: &shared [1, 2.5, "three", null, true, [4], {five: 5}]
            kwargs:
              <<: {base: 1, over: 1}
              over: 2
              copy: *shared
        """
    (spec,) = parse_schedules(dedent(text))
    shared = [1, 2.5, "three", None, True, [4], {"five": 5}]
    assert spec.args == tuple(shared)
    assert spec.kwargs == {"base": 1, "over": 2, "copy": shared}


def test_specs_keep_file_order_and_come_from_yaml() -> None:
    text = "jobs:\n" + "".join(f"  job{i}: {{task: x.a, every: 1m}}\n" for i in (3, 1, 2))
    specs = parse_schedules(text)
    assert [spec.name for spec in specs] == ["job3", "job1", "job2"]
    assert {spec.source for spec in specs} == {JobSource.YAML}


def test_byte_order_mark_is_ignored() -> None:
    assert [spec.name for spec in load_schedules(FIXTURES / "schedules_bom.yaml")] == ["ping"]


def test_load_accepts_str_paths() -> None:
    assert len(load_schedules(str(FIXTURES / "schedules_full.yaml"))) == 3


def test_key_lists() -> None:
    assert JOB_KEYS[:5] == ("task", "cron", "every", "at", "solar")
    assert set(JOB_KEYS) - set(DEFAULT_KEYS) == {
        "task", "cron", "every", "at", "solar", "after", "description",
    }  # fmt: skip


# --- five mistakes at once -------------------------------------------------------------


def test_five_mistakes_give_five_located_issues() -> None:
    path = FIXTURES / "schedules_five_mistakes.yaml"
    with pytest.raises(ConfigError) as caught:
        load_schedules(path)
    error = caught.value
    assert [str(issue) for issue in error.issues] == [
        f"{path}:3:11: timezone: unknown time zone 'Europe/Berln'; use an IANA name such as "
        "'Europe/Berlin' or 'UTC'",
        f"{path}:8:11: jobs.nightly-report.cron: cron expression '61 2 * * *': the minute "
        "field '61' is not valid (allowed: 0-59)",
        f"{path}:9:14: jobs.nightly-report.catchup: expected one of 'once', 'all', 'skip', "
        "got the string 'sometimes'",
        f"{path}:14:5: jobs.heartbeat.ovrelap: unknown key 'ovrelap'; did you mean 'overlap'?",
        f"{path}:19:5: jobs.launch.task: duplicate key 'task': already set on line 17; "
        "YAML would silently keep only the last",
    ]
    assert str(error).startswith("5 errors in schedules file:\n")
    assert isinstance(error, SchedulerError)
    assert isinstance(error, ValueError)


def test_issues_are_sorted_by_line_and_column() -> None:
    # Duplicates are found in a first pass over the whole file, and defaults
    # after the top-level keys; the report is still in file order.
    text = """\
        jobs:
          a:
            task: x.a
            every: 1m
            every: 2m
        defaults:
          retries: many
        timezone: Nowhere/Land
        """
    found = issues(text)
    assert [(line, column) for line, column, _, _ in found] == [(5, 5), (7, 12), (8, 11)]
    assert found == sorted(found)


def test_all_issues_of_a_job_are_reported_not_just_the_first() -> None:
    found = issues(job("task: x y\ncron: 61 * * * *\nretries: 101\njitter: 1x\ncolour: red"))
    assert [path for _, _, path, _ in found] == [
        "jobs.j.task",
        "jobs.j.cron",
        "jobs.j.retries",
        "jobs.j.jitter",
        "jobs.j.colour",
    ]


# --- each kind of mistake, located --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The file's shape.
        (
            "- a\n- b\n",
            "1:1: expected a mapping with the keys 'timezone', 'defaults' and 'jobs', got a list",
        ),
        (
            "hello\n",
            "1:1: expected a mapping with the keys 'timezone', 'defaults' and 'jobs', got the "
            "string 'hello'",
        ),
        (
            "!!int x\n",
            "1:1: expected a mapping with the keys 'timezone', 'defaults' and 'jobs', got a value "
            "tagged '!!int'",
        ),
        (
            "job: {}\n",
            "1:1: job: unknown key 'job'; did you mean 'jobs'?",
        ),
        (
            "colour: red\n",
            "1:1: colour: unknown key 'colour'; expected one of: timezone, calendars, defaults, "
            "jobs",
        ),
        (
            "1: x\n",
            "1:1: 1: expected a string key, got the integer 1",
        ),
        (
            "jobs: [a, b]\n",
            "1:7: jobs: expected a mapping of job names to job settings, got a list",
        ),
        (
            "jobs:\n  a: 5\n",
            "2:6: jobs.a: expected a mapping of job settings, got the integer 5",
        ),
        (
            "jobs:\n  a:\n",
            "2:5: jobs.a: expected a mapping of job settings, got null",
        ),
        (
            "defaults: [1]\n",
            "1:11: defaults: expected a mapping of job settings, got a list",
        ),
        # Job names.
        (
            "jobs:\n  123: {task: x.a, every: 1m}\n",
            "2:3: jobs.123: expected a job name string, got the integer 123; quote it",
        ),
        (
            "jobs:\n  true: {task: x.a, every: 1m}\n",
            "2:3: jobs.true: expected a job name string, got the boolean true; quote it",
        ),
        (
            "jobs:\n  ~: {task: x.a, every: 1m}\n",
            "2:3: jobs.~: expected a job name string, got null; quote it",
        ),
        (
            "jobs:\n  1.5: {task: x.a, every: 1m}\n",
            "2:3: jobs.1.5: expected a job name string, got the number 1.5; quote it",
        ),
        (
            "jobs:\n  nightly report: {task: x.a, every: 1m}\n",
            "2:3: jobs.nightly report: invalid job name: expected 1-200 characters of letters, "
            "digits, '_', '.', ':' or '-', got 'nightly report'",
        ),
        # Required keys and the schedule.
        (
            job("every: 1m"),
            "2:3: jobs.j: missing required key 'task'",
        ),
        (
            job("task: x.a"),
            "2:3: jobs.j: expected exactly one of 'cron', 'every', 'at' or 'solar' "
            "(or 'after', to run only after another job), got none",
        ),
        (
            job("task: x.a\ncron: '* * * * *'\nevery: 1m"),
            "5:5: jobs.j.every: expected exactly one of 'cron', 'every', 'at' or 'solar', "
            "got 'cron' and 'every'",
        ),
        (
            job("task: x.a\nat: 2026-01-01T00:00:00Z\nevery: 1m\ncron: '* * * * *'"),
            "5:5: jobs.j.every: expected exactly one of 'cron', 'every', 'at' or 'solar', "
            "got 'cron' and 'every' and 'at'",
        ),
        (
            job("task: x.a\ncron: '61 * * * *'"),
            "4:11: jobs.j.cron: cron expression '61 * * * *': the minute field '61' is not valid "
            "(allowed: 0-59)",
        ),
        (
            job("task: x.a\ncron: '* * *'"),
            "4:11: jobs.j.cron: cron expression '* * *' has 3 fields; expected 5 (minute hour "
            "day-of-month month day-of-week) or 6 (with seconds last)",
        ),
        (
            job("task: x.a\ncron: '@fortnightly'"),
            "4:11: jobs.j.cron: unknown cron alias '@fortnightly'; known aliases: @annually, "
            "@daily, @hourly, @midnight, @monthly, @weekly, @yearly",
        ),
        (
            job("task: x.a\ncron: 5"),
            "4:11: jobs.j.cron: expected a cron expression string such as '30 2 * * *', got the "
            "integer 5",
        ),
        (
            job("task: x.a\nevery: 0s"),
            "4:12: jobs.j.every: expected a positive duration, got 0s",
        ),
        (
            job("task: 5\nevery: 1m"),
            "3:11: jobs.j.task: expected a task name string such as 'app.tasks.send', got the "
            "integer 5",
        ),
        (
            job("task: os.system('rm')\nevery: 1m"),
            "3:11: jobs.j.task: expected a dotted path such as 'app.tasks.send' or a registered "
            "task name, got \"os.system('rm')\"",
        ),
        # Time zones.
        (
            job("task: x.a\nevery: 1m\ntimezone: Mars/Base"),
            "5:15: jobs.j.timezone: unknown time zone 'Mars/Base'; use an IANA name such as "
            "'Europe/Berlin' or 'UTC'",
        ),
        (
            "timezone: 5\n",
            "1:11: timezone: expected an IANA time zone name such as 'Europe/Berlin', got the "
            "integer 5",
        ),
        # Durations.
        (
            job("task: x.a\nevery: 15 minutes"),
            "4:12: jobs.j.every: expected a duration such as '90s', '15m', '1h30m' or '2d', got "
            "'15 minutes'",
        ),
        (
            job("task: x.a\nevery: 1m\njitter: -5"),
            "5:13: jobs.j.jitter: a duration cannot be negative, got -5",
        ),
        (
            job("task: x.a\nevery: 1m\ntimeout: 0s"),
            "5:14: jobs.j.timeout: expected a positive duration, got 0s",
        ),
        (
            job("task: x.a\nevery: 1m\ncatchup_window: [1h]"),
            "5:21: jobs.j.catchup_window: expected a positive duration such as '90s', '15m' or "
            "'1h30m', got a list",
        ),
        (
            job("task: x.a\nevery: 1m\nretry_backoff: true"),
            "5:20: jobs.j.retry_backoff: expected a duration such as '90s', '15m' or '1h30m', got "
            "the boolean true",
        ),
        (
            job("task: x.a\nevery: 1m\nretry_backoff_max: 30m1h"),
            "5:24: jobs.j.retry_backoff_max: units must appear once each, largest first (like "
            "'1h30m'), got '30m1h'",
        ),
        # Enumerations.
        (
            job("task: x.a\nevery: 1m\ncatchup: sometimes"),
            "5:14: jobs.j.catchup: expected one of 'once', 'all', 'skip', got the string "
            "'sometimes'",
        ),
        (
            job("task: x.a\nevery: 1m\noverlap: no"),
            "5:14: jobs.j.overlap: expected one of 'skip', 'allow', 'queue', got the boolean false",
        ),
        (
            job("task: x.a\nevery: 1m\ncatchup: ONCE"),
            "5:14: jobs.j.catchup: expected one of 'once', 'all', 'skip', got the string 'ONCE'",
        ),
        # Types.
        (
            job("task: x.a\nevery: 1m\nargs: 5"),
            "5:11: jobs.j.args: expected a list, got the integer 5",
        ),
        (
            job("task: x.a\nevery: 1m\nargs: {a: 1}"),
            "5:11: jobs.j.args: expected a list, got a mapping",
        ),
        (
            job("task: x.a\nevery: 1m\nkwargs: [1]"),
            "5:13: jobs.j.kwargs: expected a mapping, got a list",
        ),
        (
            job("task: x.a\nevery: 1m\nenabled: 'true'"),
            "5:14: jobs.j.enabled: expected true or false, got the string 'true'",
        ),
        (
            job("task: x.a\nevery: 1m\nenabled: 1"),
            "5:14: jobs.j.enabled: expected true or false, got the integer 1",
        ),
        (
            job("task: x.a\nevery: 1m\nenabled:"),
            "5:13: jobs.j.enabled: expected true or false, got null",
        ),
        (
            job("task: x.a\nevery: 1m\nretries: '3'"),
            "5:14: jobs.j.retries: expected an integer, got the string '3'",
        ),
        (
            job("task: x.a\nevery: 1m\nretries: 101"),
            "5:14: jobs.j.retries: expected an integer from 0 to 100, got 101",
        ),
        (
            job("task: x.a\nevery: 1m\nretries: -1"),
            "5:14: jobs.j.retries: expected an integer from 0 to 100, got -1",
        ),
        (
            job("task: x.a\nevery: 1m\nmax_catchup: 1.5"),
            "5:18: jobs.j.max_catchup: expected an integer, got the number 1.5",
        ),
        (
            job("task: x.a\nevery: 1m\nmax_catchup: 0"),
            "5:18: jobs.j.max_catchup: expected an integer of at least 1, got 0",
        ),
        (
            job("task: x.a\nevery: 1m\nexecutor: 5"),
            "5:15: jobs.j.executor: expected an executor name string, got the integer 5",
        ),
        (
            job("task: x.a\nevery: 1m\nexecutor: ''"),
            "5:15: jobs.j.executor: expected a non-empty string, got ''",
        ),
        (
            job("task: x.a\nevery: 1m\nqueue: [io]"),
            "5:12: jobs.j.queue: expected a queue name string, got a list",
        ),
        (
            job("task: x.a\nevery: 1m\ndescription: {a: 1}"),
            "5:18: jobs.j.description: expected a string, got a mapping",
        ),
        # Instants.
        (
            job("task: x.a\nat: 2026-12-01T09:00:00"),
            "4:9: jobs.j.at: expected a date and time with a UTC offset, such as "
            "2026-01-01T09:00:00+01:00, got the date and time 2026-12-01T09:00:00 with no UTC "
            "offset",
        ),
        (
            job("task: x.a\nat: 2026-12-01"),
            "4:9: jobs.j.at: expected a date and time with a UTC offset, such as "
            "2026-01-01T09:00:00+01:00, got the date 2026-12-01 with no time",
        ),
        (
            job("task: x.a\nat: '2026-12-01T09:00'"),
            "4:9: jobs.j.at: expected a date and time with a UTC offset, such as "
            "2026-01-01T09:00:00+01:00, got the string '2026-12-01T09:00', which has no UTC "
            "offset",
        ),
        (
            job("task: x.a\nat: tomorrow"),
            "4:9: jobs.j.at: expected a date and time with a UTC offset, such as "
            "2026-01-01T09:00:00+01:00, got the string 'tomorrow'",
        ),
        (
            job("task: x.a\nat: 1767225600"),
            "4:9: jobs.j.at: expected a date and time with a UTC offset, such as "
            "2026-01-01T09:00:00+01:00, got the integer 1767225600",
        ),
        (
            job("task: x.a\nat:"),
            "4:8: jobs.j.at: expected a date and time with a UTC offset, such as "
            "2026-01-01T09:00:00+01:00, got null",
        ),
        (
            job("task: x.a\nevery: 1m\nstart: 2026-13-01T00:00:00Z"),
            "5:12: jobs.j.start: cannot read '2026-13-01T00:00:00Z' tagged '!!timestamp'",
        ),
        (
            job("task: x.a\nevery: 1m\nend: '2026-01-01T00:00:00'"),
            "5:10: jobs.j.end: expected a date and time with a UTC offset, such as "
            "2026-01-01T09:00:00+01:00, got the string '2026-01-01T00:00:00', which has no UTC "
            "offset",
        ),
        (
            job(
                "task: x.a\nevery: 1m\nstart: 2026-06-01T00:00:00Z\nend: 2026-06-01T02:00:00+02:00"
            ),
            "6:10: jobs.j.end: expected an end after start (2026-06-01T00:00:00+00:00), got "
            "2026-06-01T00:00:00+00:00",
        ),
        # Unknown keys.
        (
            job("task: x.a\ncronn: '* * * * *'\nevery: 1m"),
            "4:5: jobs.j.cronn: unknown key 'cronn'; did you mean 'cron'?",
        ),
        (
            job("task: x.a\nevery: 1m\nretry: 3"),
            "5:5: jobs.j.retry: unknown key 'retry'; did you mean 'retries'?",
        ),
        (
            job("task: x.a\nevery: 1m\nschedule: daily"),
            "5:5: jobs.j.schedule: unknown key 'schedule'; expected one of: task, cron, every, "
            "at, solar, args, kwargs, timezone, enabled, start, end, catchup, max_catchup, "
            "catchup_window, overlap, jitter, timeout, max_memory, retries, retry_backoff, "
            "retry_backoff_max, "
            "executor, queue, notify, exclude, holidays, business_days, on_excluded, calendar, "
            "after, when, description",
        ),
        (
            job("task: x.a\nevery: 1m\n5: x"),
            "5:5: jobs.j.5: expected a string key, got the integer 5",
        ),
        # Defaults.
        (
            "defaults:\n  task: x.a\n",
            "2:3: defaults.task: 'task' cannot be set in defaults; set it on each job",
        ),
        (
            "defaults:\n  cron: '* * * * *'\n",
            "2:3: defaults.cron: 'cron' cannot be set in defaults; set it on each job",
        ),
        (
            "defaults:\n  retrys: 3\n",
            "2:3: defaults.retrys: unknown key 'retrys'; did you mean 'retries'?",
        ),
        (
            "defaults:\n  retries: 300\njobs: {a: {task: x.a, every: 1m}, b: {task: x, every: 2m}}",
            "2:12: defaults.retries: expected an integer from 0 to 100, got 300",
        ),
        # Duplicates.
        (
            "jobs: {}\njobs: {}\n",
            "2:1: jobs: duplicate key 'jobs': already set on line 1; YAML would silently keep "
            "only the last",
        ),
        (
            "jobs:\n  a: {task: x.a, every: 1m}\n  a: {task: x.a, every: 2m}\n",
            "3:3: jobs.a: duplicate key 'a': already set on line 2; YAML would silently keep only "
            "the last",
        ),
        (
            job("task: x.a\nevery: 1m\nkwargs: {x: 1, y: 2, x: 3}"),
            "5:26: jobs.j.kwargs.x: duplicate key 'x': already set on line 5; YAML would silently "
            "keep only the last",
        ),
        # Merge keys.
        (
            "jobs:\n  <<: {a: {task: x.a, every: 1m}}\n",
            "2:3: jobs.<<: YAML merge keys ('<<') are not supported here; use 'defaults' instead",
        ),
        (
            job("<<: {retries: 3}\ntask: x.a\nevery: 1m"),
            "3:5: jobs.j.<<: YAML merge keys ('<<') are not supported here; use 'defaults' instead",
        ),
        # Arguments that are not JSON.
        (
            job("task: x.a\nevery: 1m\nargs: [1, 2026-01-01]"),
            "5:15: jobs.j.args[1]: expected a JSON value (string, number, true/false, null, list "
            "or mapping), got the date 2026-01-01 with no time; quote it to pass a string",
        ),
        (
            job("task: x.a\nevery: 1m\nkwargs: {when: 2026-01-01T00:00:00Z}"),
            "5:20: jobs.j.kwargs.when: expected a JSON value (string, number, true/false, null, "
            "list or mapping), got the date and time 2026-01-01T00:00:00+00:00; quote it to pass "
            "a string",
        ),
        (
            job("task: x.a\nevery: 1m\nargs: [.nan]"),
            "5:12: jobs.j.args[0]: expected a JSON value (string, number, true/false, null, list "
            "or mapping), got the number nan; quote it to pass a string",
        ),
        (
            job("task: x.a\nevery: 1m\nkwargs: {1: one}"),
            "5:14: jobs.j.kwargs: expected a string key, got the integer 1",
        ),
        (
            job("task: x.a\nevery: 1m\nargs: [!!set {a}]"),
            "5:12: jobs.j.args[0]: expected a JSON value (string, number, true/false, null, list "
            "or mapping), got a value tagged '!!set'",
        ),
        (
            job("task: x.a\nevery: 1m\nargs: [!!binary aGk=]"),
            "5:12: jobs.j.args[0]: expected a JSON value (string, number, true/false, null, list "
            "or mapping), got a value of type bytes; quote it to pass a string",
        ),
        (
            job("task: x.a\nevery: 1m\nargs: &loop [1, *loop]"),
            "5:11: jobs.j.args[1]: expected a JSON value (string, number, true/false, null, list "
            "or mapping), got an alias that contains itself",
        ),
        # Tags that a safe loader refuses: nothing is ever constructed from them.
        (
            job("task: x.a\nevery: 1m\nargs: !!python/object/apply:os.system ['echo hi']"),
            "5:11: jobs.j.args: expected a JSON value (string, number, true/false, null, list or "
            "mapping), got a value tagged '!!python/object/apply:os.system'",
        ),
        (
            job("task: !!python/name:os.system ''\nevery: 1m"),
            "3:11: jobs.j.task: cannot read '' tagged '!!python/name:os.system'",
        ),
        (
            job("task: x.a\nevery: 1m\nkwargs: {a: !custom 1}"),
            "5:17: jobs.j.kwargs.a: cannot read '1' tagged '!custom'",
        ),
        (
            job("task: x.a\nevery: !!int 1m"),
            "4:12: jobs.j.every: cannot read '1m' tagged '!!int'",
        ),
    ],
)
def test_mistake_is_located(text: str, expected: str) -> None:
    assert one_issue(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            job("task: x.a\ncron: * * * * *"),
            "4:12: invalid YAML: expected alphabetic or numeric character, but found ' ' (while "
            "scanning an alias); quote values that start with '*', such as cron: \"*/5 * * * *\"",
        ),
        (
            "jobs:\n\ta: 1\n",
            "2:1: invalid YAML: found character '\\t' that cannot start any token (while scanning "
            "for the next token)",
        ),
        (
            "jobs: [a\n",
            "2:1: invalid YAML: expected ',' or ']', but got '<stream end>' (while parsing a flow "
            "sequence)",
        ),
        (
            "jobs:\n  a: {task: x.a\n  b: 1\n",
            "3:4: invalid YAML: expected ',' or '}', but got ':' (while parsing a flow mapping)",
        ),
        (
            "a: 1\n---\nb: 2\n",
            "2:1: invalid YAML: expected a single document in the stream, but found another "
            "document",
        ),
        (
            "jobs:\n  a: *nowhere\n",
            "2:6: invalid YAML: found undefined alias 'nowhere'",
        ),
        (
            "jobs: {}\ntimezone: UTC\x00\n",
            "2:14: invalid YAML: unacceptable character #x0000: special characters are not allowed",
        ),
    ],
)
def test_syntax_errors_are_located(text: str, expected: str) -> None:
    assert one_issue(text) == expected


def test_every_bad_item_in_the_arguments_is_reported() -> None:
    found = issues(job("task: x.a\nevery: 1m\nargs: [2026-01-01, ok, .inf, {1: x}]"))
    assert [(line, column, path) for line, column, path, _ in found] == [
        (5, 12, "jobs.j.args[0]"),
        (5, 28, "jobs.j.args[2]"),
        (5, 35, "jobs.j.args[3]"),
    ]


def test_a_schedule_value_is_checked_even_when_there_are_too_many() -> None:
    found = issues(job("task: x.a\ncron: '61 * * * *'\nevery: 1m"))
    assert [path for _, _, path, _ in found] == ["jobs.j.cron", "jobs.j.every"]


def test_a_bad_time_zone_does_not_hide_cron_mistakes() -> None:
    found = issues(job("task: x.a\ncron: '61 * * * *'\ntimezone: Mars/Base"))
    assert [path for _, _, path, _ in found] == ["jobs.j.cron", "jobs.j.timezone"]


def test_a_bad_default_is_reported_once() -> None:
    text = "defaults: {jitter: soon}\njobs: {a: {task: x.a, every: 1m}, b: {task: x.a, every: 1m}}"
    assert [path for _, _, path, _ in issues(text)] == ["defaults.jitter"]


def test_window_from_defaults_is_reported_where_end_is_written() -> None:
    text = "defaults:\n  end: 2020-01-01T00:00:00Z\n" + job(
        "task: x.a\nevery: 1m\nstart: 2026-01-01T00:00:00Z"
    )
    ((line, column, path, _),) = issues(text)
    assert (line, column, path) == (2, 8, "defaults.end")


def test_aliased_arguments_are_checked_once() -> None:
    found = issues(job("task: x.a\nevery: 1m\nargs: [&d [2026-01-01], *d, *d]"))
    assert [(line, column, path) for line, column, path, _ in found] == [
        (5, 16, "jobs.j.args[0][0]")
    ]


def test_a_rule_of_jobspec_not_mirrored_here_is_still_located(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(**values: object) -> JobSpec:
        raise InvalidJob(f"job {values['name']!r}: a new rule")

    monkeypatch.setattr("scheduler.config.jobs.JobSpec.from_fields", refuse)
    assert one_issue(job("task: x.a\nevery: 1m")) == "2:3: jobs.j: job 'j': a new rule"


def test_a_job_that_is_not_a_mapping_has_one_issue_only() -> None:
    assert len(issues("jobs:\n  a: [task, every]\n")) == 1


# --- files ---------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as caught:
        load_schedules(path)
    assert caught.value.issues == (
        ConfigIssue(
            file=str(path), line=None, column=None, path="", message="No such file or directory"
        ),
    )
    assert str(caught.value.issues[0]) == f"{path}: No such file or directory"


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("jobs: {}\n# caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError) as caught:
        load_schedules(path)
    (issue,) = caught.value.issues
    assert (issue.line, issue.column) == (None, None)
    assert (
        issue.message
        == "'utf-8' codec can't decode byte 0xe9 in position 14: invalid continuation byte"
    )


def test_default_filename() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_schedules("jobs: 5\n")
    assert str(caught.value.issues[0]) == (
        "<string>:1:7: jobs: expected a mapping of job names to job settings, got the integer 5"
    )


def test_safe_loader_never_runs_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = job(f"task: x.a\nevery: 1m\nargs: !!python/object/apply:os.system ['touch {marker}']")
    with pytest.raises(ConfigError):
        parse_schedules(text)
    assert not marker.exists()


def test_a_file_without_a_timezone_is_read_in_the_default_zone() -> None:
    text = "jobs:\n  nightly:\n    task: app.tasks.nightly\n    cron: '30 2 * * *'\n"
    [job] = parse_schedules(text, default_timezone="Europe/Berlin")
    assert job.timezone == "Europe/Berlin"
    assert job.next_after(datetime(2026, 7, 1, tzinfo=UTC)) == datetime(
        2026, 7, 1, 0, 30, tzinfo=UTC
    )
    [job] = parse_schedules("timezone: UTC\n" + text, default_timezone="Europe/Berlin")
    assert job.timezone == "UTC"


def test_an_unknown_default_zone_is_refused() -> None:
    with pytest.raises(InvalidSchedule, match="Mars/Olympus"):
        parse_schedules("jobs: {}\n", default_timezone="Mars/Olympus")
