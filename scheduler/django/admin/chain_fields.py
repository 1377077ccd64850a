"""The job form's chain fields: the jobs a job runs after (``after:``) and on which endings.

``after`` holds job names, separated by commas or spaces (two or more make a
join); ``when`` says which endings of an upstream run count.  A job may run
after other jobs *and* on a schedule of its own, or only after them (the
schedule kind "Only after other jobs", :data:`~scheduler.model.chains.CHAIN_ONLY`).

An admin job may run after any stored job that is not removed, whatever its
source.  Saving refuses a name no job has, the job itself, and a cycle through
the jobs already stored (``a`` after ``b`` after ``a`` would wait for ever),
each on the ``after`` field, and nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from django import forms

from ...model.chains import ChainWhen
from ...model.jobs import JobSpec
from ...stores.rows import spec_from_columns
from ..models import Job
from .common import database
from .inputs import FieldProblem

__all__ = ["CHAIN_FIELDS", "ChainFields", "chain_cycle", "read_after", "stored_after"]

#: The form fields of a chain, as posted (and as the preview reads them).
CHAIN_FIELDS = ("after", "when")
_SEPARATORS = re.compile(r"[\s,]+")
#: Up to this many job names are suggested when ``after`` names an unknown one.
_SUGGESTED = 5


class ChainFields(forms.Form):
    """The chain fields, mixed into the job form; :meth:`chain_value` reads them."""

    after = forms.CharField(
        required=False,
        max_length=2000,
        label="Run after",
        help_text=(
            "The job this one runs after, by name: it runs once for each run of that "
            "job that ends as chosen below. Several names, separated by commas, make a "
            "join: it runs once for each slot for which all of them had such a run. "
            "Blank: none. Needed when the schedule is 'Only after other jobs'."
        ),
    )
    when = forms.ChoiceField(
        required=False,
        initial=ChainWhen.SUCCEEDED.value,
        label="When the upstream run",
        choices=[
            (ChainWhen.SUCCEEDED.value, "succeeded"),
            (ChainWhen.FAILED.value, "failed, timed out or was lost"),
            (ChainWhen.FINISHED.value, "ended in any of those"),
        ],
    )

    def chain_value(self, name: str) -> dict[str, Any]:
        """``after`` and ``when`` for :meth:`JobSpec.from_fields`, checked against the
        stored jobs; an error on ``after`` (and no upstream) if they cannot be used."""
        text = str(self.cleaned_data.get("after") or "")
        when = ChainWhen(self.cleaned_data.get("when") or ChainWhen.SUCCEEDED.value)
        try:
            after = read_after(text, name, stored_after)
        except FieldProblem as problem:
            if problem.field not in self.errors:
                self.add_error(problem.field, problem.message)
            return {"after": (), "when": when}
        return {"after": after, "when": when}


def read_after(
    text: str, name: str, stored_after: Callable[[Iterable[str]], dict[str, tuple[str, ...]]]
) -> tuple[str, ...]:
    """The upstream names ``text`` lists for the job ``name``; a :class:`FieldProblem`
    on ``after`` for a name no stored job has, the job itself, or a cycle.

    ``stored_after`` maps names to the upstreams of the stored jobs of those
    names that are not removed (an unknown name is missing from its answer).
    """
    names = tuple(dict.fromkeys(item for item in _SEPARATORS.split(text.strip()) if item))
    if not names:
        return ()
    if name in names:
        raise FieldProblem("after", "A job cannot run after itself.")
    known = stored_after(names)
    missing = [upstream for upstream in names if upstream not in known]
    if missing:
        raise FieldProblem("after", f"No job is called {', '.join(missing)}.{_suggest()}")
    cycle = chain_cycle(name, names, known, stored_after)
    if cycle:
        raise FieldProblem(
            "after",
            f"That would close a cycle: {' after '.join(cycle)}. None of them would ever run.",
        )
    return names


def chain_cycle(
    name: str,
    names: tuple[str, ...],
    known: dict[str, tuple[str, ...]],
    stored_after: Callable[[Iterable[str]], dict[str, tuple[str, ...]]],
) -> list[str]:
    """The jobs from ``name`` back to ``name`` again by ``after``, if ``name`` ran
    after ``names``; empty if there is no cycle.  Reads one level of upstreams
    per query, never the whole job table."""
    came_from: dict[str, str] = dict.fromkeys(names, name)
    level = dict(known)
    while level:
        following: list[str] = []
        for job, upstreams in level.items():
            for upstream in upstreams:
                if upstream == name:
                    return _path(name, job, came_from)
                if upstream not in came_from:
                    came_from[upstream] = job
                    following.append(upstream)
        level = stored_after(following) if following else {}
    return []


def _path(name: str, last: str, came_from: dict[str, str]) -> list[str]:
    """``name`` after its upstream after ... after ``last`` after ``name``."""
    back = [last]
    while came_from[back[-1]] != name:
        back.append(came_from[back[-1]])
    return [name, *reversed(back), name]


def stored_after(names: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The upstreams of the stored jobs called ``names`` (not removed), by name."""
    rows = Job.objects.using(database()).filter(name__in=list(names), removed_at__isnull=True)
    return {row.name: _spec(row).after for row in rows}


def _spec(row: Job) -> JobSpec:
    return spec_from_columns(vars(row))


def _suggest() -> str:
    rows = Job.objects.using(database()).filter(removed_at__isnull=True).order_by("name")
    names = list(rows.values_list("name", flat=True)[: _SUGGESTED + 1])
    if not names:
        return " There are no jobs yet."
    shown = ", ".join(names[:_SUGGESTED])
    return f" Jobs: {shown}{', ...' if len(names) > _SUGGESTED else ''}."
