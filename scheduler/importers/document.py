"""What every importer shares: one :class:`Translation` per foreign job, and the file.

An importer turns each job of another scheduler into an entry under ``jobs:``
and notes what a person must look at.  Nothing is guessed silently: an entry
whose meaning would change is imported disabled with a ``CHECK`` note saying
why, one that cannot be expressed is listed in a comment instead, and every
entry is checked with the schedules-file reader itself, so the file always loads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml

from ..config.reader import parse_schedules
from ..errors import ConfigError

__all__ = [
    "Source",
    "Translation",
    "as_json",
    "check",
    "document",
    "job_name",
    "render",
    "unique_names",
]

_NOT_IN_NAMES = re.compile(r"[^A-Za-z0-9_.:-]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """Where the jobs come from, as the file's header and comments name it."""

    label: str  #: "django-celery-beat"
    command: str  #: the command that imports, "manage.py scheduler_import_celery_beat"
    noun: str  #: what one of its jobs is called, "periodic task"
    item: str  #: the comment above each job, "PeriodicTask"
    check_with: str  #: "manage.py scheduler_check"
    stop: str  #: what to stop before the scheduler starts, "celery beat"
    guide: str  #: the migration guide, a path under docs/


@dataclass(slots=True, kw_only=True)
class Translation:
    """One foreign job as a job: its ``entry`` under ``jobs:`` (None when it
    cannot be imported) and the ``notes`` a person must read."""

    name: str
    source_name: str
    entry: dict[str, Any] | None
    notes: list[str] = field(default_factory=list)

    @property
    def needs_a_look(self) -> bool:
        return any(note.startswith("CHECK") for note in self.notes)

    def refuse(self, reason: str) -> None:
        """Import nothing for this job, and say why."""
        self.notes.append(f"not imported: {reason}")
        self.entry = None


def as_json(value: Any) -> Any:
    """``value`` as JSON reads it back; raises TypeError or ValueError if it is not JSON."""
    return json.loads(json.dumps(value, allow_nan=False))


def job_name(text: str, fallback: str) -> str:
    """``text`` as a job name: runs of characters a name may not have become ``-``."""
    name = _NOT_IN_NAMES.sub("-", text).strip("-")[:190]
    return name or fallback


def check(found: Translation, item: str) -> None:
    """Keep the entry only if the schedules-file reader takes it; else say why."""
    try:
        parse_schedules(document([found]), f"{item} {found.source_name!r}")
    except ConfigError as error:
        found.refuse("; ".join(issue.message for issue in error.issues))


def unique_names(translations: Sequence[Translation]) -> None:
    """Number the second and later jobs that would share a name."""
    seen: set[str] = set()
    for number, found in enumerate(translations, 1):
        if found.name in seen:
            found.name = f"{found.name}-{number}"
        seen.add(found.name)


def entry_lines(found: Translation) -> list[str]:
    """The job's lines under ``jobs:``, indented by two spaces."""
    dumped = yaml.safe_dump(
        {found.name: found.entry}, sort_keys=False, allow_unicode=True, width=1000
    )
    return ["  " + line for line in dumped.splitlines()]


def commented(found: Translation, item: str) -> list[str]:
    """The job's comments (its source name and notes), then its lines if it has any."""
    lines = [f"  # {item} {found.source_name!r}", *(f"  # {note}" for note in found.notes)]
    return lines + (entry_lines(found) if found.entry is not None else [])


def document(translations: Iterable[Translation]) -> str:
    """A bare schedules file of the jobs that have an entry (no comments)."""
    lines = ["timezone: UTC", "jobs:"]
    jobs = [found for found in translations if found.entry is not None]
    if not jobs:
        lines[-1] = "jobs: {}"
    for found in jobs:
        lines += entry_lines(found)
    return "\n".join(lines) + "\n"


def render(translations: Sequence[Translation], source: Source, *, now: datetime) -> str:
    """A complete schedules file: a header, then each job with its notes as comments."""
    unique_names(translations)
    imported = [found for found in translations if found.entry is not None]
    look = sum(found.needs_a_look for found in imported)
    count = len(translations)
    header = [
        f"# Imported from {source.label} on {now:%Y-%m-%d %H:%M} UTC by",
        f"# {source.command}: {count} {source.noun}{'' if count == 1 else 's'}, "
        f"{len(imported)} imported ({look} marked CHECK), {count - len(imported)} not imported.",
        f"# Check it with {source.check_with}, and stop {source.stop} before the",
        f"# scheduler starts: see {source.guide}.",
        "",
    ]
    body = document(translations).splitlines()
    out = [*header, body[0], body[1]]
    for found in translations:
        out += commented(found, source.item)
    text = "\n".join(out) + "\n"
    parse_schedules(text, "<import>")  # every job was checked on its own; so is the whole
    return text
