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
        ({"after": [f"j{n}" for n in range(21)]}, "at most 20 upstream jobs, got 21"),
        ({"after": ["a", "load"]}, "job 'load': after: a job cannot run after itself"),
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
        after: [extract, ping]
      two:
        task: etl.two
        after: [extract, gone, lost]
      moody:
        task: etl.moody
        after: extract
        when: sometimes
      numbered:
        task: etl.numbered
        after: [1]
      twice:
        task: etl.twice
        after: [extract, extract]
      myself:
        task: etl.myself
        after: [extract, myself]
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
        (9, 12, "jobs.report.after", _unknown("'nowhere'")),
        (12, 12, "jobs.me.after", "a job cannot run after itself: 'me' names itself"),
        (15, 12, "jobs.ping.after", "a chain cannot loop back to its start: ping -> pong -> ping"),
        (18, 12, "jobs.pong.after", "a chain cannot loop back to its start: pong -> ping -> pong"),
        (21, 12, "jobs.two.after", _unknown("'gone', 'lost'", "jobs")),
        (
            25,
            11,
            "jobs.moody.when",
            "expected one of 'succeeded', 'failed', 'finished', got the string 'sometimes'",
        ),
        (28, 13, "jobs.numbered.after[0]", "expected a job name, got the integer 1"),
        (31, 12, "jobs.twice.after", "names a job twice: ['extract', 'extract']"),
        (34, 12, "jobs.myself.after", "a job cannot run after itself: 'myself' names itself"),
        (
            35,
            3,
            "jobs.lonely",
            "expected exactly one of 'cron', 'every', 'at' or 'solar' "
            "(or 'after', to run only after another job), got none",
        ),
    ]


def _unknown(names: str, what: str = "job") -> str:
    jobs = "extract, lonely, me, moody, myself, numbered, ping, pong, report, twice, two"
    return f"unknown {what} {names}; the jobs of this file: {jobs}"


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


JOINS = dedent(
    """\
    timezone: Europe/Berlin
    jobs:
      extract-a:
        task: etl.a
        cron: "0 2 * * *"
      extract-b:
        task: etl.b
        cron: "0 * * * *"
      extract-c:
        task: etl.c
        cron: "30 2 * * *"
      load:
        task: etl.load
        after: [extract-a, extract-b]
      never:
        task: etl.never
        after: [extract-a, extract-c]
        when: finished
      audit:
        task: etl.audit
        after: [load, extract-a, extract-b]
        when: failed
    """
)


def test_a_join_is_read_from_a_file_and_described() -> None:
    jobs = {spec.name: spec for spec in parse_schedules(JOINS, "schedules.yaml")}
    assert jobs["load"].after == ("extract-a", "extract-b")
    assert jobs["load"].schedule == CHAIN_ONLY
    assert jobs["load"].describe() == "after extract-a and extract-b both succeeded for one slot"
    assert jobs["audit"].describe() == (
        "after load, extract-a and extract-b all failed for one slot"
    )


def test_check_shows_the_slots_a_join_waits_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text(JOINS)
    code, out, _ = run(
        capsys, "check", str(path), "--count", "2", "--after", "2026-12-23T12:00:00Z"
    )
    assert code == 0
    # The slots of extract-a that extract-b has too, in extract-a's zone.
    assert "after extract-a and extract-b 2026-12-24T02:00:00+01:00, if both succeed" in out
    assert "after extract-a and extract-b 2026-12-25T02:00:00+01:00, if both succeed" in out
    assert (
        "after extract-a and extract-c, once both end for one slot "
        "(they share none of extract-a's next 2 slots)"
    ) in out
    # An upstream that runs only after another: no slots to show.
    assert "after load, extract-a and extract-b, once all fail for one slot" in out


def test_a_cycle_through_a_second_upstream_is_refused() -> None:
    text = JOINS.replace("after: [extract-a, extract-b]", "after: [extract-a, audit]")
    with pytest.raises(ConfigError) as caught:
        parse_schedules(text, "schedules.yaml")
    messages = {issue.path: issue.message for issue in caught.value.issues}
    assert messages == {
        "jobs.load.after": "a chain cannot loop back to its start: load -> audit -> load",
        "jobs.audit.after": "a chain cannot loop back to its start: audit -> load -> audit",
    }
