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

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from ..errors import ConfigError, ConfigIssue
from ..model.jobs import JobSpec
from ..schedules.kinds import get_zone
from .document import TreeReader
from .keys import DEFAULT_KEYS, JOB_KEYS, SCHEDULE_KEYS, TOP_KEYS
from .loaded import LoadedSchedules, Location, Survey
from .memo import ReadMemo
from .nodes import Document
from .stream import Unusual
from .streamed import StreamReader

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
    path: str | os.PathLike[str], *, default_timezone: str = "UTC", memo: ReadMemo | None = None
) -> LoadedSchedules:
    """Read the schedules file at ``path``; see :func:`read_schedules_text`.

    A file that cannot be read is reported as a
    :class:`~scheduler.errors.ConfigError` too, with one issue that has no line.
    """
    filename = os.fspath(path)
    text = _read_text(filename)
    return read_schedules_text(text, filename, default_timezone=default_timezone, memo=memo)


def _read_text(filename: str) -> str:
    try:
        return Path(filename).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        reason = (error.strerror if isinstance(error, OSError) else None) or str(error)
        issue = ConfigIssue(file=filename, line=None, column=None, path="", message=reason)
        raise ConfigError([issue]) from error


def read_schedules_text(
    text: str,
    filename: str = "<string>",
    *,
    default_timezone: str = "UTC",
    memo: ReadMemo | None = None,
) -> LoadedSchedules:
    """The jobs declared in ``text``, in file order, each with source ``yaml``,
    and where their settings are written.

    Jobs are read in the file's top-level ``timezone``, or in
    ``default_timezone`` when the file sets none (the Django app passes
    ``TIME_ZONE``).  An empty document declares no jobs.  Raises
    :class:`~scheduler.errors.ConfigError` listing every issue in the text,
    sorted by line and column; an unknown ``default_timezone`` is an
    :class:`~scheduler.errors.InvalidSchedule`.

    The file is read as a stream of jobs, one job's nodes at a time; a
    ``memo`` given to each read of one file remembers the jobs of the last
    good read, so that a job whose text (and whose file's ``timezone``,
    ``defaults`` and ``calendars``) did not change is not built again (see
    :mod:`scheduler.config.memo`).
    """
    survey = _survey(text, filename, default_timezone, memo)
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


def _survey(
    text: str, filename: str, default_timezone: str, memo: ReadMemo | None = None
) -> Survey:
    get_zone(default_timezone)
    whole = b"" if memo is None else memo.text_digest(filename, text, default_timezone)
    again = None if memo is None else memo.recall_whole(whole)
    if again is not None:  # the text of the last good read, as it was
        return again
    reader: TreeReader
    with _collector_paused():
        try:
            reader = StreamReader(text, filename, default_timezone, memo)
            specs = reader.read()
        except (Unusual, yaml.YAMLError):
            # What only the whole tree reads, or reports as it always did.
            reader = TreeReader(Document(text), filename, default_timezone)
            specs = reader.read()
    issues = reader.walker.issues
    if memo is not None:
        memo.settle(isinstance(reader, StreamReader) and not issues)
    ordered = sorted(dict.fromkeys(issues), key=lambda i: (i.line or 0, i.column or 0))
    loaded = LoadedSchedules(file=filename, jobs=tuple(specs), locations=reader.jobs.locations)
    survey = Survey(issues=tuple(ordered), schedules=loaded, declared=reader.jobs.declared)
    if memo is not None and isinstance(reader, StreamReader) and not issues:
        memo.keep_whole(whole, survey)
    return survey


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a file is read, as it was before.

    Reading builds millions of small objects and keeps every job's: the
    collector would scan the growing set of jobs again and again, a third of
    the reading time for 100,000 jobs.  Reading makes no cycles to collect.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
