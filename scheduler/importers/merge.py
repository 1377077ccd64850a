"""Imported jobs added to an existing schedules file, leaving what is there alone.

A job the file already has is never rewritten: either it is the same (the
import ran before: nothing to do) or a person changed it (enabled a job
marked CHECK, moved its time), and the file wins.  New jobs are appended,
with their notes as comments, at the end of the file's ``jobs:`` mapping; the
result must load, or nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml

from ..config.reader import parse_schedules
from ..errors import ConfigError, ImportSourceError
from .document import Source, Translation, commented, unique_names

__all__ = ["Merge", "merge"]


@dataclass(slots=True, kw_only=True)
class Merge:
    """What merging does: the new ``text`` (None when nothing changes), and which
    imported jobs were ``added``, already there ``unchanged``, or ``kept`` as
    the file has them because they differ."""

    text: str | None = None
    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def merge(
    existing: str, where: str, translations: Sequence[Translation], source: Source, *, now: datetime
) -> Merge:
    """Merge ``translations`` into the schedules file ``existing`` (read from ``where``).

    Raises :class:`~scheduler.errors.ImportSourceError` when ``existing`` is
    not a valid schedules file, or when the jobs cannot be appended to it."""
    try:
        parse_schedules(existing, where)
    except ConfigError as error:
        first = error.issues[0]
        raise ImportSourceError(f"{where} is not a valid schedules file: {first}") from error
    present = _jobs(existing)
    unique_names(translations)
    result = Merge()
    added = []
    for found in translations:
        if found.entry is None:
            continue
        if found.name not in present:
            result.added.append(found.name)
            added.append(found)
        elif present[found.name] == _loaded(found.entry):
            result.unchanged.append(found.name)
        else:
            result.kept.append(found.name)
    if added:
        result.text = _appended(existing, where, added, source, now)
    return result


def _jobs(text: str) -> dict[str, Any]:
    loaded = yaml.safe_load(text) or {}
    return dict(loaded.get("jobs") or {})


def _loaded(entry: dict[str, Any]) -> Any:
    """``entry`` as it reads back from YAML (instants are strings, tuples lists)."""
    return yaml.safe_load(yaml.safe_dump(entry))


def _appended(
    existing: str, where: str, added: Sequence[Translation], source: Source, now: datetime
) -> str:
    lines = existing.rstrip("\n").splitlines()
    if "jobs" not in (yaml.safe_load(existing) or {}):
        lines.append("jobs:")
    lines.append(f"  # Added from {source.label} on {now:%Y-%m-%d %H:%M} UTC by {source.command}")
    for found in added:
        lines += commented(found, source.item)
    text = "\n".join(lines) + "\n"
    try:
        parse_schedules(text, where)
    except ConfigError as error:
        raise ImportSourceError(
            f"cannot add the jobs at the end of {where}: its 'jobs:' mapping must be the "
            f"last key, written one job per block ({error.issues[0].message}); "
            "import into a new file with --output and merge by hand"
        ) from error
    if set(_jobs(text)) != set(_jobs(existing)) | {found.name for found in added}:
        raise ImportSourceError(f"cannot add the jobs at the end of {where}: 'jobs:' is not last")
    return text
