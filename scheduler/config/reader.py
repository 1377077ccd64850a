"""The ``schedules.yaml`` format: YAML in, :class:`~scheduler.model.jobs.JobSpec` out.

.. code-block:: yaml

    timezone: Europe/Berlin      # default zone for every job (default: UTC)
    defaults:                    # any job key but task/cron/every/at/description
      retries: 2
    jobs:
      nightly-report:            # the job's name
        task: reports.tasks.nightly
        cron: "30 2 * * *"       # exactly one of cron / every / at
      heartbeat:
        task: app.tasks.ping
        every: 15m

The file is read with PyYAML's safe loader and checked as a whole: a
:class:`~scheduler.errors.ConfigError` carries every problem found, each with
``file:line:column``, the key path (``jobs.nightly-report.cron``), what was
expected and what was found, sorted by position.  Nothing is returned unless
the whole file is good, so a caller can apply it all or nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, NamedTuple

from yaml.nodes import MappingNode, Node

from ..errors import ConfigError, ConfigIssue, SchedulerError
from ..model.jobs import JobSpec, ScheduleType, validate_field
from ..model.policies import CatchupPolicy, JobSource, OverlapPolicy
from ..schedules.kinds import Cron, Every, Once, get_zone
from . import nodes, values
from .nodes import Document, Entry, NodeProblem, child_path, entries, position

__all__ = [
    "DEFAULT_KEYS",
    "JOB_KEYS",
    "SCHEDULE_KEYS",
    "TOP_KEYS",
    "LoadedSchedules",
    "Location",
    "load_schedules",
    "parse_schedules",
    "read_schedules",
    "read_schedules_text",
]

#: The keys of the file itself.
TOP_KEYS = ("timezone", "defaults", "jobs")
#: A job has exactly one of these.
SCHEDULE_KEYS = ("cron", "every", "at")
#: Every key a job may have, in the order the reference documents them.
JOB_KEYS = (
    "task",
    *SCHEDULE_KEYS,
    "args",
    "kwargs",
    "timezone",
    "enabled",
    "start",
    "end",
    "catchup",
    "max_catchup",
    "catchup_window",
    "overlap",
    "jitter",
    "timeout",
    "retries",
    "retry_backoff",
    "retry_backoff_max",
    "executor",
    "queue",
    "description",
)
# What identifies one job makes no sense shared by all of them.
_JOB_ONLY = frozenset({"task", *SCHEDULE_KEYS, "description"})
#: The keys ``defaults`` may set.
DEFAULT_KEYS = tuple(key for key in JOB_KEYS if key not in _JOB_ONLY)
_SPEC_FIELDS = frozenset(spec_field.name for spec_field in fields(JobSpec))
_DURATIONS = ("every", "catchup_window", "jitter", "timeout", "retry_backoff", "retry_backoff_max")
_POSITIVE = frozenset({"every", "timeout", "catchup_window"})
_OPTIONAL = frozenset({"start", "end", "catchup_window", "timeout", "queue"})


class Location(NamedTuple):
    """Where a value is written: 1-based line and column, and its key path."""

    line: int
    column: int
    path: str


@dataclass(frozen=True, slots=True)
class LoadedSchedules:
    """The jobs of a schedules file, and where each of their settings is written.

    Checks made after loading, such as whether each job's task is registered,
    use :meth:`issue` to report a problem at the right ``file:line:column``.
    """

    file: str
    jobs: tuple[JobSpec, ...]
    locations: Mapping[str, Mapping[str, Location]] = field(default_factory=dict)

    def location(self, job: str, key: str = "") -> Location | None:
        """Where ``key`` of job ``job`` is set (in the job, or in ``defaults``);
        with no ``key``, where the job's name is.  ``None`` if it is not written."""
        return self.locations.get(job, {}).get(key)

    def issue(self, job: str, key: str, message: str) -> ConfigIssue:
        """A problem with ``key`` of job ``job``, located at its value (or, for a
        key the file does not set, at the job's name)."""
        where = self.location(job, key) or self.location(job)
        if where is None:  # a job this file does not declare
            path = child_path(child_path("jobs", job), key)
            return ConfigIssue(file=self.file, line=None, column=None, path=path, message=message)
        path = where.path if key in self.locations[job] else child_path(where.path, key)
        return ConfigIssue(
            file=self.file, line=where.line, column=where.column, path=path, message=message
        )


def load_schedules(path: str | os.PathLike[str], *, default_timezone: str = "UTC") -> list[JobSpec]:
    """Read the schedules file at ``path``; see :func:`read_schedules`."""
    return list(read_schedules(path, default_timezone=default_timezone).jobs)


def parse_schedules(
    text: str, filename: str = "<string>", *, default_timezone: str = "UTC"
) -> list[JobSpec]:
    """The jobs declared in ``text``; see :func:`read_schedules_text`."""
    return list(read_schedules_text(text, filename, default_timezone=default_timezone).jobs)


def read_schedules(
    path: str | os.PathLike[str], *, default_timezone: str = "UTC"
) -> LoadedSchedules:
    """Read the schedules file at ``path``; see :func:`read_schedules_text`.

    A file that cannot be read is reported as a
    :class:`~scheduler.errors.ConfigError` too, with one issue that has no line.
    """
    filename = os.fspath(path)
    try:
        text = Path(filename).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        reason = (error.strerror if isinstance(error, OSError) else None) or str(error)
        issue = ConfigIssue(file=filename, line=None, column=None, path="", message=reason)
        raise ConfigError([issue]) from error
    return read_schedules_text(text, filename, default_timezone=default_timezone)


def read_schedules_text(
    text: str, filename: str = "<string>", *, default_timezone: str = "UTC"
) -> LoadedSchedules:
    """The jobs declared in ``text``, in file order, each with source ``yaml``,
    and where their settings are written.

    Jobs are read in the file's top-level ``timezone``, or in
    ``default_timezone`` when the file sets none (the Django app passes
    ``TIME_ZONE``).  An empty document declares no jobs.  Raises
    :class:`~scheduler.errors.ConfigError` listing every issue in the text,
    sorted by line and column; an unknown ``default_timezone`` is an
    :class:`~scheduler.errors.InvalidSchedule`.
    """
    get_zone(default_timezone)
    reader = _Reader(Document(text), filename, default_timezone)
    specs = reader.read()
    if reader.issues:
        ordered = sorted(dict.fromkeys(reader.issues), key=lambda i: (i.line or 0, i.column or 0))
        raise ConfigError(ordered)
    return LoadedSchedules(file=filename, jobs=tuple(specs), locations=reader.locations)


@dataclass(frozen=True, slots=True)
class _Setting:
    """A checked value and where it was written (its node and key path)."""

    value: Any
    node: Node
    path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class _Draft:
    """One job while it is being read: where it is and what it says so far."""

    entry: Entry
    name: str
    path: str
    known: Mapping[str, Entry]
    own: Mapping[str, _Setting]
    merged: Mapping[str, _Setting]  # the defaults, overridden by the job's own settings
    zone: str


class _Reader:
    """Walks the node tree once, recording issues and building specs."""

    def __init__(self, doc: Document, filename: str, default_zone: str) -> None:
        self.doc = doc
        self.filename = filename
        self.default_zone = default_zone
        self.issues: list[ConfigIssue] = []
        self.locations: dict[str, dict[str, Location]] = {}

    def issue(self, node: Node, path: str, message: str) -> None:
        self.issue_at(*position(node), path, message)

    def issue_at(self, line: int, column: int, path: str, message: str) -> None:
        issue = ConfigIssue(
            file=self.filename, line=line, column=column, path=path, message=message
        )
        self.issues.append(issue)

    def read(self) -> list[JobSpec]:
        try:
            root = self.doc.root()
        except nodes.SyntaxProblem as error:
            line, column, message = error.args
            self.issue_at(line, column, "", message)
            return []
        if root is None or self.is_null(root):  # no document, or an empty one after "---"
            return []
        for repeated, first, path in nodes.duplicate_keys(root):
            line = position(first)[0]
            message = f"duplicate key {repeated.value!r}: already set on line {line}"
            self.issue(repeated, path, f"{message}; YAML would silently keep only the last")
        return self.document(root)

    def document(self, root: Node) -> list[JobSpec]:
        if not isinstance(root, MappingNode):
            keys = "'timezone', 'defaults' and 'jobs'"
            found = self.doc.describe(root)
            self.issue(root, "", f"expected a mapping with the keys {keys}, got {found}")
            return []
        top = self.known(entries(root), TOP_KEYS, "")
        zone = self.top_zone(top.get("timezone"))
        defaults = self.defaults(top.get("defaults"))
        jobs = top.get("jobs")
        if jobs is None or self.is_null(jobs.value):
            return []
        body = self.mapping(jobs.value, "jobs", "a mapping of job names to job settings") or []
        specs = [self.job(entry, zone, defaults) for entry in body]
        return [spec for spec in specs if spec is not None]

    def mapping(self, node: Node, path: str, what: str) -> list[Entry] | None:
        if isinstance(node, MappingNode):
            return entries(node)
        self.issue(node, path, f"expected {what}, got {self.doc.describe(node)}")
        return None

    def is_null(self, node: Node) -> bool:
        return node.tag == nodes.NULL_TAG

    def known(
        self, pairs: Iterable[Entry], allowed: tuple[str, ...], path: str
    ) -> dict[str, Entry]:
        """The entries whose key is allowed (the last of repeated ones); others are issues."""
        found: dict[str, Entry] = {}
        for entry in pairs:
            message = nodes.key_problem(entry, allowed, self.doc)
            if message is None:
                assert entry.key is not None  # noqa: S101 - key_problem checked it
                found[entry.key] = entry
            else:
                self.issue(entry.key_node, child_path(path, str(entry.key_node.value)), message)
        return found

    def top_zone(self, entry: Entry | None) -> str:
        if entry is None:
            return self.default_zone
        setting = self.setting("timezone", entry, "timezone")
        return self.default_zone if setting is None else str(setting.value)

    def defaults(self, entry: Entry | None) -> dict[str, _Setting]:
        if entry is None or self.is_null(entry.value):
            return {}
        pairs = self.mapping(entry.value, "defaults", "a mapping of job settings") or []
        wanted = [pair for pair in pairs if pair.key not in _JOB_ONLY]
        for pair in pairs:
            if pair.key in _JOB_ONLY:
                message = f"{pair.key!r} cannot be set in defaults; set it on each job"
                self.issue(pair.key_node, child_path("defaults", str(pair.key)), message)
        return self.settings(self.known(wanted, DEFAULT_KEYS, "defaults"), "defaults")

    def settings(self, known: Mapping[str, Entry], path: str) -> dict[str, _Setting]:
        checked = {
            key: self.setting(key, entry, child_path(path, key)) for key, entry in known.items()
        }
        return {key: setting for key, setting in checked.items() if setting is not None}

    def setting(self, key: str, entry: Entry, path: str) -> _Setting | None:
        node = entry.value
        try:
            value = _READERS[key](self.doc, node)
            if key in _SPEC_FIELDS:
                value = validate_field(key, value)
        except NodeProblem as problem:
            for inner in problem.inner or [nodes.Inner(node, "", str(problem))]:
                self.issue(inner.node, path + inner.suffix, inner.message)
            return None
        except SchedulerError as error:
            self.issue(node, path, str(error))
            return None
        return _Setting(value, node, path)

    def job(self, entry: Entry, zone: str, defaults: Mapping[str, _Setting]) -> JobSpec | None:
        before = len(self.issues)
        draft = self.draft(entry, zone, defaults)
        if draft is None:
            return None
        schedule = self.schedule(draft, draft.merged.get("start"))
        self.require_task(draft)
        self.check_window(draft.merged)
        if len(self.issues) > before or schedule is None:
            return None
        values = {key: item.value for key, item in draft.merged.items() if key in _SPEC_FIELDS}
        values.update(name=draft.name, schedule=schedule, timezone=draft.zone)
        spec = self.build(draft, values)
        if spec is not None:
            self.locate(draft)
        return spec

    def locate(self, draft: _Draft) -> None:
        """Remember where the job's name and each of its settings are written."""
        found = {
            key: Location(*position(item.node), item.path) for key, item in draft.merged.items()
        }
        found[""] = Location(*position(draft.entry.key_node), draft.path)
        self.locations[draft.name] = found

    def draft(self, entry: Entry, zone: str, defaults: Mapping[str, _Setting]) -> _Draft | None:
        name = self.job_name(entry)
        if name is None:
            return None
        path = child_path("jobs", name)
        pairs = self.mapping(entry.value, path, "a mapping of job settings")
        if pairs is None:
            return None
        known = self.known(pairs, JOB_KEYS, path)
        own = self.settings(known, path)
        merged = {**defaults, **own}
        zone = merged["timezone"].value if "timezone" in merged else zone
        return _Draft(
            entry=entry, name=name, path=path, known=known, own=own, merged=merged, zone=zone
        )

    def job_name(self, entry: Entry) -> str | None:
        """The job's name, even when it is not valid; ``None`` for a merge key."""
        name = str(entry.key_node.value)
        path = child_path("jobs", name)
        if entry.key_node.tag == nodes.MERGE_TAG:
            self.issue(entry.key_node, path, nodes.MERGE_UNSUPPORTED)
            return None
        if entry.key is None:
            found = self.doc.describe(entry.key_node)
            self.issue(entry.key_node, path, f"expected a job name string, got {found}; quote it")
            return name
        try:
            validate_field("name", name)
        except SchedulerError as error:
            self.issue(entry.key_node, path, f"invalid job name: {error}")
        return name

    def schedule(self, draft: _Draft, start: _Setting | None) -> ScheduleType | None:
        given = [key for key in SCHEDULE_KEYS if key in draft.known]
        expected = "expected exactly one of 'cron', 'every' or 'at'"
        if not given:
            self.issue(draft.entry.key_node, draft.path, f"{expected}, got none")
            return None
        built = [self.one_schedule(key, draft, start) for key in given]
        if len(given) > 1:
            extra, found = given[1], " and ".join(map(repr, given))
            where = child_path(draft.path, extra)
            self.issue(draft.known[extra].key_node, where, f"{expected}, got {found}")
            return None
        return built[0]

    def one_schedule(self, key: str, draft: _Draft, start: _Setting | None) -> ScheduleType | None:
        setting = draft.own.get(key)
        if setting is None:  # its value was wrong, and reported
            return None
        try:
            return _make_schedule(key, setting.value, draft, start)
        except SchedulerError as error:
            self.issue(setting.node, setting.path, str(error))
            return None

    def require_task(self, draft: _Draft) -> None:
        if "task" not in draft.known:
            self.issue(draft.entry.key_node, draft.path, "missing required key 'task'")

    def check_window(self, merged: Mapping[str, _Setting]) -> None:
        start, end = merged.get("start"), merged.get("end")
        if start is None or end is None or start.value is None or end.value is None:
            return
        if start.value >= end.value:
            begin = start.value.isoformat()
            message = f"expected an end after start ({begin}), got {end.value.isoformat()}"
            self.issue(end.node, end.path, message)

    def build(self, draft: _Draft, values: dict[str, Any]) -> JobSpec | None:
        try:
            return JobSpec(**values, source=JobSource.YAML)
        except SchedulerError as error:  # every field was checked: a rule not mirrored here
            self.issue(draft.entry.key_node, draft.path, str(error))
            return None


def _make_schedule(key: str, value: Any, draft: _Draft, start: _Setting | None) -> ScheduleType:
    if key == "cron":
        return Cron(value, tz=draft.zone, hash_key=draft.name)
    if key == "every":
        return Every(value, anchor=None if start is None else start.value)
    return Once(value)


def _readers() -> dict[str, values.Reader]:
    table: dict[str, values.Reader] = {
        "task": values.text("a task name string such as 'app.tasks.send'"),
        "cron": values.text("a cron expression string such as '30 2 * * *'"),
        "at": values.instant,
        "args": values.json_list,
        "kwargs": values.json_mapping,
        "timezone": values.text("an IANA time zone name such as 'Europe/Berlin'"),
        "enabled": values.boolean,
        "start": values.instant,
        "end": values.instant,
        "catchup": values.choice([policy.value for policy in CatchupPolicy]),
        "overlap": values.choice([policy.value for policy in OverlapPolicy]),
        "max_catchup": values.integer,
        "retries": values.integer,
        "executor": values.text("an executor name string"),
        "queue": values.text("a queue name string"),
        "description": values.text("a string"),
    }
    for key in _DURATIONS:
        table[key] = values.duration(positive=key in _POSITIVE)
    return {key: values.optional(read) if key in _OPTIONAL else read for key, read in table.items()}


_READERS = _readers()
