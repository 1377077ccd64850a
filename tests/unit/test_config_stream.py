"""Reading a schedules file as a stream of jobs: the same jobs and the same
located issues as reading its whole tree, and a job read again only when its
text or its file's context changed."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from textwrap import dedent

import pytest
import yaml

from scheduler.config import read_schedules_text
from scheduler.config.document import TreeReader
from scheduler.config.memo import ReadMemo
from scheduler.config.nodes import Document
from scheduler.config.reconcile import SchedulesFile
from scheduler.config.stream import Unusual
from scheduler.config.streamed import StreamReader
from scheduler.errors import ConfigError, ConfigIssue
from scheduler.model.jobs import JobSpec
from scheduler.tasks.registry import TaskRegistry
from scheduler.testing import MemoryStore

from . import test_config

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)

Read = tuple[list[ConfigIssue], list[JobSpec]]


def _sorted(issues: list[ConfigIssue]) -> list[ConfigIssue]:
    return sorted(dict.fromkeys(issues), key=lambda i: (i.line or 0, i.column or 0))


def by_tree(text: str) -> Read:
    reader = TreeReader(Document(text), "schedules.yaml", "UTC")
    specs = reader.read()
    return _sorted(reader.walker.issues), specs


def by_stream(text: str) -> Read:
    reader = StreamReader(text, "schedules.yaml", "UTC", None)
    specs = reader.read()
    return _sorted(reader.walker.issues), specs


def _mistakes() -> list[str]:
    """Every bad text of the reader's own tests, with its one located issue."""
    marks = test_config.test_mistake_is_located.pytestmark  # type: ignore[attr-defined]
    return [text for text, _ in marks[0].args[1]]


MORE = [
    "jobs:\n  a: {task: x.a, every: 1m}\n  b: {task: x.b, every: 1m}\n"
    "  a: {task: x.c, every: 2m}\n",
    "jobs:\n  a:\n    task: x.a\n    every: 1m\n    task: x.b\n    kwargs: {k: 1, k: 2}\n",
    "defaults: {retries: 2, retries: 3, bogus: 1}\njobs:\n  a: {task: x.a, every: 1m}\n",
    "timezone: Mars/Base\njobs:\n  a: {task: x.a, cron: '0 * * * *'}\n",
    "jobs:\n  a: {task: x.a, after: b}\n  b: {task: x.b, after: a}\n",
    "jobs:\n  1: {task: x.a, every: 1m}\n  ~: {task: x.b, every: 1m}\n  bad name!: {task: x}\n",
    "jobs:\n  a: {task: x.a, every: 1m, start: 2026-03-01T10:00:00Z, end: 2026-03-01T09:00:00Z}\n",
]


@pytest.mark.parametrize("text", _mistakes() + MORE)
def test_a_streamed_file_gives_the_issues_of_its_whole_tree(text: str) -> None:
    expected = by_tree(text)
    try:
        streamed = by_stream(text)
    except Unusual:  # left to the tree reader, which the public reader then uses
        streamed = expected
    assert streamed == expected
    with pytest.raises(ConfigError) as raised:
        read_schedules_text(text, "schedules.yaml")
    assert list(raised.value.issues) == expected[0]


def test_most_files_stream_and_the_unusual_ones_are_read_whole() -> None:
    texts = _mistakes() + MORE
    streamed = 0
    for text in texts:
        try:
            by_stream(text)
            streamed += 1
        except Unusual:
            pass
        except yaml.YAMLError:  # a syntax error: the tree reader reports it
            pass
    assert streamed >= len(texts) * 3 // 4


@pytest.mark.parametrize(
    "text",
    [
        "base: &b {task: x.a, every: 1m}\njobs:\n  a: *b\n",  # an alias
        "jobs:\n  a: {task: x.a, every: 1m}\ntimezone: UTC\n",  # a key after jobs
        "jobs: []\n",
        "- a\n- b\n",
        "jobs: {a: {task: x.a, every: 1m}}\n---\njobs: {}\n",
    ],
)
def test_what_only_the_tree_reads_is_refused_by_the_stream(text: str) -> None:
    with pytest.raises(Unusual):
        by_stream(text)


@pytest.mark.parametrize("name", ["schedules_full.yaml", "schedules_five_mistakes.yaml"])
def test_a_fixture_gives_the_same_jobs_issues_and_locations_either_way(name: str) -> None:
    text = (test_config.FIXTURES / name).read_text(encoding="utf-8-sig")
    tree = TreeReader(Document(text), name, "UTC")
    stream = StreamReader(text, name, "UTC", None)
    assert stream.read() == tree.read()
    assert _sorted(stream.walker.issues) == _sorted(tree.walker.issues)
    assert stream.jobs.locations == tree.jobs.locations
    assert stream.jobs.declared == tree.jobs.declared


_FILE = dedent(
    """\
    timezone: Europe/Berlin
    defaults:
      retries: 2
    jobs:
      first:
        task: app.tasks.first
        cron: "30 2 * * *"
      ping:
        task: app.tasks.ping
        every: {every}
        kwargs: {{n: 1}}
      last: {{task: app.tasks.last, every: 1h}}
    """
)
_LAST = "  last: {task: app.tasks.last, every: 1h}\n"


def _read(text: str, memo: ReadMemo) -> dict[str, JobSpec]:
    return {spec.name: spec for spec in read_schedules_text(text, "s.yaml", memo=memo).jobs}


def test_an_unchanged_job_is_not_built_again_and_an_edited_one_is() -> None:
    memo = ReadMemo()
    before = _read(_FILE.format(every="15m"), memo)
    after = _read(_FILE.format(every="5m"), memo)
    assert after["first"] is before["first"]
    assert after["last"] is before["last"]
    assert after["ping"] is not before["ping"]
    assert after["ping"].schedule != before["ping"].schedule
    assert after["ping"].definition_hash() != before["ping"].definition_hash()


def test_a_changed_default_builds_every_job_again() -> None:
    memo = ReadMemo()
    before = _read(_FILE.format(every="15m"), memo)
    after = _read(_FILE.format(every="15m").replace("retries: 2", "retries: 3"), memo)
    assert all(after[name] is not before[name] for name in before)
    assert {spec.policy.retries for spec in after.values()} == {3}


def test_a_removed_job_is_gone_and_forgotten() -> None:
    memo = ReadMemo()
    _read(_FILE.format(every="15m"), memo)
    assert len(memo) == 3
    after = _read(
        _FILE.format(every="15m").replace("  last: {task: app.tasks.last, every: 1h}\n", ""), memo
    )
    assert sorted(after) == ["first", "ping"]
    assert len(memo) == 2


def test_a_job_that_moved_is_located_where_it_is_now() -> None:
    memo = ReadMemo()
    text = _FILE.format(every="15m")
    _read(text, memo)
    moved = text.replace("jobs:\n", "jobs:\n  new: {task: app.tasks.new, every: 1m}\n")
    remembered = read_schedules_text(moved, "s.yaml", memo=memo)
    fresh = read_schedules_text(moved, "s.yaml")
    assert remembered.locations == fresh.locations
    assert remembered.location("ping", "every") == (11, 12, "jobs.ping.every")
    assert remembered.location("ping", "retries") == (3, 12, "defaults.retries")


def test_a_bad_read_keeps_the_last_good_one_remembered() -> None:
    memo = ReadMemo()
    good = _read(_FILE.format(every="15m"), memo)
    with pytest.raises(ConfigError, match=r"jobs\.ping\.every"):
        _read(_FILE.format(every="soon"), memo)
    assert len(memo) == 3
    assert _read(_FILE.format(every="15m"), memo)["ping"] is good["ping"]


def test_the_same_issues_with_a_memo_as_without() -> None:
    memo = ReadMemo()
    _read(_FILE.format(every="15m"), memo)
    bad = _FILE.format(every="15m") + "  first:\n    task: app.tasks.again\n    every: 1m\n"
    with pytest.raises(ConfigError) as remembered:
        read_schedules_text(bad, "s.yaml", memo=memo)
    with pytest.raises(ConfigError) as fresh:
        read_schedules_text(bad, "s.yaml")
    assert remembered.value.issues == fresh.value.issues
    assert "duplicate key 'first': already set on line 5" in str(remembered.value)


def test_a_schedules_file_rewrites_an_edited_job_and_removes_a_removed_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text(_FILE.format(every="15m"))
    registry = TaskRegistry()
    registry.allow("app.tasks.*")
    store = MemoryStore()
    watcher = SchedulesFile(path, store, registry)
    watcher.sync(NOW)
    edited = _FILE.format(every="5m").replace(_LAST, "")
    path.write_text(edited)
    os.utime(path, (1_800_000_000, 1_800_000_000))
    watcher(NOW + timedelta(minutes=1))
    assert store.get_job("ping").spec.schedule.describe() == "every 5m"
    assert store.get_job("ping").version == 2
    assert store.get_job("first").version == 1
    assert store.get_job("last").removed_at == NOW + timedelta(minutes=1)


def test_a_text_read_again_as_it_was_is_not_parsed_again() -> None:
    memo = ReadMemo()
    text = _FILE.format(every="15m")
    first = read_schedules_text(text, "s.yaml", memo=memo)
    assert read_schedules_text(text, "s.yaml", memo=memo) is first
    # Another name, zone or text is read (its unchanged jobs still recalled).
    elsewhere = read_schedules_text(text, "other.yaml", memo=memo)
    assert elsewhere is not first
    assert elsewhere.jobs == first.jobs
    in_paris = read_schedules_text(text, "s.yaml", default_timezone="Europe/Paris", memo=memo)
    assert in_paris is not first and in_paris.jobs == first.jobs  # the file sets its zone
    assert read_schedules_text(text + "\n", "s.yaml", memo=memo) is not first


def test_a_bad_read_forgets_the_whole_text_but_not_its_jobs() -> None:
    memo = ReadMemo()
    text = _FILE.format(every="15m")
    first = read_schedules_text(text, "s.yaml", memo=memo)
    with pytest.raises(ConfigError):
        read_schedules_text(_FILE.format(every="soon"), "s.yaml", memo=memo)
    again = read_schedules_text(text, "s.yaml", memo=memo)
    assert again is not first
    assert again.jobs[0] is first.jobs[0]
