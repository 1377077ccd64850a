"""A loaded schedules file: its jobs, and where each of their settings is written."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from ..errors import ConfigIssue
from ..model.jobs import JobSpec
from .nodes import child_path

__all__ = ["JobLocations", "LoadedSchedules", "Location", "Survey"]


class Location(NamedTuple):
    """Where a value is written: 1-based line and column, and its key path."""

    line: int
    column: int
    path: str


class JobLocations(Mapping[str, Location]):
    """Where one job's name (key ``""``) and settings are written, as a mapping
    of :class:`Location`, held in a few shared tuples rather than a dict of them.

    A file of 100,000 jobs keeps this for every job while it is synced: the
    job's own settings are kept as their lines relative to the name's line
    and their columns (the same for every job written alike, so shared), their
    key paths are made when asked, and the settings it takes from ``defaults``
    are one shared mapping.
    """

    __slots__ = ("_column", "_inherited", "_keys", "_line", "_name", "_spots")

    def __init__(
        self,
        name: str,
        where: tuple[int, int],
        keys: tuple[str, ...],
        spots: tuple[int, ...],
        inherited: Mapping[str, Location],
    ) -> None:
        #: ``keys`` are the job's own settings, ``spots`` (line - name's line,
        #: column) for each in turn; ``inherited`` where the others are written.
        self._name = name
        self._line, self._column = where
        self._keys, self._spots, self._inherited = keys, spots, inherited

    def __getitem__(self, key: str) -> Location:
        if key == "":
            return Location(self._line, self._column, child_path("jobs", self._name))
        if key in self._keys:
            at = 2 * self._keys.index(key)
            path = child_path(child_path("jobs", self._name), key)
            return Location(self._line + self._spots[at], self._spots[at + 1], path)
        return self._inherited[key]

    def __iter__(self) -> Iterator[str]:
        yield from self._keys
        yield from (key for key in self._inherited if key not in self._keys)
        yield ""

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"JobLocations({dict(self)!r})"

    def moved(self, line: int) -> JobLocations:
        """The same job with its name now on ``line``: its own settings move with it,
        the ones it takes from ``defaults`` (written before all jobs) stay."""
        where = (line, self._column)
        return JobLocations(self._name, where, self._keys, self._spots, self._inherited)


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


@dataclass(frozen=True, slots=True)
class Survey:
    """All that can be checked of a schedules file, good or bad, in one pass.

    ``issues`` are the file's own problems (what :class:`~scheduler.errors.ConfigError`
    would carry); ``schedules`` holds the jobs read without a problem, and where every
    job's settings are written, the bad jobs' too; ``declared`` the task and executor
    of every job that names them readably, bad or good.  So a check reports a
    job's unregistered task together with the file's syntax errors, not after
    they are fixed.
    """

    issues: tuple[ConfigIssue, ...]
    schedules: LoadedSchedules
    declared: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
