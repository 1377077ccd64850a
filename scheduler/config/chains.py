"""The chains of a schedules file, checked across its jobs once every job is read.

A job's ``after`` must name a job of the same file (one that a sync keeps in
step with it), and following ``after`` from any job must never come back to
it: ``a`` after ``b`` after ``a`` would wait for ever.  Each problem is
reported where the offending ``after`` is written.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from ..model.jobs import JobSpec
from .loaded import Location
from .walker import Walker

__all__ = ["check_chains"]

#: Up to this many job names are listed when ``after`` names an unknown one.
_LISTED = 20


def check_chains(
    walker: Walker,
    specs: Sequence[JobSpec],
    declared: Collection[str],
    locations: Mapping[str, Mapping[str, Location]],
) -> list[JobSpec]:
    """``specs`` without the jobs whose ``after`` names an unknown job or closes a
    cycle; each of those is an issue at its ``after``.  ``declared`` are the
    names of every job of the file, good or bad."""
    upstream = {spec.name: spec.after[0] for spec in specs if spec.after}
    bad: set[str] = set()
    for name, after in upstream.items():
        if after not in declared:
            _issue(walker, locations, name, f"unknown job {after!r}; {_known(declared)}")
            bad.add(name)
    for name in upstream:
        cycle = _cycle_from(name, upstream)
        if cycle:
            path = " -> ".join([*cycle, cycle[0]])
            _issue(walker, locations, name, f"a chain cannot loop back to its start: {path}")
            bad.add(name)
    return [spec for spec in specs if spec.name not in bad]


def _known(declared: Collection[str]) -> str:
    names = sorted(declared)
    if len(names) > _LISTED:
        return f"an upstream job must be declared in the same file ({len(names)} jobs here)"
    return f"the jobs of this file: {', '.join(names)}"


def _cycle_from(start: str, upstream: Mapping[str, str]) -> list[str]:
    """The jobs from ``start`` round to ``start`` again by ``after``; empty if none."""
    seen = [start]
    current = upstream.get(start)
    while current is not None and current not in seen:
        seen.append(current)
        current = upstream.get(current)
    return seen if current == start else []


def _issue(
    walker: Walker, locations: Mapping[str, Mapping[str, Location]], job: str, message: str
) -> None:
    where = locations.get(job, {}).get("after") or locations.get(job, {}).get("")
    if where is None:  # pragma: no cover - every job read has its name located
        walker.issue_at(0, 0, f"jobs.{job}.after", message)
        return
    walker.issue_at(where.line, where.column, where.path, message)
