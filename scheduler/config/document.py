"""Reading a schedules document: the file's own keys, then each job.

:class:`TreeReader` reads the whole node tree of a text; the streaming reader
of :mod:`.streamed` reads the same way, a job's nodes at a time.
"""

from __future__ import annotations

from yaml.nodes import MappingNode, Node

from ..model.jobs import JobSpec
from .calendars import named_calendars
from .chains import check_chains
from .jobs import JobReader
from .keys import DEFAULT_KEYS, JOB_ONLY, TOP_KEYS
from .nodes import Document, Entry, SyntaxProblem, child_path, duplicate_keys, entries, position
from .walker import Setting, Walker

__all__ = ["TreeReader", "duplicate_message"]


def duplicate_message(key: str, first_line: int) -> str:
    """What a key repeated in one mapping is reported with."""
    return (
        f"duplicate key {key!r}: already set on line {first_line}; "
        "YAML would silently keep only the last"
    )


class TreeReader:
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
            message = duplicate_message(repeated.value, position(first)[0])
            self.walker.issue(repeated, path, message)
        return self.document(root)

    def document(self, root: Node) -> list[JobSpec]:
        if not isinstance(root, MappingNode):
            keys = "'timezone', 'defaults' and 'jobs'"
            found = self.doc.describe(root)
            self.walker.issue(root, "", f"expected a mapping with the keys {keys}, got {found}")
            return []
        top = self.walker.known(entries(root), TOP_KEYS, "")
        zone, defaults = self.context(top)
        jobs = top.get("jobs")
        if jobs is None or self.walker.is_null(jobs.value):
            return []
        what = "a mapping of job names to job settings"
        body = self.walker.mapping(jobs.value, "jobs", what) or []
        if isinstance(jobs.value, MappingNode):
            # The entries are the only hold on each job's nodes now: each job's
            # are freed once it is read.
            jobs.value.value.clear()
        body.reverse()
        specs: list[JobSpec] = []
        while body:
            spec = self.jobs.job(body.pop(), zone, defaults)
            if spec is not None:
                specs.append(spec)
        return self.chained(specs)

    def context(self, top: dict[str, Entry]) -> tuple[str, dict[str, Setting]]:
        """What every job is read in: the file's zone and defaults (and its calendars)."""
        zone = self.top_zone(top.get("timezone"))
        self.jobs.calendars = named_calendars(self.walker, top.get("calendars"))
        return zone, self.defaults(top.get("defaults"))

    def chained(self, specs: list[JobSpec]) -> list[JobSpec]:
        """``specs``, once the jobs they run after are checked."""
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
