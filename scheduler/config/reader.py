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

This module reads the file's own keys; :mod:`.jobs` reads each job, with the
:mod:`.walker` that records the issues, the :mod:`.keys` a file may have and
the :mod:`.values` readers of their values, over the :mod:`.nodes` that keep
each value's position.
"""

from __future__ import annotations

import os
from pathlib import Path

from yaml.nodes import MappingNode, Node

from ..errors import ConfigError, ConfigIssue
from ..model.jobs import JobSpec
from ..schedules.kinds import get_zone
from .calendars import named_calendars
from .chains import check_chains
from .jobs import JobReader
from .keys import DEFAULT_KEYS, JOB_KEYS, JOB_ONLY, SCHEDULE_KEYS, TOP_KEYS
from .loaded import LoadedSchedules, Location, Survey
from .nodes import Document, Entry, SyntaxProblem, child_path, duplicate_keys, entries, position
from .walker import Setting, Walker

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
    "survey_schedules",
]


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
    text = _read_text(filename)
    return read_schedules_text(text, filename, default_timezone=default_timezone)


def _read_text(filename: str) -> str:
    try:
        return Path(filename).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        reason = (error.strerror if isinstance(error, OSError) else None) or str(error)
        issue = ConfigIssue(file=filename, line=None, column=None, path="", message=reason)
        raise ConfigError([issue]) from error


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
    survey = _survey(text, filename, default_timezone)
    if survey.issues:
        raise ConfigError(survey.issues)
    return survey.schedules


def survey_schedules(path: str | os.PathLike[str], *, default_timezone: str = "UTC") -> Survey:
    """Everything checkable about the schedules file at ``path`` in one pass: its
    issues, its good jobs, and the task and executor each job names, bad or good
    (see :class:`~scheduler.config.loaded.Survey`).  Raises nothing for a bad
    file: a file that cannot be read is one issue without a line."""
    filename = os.fspath(path)
    try:
        text = _read_text(filename)
    except ConfigError as error:
        return Survey(issues=error.issues, schedules=LoadedSchedules(file=filename, jobs=()))
    return _survey(text, filename, default_timezone)


def _survey(text: str, filename: str, default_timezone: str) -> Survey:
    get_zone(default_timezone)
    reader = _Reader(Document(text), filename, default_timezone)
    specs = reader.read()
    issues = reader.walker.issues
    ordered = sorted(dict.fromkeys(issues), key=lambda i: (i.line or 0, i.column or 0))
    loaded = LoadedSchedules(file=filename, jobs=tuple(specs), locations=reader.jobs.locations)
    return Survey(issues=tuple(ordered), schedules=loaded, declared=reader.jobs.declared)


class _Reader:
    """Walks the node tree once: the file's own keys here, each job with a :class:`JobReader`."""

    def __init__(self, doc: Document, filename: str, default_zone: str) -> None:
        self.doc = doc
        self.default_zone = default_zone
        self.walker = Walker(doc, filename)
        self.jobs = JobReader(self.walker)

    def read(self) -> list[JobSpec]:
        try:
            root = self.doc.root()
        except SyntaxProblem as error:
            line, column, message = error.args
            self.walker.issue_at(line, column, "", message)
            return []
        if root is None or self.walker.is_null(root):  # no document, or empty after "---"
            return []
        for repeated, first, path in duplicate_keys(root):
            line = position(first)[0]
            message = f"duplicate key {repeated.value!r}: already set on line {line}"
            self.walker.issue(repeated, path, f"{message}; YAML would silently keep only the last")
        return self.document(root)

    def document(self, root: Node) -> list[JobSpec]:
        if not isinstance(root, MappingNode):
            keys = "'timezone', 'defaults' and 'jobs'"
            found = self.doc.describe(root)
            self.walker.issue(root, "", f"expected a mapping with the keys {keys}, got {found}")
            return []
        top = self.walker.known(entries(root), TOP_KEYS, "")
        zone = self.top_zone(top.get("timezone"))
        self.jobs.calendars = named_calendars(self.walker, top.get("calendars"))
        defaults = self.defaults(top.get("defaults"))
        jobs = top.get("jobs")
        if jobs is None or self.walker.is_null(jobs.value):
            return []
        what = "a mapping of job names to job settings"
        body = self.walker.mapping(jobs.value, "jobs", what) or []
        if isinstance(jobs.value, MappingNode):
            # The entries are the only hold on each job's nodes now: each job's
            # are freed once it is read, so the node tree of a large file and
            # its jobs are never all in memory at once.
            jobs.value.value.clear()
        body.reverse()
        specs: list[JobSpec] = []
        while body:
            spec = self.jobs.job(body.pop(), zone, defaults)
            if spec is not None:
                specs.append(spec)
        return check_chains(self.walker, specs, self.jobs.locations, self.jobs.locations)

    def top_zone(self, entry: Entry | None) -> str:
        if entry is None:
            return self.default_zone
        setting = self.walker.setting("timezone", entry, "timezone")
        return self.default_zone if setting is None else str(setting.value)

    def defaults(self, entry: Entry | None) -> dict[str, Setting]:
        if entry is None or self.walker.is_null(entry.value):
            return {}
        pairs = self.walker.mapping(entry.value, "defaults", "a mapping of job settings") or []
        wanted = [pair for pair in pairs if pair.key not in JOB_ONLY]
        for pair in pairs:
            if pair.key in JOB_ONLY:
                message = f"{pair.key!r} cannot be set in defaults; set it on each job"
                self.walker.issue(pair.key_node, child_path("defaults", str(pair.key)), message)
        return self.walker.settings(self.walker.known(wanted, DEFAULT_KEYS, "defaults"), "defaults")
