"""JobSpec: validation, the start/end window, the definition hash, dict round trip."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.errors import InvalidJob, InvalidSchedule, SchedulerError
from scheduler.model.chains import ChainWhen
from scheduler.model.fields import json_copy
from scheduler.model.job_policy import DEFAULT_POLICY
from scheduler.model.jobs import POLICY_FIELDS, JobPolicy, JobSpec, validate_field
from scheduler.model.notify import JobNotify
from scheduler.model.policies import CatchupPolicy, JobSource, OverlapPolicy
from scheduler.model.runs import RunStatus
from scheduler.schedules import Cron, Every, Once
from tests.specs import job_specs

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PLUS_ONE = timezone(timedelta(hours=1))


def nightly(**options: Any) -> JobSpec:
    return JobSpec.build(
        name="nightly-report",
        task="reports.tasks.nightly",
        cron="30 2 * * *",
        timezone="Europe/Berlin",
        **options,
    )


def full() -> JobSpec:
    """A spec with every field away from its default."""
    return nightly(
        args=[1, "x", [2.5, None]],
        kwargs={"full": True, "nested": {"k": [1, 2]}},
        enabled=False,
        start=datetime(2026, 1, 1, tzinfo=PLUS_ONE),
        end=datetime(2027, 1, 1, tzinfo=PLUS_ONE),
        catchup=CatchupPolicy.ALL,
        max_catchup=10,
        catchup_window=timedelta(hours=6),
        overlap=OverlapPolicy.QUEUE,
        jitter=timedelta(seconds=30, microseconds=250),
        timeout=timedelta(minutes=10),
        retries=3,
        retry_backoff=timedelta(seconds=30),
        retry_backoff_max=timedelta(hours=2),
        executor="celery",
        queue="reports",
        description="Nightly sales report",
        source=JobSource.ADMIN,
    )


# --- building ------------------------------------------------------------------


def test_defaults() -> None:
    spec = JobSpec(name="ping", task="app.tasks.ping", schedule=Every(timedelta(minutes=15)))
    assert spec.args == ()
    assert spec.kwargs == {}
    assert spec.timezone == "UTC"
    assert spec.enabled is True
    assert (spec.start, spec.end) == (None, None)
    assert spec.policy.catchup is CatchupPolicy.ONCE
    assert spec.policy.max_catchup == 100
    assert spec.policy.catchup_window is None
    assert spec.policy.overlap is OverlapPolicy.SKIP
    assert spec.policy.jitter == timedelta(0)
    assert spec.policy.timeout is None
    assert spec.policy.retries == 0
    assert spec.policy.retry_backoff == timedelta(seconds=10)
    assert spec.policy.retry_backoff_max == timedelta(hours=1)
    assert spec.executor == "default"
    assert spec.queue is None
    assert spec.description == ""
    assert spec.source is JobSource.CODE


def test_build_cron_reads_the_zone_and_hashes_by_name() -> None:
    spec = JobSpec.build(name="spread", task="a.b", cron="H H * * *", timezone="Europe/Berlin")
    assert spec.schedule == Cron("H H * * *", tz="Europe/Berlin", hash_key="spread")
    assert spec.timezone == "Europe/Berlin"
    other = JobSpec.build(name="other", task="a.b", cron="H H * * *", timezone="Europe/Berlin")
    assert spec.next_after(T0) != other.next_after(T0)


def test_build_every_is_anchored_to_start() -> None:
    start = datetime(2026, 1, 1, 9, 10, tzinfo=UTC)
    spec = JobSpec.build(name="tick", task="a.b", every="1h30m", start=start)
    assert spec.schedule == Every(timedelta(minutes=90), anchor=start)
    assert spec.next_after(T0) == start
    assert spec.next_after(start) == datetime(2026, 1, 1, 10, 40, tzinfo=UTC)


@pytest.mark.parametrize("every", ["15m", 900, 900.0, timedelta(minutes=15)])
def test_build_every_accepts_any_duration_form(every: str | int | float | timedelta) -> None:
    spec = JobSpec.build(name="tick", task="a.b", every=every)
    assert spec.schedule == Every(timedelta(minutes=15))


def test_build_at() -> None:
    spec = JobSpec.build(name="launch", task="a.b", at=datetime(2026, 12, 1, 9, tzinfo=PLUS_ONE))
    assert spec.schedule == Once(datetime(2026, 12, 1, 8, tzinfo=UTC))


@pytest.mark.parametrize(
    ("schedule", "found"),
    [
        ({}, "none"),
        ({"cron": "* * * * *", "every": "1m"}, "cron and every"),
        ({"cron": "* * * * *", "every": "1m", "at": T0}, "cron and every and at"),
    ],
)
def test_build_takes_exactly_one_schedule(schedule: dict[str, Any], found: str) -> None:
    with pytest.raises(InvalidJob) as caught:
        JobSpec.build(name="x", task="a.b", **schedule)
    assert (
        str(caught.value) == f"job 'x': give exactly one of cron, every, at or solar, got {found}"
    )


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        (
            {"cron": "61 * * * *"},
            "job 'x': cron: cron expression '61 * * * *': the minute field '61' is not valid "
            "(allowed: 0-59)",
        ),
        ({"every": "0s"}, "job 'x': every: an interval must be positive, got 0s"),
        (
            {"every": "soon"},
            "job 'x': every: expected a duration such as '90s', '15m', '1h30m' or '2d', got 'soon'",
        ),
        (
            {"at": datetime(2026, 1, 1)},
            "job 'x': at: at must be timezone-aware, got naive 2026-01-01T00:00:00",
        ),
        (
            {"cron": "* * * * *", "timezone": "Mars/Base"},
            "job 'x': cron: unknown time zone 'Mars/Base'; use an IANA name such as "
            "'Europe/Berlin' or 'UTC'",
        ),
    ],
)
def test_build_reports_bad_schedules(schedule: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidSchedule) as caught:
        JobSpec.build(name="x", task="a.b", **schedule)
    assert str(caught.value) == message


def test_build_checks_start_before_using_it_as_anchor() -> None:
    with pytest.raises(InvalidJob) as caught:
        JobSpec.build(name="x", task="a.b", every="1m", start="2026-01-01")
    assert str(caught.value) == (
        "job 'x': start: expected a timezone-aware datetime or None, got '2026-01-01'"
    )


def test_values_are_normalised() -> None:
    spec = full()
    assert spec.args == (1, "x", [2.5, None])
    assert spec.kwargs == {"full": True, "nested": {"k": [1, 2]}}
    assert spec.start == datetime(2025, 12, 31, 23, tzinfo=UTC)
    assert spec.start is not None and spec.start.tzinfo is UTC
    assert spec.end == datetime(2026, 12, 31, 23, tzinfo=UTC)


def test_arguments_become_what_json_gives_back() -> None:
    spec = nightly(args=[(1, 2)], kwargs={"pair": (3, 4)})
    assert spec.args == ([1, 2],)
    assert spec.kwargs == {"pair": [3, 4]}


def test_policies_may_be_given_as_strings() -> None:
    spec = nightly(catchup="all", overlap="queue", source="yaml")
    assert spec.policy.catchup is CatchupPolicy.ALL
    assert spec.policy.overlap is OverlapPolicy.QUEUE
    assert spec.source is JobSource.YAML


def test_time_zone_name_is_canonical() -> None:
    spec = JobSpec(name="x", task="a.b", schedule=Once(T0), timezone="UTC")
    assert spec.timezone == "UTC"


def test_spec_does_not_share_mutable_arguments() -> None:
    kwargs: dict[str, Any] = {"items": [1]}
    spec = nightly(kwargs=kwargs)
    kwargs["items"].append(2)
    assert spec.kwargs == {"items": [1]}
    exported = spec.to_dict()["kwargs"]
    assert isinstance(exported, dict)
    items = exported["items"]
    assert isinstance(items, list)
    items.append(3)
    assert spec.kwargs == {"items": [1]}


def test_frozen_slotted_keyword_only() -> None:
    spec = nightly()
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.task = "app.tasks.other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.policy.retries = 3  # type: ignore[misc]
    assert not hasattr(spec, "__dict__")
    assert not hasattr(spec.policy, "__dict__")
    with pytest.raises(TypeError):
        JobSpec("x", "a.b", Once(T0))  # type: ignore[call-arg]


def test_replace_validates_again() -> None:
    spec = nightly()
    retried = dataclasses.replace(spec, policy=dataclasses.replace(spec.policy, retries=5))
    assert retried.policy.retries == 5
    with pytest.raises(InvalidJob, match="retries: expected an integer from 0 to 100, got 101"):
        dataclasses.replace(spec.policy, retries=101)
    with pytest.raises(
        InvalidJob, match="job 'nightly-report': policy: expected a JobPolicy, got 3"
    ):
        dataclasses.replace(spec, policy=3)


def test_specs_are_hashable_and_compare_by_content() -> None:
    assert nightly() == nightly()
    assert hash(nightly()) == hash(nightly())
    assert len({nightly(), nightly(), nightly(retries=1)}) == 2
    assert nightly() != nightly(retries=1)


# --- validation ---------------------------------------------------------------------

NAME_RULE = "expected 1-200 characters of letters, digits, '_', '.', ':' or '-'"
TASK_RULE = "expected a dotted path such as 'app.tasks.send' or a registered task name"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, f"job name: {NAME_RULE}, got ''"),
        ({"name": "a b"}, f"job name: {NAME_RULE}, got 'a b'"),
        ({"name": "x" * 201}, f"job name: {NAME_RULE}, got '{'x' * 201}'"),
        ({"name": "naïve"}, f"job name: {NAME_RULE}, got 'naïve'"),
        ({"name": 7}, f"job name: {NAME_RULE}, got 7"),
        ({"task": ""}, f"job 'n': task: {TASK_RULE}, got ''"),
        ({"task": "app..send"}, f"job 'n': task: {TASK_RULE}, got 'app..send'"),
        ({"task": "app.tasks.send()"}, f"job 'n': task: {TASK_RULE}, got 'app.tasks.send()'"),
        ({"task": "os.system; rm"}, f"job 'n': task: {TASK_RULE}, got 'os.system; rm'"),
        (
            {"schedule": "* * * * *"},
            "job 'n': schedule: expected a Cron, Every, Once or Solar schedule, got '* * * * *'",
        ),
        ({"args": "abc"}, "job 'n': args: expected a list of JSON values, got 'abc'"),
        (
            {"args": [{1, 2}]},
            "job 'n': args: expected JSON values only, got [{1, 2}] (a set is not a JSON value)",
        ),
        (
            {"args": [float("inf")]},
            "job 'n': args: expected JSON values only, got [inf] (inf is not a JSON number)",
        ),
        (
            {"kwargs": [1]},
            "job 'n': kwargs: expected a mapping of JSON values with string keys, got [1]",
        ),
        (
            {"kwargs": {1: "x"}},
            "job 'n': kwargs: expected a mapping of JSON values with string keys, got {1: 'x'}",
        ),
        (
            {"kwargs": {"when": T0}},
            "job 'n': kwargs: expected JSON values only, got {'when': "
            "datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)} "
            "(a datetime is not a JSON value)",
        ),
        (
            {"timezone": 5},
            "job 'n': timezone: expected an IANA time zone name such as 'Europe/Berlin', got 5",
        ),
        ({"enabled": "yes"}, "job 'n': enabled: expected True or False, got 'yes'"),
        ({"enabled": 1}, "job 'n': enabled: expected True or False, got 1"),
        (
            {"start": datetime(2026, 1, 1)},
            "job 'n': start: expected a timezone-aware datetime or None, "
            "got datetime.datetime(2026, 1, 1, 0, 0)",
        ),
        (
            {"end": "2026-01-01T00:00:00Z"},
            "job 'n': end: expected a timezone-aware datetime or None, got '2026-01-01T00:00:00Z'",
        ),
        (
            {"catchup": "sometimes"},
            "job 'n': catchup: expected one of 'once', 'all', 'skip', got 'sometimes'",
        ),
        (
            {"overlap": OverlapPolicy},
            "job 'n': overlap: expected one of 'skip', 'allow', 'queue', "
            "got <enum 'OverlapPolicy'>",
        ),
        ({"source": "git"}, "job 'n': source: expected one of 'yaml', 'admin', 'code', got 'git'"),
        ({"max_catchup": 0}, "job 'n': max_catchup: expected an integer of at least 1, got 0"),
        ({"max_catchup": 2.0}, "job 'n': max_catchup: expected an integer of at least 1, got 2.0"),
        (
            {"catchup_window": timedelta(0)},
            "job 'n': catchup_window: expected a positive duration such as '90s' or None, "
            "got datetime.timedelta(0)",
        ),
        (
            {"jitter": timedelta(seconds=-1)},
            "job 'n': jitter: expected a duration of zero or more such as '90s', "
            "got datetime.timedelta(days=-1, seconds=86399)",
        ),
        (
            {"jitter": "soon"},
            "job 'n': jitter: expected a duration of zero or more such as '90s', got 'soon'",
        ),
        (
            {"timeout": timedelta(0)},
            "job 'n': timeout: expected a positive duration such as '90s' or None, "
            "got datetime.timedelta(0)",
        ),
        ({"retries": -1}, "job 'n': retries: expected an integer from 0 to 100, got -1"),
        ({"retries": 101}, "job 'n': retries: expected an integer from 0 to 100, got 101"),
        ({"retries": True}, "job 'n': retries: expected an integer from 0 to 100, got True"),
        (
            {"retry_backoff": None},
            "job 'n': retry_backoff: expected a duration of zero or more such as '90s', got None",
        ),
        (
            {"retry_backoff_max": -10},
            "job 'n': retry_backoff_max: expected a duration of zero or more such as '90s', "
            "got -10",
        ),
        ({"executor": ""}, "job 'n': executor: expected a non-empty string, got ''"),
        ({"queue": " "}, "job 'n': queue: expected a non-empty string or None, got ' '"),
        ({"description": None}, "job 'n': description: expected a string, got None"),
        (
            {"start": datetime(2026, 2, 1, tzinfo=UTC), "end": datetime(2026, 2, 1, tzinfo=UTC)},
            "job 'n': start must be before end, got start 2026-02-01T00:00:00+00:00 "
            "and end 2026-02-01T00:00:00+00:00",
        ),
        (
            {"timezone": "Europe/Paris"},
            "job 'n': schedule: the cron expression is read in 'UTC' but the job's timezone "
            "is 'Europe/Paris'; build it with Cron(expr, tz=timezone) or JobSpec.build()",
        ),
    ],
)
def test_invalid_fields_are_named_with_their_value(changes: dict[str, Any], message: str) -> None:
    values: dict[str, Any] = {"name": "n", "task": "a.b", "schedule": Cron("* * * * *")}
    with pytest.raises(InvalidJob) as caught:
        JobSpec.from_fields(**{**values, **changes})
    assert str(caught.value) == message


def test_unknown_time_zone_is_an_invalid_schedule() -> None:
    with pytest.raises(InvalidSchedule) as caught:
        JobSpec(name="n", task="a.b", schedule=Once(T0), timezone="Mars/Base")
    assert str(caught.value) == (
        "job 'n': timezone: unknown time zone 'Mars/Base'; use an IANA name such as "
        "'Europe/Berlin' or 'UTC'"
    )
    assert isinstance(caught.value, SchedulerError)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    "name", ["a", "x" * 200, "nightly-report", "billing.send_invoices", "tenant:42:cleanup", "A_1"]
)
def test_valid_names(name: str) -> None:
    assert JobSpec(name=name, task="a.b", schedule=Once(T0)).name == name


@pytest.mark.parametrize("task", ["send", "app.tasks.send", "_private.Task2", "proj.celery.add"])
def test_valid_tasks(task: str) -> None:
    assert JobSpec(name="n", task=task, schedule=Once(T0)).task == task


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("retries", 0),
        ("retries", 100),
        ("max_catchup", 1),
        ("jitter", timedelta(0)),
        ("retry_backoff", timedelta(0)),
        ("queue", None),
        ("description", ""),
    ],
)
def test_boundary_values_are_accepted(field: str, value: Any) -> None:
    spec = nightly().with_fields(**{field: value})
    assert spec.to_dict()[field] == nightly().with_fields(**{field: value}).to_dict()[field]
    assert getattr(spec.policy if field in POLICY_FIELDS else spec, field) == value


def test_validate_field_checks_one_field() -> None:
    assert validate_field("retries", 3) == 3
    assert validate_field("catchup", "skip") is CatchupPolicy.SKIP
    assert validate_field("args", [1, (2,)]) == (1, [2])
    with pytest.raises(InvalidJob) as caught:
        validate_field("retries", 101)
    assert str(caught.value) == "expected an integer from 0 to 100, got 101"
    with pytest.raises(InvalidJob, match="unknown job field 'colour'"):
        validate_field("colour", "red")


# --- next_after and the window ---------------------------------------------------


def test_next_after_is_strictly_after() -> None:
    spec = JobSpec.build(name="n", task="a.b", cron="0 * * * *")
    assert spec.next_after(T0) == T0 + timedelta(hours=1)
    assert spec.next_after(T0 - timedelta(microseconds=1)) == T0


def test_next_after_never_before_start_and_start_is_included() -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    spec = JobSpec.build(name="n", task="a.b", cron="0 0 * * *", start=start)
    assert spec.next_after(T0) == start
    assert spec.next_after(start) == start + timedelta(days=1)


def test_next_after_start_between_slots() -> None:
    start = datetime(2026, 3, 1, 0, 30, tzinfo=UTC)
    spec = JobSpec.build(name="n", task="a.b", cron="0 * * * *", start=start)
    assert spec.next_after(T0) == datetime(2026, 3, 1, 1, tzinfo=UTC)


def test_next_after_end_is_inclusive_then_none() -> None:
    end = datetime(2026, 1, 3, tzinfo=UTC)
    spec = JobSpec.build(name="n", task="a.b", cron="0 0 * * *", end=end)
    assert spec.next_after(T0) == datetime(2026, 1, 2, tzinfo=UTC)
    assert spec.next_after(datetime(2026, 1, 2, tzinfo=UTC)) == end
    assert spec.next_after(end) is None
    assert spec.next_after(end + timedelta(days=30)) is None


def test_next_after_once_outside_the_window_is_none() -> None:
    spec = JobSpec.build(name="n", task="a.b", at=T0, end=T0 - timedelta(seconds=1), start=None)
    assert spec.next_after(T0 - timedelta(days=1)) is None


def test_next_after_returns_utc_and_refuses_naive() -> None:
    spec = nightly()
    after = datetime(2026, 3, 28, 12, tzinfo=PLUS_ONE)
    due = spec.next_after(after)
    assert due == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 CEST, after the gap
    assert due is not None and due.tzinfo is UTC
    with pytest.raises(ValueError, match="must be timezone-aware"):
        spec.next_after(datetime(2026, 1, 1))


def test_next_after_ignores_enabled() -> None:
    assert nightly(enabled=False).next_after(T0) == nightly().next_after(T0)


def test_describe_is_the_schedule_description() -> None:
    assert nightly().describe() == Cron("30 2 * * *", tz="Europe/Berlin").describe()
    assert JobSpec.build(name="n", task="a.b", every="15m").describe() == "every 15m"


# --- definition_hash ----------------------------------------------------------------

CANONICAL = (
    '{"args":[1,"x"],"catchup":"once","catchup_window":null,"description":"",'
    '"enabled":true,"end":null,"executor":"default","jitter":0,"kwargs":{"full":true},'
    '"max_catchup":100,"name":"nightly-report","overlap":"skip","queue":null,"retries":0,'
    '"retry_backoff":10,"retry_backoff_max":3600,'
    '"schedule":{"cron":"30 2 * * *","hash_key":"nightly-report"},"source":"code",'
    '"start":null,"task":"reports.tasks.nightly","timeout":null,"timezone":"Europe/Berlin"}'
)


def test_definition_hash_is_sha256_of_canonical_json() -> None:
    spec = nightly(args=[1, "x"], kwargs={"full": True})
    assert json.dumps(spec.to_dict(), sort_keys=True, separators=(",", ":")) == CANONICAL
    expected = hashlib.sha256(CANONICAL.encode()).hexdigest()
    assert spec.definition_hash() == expected
    # Pinned: stored hashes must survive upgrades of Python and of this library.
    assert expected == "f3bc7fefc3839842287f6bb38b623ea8322e9debf1a8ac62ec3282d6ec1387b6"


def test_definition_hash_is_the_same_in_every_process() -> None:
    code = (
        "from scheduler.model.jobs import JobSpec\n"
        "print(JobSpec.build(name='nightly-report', task='reports.tasks.nightly',"
        " cron='30 2 * * *', timezone='Europe/Berlin', args=[1, 'x'],"
        " kwargs={'full': True}).definition_hash())"
    )
    outputs = set()
    for seed in ("0", "1", "987"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
        )
        outputs.add(result.stdout.strip())
    assert outputs == {"f3bc7fefc3839842287f6bb38b623ea8322e9debf1a8ac62ec3282d6ec1387b6"}


def test_equal_content_gives_equal_hash() -> None:
    berlin = nightly(start=datetime(2026, 1, 1, 1, tzinfo=PLUS_ONE), kwargs={"a": 1, "b": 2})
    utc = nightly(start=datetime(2026, 1, 1, tzinfo=UTC), kwargs={"b": 2, "a": 1})
    assert berlin == utc
    assert berlin.definition_hash() == utc.definition_hash()


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "other", "schedule": Cron("30 2 * * *", tz="Europe/Berlin", hash_key="other")},
        {"task": "reports.tasks.weekly"},
        {"schedule": Cron("31 2 * * *", tz="Europe/Berlin", hash_key="nightly-report")},
        {"schedule": Cron("30 2 * * *", tz="Europe/Berlin")},
        {"args": (1,)},
        {"kwargs": {"full": False}},
        {"timezone": "UTC", "schedule": Cron("30 2 * * *", hash_key="nightly-report")},
        {"enabled": False},
        {"start": T0},
        {"end": T0},
        {"catchup": CatchupPolicy.SKIP},
        {"max_catchup": 5},
        {"catchup_window": timedelta(hours=1)},
        {"overlap": OverlapPolicy.ALLOW},
        {"jitter": timedelta(microseconds=1)},
        {"timeout": timedelta(minutes=1)},
        {"retries": 1},
        {"retry_backoff": timedelta(seconds=11)},
        {"retry_backoff_max": timedelta(hours=2)},
        {"executor": "celery"},
        {"queue": "io"},
        {"description": "changed"},
        {"source": JobSource.YAML},
        {"notify": JobNotify(enabled=False)},
        {"notify": JobNotify(to=("slack",))},
        {"notify": JobNotify(when=frozenset({RunStatus.SUCCEEDED}))},
    ],
)
def test_every_field_is_part_of_the_hash(changes: dict[str, Any]) -> None:
    spec = nightly()
    assert spec.with_fields(**changes).definition_hash() != spec.definition_hash()


# --- to_dict / from_dict ---------------------------------------------------------------


def test_to_dict_is_json_safe() -> None:
    data = full().to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert data["start"] == "2025-12-31T23:00:00+00:00"
    assert data["jitter"] == 30.00025
    assert data["timeout"] == 600
    assert data["catchup"] == "all"
    assert type(data["catchup"]) is str
    assert data["schedule"] == {"cron": "30 2 * * *", "hash_key": "nightly-report"}


@pytest.mark.parametrize(
    ("spec", "schedule"),
    [
        (full(), {"cron": "30 2 * * *", "hash_key": "nightly-report"}),
        (JobSpec.build(name="n", task="a.b", every="15m"), {"every": 900, "anchor": None}),
        (
            JobSpec.build(name="n", task="a.b", every="90s", start=T0),
            {"every": 90, "anchor": "2026-01-01T00:00:00+00:00"},
        ),
        (JobSpec.build(name="n", task="a.b", at=T0), {"at": "2026-01-01T00:00:00+00:00"}),
    ],
)
def test_round_trip(spec: JobSpec, schedule: dict[str, Any]) -> None:
    data = spec.to_dict()
    assert data["schedule"] == schedule
    again = JobSpec.from_dict(json.loads(json.dumps(data)))
    assert again == spec
    assert again.definition_hash() == spec.definition_hash()


def test_from_dict_needs_only_the_essentials() -> None:
    spec = JobSpec.from_dict({"name": "n", "task": "a.b", "schedule": {"every": "15m"}})
    assert spec == JobSpec.build(name="n", task="a.b", every="15m")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"colour": "red"}, "job data: unknown fields 'colour'"),
        ({"schedule": None}, "job 'n': schedule: expected a mapping with one of 'cron', "),
        (
            {"schedule": {"cron": "* * * * *", "at": "x"}},
            "with one of 'cron', 'every', 'at' or 'solar'",
        ),
        ({"schedule": {"every": [1]}}, "job 'n': schedule: expected a number of seconds or"),
        ({"schedule": {"at": "tomorrow"}}, "job 'n': schedule: expected an ISO-8601 string"),
        ({"jitter": "soon"}, "job 'n': jitter: expected a duration such as '90s'"),
        ({"timeout": [1]}, "job 'n': timeout: expected a number of seconds or a duration"),
        ({"start": 5}, "job 'n': start: expected an ISO-8601 string, got 5"),
        ({"end": "2026-13-01"}, "job 'n': end: expected an ISO-8601 string, got '2026-13-01'"),
        ({"retries": "3"}, "job 'n': retries: expected an integer from 0 to 100, got '3'"),
    ],
)
def test_from_dict_rejects(changes: dict[str, Any], message: str) -> None:
    data = {"name": "n", "task": "a.b", "schedule": {"every": 60}, **changes}
    with pytest.raises(InvalidJob, match=message.replace("(", r"\(")):
        JobSpec.from_dict(data)


def test_from_dict_missing_fields() -> None:
    with pytest.raises(InvalidJob) as caught:
        JobSpec.from_dict({"name": "n"})
    assert str(caught.value) == "job data: missing fields 'schedule', 'task'"


JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
AWARE = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
DURATIONS = st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=400))


@given(
    args=st.lists(JSON_VALUES, max_size=4),
    kwargs=st.dictionaries(st.text(), JSON_VALUES, max_size=4),
    every=DURATIONS,
    start=st.none() | AWARE,
    jitter=DURATIONS,
    timeout=st.none() | DURATIONS,
    retries=st.integers(min_value=0, max_value=100),
    description=st.text(),
)
def test_round_trip_property(
    args: list[Any],
    kwargs: dict[str, Any],
    every: timedelta,
    start: datetime | None,
    jitter: timedelta,
    timeout: timedelta | None,
    retries: int,
    description: str,
) -> None:
    spec = JobSpec.build(
        name="prop",
        task="a.b",
        every=every,
        args=args,
        kwargs=kwargs,
        start=start,
        jitter=jitter,
        timeout=timeout,
        retries=retries,
        description=description,
    )
    again = JobSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec
    assert again.definition_hash() == spec.definition_hash()


# --- the policy, one value -----------------------------------------------------------


def test_the_policy_fields_are_one_frozen_value_with_the_old_defaults() -> None:
    policy = JobSpec.build(name="n", task="a.b", every="1m").policy
    assert policy == JobPolicy()
    assert POLICY_FIELDS == (
        "catchup",
        "max_catchup",
        "catchup_window",
        "overlap",
        "jitter",
        "timeout",
        "max_memory",  # since 0.2: left out of to_dict() while None, so no hash changed
        "retries",
        "retry_backoff",
        "retry_backoff_max",
    )


def test_a_policy_checks_its_fields_and_names_the_bad_one() -> None:
    assert JobPolicy(jitter="5s", catchup="all").jitter == timedelta(seconds=5)  # type: ignore[arg-type]
    with pytest.raises(
        InvalidJob, match=r"^overlap: expected one of 'skip', 'allow', 'queue', got 'x'$"
    ):
        JobPolicy(overlap="x")  # type: ignore[arg-type]


def test_build_and_from_fields_take_the_policy_flat_and_name_the_job_in_errors() -> None:
    spec = JobSpec.build(name="n", task="a.b", every="1m", retries=2, overlap="queue")
    assert spec.policy == JobPolicy(retries=2, overlap=OverlapPolicy.QUEUE)
    assert JobSpec.from_fields(**spec.to_dict() | {"schedule": spec.schedule}) == spec
    with pytest.raises(InvalidJob, match=r"^job 'n': retries: expected an integer from 0 to 100"):
        JobSpec.from_fields(name="n", task="a.b", schedule=Once(T0), retries=-1)
    with pytest.raises(InvalidJob, match=r"^job name: expected 1-200 characters"):
        JobSpec.from_fields(name="", task="a.b", schedule=Once(T0), retries=-1)


def test_with_fields_changes_flat_fields_and_validates_again() -> None:
    spec = nightly()
    assert spec.with_fields(retries=4, description="d").policy.retries == 4
    assert spec.with_fields(description="d").description == "d"
    with pytest.raises(InvalidJob, match="job 'nightly-report': jitter: expected a duration"):
        spec.with_fields(jitter=-1)


def test_the_json_form_and_the_hash_did_not_change_with_the_grouping() -> None:
    """Stored jobs keep their definition hash, so no job looks changed after upgrading.
    The hashes were computed by the flat JobSpec of 0.1.0.dev0."""
    plain = JobSpec.build(
        name="nightly", task="app.tasks.report", cron="30 2 * * *", timezone="Europe/Berlin"
    )
    every_policy = JobSpec.build(
        name="ping",
        task="app.tasks.ping",
        every="15m",
        retries=3,
        retry_backoff="30s",
        jitter="5s",
        timeout="2m",
        catchup="all",
        max_catchup=5,
        catchup_window="1h",
        overlap="queue",
        kwargs={"x": [1, 2]},
        description="d",
        queue="q",
        executor="celery",
        start=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert plain.definition_hash() == (
        "4ba596705750e6285d455b380fdf0a058abd973b6ed10b032ae89d70d7cfffd5"
    )
    assert every_policy.definition_hash() == (
        "020c563937b8fdcc1e4db85ce0783813ddf16a83462abc5bb3f302fdf91b7faa"
    )
    assert list(every_policy.to_dict())[9:18] == [f for f in POLICY_FIELDS if f != "max_memory"]
    assert "max_memory" not in every_policy.to_dict()  # None: left out, so the hash holds
    assert every_policy.to_dict()["retry_backoff"] == 30


def test_reading_a_policy_field_off_the_spec_still_works_with_a_warning() -> None:
    spec = nightly().with_fields(retries=2)
    with pytest.warns(DeprecationWarning, match=r"JobSpec.retries is JobSpec.policy.retries now"):
        assert spec.retries == 2  # type: ignore[attr-defined]


def test_max_memory_is_a_size_in_bytes_and_part_of_the_hash_once_set() -> None:
    spec = nightly()
    limited = spec.with_fields(max_memory="512M")
    assert limited.policy.max_memory == 512 * 1024**2
    assert limited.to_dict()["max_memory"] == 512 * 1024**2
    assert limited.definition_hash() != spec.definition_hash()
    assert JobSpec.from_dict(limited.to_dict()) == limited
    assert spec.with_fields(max_memory=2 * 1024**3).policy.max_memory == 2 * 1024**3
    assert spec.with_fields(max_memory="1.5GiB").policy.max_memory == 3 * 1024**3 // 2
    assert spec.with_fields(max_memory=None) == spec


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("lots", "expected a size in bytes such as '512M' or '2G', or None, got 'lots'"),
        (0, "expected a size in bytes such as '512M' or '2G', or None, got 0"),
        (True, "expected a size in bytes such as '512M' or '2G', or None, got True"),
        ("1M", "expected at least 64M (a Python process needs more), got '1M'"),
    ],
)
def test_max_memory_garbage_is_refused_naming_the_job_and_field(
    value: object, message: str
) -> None:
    expected = f"^job 'nightly-report': max_memory: {re.escape(message)}$"
    with pytest.raises(InvalidJob, match=expected):
        nightly().with_fields(max_memory=value)


def test_fields_already_checked_give_the_spec_the_checks_give() -> None:
    raw = {"task": "app.tasks.a", "args": [1, [2]], "kwargs": {"k": (1,)}, "retries": 3}
    checked = {key: validate_field(key, value) for key, value in raw.items()}
    common = {"name": "a", "schedule": Every(timedelta(minutes=5))}
    fast = JobSpec.from_fields(**checked, **common, checked=checked.keys())
    assert fast == JobSpec.from_fields(**raw, **common)
    assert fast.definition_hash() == JobSpec.from_fields(**raw, **common).definition_hash()
    assert fast.kwargs == {"k": [1]}
    assert fast.queue is None and fast.policy.retries == 3


def test_fields_not_named_checked_and_rules_between_fields_are_still_checked() -> None:
    every = Every(timedelta(minutes=5))
    with pytest.raises(InvalidJob, match="job 'a': task"):
        JobSpec.from_fields(name="a", task="not a path", schedule=every, checked={"args"})
    start, end = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(InvalidJob, match="start must be before end"):
        JobSpec.from_fields(
            name="a", task="x.a", schedule=every, start=start, end=end, checked={"start", "end"}
        )


def test_a_spec_keeps_its_definition_hash_and_a_copy_computes_its_own() -> None:
    spec = JobSpec.build(name="a", task="x.a", every="5m")
    first = spec.definition_hash()
    assert spec.definition_hash() is first
    changed = dataclasses.replace(spec, args=(1,))
    assert changed.definition_hash() != first
    assert dataclasses.replace(changed, args=()).definition_hash() == first


def _hash_by_dumps(spec: JobSpec) -> str:
    """The definition hash as documented: SHA-256 of ``json.dumps`` of ``to_dict``."""
    text = json.dumps(spec.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


@st.composite
def _specs_with_the_default_policy(draw: st.DrawFn) -> JobSpec:
    """Specs that set no policy field, chained or not: they share DEFAULT_POLICY."""
    after = draw(st.lists(st.sampled_from(["up-a", "up-b", "up-c"]), unique=True, max_size=3))
    options: dict[str, Any] = {"after": after} if after else {"every": draw(st.integers(1, 10**6))}
    if after:
        options["when"] = draw(st.sampled_from(ChainWhen))
    return JobSpec.build(
        name="down", task="t.x", kwargs=draw(st.dictionaries(st.text(), JSON_VALUES)), **options
    )


@given(st.one_of(job_specs(), _specs_with_the_default_policy()))
def test_the_definition_hash_is_the_sha256_of_dumps_of_to_dict(spec: JobSpec) -> None:
    """The hash is built without json.dumps' per-call set-up, and with the
    default policy's fields encoded once; the bytes are what the docstring says."""
    assert spec.definition_hash() == _hash_by_dumps(spec)


def test_specs_that_set_no_policy_share_one() -> None:
    built = JobSpec.build(name="a", task="x.a", every="5m")
    assert built.policy is DEFAULT_POLICY
    assert JobSpec.from_dict(built.to_dict()).policy is DEFAULT_POLICY
    assert (
        JobSpec(name="a", task="x.a", schedule=Every(timedelta(minutes=5))).policy is DEFAULT_POLICY
    )
    assert JobSpec.build(name="a", task="x.a", every="5m", retries=1).policy is not DEFAULT_POLICY
    assert DEFAULT_POLICY == JobPolicy()


@pytest.mark.parametrize("owner", [JobSpec, JobPolicy], ids=["spec", "policy"])
def test_every_one_value_default_is_its_own_normal_form(owner: type) -> None:
    """A spec or policy field that holds its default object is not checked
    again when built: that default must be what the check would give."""
    defaults = {f.name: f.default for f in dataclasses.fields(owner)}
    checked = {name: d for name, d in defaults.items() if d is not dataclasses.MISSING}
    assert checked, "no one-value defaults found"
    for name, default in checked.items():
        if name == "policy":  # one shared value, checked when it was built
            assert default == JobPolicy() and default is DEFAULT_POLICY
            continue
        normal = validate_field(name, default)
        assert normal == default and type(normal) is type(default), name


@pytest.mark.parametrize(
    ("field", "bad"),
    [("retries", -1), ("timezone", "Mars/Olympus"), ("description", 5), ("enabled", "yes"),
     ("executor", ""), ("args", {1}), ("jitter", "soon")],
)  # fmt: skip
def test_a_field_with_a_default_is_checked_when_given_another_value(field: str, bad: Any) -> None:
    with pytest.raises(
        (InvalidJob, InvalidSchedule), match=field if field != "timezone" else "Mars"
    ):
        JobSpec.build(name="j", task="t.x", every=60, **{field: bad})


ANY_LEAVES = JSON_LEAVES | st.floats() | st.tuples(st.integers()) | st.sets(st.integers())


@given(
    flat=st.lists(ANY_LEAVES, min_size=1, max_size=6)
    | st.dictionaries(st.text() | st.integers() | st.booleans(), ANY_LEAVES, min_size=1)
)
def test_json_copy_gives_what_json_gives_back_or_refuses(flat: Any) -> None:
    """The shortcut for flat values, and the round trip through json, agree:
    the same values back (tuples as lists, keys as text), or InvalidJob."""
    try:
        expected = json.loads(json.dumps(flat, allow_nan=False))
    except (TypeError, ValueError):
        with pytest.raises(InvalidJob, match="expected JSON values only"):
            json_copy(flat)
        return
    copied = json_copy(flat)
    assert copied == expected and copied is not flat
    assert json.dumps(copied) == json.dumps(expected)  # same types too: 1 is not 1.0 nor True
