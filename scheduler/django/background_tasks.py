"""django-background-tasks' one-off tasks as deferred calls in the site's database.

:func:`defer_calls` writes, for each one-off row that
:mod:`scheduler.importers.background_tasks` translated, the deferred call a
``task.defer(run_at=...)`` would have written, under a name made from the
row (``app.tasks.notify:bgt17``), so importing twice writes it once.  Every
task must be registered; every call is checked before any is written, and
all are written in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from ..errors import JobNotFound, SchedulerError
from ..importers.document import Translation
from ..model.jobs import JobSpec
from ..model.policies import JobSource
from ..schedules import Once
from ..stores.base import Store
from ..tasks.registry import TaskRegistry

__all__ = ["Deferrals", "defer_calls", "refuse_unregistered"]

_MICROSECOND = timedelta(microseconds=1)


@dataclass(slots=True)
class Deferrals:
    """The deferred calls ``added`` (or, in a dry run, to add) and those already there."""

    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def refuse_unregistered(translations: Sequence[Translation], registry: TaskRegistry) -> None:
    """Refuse each translation whose task the scheduler could not run."""
    for found in translations:
        if found.entry is None:
            continue
        task = str(found.entry["task"])
        try:
            registry.resolve(task)
        except SchedulerError as error:
            found.refuse(f"{error}")


def defer_calls(
    calls: Sequence[Translation],
    *,
    store: Store,
    using: str,
    timezone: str,
    now: datetime,
    dry_run: bool,
) -> Deferrals:
    """Write the deferred call of each of ``calls`` that the store does not have yet."""
    done = Deferrals()
    specs = []
    for found in calls:
        assert found.entry is not None  # noqa: S101 - the caller passes translated calls
        try:
            store.get_job(found.name)
        except JobNotFound:
            specs.append(_spec(found.name, found.entry, timezone, now))
            done.added.append(found.name)
        else:
            done.unchanged.append(found.name)
    if specs and not dry_run:
        with transaction.atomic(using=using):
            for spec in specs:
                store.save_job(spec, now=now)
    return done


def _spec(name: str, entry: dict[str, Any], timezone: str, now: datetime) -> JobSpec:
    at = datetime.fromisoformat(str(entry["at"]))
    when = max(at, now + _MICROSECOND)  # due already: its slot is when it is written
    options = {key: entry[key] for key in ("queue", "description") if key in entry}
    return JobSpec.from_fields(
        name=name,
        task=entry["task"],
        schedule=Once(when),
        args=tuple(entry.get("args", ())),
        kwargs=dict(entry.get("kwargs", {})),
        timezone=timezone,
        source=JobSource.CODE,
        **options,
    )
