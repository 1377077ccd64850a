"""Where an importer's jobs go, and the table of what became of each.

Shared by every ``tickwork import`` command and the Django import commands: a
new ``--output`` file is written whole; an existing one gets only the jobs it
lacks (:mod:`scheduler.importers.merge`), so a second import changes nothing
and says so; without ``--output`` the file goes to standard output.
``--dry-run`` writes nothing and prints the plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from ..errors import ImportSourceError
from ..importers.document import Source, Translation, render
from ..importers.merge import Merge, merge
from ..model.words import plural
from .tables import render_table

__all__ = ["Destination", "deliver"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Destination:
    """Where the file goes (``output`` None: ``out``), and whether to write at all."""

    output: Path | None
    dry_run: bool
    out: TextIO  #: the file, when there is no ``output``; else the table
    err: TextIO  #: the table, when the file goes to ``out``


def deliver(
    translations: Sequence[Translation], source: Source, to: Destination, *, now: datetime
) -> None:
    """Write (or, with ``dry_run``, plan) the file, then print the table and a summary.

    Raises :class:`~scheduler.errors.ImportSourceError` when an existing output
    file cannot take the jobs, or the file cannot be written; nothing is
    written then."""
    if to.output is not None and to.output.exists():
        done = _merged(translations, source, to, now)
    else:
        done = Merge(added=[found.name for found in translations if found.entry is not None])
        done.text = render(translations, source, now=now)
        if to.output is None and not to.dry_run:
            to.out.write(done.text)
        elif to.output is not None and not to.dry_run:
            _write(to.output, done.text)
    report = to.err if to.output is None and not to.dry_run else to.out
    print(table(translations, done, to.output), file=report)
    print(_summary(translations, done, to, source.noun), file=report)


def _merged(
    translations: Sequence[Translation], source: Source, to: Destination, now: datetime
) -> Merge:
    assert to.output is not None  # noqa: S101 - the caller checked
    try:
        existing = to.output.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as error:
        raise ImportSourceError(f"cannot read {to.output}: {error}") from error
    done = merge(existing, str(to.output), translations, source, now=now)
    if done.text is not None and not to.dry_run:
        _write(to.output, done.text)
    return done


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise ImportSourceError(f"cannot write {path}: {error}") from error


def table(translations: Sequence[Translation], done: Merge, output: Path | None) -> str:
    """One row per foreign job (more lines for more notes): what became of it, and why."""
    rows: list[list[str]] = []
    for found in translations:
        notes = [note.removeprefix("not imported: ") for note in found.notes] or [""]
        rows.append([found.source_name, found.name, _result(found, done, output), notes[0]])
        rows.extend(["", "", "", note] for note in notes[1:])
    return render_table(["FROM", "JOB", "RESULT", "NOTES"], rows)


def _result(found: Translation, done: Merge, output: Path | None) -> str:
    if found.entry is None:
        return "not imported"
    if found.name in done.unchanged:
        return "unchanged"
    if found.name in done.kept:
        return f"kept as in {output}"
    return "imported, disabled: CHECK" if found.needs_a_look else "imported"


def _summary(translations: Sequence[Translation], done: Merge, to: Destination, noun: str) -> str:
    refused = sum(found.entry is None for found in translations)
    look = sum(found.needs_a_look and found.name in done.added for found in translations)
    counts = (
        f"{plural(len(translations), noun)}: {len(done.added)} imported ({look} marked CHECK), "
        f"{len(done.unchanged)} unchanged, {len(done.kept)} kept as the file has them, "
        f"{refused} not imported."
    )
    if to.dry_run:
        return f"{counts} Dry run: nothing written."
    if to.output is None:
        return counts
    if done.text is None:
        return f"{counts} Nothing changed: {to.output} already has every job."
    return f"{counts} Wrote {to.output}."
