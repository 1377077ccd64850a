"""Chains in schedules files, in the Python API and on the command line; every bad input."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest

from scheduler.config import parse_schedules
from scheduler.errors import ConfigError, InvalidJob
from scheduler.model.chains import CHAIN_ONLY, ChainWhen
from scheduler.model.jobs import JobSpec
from scheduler.model.runs import RunStatus
from tests.cli import run

FILE = dedent(
    """\
    defaults:
      when: finished
    jobs:
      extract:
        task: etl.extract
        cron: "0 2 * * *"
      load:
        task: etl.load
        after: extract
        when: succeeded
      report:
        task: etl.report
        after: [load]
        cron: "0 9 * * 1"
      cleanup:
        task: etl.cleanup
        after: [extract]
    """
)


def test_after_and_when_are_read_from_a_file() -> None:
    jobs = {spec.name: spec for spec in parse_schedules(FILE, "schedules.yaml")}
    assert jobs["extract"].after == ()
    assert (jobs["load"].after, jobs["load"].when) == (("extract",), ChainWhen.SUCCEEDED)
    assert jobs["load"].schedule == CHAIN_ONLY
    assert jobs["load"].next_after(jobs["load"].schedule.at) is None
    # A chained job may have its own schedule too.
    assert jobs["report"].schedule != CHAIN_ONLY
    assert jobs["report"].next_after(CHAIN_ONLY.at) is not None
    # 'when' may be a default.
    assert jobs["cleanup"].when is ChainWhen.FINISHED
    assert jobs["report"].describe() == "At 09:00, only on Monday (UTC), and after load finished"
    assert jobs["cleanup"].describe() == "after extract finished"


def test_the_python_api_builds_chained_jobs() -> None:
    spec = JobSpec.build(name="load", task="etl.load", after="extract", when="failed")
    assert (spec.after, spec.when, spec.schedule) == (("extract",), ChainWhen.FAILED, CHAIN_ONLY)
    assert JobSpec.from_dict(spec.to_dict()) == spec
    plain = JobSpec.build(name="extract", task="etl.extract", cron="0 2 * * *")
    # Left out of the definition while unset: no job defined before chains changes.
    assert "after" not in plain.to_dict() and "when" not in plain.to_dict()


@pytest.mark.parametrize(
    ("when", "statuses"),
    [
        (ChainWhen.SUCCEEDED, {RunStatus.SUCCEEDED}),
        (ChainWhen.FAILED, {RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.LOST}),
        (
            ChainWhen.FINISHED,
            {RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.LOST},
        ),
    ],
)
def test_when_names_the_endings_that_count(when: ChainWhen, statuses: set[RunStatus]) -> None:
    assert when.statuses == statuses


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"after": "load"}, "job 'load': after: a job cannot run after itself"),
        ({"after": ["a", "b"]}, "a job may run after one upstream job for now, got 2: a, b"),
        ({"after": ["a", "a"]}, "names a job twice"),
        ({"after": [""]}, "expected 1-200 characters"),
        ({"after": 3}, "expected a job name or a list of job names, got 3"),
        ({"after": "a", "when": "sometimes"}, "expected one of 'succeeded', 'failed', 'finished'"),
    ],
)
def test_bad_chains_in_the_python_api_say_why(options: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidJob, match=message.replace("(", r"\(").replace(")", r"\)")):
        JobSpec.build(name="load", task="etl.load", **options)


def test_a_job_with_neither_schedule_nor_after_is_refused() -> None:
    with pytest.raises(InvalidJob, match="give exactly one of cron, every, at or solar"):
        JobSpec.build(name="load", task="etl.load")


BAD = dedent(
    """\
    defaults:
      after: extract
    jobs:
      extract:
        task: etl.extract
        cron: "0 2 * * *"
      report:
        task: etl.report
        after: nowhere
      me:
        task: etl.me
        after: me
      ping:
        task: etl.ping
        after: pong
      pong:
        task: etl.pong
        after: [ping]
      two:
        task: etl.two
        after: [extract, report]
      moody:
        task: etl.moody
        after: extract
        when: sometimes
      numbered:
        task: etl.numbered
        after: [1]
      lonely:
        task: etl.lonely
    """
)


def test_every_bad_chain_in_a_file_is_refused_where_it_is_written() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_schedules(BAD, "bad.yaml")
    found = [(i.line, i.column, i.path, i.message) for i in caught.value.issues]
    assert found == [
        (2, 3, "defaults.after", "'after' cannot be set in defaults; set it on each job"),
        (9, 12, "jobs.report.after", _unknown("nowhere")),
        (12, 12, "jobs.me.after", "a job cannot run after itself: 'me' names itself"),
        (15, 12, "jobs.ping.after", "a chain cannot loop back to its start: ping -> pong -> ping"),
        (18, 12, "jobs.pong.after", "a chain cannot loop back to its start: pong -> ping -> pong"),
        (
            21,
            12,
            "jobs.two.after",
            "a job may run after one upstream job for now, got 2: extract, report; "
            "chain them one after another instead",
        ),
        (
            25,
            11,
            "jobs.moody.when",
            "expected one of 'succeeded', 'failed', 'finished', got the string 'sometimes'",
        ),
        (28, 13, "jobs.numbered.after[0]", "expected a job name, got the integer 1"),
        (
            29,
            3,
            "jobs.lonely",
            "expected exactly one of 'cron', 'every', 'at' or 'solar' "
            "(or 'after', to run only after another job), got none",
        ),
    ]


def _unknown(name: str) -> str:
    jobs = "extract, lonely, me, moody, numbered, ping, pong, report, two"
    return f"unknown job {name!r}; the jobs of this file: {jobs}"


def test_check_lists_a_chained_job_with_its_upstream(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text(FILE)
    code, out, _ = run(capsys, "check", str(path))
    assert code == 0
    assert "after extract finished" in out
    assert "At 09:00, only on Monday (UTC), and after load finished" in out


def test_check_refuses_a_cycle_with_file_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text(BAD)
    code, out, err = run(capsys, "check", str(path))
    assert code != 0
    assert f"{path}:15:12: jobs.ping.after: a chain cannot loop back" in out + err
