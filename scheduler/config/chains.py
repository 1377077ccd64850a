"""The chains of a schedules file, checked across its jobs once every job is read.

Each name in a job's ``after`` must name a job of the same file (one that a
sync keeps in step with it), and following ``after`` from any job, through
any of its upstreams, must never come back to it: ``a`` after ``b`` after
``a`` would wait for ever.  Each problem is reported where the offending
``after`` is written.
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
    upstreams = {spec.name: spec.after for spec in specs if spec.after}
    bad: set[str] = set()
    for name, after in upstreams.items():
        unknown = [upstream for upstream in after if upstream not in declared]
        if unknown:
            jobs = ", ".join(repr(upstream) for upstream in unknown)
            what = "unknown job" if len(unknown) == 1 else "unknown jobs"
            _issue(walker, locations, name, f"{what} {jobs}; {_known(declared)}")
            bad.add(name)
    for name in upstreams:
        cycle = _cycle_from(name, upstreams)
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


def _cycle_from(start: str, upstreams: Mapping[str, Sequence[str]]) -> list[str]:
    """A path of jobs from ``start`` round to ``start`` again by ``after`` (through
    the upstreams in the order they are listed); empty if none."""
    path = [start]
    seen = {start}
    # Depth first, each job entered once: a job already seen leads back to
    # start only through a path already tried.
    pending = [iter(upstreams.get(start, ()))]
    while pending:
        current = next(pending[-1], None)
        if current is None:
            pending.pop()
            path.pop()
            continue
        if current == start:
            return path
        if current in seen:
            continue
        seen.add(current)
        path.append(current)
        pending.append(iter(upstreams.get(current, ())))
    return []


def _issue(
    walker: Walker, locations: Mapping[str, Mapping[str, Location]], job: str, message: str
) -> None:
    where = locations.get(job, {}).get("after") or locations.get(job, {}).get("")
    if where is None:  # pragma: no cover - every job read has its name located
        walker.issue_at(0, 0, f"jobs.{job}.after", message)
        return
    walker.issue_at(where.line, where.column, where.path, message)
